"""The witnessing (identity checks, the script) and the recording's life of every recorded
session kind (start, pause, resume, stop and seal)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app

from hearings.courts.models import Staff
from hearings.errors import Conflict, NotFound, RuleViolation, StillWorking
from hearings.extensions import db
from hearings.recording.supervisor import Recorders
from hearings.rooms import admitted_participants
from hearings.rooms.bus import BusUnavailable
from hearings.rooms.tokens import LIVE_STATUSES
from hearings.scheduling.models import Participant, Session
from hearings.scheduling.vocabulary import Kind, ParticipantRole
from hearings.timekeeping import utcnow
from hearings.witness import custody, leases, script
from hearings.witness.access import RECORDERS, require_officer
from hearings.witness.archive import retention_end, salvage, seal
from hearings.witness.identity import (
    IdentityError,
    encrypt_id_number,
    mask_id_number,
    normalize_id_number,
)
from hearings.witness.models import IdentityCheck, Recording, ScriptMark

ACTIVE = ("recording", "paused", "interrupted")


def recordings_root() -> Path:
    """Where segment files go: ``RECORDINGS_PATH`` or ``<instance>/recordings``."""
    configured = current_app.config.get("RECORDINGS_PATH")
    return Path(configured or Path(current_app.instance_path) / "recordings")


def recorders() -> Recorders:
    """This process's recorders."""
    return current_app.extensions["hearings.recorders"]


def announce(session_id: int, state: str, **detail: Any) -> None:
    """Tell the room (contract: ``{"type": "recording", "state": …}``)."""
    current_app.extensions["hearings.hub"].announce_recording(session_id, state, **detail)


def load_recording(recording_id: int) -> Recording:
    """The recording with that id, or 404."""
    recording = db.session.get(Recording, recording_id)
    if recording is None:
        raise NotFound("no-such-recording", recording_id=recording_id)
    return recording


def _witness_session(session: Session) -> None:
    if session.kind != Kind.WITNESS:
        raise RuleViolation("not-a-witnessing", session_id=session.id, kind=session.kind)


def _recorded_kind(session: Session) -> None:
    if session.kind not in RECORDERS:
        raise RuleViolation("kind-not-recorded", session_id=session.id, kind=session.kind)


def witness_record_of(session: Session, recording_id: int) -> None:
    """Only a witnessing's recording has a witness record (见证笔录): 404 for another's."""
    if session.kind != Kind.WITNESS:
        raise NotFound("no-witness-record", recording_id=recording_id, kind=session.kind)


def record_identity_check(
    actor: Staff,
    session: Session,
    participant_id: int,
    name: str,
    id_number: str,
    method: str,
    face_confirmed: bool,
) -> IdentityCheck:
    """The officer's identity check of a participant; the ID number is stored encrypted."""
    require_officer(actor, session, f"check identities in session {session.id}")
    _witness_session(session)
    participant = next((p for p in session.active_participants if p.id == participant_id), None)
    if participant is None:
        raise NotFound("no-such-participant", session_id=session.id, participant_id=participant_id)
    if participant.role in WITNESSED_ROLES:  # checked against the face on camera
        require_present(session, "check-identity", (participant.role,))
    try:
        number = normalize_id_number(id_number)
    except IdentityError as error:
        raise RuleViolation(error.code, field="id_number", reason=str(error)) from None
    if name.strip() != participant.display_name.strip():
        raise RuleViolation(
            "card-name-differs", field="name", card=name, participant_name=participant.display_name
        )
    if not face_confirmed:
        raise RuleViolation("face-differs")
    check = IdentityCheck(
        session_id=session.id,
        participant_id=participant.id,
        name=name.strip(),
        id_number_encrypted=encrypt_id_number(number, f"{session.id}:{participant.id}"),
        masked_id_number=mask_id_number(number),
        method=method,
        face_confirmed=True,
        checked_by_id=actor.id,
        checked_at=utcnow(),
    )
    db.session.add(check)
    return check


def principal_check(session: Session) -> IdentityCheck | None:
    """The latest identity check of the session's principal (this session, not another)."""
    principal_ids = [p.id for p in session.active_participants if p.role == "principal"]
    return db.session.scalar(
        sa.select(IdentityCheck)
        .where(
            IdentityCheck.session_id == session.id,
            IdentityCheck.participant_id.in_(principal_ids),
        )
        .order_by(IdentityCheck.id.desc())
        .limit(1)
    )


#: Who must be in the room, let in, while the witnessing is recorded: the person who gives
#: the power and the one who takes it on.
WITNESSED_ROLES = frozenset({ParticipantRole.PRINCIPAL, ParticipantRole.AGENT})


def require_present(session: Session, doing: str, roles: Any = WITNESSED_ROLES) -> list[int]:
    """The ids of the principal and agent (``roles``), each in the room and let in now, or
    409 naming who is missing and what they are needed for (``doing``: ``start-recording``,
    ``check-identity``, ``mark-step``): a witnessing is of people seen and heard, not of a
    list."""
    here = _in_room(session.id)
    wanted = [p for p in session.active_participants if p.role in roles]
    missing = [p for p in wanted if p.id not in here]
    if missing:
        raise Conflict(
            "not-in-room",
            title="Not in the room",
            doing=doing,
            missing=[
                {"participant_id": p.id, "role": p.role, "name": p.display_name} for p in missing
            ],
        )
    return [p.id for p in wanted]


