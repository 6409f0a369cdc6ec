"""A hearing or mediation is recorded whole (庭审录音录像规定 Art. 1): from the moment its
chair starts it (the room's ``start`` frame, or ``POST /sessions/{id}/start``) until it ends,
without anyone asking. A recording that can't start is logged with its cause (Art. 4) and
said to the room (``{"type": "recording", "state": "failed", "reason": …}``), never a 500."""

from __future__ import annotations

import logging
import threading
from typing import Any

from flask import Flask, current_app

from hearings.courts.models import Staff
from hearings.errors import Conflict, HearingsError, RuleViolation, StillWorking
from hearings.extensions import db
from hearings.logs import event
from hearings.rooms.moderation import CHAIRS
from hearings.rooms.tokens import LIVE_STATUSES
from hearings.scheduling import audit
from hearings.scheduling.models import Participant, Session
from hearings.scheduling.services import advance_status
from hearings.scheduling.vocabulary import Kind, Status
from hearings.witness import custody
from hearings.witness.access import refuse
from hearings.witness.models import Recording
from hearings.witness.services import (
    ACTIVE,
    active_recording,
    announce,
    launch_recorder,
    load_recording,
    start_recording,
    stop_recording,
)

log = logging.getLogger("hearings.recording")

#: The ``stop_reason`` of a recording the session's end stopped.
SESSION_ENDED = "the session ended"
#: How often the end's stop is asked again while the recorder still closes its last segment.
SEAL_ATTEMPTS = 20
#: How long the end waits for the recorder, on the room's thread: the room's lock is held
#: meanwhile (the in-process bus has one lock for every room), so briefly; past it the seal
#: is finished from a thread of its own (``seal_when_closed``).
END_WAIT_SECONDS = 2.0


def start_session(actor: Staff, session: Session) -> Recording | None:
    """The chair starts the hearing or mediation: it is in progress, and recorded from now
    (None: its recording runs already, started by an earlier start)."""
    chair = CHAIRS.get(session.kind)
    if chair is None:
        raise RuleViolation("not-started-by-chair", session_id=session.id, kind=session.kind)
    if not any(p.staff_id == actor.id and p.role == chair for p in session.active_participants):
        raise refuse(f"start session {session.id}", session, None, staff=actor)
    if session.status not in LIVE_STATUSES:
        raise Conflict("session-not-recordable", session_id=session.id, state=session.status)
    advance_status(session, Status.IN_PROGRESS, actor)
    if active_recording(session.id) is not None:
        return None
    return start_recording(actor, session, None)


def launch(recording: Recording) -> None:
    """After the commit: start the recorder. One that can't start leaves the recording
    interrupted, the cause in its custody log (the sweep takes it up again), and the room
    told."""
    try:
        launch_recorder(recording)
    except Exception as error:  # any cause: logged as evidence and said, never a 500
        db.session.rollback()
        cause = f"{type(error).__name__}: {error}"
        log.exception("recording %s could not start", recording.id)
        recording.status = "interrupted"
        custody.append(recording, "interrupted", None, reason=f"the recorder could not start: "
                       f"{cause}", segment_n=None)  # fmt: skip
        db.session.commit()
        announce(recording.session_id, "failed", recording_id=recording.id, reason=cause)


def on_session_started(session_id: int, participant_id: int | None = None, **_: Any) -> None:
    """The chair's ``start`` frame (``rooms.signals.session_started``): start and record."""
    # The socket's thread keeps its objects between frames: read them as they are now.
    session = db.session.get(Session, session_id, populate_existing=True)
    participant = (
        db.session.get(Participant, participant_id, populate_existing=True)
        if participant_id
        else None
    )
    staff = participant.staff if participant is not None else None
    if session is None or staff is None:
        announce(session_id, "failed", reason="not-started-by-chair")
        return
    try:
        recording = start_session(staff, session)
        db.session.commit()
    except HearingsError as error:
        db.session.rollback()
        failed(session, staff, error.code, error.params)
        return
    if recording is not None:
        launch(recording)


def failed(session: Session, staff: Staff, code: str, params: dict[str, Any]) -> None:
    """A start that recorded nothing: its cause in the audit trail, in the log, to the room."""
    detail = {k: v for k, v in params.items() if isinstance(v, str | int | float | bool)}
    audit.record("recording.failed", staff, session, reason=code, **detail)
    db.session.commit()
    event(log, "recording.failed", session=session.id, reason=code)
    announce(session.id, "failed", reason=code)


def on_session_progressed(session: Session, after: str, **_: Any) -> None:
    """The session's end (``completed``) stops and seals its hearing's or mediation's
    recording (a witnessing's is the officer's to stop: its script may need a reason)."""
    if after != Status.COMPLETED or session.kind == Kind.WITNESS:
        return
    recording = active_recording(session.id)
    if recording is None:
        return
    try:
        wait = min(END_WAIT_SECONDS, float(current_app.config["RECORDER_STOP_TIMEOUT"]))
        stop_recording(None, recording, session, SESSION_ENDED, wait=wait)
    except HearingsError as error:  # the recorder still closes: the stop stays requested
        event(log, "recording.seal_pending", session=session.id, recording=recording.id,
              reason=error.code)  # fmt: skip
        if not isinstance(error, StillWorking):
            return
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        threading.Thread(target=seal_when_closed, args=(app, recording.id),
                         name=f"seal-{recording.id}", daemon=True).start()  # fmt: skip


def seal_when_closed(app: Flask, recording_id: int) -> None:
    """Ask the end's stop again (off the room's thread) until the recorder has closed its
    last segment and the recording is sealed; one never sealed is logged."""
    pause = threading.Event()
    with app.app_context():
        for _ in range(SEAL_ATTEMPTS):
            db.session.expire_all()
            recording = load_recording(recording_id)
            if recording.status not in ACTIVE:
                return  # sealed meanwhile (an officer's stop)
            session = db.session.get(Session, recording.session_id)
            assert session is not None
            try:
                stop_recording(None, recording, session, SESSION_ENDED)
                return
            except StillWorking:
                db.session.rollback()
                pause.wait(1.0)  # the recorder is still closing: ask again shortly
        log.error("recording %s: the session ended but it could not be sealed", recording_id)
