"""Power-of-attorney video witnessing: identity checks, the server's recorder peer,
tamper-evident recordings (segments, custody log, signed manifest) and their verification."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Give the app its recorders (an asyncio loop thread, started on first recording)."""
    from hearings.witness.recorders import Recorders
    from hearings.witness.services import RecorderReports

    app.extensions["hearings.recorders"] = Recorders(RecorderReports(app))
