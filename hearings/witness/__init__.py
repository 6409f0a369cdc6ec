"""Power-of-attorney video witnessing (identity checks, the script) and the recordings of
every recorded session (witnessing, hearing, mediation): the server's recorder peer,
tamper-evident recordings (segments, custody log, signed manifest) and their verification."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask


def init_app(app: Flask) -> None:
    """Give the app its recorders (an asyncio loop thread, started on first recording), and
    the room page its witnessing controls and recording indicator; the words of its refusal
    codes."""
    from hearings.errors import register_words
    from hearings.witness.words import WORDS

    register_words(WORDS)
    from hearings.rooms.panels import room_page_drawn, room_state_asked
    from hearings.witness.room_controls import officer_panel, recording_indicator, room

    app.extensions["hearings.recorders"] = make_recorders(app)
    from hearings import api
    from hearings.witness import views
    from hearings.witness.pages import pages

    app.register_blueprint(room)
    app.register_blueprint(pages)
    api.mount(app, views.api)
    room_page_drawn.connect(officer_panel)
    room_state_asked.connect(recording_indicator)
    from hearings.rooms.signals import session_started
    from hearings.scheduling.signals import session_progressed
    from hearings.witness.whole_session import on_session_progressed, on_session_started

    # A hearing or mediation is recorded from its chair's start to its end, unasked.
    session_started.connect(on_session_started)
    session_progressed.connect(on_session_progressed)


def make_recorders(app: Flask) -> Any:
    """Janus records in SFU mode (the SFU driver holds the feeds); else the aiortc recorder."""
    from hearings.recording.supervisor import Recorders
    from hearings.witness.reports import RecorderReports

    sfu = app.extensions["hearings.hub"].sfu
    if sfu is None:
        return Recorders(RecorderReports(app))
    from hearings.recording.sfu_recorder import JanusRecorders

    configured = app.config.get("JANUS_RECORDINGS_PATH")
    scratch = Path(configured or Path(app.instance_path) / "janus-recordings")
    return JanusRecorders(RecorderReports(app), sfu, scratch)
