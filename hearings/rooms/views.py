"""Join links and attendance (API), the join page, and the signaling WebSocket."""

from __future__ import annotations

import json
import logging
import secrets
from typing import Any

from flask import Blueprint, current_app, g, render_template, request
from flask_sock import ConnectionClosed

from hearings.courts.auth import staff_required
from hearings.courts.services import list_courts
from hearings.errors import say
from hearings.extensions import db, sock, spec
from hearings.i18n import gettext as _
from hearings.inputs import JSON_MAX_DEPTH, find_unstorable, json_too_deep
from hearings.logs import event
from hearings.openapi import Problem, Responses
from hearings.rooms import services
from hearings.rooms.bus import BusUnavailable, PeerInfo
from hearings.rooms.connection import Connection, finish, send_close
from hearings.rooms.hub import Hub, ProtocolError
from hearings.rooms.ice import ice_servers
from hearings.rooms.panels import render_room_panels, room_state
from hearings.rooms.schemas import AttendanceList, LinkList, LinkOut
from hearings.rooms.tokens import RoomRefusal, verify_room_token
from hearings.scheduling.access import load_session
from hearings.scheduling.labels import ROLES
from hearings.security import same_site
from hearings.timekeeping import isoformat, utcnow
from hearings.words import fault_detail

log = logging.getLogger("hearings.rooms.hub")
api = Blueprint("rooms_api", __name__)
pages = Blueprint("rooms", __name__)

#: Frames larger than this close the socket with 4413.
MAX_FRAME = 64 * 1024
ERRORS = {"HTTP_401": Problem, "HTTP_403": Problem, "HTTP_404": Problem, "HTTP_409": Problem}


def hub() -> Hub:
    """This process's signaling hub."""
    return current_app.extensions["hearings.hub"]


@api.post("/sessions/<id:session_id>/links")
@staff_required
@spec.validate(resp=Responses(HTTP_201=LinkList, **ERRORS))
def create_links(session_id: int):
    """Personal join links for every participant of a session."""
    links = services.issue_links(g.staff, load_session(session_id))
    db.session.commit()
    return {"items": links}, 201


@api.post("/sessions/<id:session_id>/participants/<id:participant_id>/link")
@staff_required
@spec.validate(resp=Responses(HTTP_201=LinkOut, **ERRORS))
def reissue_link(session_id: int, participant_id: int):
    """Replace one participant's join link (the old ones stop working; they get an update)."""
    link = services.reissue_link(g.staff, load_session(session_id), participant_id)
    db.session.commit()
    services.close_replaced(session_id, participant_id)
    return link, 201


@api.get("/sessions/<id:session_id>/attendance")
@staff_required
@spec.validate(resp=Responses(HTTP_200=AttendanceList, **ERRORS))
def attendance(session_id: int):
    """Who joined and left the session's room, and when."""
    return {"items": services.attendance(g.staff, load_session(session_id))}


@pages.get("/join/<token>")
def join(token: str):
    """The join page of one participant (the token is theirs alone)."""
    try:
        admission = verify_room_token(token, enforce_window=False)
        if admission.participant is None:
            raise RoomRefusal(4403, "this token is not a join link")
    except RoomRefusal as refusal:
        # Whose link it was may not be readable: both courts' contacts, then.
        return render_template(
            "join_refused.html", reason=say(refusal.why), courts=list_courts()
        ), 403
    if not admission.in_window and utcnow() >= admission.opens:
        # Past the window's end (the session's time is over): the link has expired.
        return render_template(
            "join_refused.html", reason=say("link-expired"), courts=list_courts()
        ), 403
    session, participant = admission.session, admission.participant
    return render_template(
        "join.html",
        session=session,
        participant=participant,
        in_window=admission.in_window,
        opens_at=isoformat(admission.opens),
        court=session.host_court,
        # This participant's own (minted) TURN credentials, for the pre-join network check.
        ice_servers=ice_servers(f"p{participant.id}"),
        panels=render_room_panels(session, participant) if admission.in_window else [],
        state=room_state(session),
        role_names={role: _(name) for role, name in ROLES.items()},
    )


def _origin_allowed() -> bool:
    """Browsers send Origin: it must be this site. Non-browser peers send none."""
    origin = request.headers.get("Origin")
    return origin is None or same_site(origin)


class UnreadableFrame(ProtocolError):
    """A frame the hub won't read; ``short`` says why in a close reason's few bytes."""

    def __init__(self, error: str, short: str) -> None:
        super().__init__(error)
        self.short = short


