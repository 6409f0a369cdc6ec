"""Invites (iCalendar), the email outbox, reminders (APScheduler), progress notices, feeds."""

from __future__ import annotations

from typing import Any

from flask import Flask


def init_app(app: Flask) -> None:
    """The words of notify's refusal codes, its pages and API, and its receivers of the
    scheduling signals."""
    from hearings.errors import register_words
    from hearings.notify.words import WORDS

    register_words(WORDS)
    from hearings import api
    from hearings.notify import subscribers, views
    from hearings.notify.pages import pages
    from hearings.scheduling.signals import session_page_drawn

    app.register_blueprint(pages)
    api.mount(app, views.api)
    subscribers.connect()
    session_page_drawn.connect(_deliveries_panel)


def _deliveries_panel(session: Any, staff: Any, **_: Any) -> Any:
    """The session page's panel of invite deliveries (after the room's)."""
    from hearings.notify.pages import session_panel
    from hearings.scheduling.panels import Panel

    return Panel(20, session_panel(session, staff))
