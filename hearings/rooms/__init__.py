"""Room tokens, join links, the signaling hub with its waiting room, and attendance."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, request

from hearings.scheduling import signals as scheduling_signals


def init_app(app: Flask) -> None:
    """The rooms' words for their refusal codes; this process's hub (Redis bus when
    configured; the SFU driver when Janus is); the pages and API; and the receivers of the
    session changes a room follows."""
    from hearings.errors import register_words
    from hearings.rooms.words import WORDS

    register_words(WORDS)
    from hearings.rooms.bus import LocalBus
    from hearings.rooms.hub import Hub
    from hearings.rooms.redis_bus import RedisBus
    from hearings.rooms.services import record_attendance
    from hearings.rooms.sfu_room import SfuDriver
    from hearings.sfu.settings import janus_settings

    url = app.config["REDIS_URL"]
    bus = RedisBus(url, app.config["ROOM_BUS_PREFIX"]) if url else LocalBus()
    janus = janus_settings(app.config)
    app.extensions["hearings.hub"] = Hub(
        bus,
        record_attendance,
        app.app_context,
        ping_interval=app.config["ROOM_PING_INTERVAL"],
        sfu=SfuDriver(janus) if janus is not None else None,
    )
    app.config.setdefault(
        "SOCK_SERVER_OPTIONS",
        # Frames over 64 KiB get 4413 from the hub; the library's own limit is a backstop.
        # No ping_interval here: the hub pings all sockets from one thread.
        {"max_message_size": 1 << 20},
    )
    app.before_request(_no_compression)
    from hearings import api
    from hearings.rooms import (
        signaling,  # noqa: F401 (its socket joins the "rooms" pages)
        views,
    )
    from hearings.rooms.pages import pages, staff_pages

    app.register_blueprint(pages)
    app.register_blueprint(staff_pages)
    api.mount(app, views.api)
    scheduling_signals.session_page_drawn.connect(_session_panel)
    scheduling_signals.session_cancelled.connect(_close_cancelled_room)
    scheduling_signals.session_changed.connect(_close_removed_participant)
    scheduling_signals.session_changed.connect(_move_link_windows)


def _session_panel(session: Any, staff: Any, **_: Any) -> Any:
    """The session page's room panel: enter, hand out links, who attended (shown first)."""
    from hearings.rooms.pages import session_panel
    from hearings.scheduling.panels import Panel

    return Panel(10, session_panel(session, staff))


def _no_compression() -> None:
    """Room sockets are not compressed (permessage-deflate is not negotiated).

    Signaling frames are small and rare; a deflate context costs each socket about 300 kB
    and every frame CPU on both sides (measured: 1,000 peers held 370 MB with it).
    """
    if request.path.startswith("/ws/"):
        request.environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)


def admitted_participants(session_id: int) -> set[int]:
    """The participants in the session's room now, let in (on any process); raises
    ``BusUnavailable`` if the room bus can't be asked."""
    peers = current_app.extensions["hearings.hub"].room(session_id).roster()
    return {p.participant_id for p in peers if p.state == "admitted" and p.participant_id}


def shutdown_rooms(app: Flask) -> int:
    """Before this process stops: tell its rooms' peers to reconnect (close code 1012)."""
    return int(app.extensions["hearings.hub"].shutdown())


def _close_cancelled_room(session: Any, **_: Any) -> None:
    """A cancelled session's links stop working and its room closes (4403)."""
    from hearings.rooms.tokens import revoke_links

    revoke_links(session.id)
    current_app.extensions["hearings.hub"].close_room(
        session.id, 4403, "the session was cancelled", "removed"
    )


def _close_removed_participant(session: Any, changes: dict[str, Any], **_: Any) -> None:
    """A removed participant's links stop working and their connections close (4403)."""
    from hearings.rooms.tokens import revoke_links

    participant_id = changes.get("participant_removed")
    if participant_id is None:
        return
    revoke_links(session.id, participant_id)
    current_app.extensions["hearings.hub"].close_participant(
        session.id, participant_id, "removed from the session"
    )


def _move_link_windows(session: Any, changes: dict[str, Any], **_: Any) -> None:
    """A rescheduled session's links work in its new window (the page and the socket judge
    a link by the session's current window, not the times signed into its token)."""
    from hearings.rooms.tokens import move_link_windows

    if "starts_at" in changes or "ends_at" in changes:
        move_link_windows(session)