def active_recording(session_id: int) -> Recording | None:
    """The session's recording in progress (recording, paused or interrupted)."""
    return db.session.scalar(
        sa.select(Recording).where(Recording.session_id == session_id, Recording.status.in_(ACTIVE))
    )


def start_recording(actor: Staff, session: Session, powers: Sequence[str] | None) -> Recording:
    """Start the session's recording. A witnessing's needs its powers (``["general"]`` when
    None) and the principal's identity checked first; a hearing's or mediation's takes no
    powers and no check (it records whoever is there)."""
    require_officer(actor, session, f"record session {session.id}")
    _recorded_kind(session)
    if session.status not in LIVE_STATUSES:
        raise Conflict("session-not-recordable", session_id=session.id, state=session.status)
    if active_recording(session.id) is not None:
        raise Conflict("already-recording", session_id=session.id)
    if session.kind != Kind.WITNESS:
        if powers is not None:
            raise RuleViolation("powers-only-witnessing", field="powers", kind=session.kind)
        return _begin(actor, session, [], present=sorted(_in_room(session.id)))
    check = principal_check(session)
    if check is None:
        raise Conflict("identity-unchecked")
    try:
        granted = script.check_powers(["general"] if powers is None else powers)
    except script.ScriptError as error:
        raise RuleViolation(error.code, field="powers", reason=str(error)) from None
    present = require_present(session, "start-recording")
    return _begin(actor, session, granted, present=present, identity_check_id=check.id,
                  masked_id_number=check.masked_id_number)  # fmt: skip


def _begin(actor: Staff, session: Session, powers: list[str], **detail: Any) -> Recording:
    now = utcnow()
    recording = Recording(
        session_id=session.id, status="recording", powers=powers, started_by_id=actor.id,
        started_at=now, retain_until=retention_end(session.host_court_id, now),
        folder=f"session-{session.id}/{secrets.token_hex(8)}",
    )  # fmt: skip
    db.session.add(recording)
    db.session.flush()
    custody.append(recording, "started", actor.id, powers=powers, **detail)
    return recording


def _in_room(session_id: int) -> set[int]:
    try:
        return admitted_participants(session_id)
    except BusUnavailable:
        raise StillWorking("room-unknown", retry_after=5) from None


def recorder_mode() -> str:
    """``embedded`` (this process records) or ``external`` (a ``hearings recorder`` does)."""
    mode = current_app.config["RECORDER_MODE"]
    if mode not in ("embedded", "external"):
        raise ValueError(f"HEARINGS_RECORDER_MODE is {mode!r}: use embedded or external")
    return str(mode)


def launch_recorder(recording: Recording) -> None:
    """After the commit: announce, and start the recorder peer (if this process records)."""
    announce(recording.session_id, "started", recording_id=recording.id)
    if not current_app.config["RECORDER_ENABLED"]:
        return
    if recorder_mode() == "external" and not at_the_sfu():
        return  # the recorder process picks it up from the database
    if leases.claim(recording.id, leases.holder_name()):
        start_run(recording.id)


def at_the_sfu() -> bool:
    """Whether Janus records (SFU mode): then the process holding the room's media does,
    whatever ``RECORDER_MODE`` says."""
    return current_app.extensions["hearings.hub"].sfu is not None


def start_run(recording_id: int, *, interrupted: bool = False) -> None:
    """Start this process's recorder peer for a recording it holds."""
    recording = load_recording(recording_id)
    config = current_app.config
    base = config["RECORDER_SIGNALING_URL"] or (
        config["SITE_URL"].replace("https://", "wss://").replace("http://", "ws://")
    )
    first_n = 1 + max((s.n for s in recording.segments), default=0)
    url = f"{base.rstrip('/')}/ws/rooms/{recording.session_id}"
    folder, paused = recordings_root() / recording.folder, recording.status == "paused"
    session_id = recording.session_id
    db.session.rollback()  # the run's reports write from other threads
    recorders().start(recording_id, url, folder, float(config["SEGMENT_SECONDS"]), first_n,
                      interrupted=interrupted, paused=paused, session_id=session_id)  # fmt: skip


def done_steps(recording: Recording) -> list[script.Done]:
    """The script's steps done so far."""
    return [script.Done(m.step, m.power) for m in recording.marks]


