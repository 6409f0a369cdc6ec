"""Sessions, participants, conflicts, availability, recurrence and the audit trail."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Scheduling's words for its refusal codes."""
    from hearings.errors import register_words
    from hearings.scheduling.words import WORDS

    register_words(WORDS)
