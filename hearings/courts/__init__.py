"""Courts, their staff, rooms, working hours, holidays and the contact directory."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The courts' words for their refusal codes, the sign-in throttle, the pages (sign-in,
    directory) and the API."""
    from hearings import api
    from hearings.courts import pages, throttle, views
    from hearings.courts.services import dummy_password_hash
    from hearings.courts.words import WORDS
    from hearings.errors import register_words

    register_words(WORDS)
    throttle.init_app(app)
    with app.app_context():
        dummy_password_hash()  # made now, so the first unknown username costs no more
    app.register_blueprint(pages.pages)
    api.mount(app, views.api)
