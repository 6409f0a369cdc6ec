"""Sessions, participants, conflicts, availability, recurrence and the audit trail."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Scheduling's words for its refusal codes, the audit trail of sign-ins, the staff's
    pages (desk, booking, session) and the API."""
    from hearings import api
    from hearings.errors import register_words
    from hearings.scheduling import audit, pages, views
    from hearings.scheduling.words import WORDS

    register_words(WORDS)
    audit.subscribe()
    app.register_blueprint(pages.pages)
    api.mount(app, views.api)