def mark_step(
    actor: Staff,
    recording: Recording,
    session: Session,
    step: str,
    power: str | None,
    note: str | None,
) -> ScriptMark:
    """Mark the next step of the script at this moment of the recording."""
    require_officer(actor, session, f"drive the witnessing of session {session.id}")
    _witness_session(session)
    if recording.status != "recording":
        raise Conflict("steps-while-recording", state=recording.status)
    try:
        script.advance(recording.powers, done_steps(recording), step, power)
    except script.ScriptError as error:
        raise Conflict(error.code, step=step, reason=str(error)) from None
    present = require_present(session, "mark-step")
    now = utcnow()
    position = recorders().position(recording.id) or _position_on_record(recording, now)
    n, offset, elapsed = position
    mark = ScriptMark(
        recording_id=recording.id, step=step, power=power, at=now, by_id=actor.id, note=note,
        elapsed_seconds=round(elapsed, 3), segment_n=n,
        segment_offset_seconds=None if offset is None else round(offset, 3),
    )  # fmt: skip
    db.session.add(mark)
    recording.marks.append(mark)
    custody.append(recording, "marked", actor.id, step=step, power=power, present=present,
                   elapsed_seconds=mark.elapsed_seconds, segment_n=n)  # fmt: skip
    return mark


def _position_on_record(recording: Recording, now: Any) -> tuple[int | None, float | None, float]:
    """Where the recording is, from the segments its recorder (in another process) reported."""
    elapsed = (now - recording.started_at).total_seconds()
    open_segment = next((s for s in reversed(recording.segments) if s.status == "open"), None)
    if open_segment is None:
        return None, None, elapsed
    return open_segment.n, max(0.0, (now - open_segment.started_at).total_seconds()), elapsed


def pause_recording(actor: Staff, recording: Recording, session: Session, reason: str) -> None:
    """Pause (every pause is logged with its reason); the open segment closes."""
    require_officer(actor, session, f"pause the recording of session {session.id}")
    if recording.status != "recording":
        raise Conflict("not-recording", state=recording.status)
    recording.status = "paused"
    custody.append(recording, "paused", actor.id, reason=reason)
    rid, session_id = recording.id, recording.session_id
    # Nothing read after the commit: a read would open a transaction, and the recorder
    # reports its closed segment from another thread meanwhile.
    db.session.commit()
    if rid in recorders().runs:
        recorders().pause(rid, True)
    announce(session_id, "paused", reason=reason)


def resume_recording(actor: Staff, recording: Recording, session: Session) -> None:
    """Resume a paused recording in a new segment."""
    require_officer(actor, session, f"resume the recording of session {session.id}")
    if recording.status != "paused":
        raise Conflict("not-paused", state=recording.status)
    recording.status = "recording"
    custody.append(recording, "resumed", actor.id)
    rid, session_id = recording.id, recording.session_id
    db.session.commit()  # and nothing read after it (as for a pause)
    if rid in recorders().runs:
        recorders().pause(rid, False)
    announce(session_id, "resumed")


def stop_recording(
    actor: Staff | None,
    recording: Recording,
    session: Session,
    reason: str | None,
    *,
    wait: float | None = None,
) -> Recording:
    """Stop and seal: the last segment closes, the manifest is signed, the folder written.
    ``actor`` None: the session's end stops it (``reason`` says so). ``wait``: how long to
    wait for the recorder to close its last segment (``RECORDER_STOP_TIMEOUT`` by default);
    past it, 503 ``recorder-closing`` and the stop stays requested."""
    if actor is not None:
        require_officer(actor, session, f"stop the recording of session {session.id}")
    if recording.status not in ACTIVE:
        raise Conflict("recording-finished", state=recording.status)
    # A witnessing stopped before its script is done says why; a hearing has no script.
    complete = session.kind != Kind.WITNESS or script.is_complete(
        recording.powers, done_steps(recording)
    )
    if not complete and not reason:
        raise RuleViolation("stop-reason-required", field="reason")
    rid = recording.id
    recording.stop_requested_at = leases.wall_clock()
    db.session.commit()  # release the database: the recorder reports its last segment
    timeout = float(current_app.config["RECORDER_STOP_TIMEOUT"]) if wait is None else wait
    if rid in recorders().runs:
        try:
            recorders().stop(rid, timeout)
        except TimeoutError:
            # Still closing its last segment: the stop stays requested, so the recorder
            # finishes on its own and the repeated request seals what it left.
            raise StillWorking("recorder-closing", retry_after=30) from None
    else:  # a recorder in another process closes its last segment and lets go
        leases.wait_released(rid, timeout)
    db.session.expire_all()
    recording = load_recording(rid)
    folder = recordings_root() / recording.folder
    for segment in recording.segments:
        if segment.status == "open":  # its recorder is not in this process: salvage
            salvage(recording, segment, folder, "the recording stopped without its recorder")
    recording.status, recording.stopped_at, recording.stop_reason = "sealed", utcnow(), reason
    custody.append(recording, "stopped", actor.id if actor else None, reason=reason,
                   script_complete=complete)  # fmt: skip
    seal(recording, session, actor, folder)
    # Sealed for everyone before the room hears of it: a panel that looks when it hears
    # "stopped" must find the seal, not the recording still running.
    db.session.commit()
    announce(recording.session_id, "stopped", recording_id=rid)
    return recording


def participant_of(session: Session, participant_id: int) -> Participant | None:
    """An active participant of the session."""
    return next((p for p in session.active_participants if p.id == participant_id), None)
