"""Invites (iCalendar), the email outbox, reminders (APScheduler), progress notices, feeds."""

from __future__ import annotations

from flask import Flask

from hearings.scheduling.models import Participant


def init_app(app: Flask) -> None:
    """Mount the notify pages (its API is mounted with the others, in hearings.api) and
    subscribe to the scheduling signals."""
    from hearings.notify import subscribers
    from hearings.notify.invites import set_join_link_provider
    from hearings.notify.pages import pages, session_panel
    from hearings.scheduling.panels import register_panel

    app.register_blueprint(pages)
    subscribers.connect()
    # Each invite carries its participant's own join link (a room token of their own).
    set_join_link_provider(app, personal_join_link)
    register_panel(20, "deliveries", session_panel)


def personal_join_link(participant: Participant) -> str:
    """A fresh personal join link for the participant (the room checks it when used)."""
    from hearings.rooms.tokens import issue_room_token, join_url

    token, _ = issue_room_token(participant, None)
    return join_url(token)
