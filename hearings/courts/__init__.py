"""Courts, their staff, rooms, working hours, holidays and the contact directory."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The courts' words for their refusal codes."""
    from hearings.courts.words import WORDS
    from hearings.errors import register_words

    register_words(WORDS)