def read_frame(raw: str | bytes) -> Any:
    """A frame's JSON: ValueError if it is not JSON; UnreadableFrame if it nests deeper than
    the parser should go (checked before parsing) or holds text that can't be sent on (an
    unpaired surrogate would fail every socket it is relayed to) or stored (NUL)."""
    if json_too_deep(raw):
        deep = f"is nested more than {JSON_MAX_DEPTH} levels deep"
        raise UnreadableFrame(f"the frame {deep}", deep)
    message = json.loads(raw)
    found = find_unstorable(message)
    if found is not None:
        field, code = found
        raise UnreadableFrame(f"{field}: {fault_detail(code, 'text')}", "holds invalid text")
    return message


def _first_frame(ws: Any) -> dict[str, Any]:
    raw = ws.receive(timeout=current_app.config["ROOM_JOIN_TIMEOUT"])
    if raw is None:
        raise RoomRefusal(4401, "send a join frame first")
    if len(raw) > MAX_FRAME:
        raise RoomRefusal(4413, "frame too large")
    try:
        message = read_frame(raw)
    except ValueError:
        raise RoomRefusal(4401, "the join frame is not JSON") from None
    except UnreadableFrame as error:
        raise RoomRefusal(4401, f"the join frame {error.short}") from None
    if not isinstance(message, dict) or message.get("type") != "join":
        raise RoomRefusal(4401, "the first frame must be a join")
    return message


@sock.route("/ws/rooms/<id:session_id>", bp=pages)
def room_socket(ws: Any, session_id: int) -> None:
    """Signaling for one room: join handshake, then relay and moderation until close."""
    config = current_app.config
    try:
        if not _origin_allowed():
            raise RoomRefusal(4403, "cross-site connection refused")
        admission = verify_room_token(_first_frame(ws).get("token"), session_id)
    except RoomRefusal as refusal:
        db.session.rollback()
        event(log, "room.refused", session=session_id, code=refusal.code, reason=refusal.reason)
        send_close(ws, refusal.code, refusal.reason)
        finish(ws)
        return
    participant, kind = admission.participant, admission.session.kind
    info = PeerInfo(
        peer_id=secrets.token_urlsafe(9),
        session_id=session_id,
        participant_id=participant.id if participant is not None else None,
        name=admission.claims["name"],
        role=admission.claims["role"],
        can=list(admission.claims["can"]),
    )
    servers = ice_servers(f"p{info.participant_id}" if participant else "recorder")
    db.session.commit()  # end the read: nothing stays open while the socket waits
    conn = Connection(ws, info, config["ROOM_FRAME_RATE"], config["ROOM_FRAME_BURST"])
    room = hub()
    try:
        try:
            room.join(conn, kind, servers)
        except BusUnavailable:
            # Redis is away: the room can't be entered now; clients retry (1013).
            _close(conn, 1013, "try again later")
            return
        while not conn.closed.is_set():
            # The reader thread wakes this on every frame and on close; the timeout only
            # bounds how long a connection closed from elsewhere lingers.
            raw = ws.receive(timeout=5.0)
            if raw is None:
                continue
            if len(raw) > MAX_FRAME:
                _close(conn, 4413, "frame too large")
                break
            if not conn.allow_frame():
                _close(conn, 4429, "too many frames")
                break
            try:
                message = read_frame(raw)
                if not isinstance(message, dict):
                    raise ProtocolError("a frame is a JSON object")
                room.handle(conn, message, kind)
            except ValueError:
                _refuse_frame(conn, "malformed JSON")
            except ProtocolError as error:
                _refuse_frame(conn, str(error))
            except BusUnavailable:
                # The call's media goes on peer to peer; signaling waits for Redis.
                _refuse_frame(conn, "the room service is reconnecting; try again shortly")
    except ConnectionClosed:
        pass
    finally:
        room.depart(conn)
        finish(ws)


def _close(conn: Connection, code: int, reason: str) -> None:
    event(log, "room.closed", session=conn.info.session_id, peer=conn.info.peer_id, code=code,
          reason=reason)  # fmt: skip
    conn.close(code, reason)


def _refuse_frame(conn: Connection, error: str) -> None:
    event(log, "room.frame-refused", session=conn.info.session_id, peer=conn.info.peer_id,
          error=error)  # fmt: skip
    conn.send({"type": "error", "error": error})
