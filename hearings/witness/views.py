"""Identity checks, recordings, the script, and the witness record as PDF (API)."""

from __future__ import annotations

import hashlib
import json
from functools import wraps
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, g, request
from flask import Response as FileResponse

from hearings.courts.auth import staff_from_bearer
from hearings.errors import NotAuthenticated
from hearings.extensions import db, spec, writes_on_read
from hearings.openapi import Problem, Responses
from hearings.rooms.tokens import RoomRefusal, verify_room_token
from hearings.scheduling.access import load_session
from hearings.scheduling.models import Session
from hearings.timekeeping import isoformat, local, utcnow
from hearings.witness import archive, custody, script, services, whole_session
from hearings.witness.access import refuse, require_recording_access
from hearings.witness.models import IdentityCheck, Recording
from hearings.witness.schemas import (
    IdentityCheckIn,
    IdentityCheckList,
    IdentityCheckOut,
    MarkOut,
    ReasonIn,
    RecordingIn,
    RecordingList,
    RecordingOut,
    ScriptOut,
    StartedOut,
    StepIn,
    StopIn,
    VerifyOut,
)

api = Blueprint("witness_api", __name__)

ERRORS = {"HTTP_401": Problem, "HTTP_403": Problem, "HTTP_404": Problem, "HTTP_409": Problem}
CHANGE = {**ERRORS, "HTTP_422": Problem}
#: A change to a recording answers with the recording.
RECORDING = {"HTTP_200": RecordingOut, **CHANGE}


def caller_required(view: Any) -> Any:
    """A staff token (``g.staff``); a participant's room token is known, and refused (403)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        header = request.headers.get("Authorization")
        try:
            g.staff = staff_from_bearer(header)
        except NotAuthenticated:
            _refuse_room_token((header or "").partition(" ")[2].strip(), kwargs)
            raise
        return view(*args, **kwargs)

    return wrapper


def _refuse_room_token(token: str, kwargs: dict[str, Any]) -> None:
    try:
        admission = verify_room_token(token, enforce_window=False)
    except RoomRefusal:
        return
    db.session.rollback()
    recording = (
        db.session.get(Recording, kwargs["recording_id"]) if "recording_id" in kwargs else None
    )
    session = admission.session
    what = f"access the recordings of session {session.id} as {admission.claims['role']}"
    raise refuse(what, session, recording, participant=admission.participant)


def dump_check(check: IdentityCheck) -> dict[str, Any]:
    """An identity check as the API shows it (never the number itself)."""
    return {
        "id": check.id, "participant_id": check.participant_id, "name": check.name,
        "masked_id_number": check.masked_id_number, "method": check.method,
        "face_confirmed": check.face_confirmed, "checked_by": check.checked_by_id,
        "checked_at": isoformat(check.checked_at),
    }  # fmt: skip


def dump_recording(recording: Recording, *, full: bool = False) -> dict[str, Any]:
    """A recording: status, segments, script; with ``full`` its manifest and custody log."""
    out: dict[str, Any] = {
        "id": recording.id, "session_id": recording.session_id, "status": recording.status,
        "powers": recording.powers, "started_at": isoformat(recording.started_at),
        "stopped_at": isoformat(recording.stopped_at), "stop_reason": recording.stop_reason,
        "sealed_at": isoformat(recording.sealed_at),
        "retain_until": isoformat(recording.retain_until), "legal_hold": recording.legal_hold,
        "legal_hold_reason": recording.legal_hold_reason,
        "segments": [archive.segment_entry(s) for s in recording.segments],
        "script": [archive.mark_entry(m) for m in recording.marks],
    }  # fmt: skip
    if full:
        out["manifest"] = json.loads(recording.manifest) if recording.manifest else None
        out["signature"] = recording.signature
        out["custody"] = custody.export(recording.id)
    return out


def _session_of(recording: Recording) -> Session:
    return load_session(recording.session_id)


@api.post("/sessions/<id:session_id>/identity-checks")
@caller_required
@spec.validate(json=IdentityCheckIn, resp=Responses(HTTP_201=IdentityCheckOut, **CHANGE))
def create_identity_check(session_id: int, json: IdentityCheckIn):
    """The officer records an identity check (GB 11643 checksum verified; number encrypted)."""
    check = services.record_identity_check(
        g.staff, load_session(session_id), json.participant_id, json.name, json.id_number,
        json.method, json.face_confirmed,
    )  # fmt: skip
    db.session.commit()
    return dump_check(check), 201


@api.get("/sessions/<id:session_id>/identity-checks")
@writes_on_read
@caller_required
@spec.validate(resp=Responses(HTTP_200=IdentityCheckList, **ERRORS))
def list_identity_checks(session_id: int):
    """The session's identity checks, masked."""
    session = load_session(session_id)
    services.require_officer(g.staff, session, f"read the identity checks of {session_id}")
    checks = db.session.scalars(
        sa.select(IdentityCheck)
        .where(IdentityCheck.session_id == session_id)
        .order_by(IdentityCheck.id)
    )
    return {"items": [dump_check(c) for c in checks]}


@api.post("/sessions/<id:session_id>/recordings")
@caller_required
@spec.validate(json=RecordingIn, resp=Responses(HTTP_201=RecordingOut, **CHANGE))
def start_recording(session_id: int, json: RecordingIn):
    """Start the session's server-side recording (a witnessing's: identity checked first)."""
    recording = services.start_recording(g.staff, load_session(session_id), json.powers)
    db.session.commit()
    services.launch_recorder(recording)
    return dump_recording(recording), 201


@api.post("/sessions/<id:session_id>/start")
@caller_required
@spec.validate(resp=Responses(HTTP_200=StartedOut, **CHANGE, retry_after=("HTTP_503",)))
def start_session(session_id: int):
    """The chair starts the hearing or mediation: in progress, and recorded from now (503
    with Retry-After while who is in the room can't be told)."""
    session = load_session(session_id)
    recording = whole_session.start_session(g.staff, session)
    db.session.commit()
    if recording is not None:
        whole_session.launch(recording)
    current = services.active_recording(session_id)
    return {"session_id": session.id, "state": session.status,
            "recording": dump_recording(current) if current else None}  # fmt: skip


@api.get("/sessions/<id:session_id>/recordings")
@writes_on_read
@caller_required
@spec.validate(resp=Responses(HTTP_200=RecordingList, **ERRORS))
def list_recordings(session_id: int):
    """The session's recordings (each listing enters their custody logs)."""
    session = load_session(session_id)
    recordings = list(
        db.session.scalars(
            sa.select(Recording).where(Recording.session_id == session_id).order_by(Recording.id)
        )
    )
    for recording in recordings:
        require_recording_access(g.staff, recording, f"list the recordings of {session_id}")
        archive.log_access(recording, g.staff, "listed")
    if not recordings:
        require_recording_access_of_session(session)
    db.session.commit()
    return {"items": [dump_recording(r) for r in recordings]}


def require_recording_access_of_session(session: Session) -> None:
    """Listing an empty session's recordings follows the same rule."""
    from hearings.witness.access import may_see_recordings

    if not may_see_recordings(g.staff, session):
        raise refuse(f"list the recordings of {session.id}", session, None, staff=g.staff)


@api.get("/recordings/<id:recording_id>")
@writes_on_read
@caller_required
@spec.validate(resp=Responses(HTTP_200=RecordingOut, **ERRORS))
def read_recording(recording_id: int):
    """The recording's manifest, segments, script marks, custody log and signature."""
    recording = services.load_recording(recording_id)
    require_recording_access(g.staff, recording, f"view recording {recording_id}")
    archive.log_access(recording, g.staff, "viewed")
    db.session.commit()
    return dump_recording(recording, full=True)


@api.get("/recordings/<id:recording_id>/segments/<id:n>")
@writes_on_read
@caller_required
@spec.validate(resp=Responses(media={"HTTP_200": "video/mp4"}, **ERRORS))
def download_segment(recording_id: int, n: int):
    """One segment file (the download enters the custody log)."""
    recording = services.load_recording(recording_id)
    require_recording_access(g.staff, recording, f"download recording {recording_id}")
    path = archive.segment_file(recording, n)
    archive.log_access(recording, g.staff, "downloaded", n=n)
    db.session.commit()
    # Read whole (a segment is a few MB): spectree reads the response it validates.
    return FileResponse(
        path.read_bytes(), mimetype="video/mp4",
        headers={"Content-Disposition": f'attachment; filename="{path.name}"'},
    )  # fmt: skip


@api.get("/recordings/<id:recording_id>/verify")
@writes_on_read
@caller_required
@spec.validate(resp=Responses(HTTP_200=VerifyOut, **ERRORS))
def verify_recording(recording_id: int):
    """Re-hash every segment, check the custody chain and the signature."""
    recording = services.load_recording(recording_id)
    require_recording_access(g.staff, recording, f"verify recording {recording_id}")
    result = archive.verify(recording)
    archive.log_access(recording, g.staff, "verified", ok=result["ok"],
                       faults=[f["code"] for f in result["faults"]])  # fmt: skip
    db.session.commit()
    return result


@api.post("/recordings/<id:recording_id>/steps")
@caller_required
@spec.validate(json=StepIn, resp=Responses(HTTP_201=MarkOut, **CHANGE))
def mark_step(recording_id: int, json: StepIn):
    """The officer marks the next step of the script; skipping one is refused (409)."""
    recording = services.load_recording(recording_id)
    mark = services.mark_step(
        g.staff, recording, _session_of(recording), json.step, json.power, json.note
    )
    db.session.commit()
    return archive.mark_entry(mark), 201


@api.get("/recordings/<id:recording_id>/script")
@writes_on_read
@caller_required
@spec.validate(resp=Responses(HTTP_200=ScriptOut, **ERRORS))
def read_script(recording_id: int):
    """Where the script stands: the powers, the steps done, the next one."""
    recording = services.load_recording(recording_id)
    services.require_officer(g.staff, _session_of(recording), f"drive recording {recording_id}")
    nxt = script.expected(recording.powers, services.done_steps(recording))
    return {
        "powers": recording.powers,
        "done": [archive.mark_entry(m) for m in recording.marks],
        "next": None if nxt is None else {"step": nxt.step, "power": nxt.power},
    }


@api.post("/recordings/<id:recording_id>/pause")
@caller_required
@spec.validate(json=ReasonIn, resp=Responses(**RECORDING))
def pause(recording_id: int, json: ReasonIn):
    """Pause the recording, with the reason (logged and announced)."""
    recording = services.load_recording(recording_id)
    services.pause_recording(g.staff, recording, _session_of(recording), json.reason)
    db.session.commit()
    return dump_recording(recording)


@api.post("/recordings/<id:recording_id>/resume")
@caller_required
@spec.validate(resp=Responses(**RECORDING))
def resume(recording_id: int):
    """Resume a paused recording."""
    recording = services.load_recording(recording_id)
    services.resume_recording(g.staff, recording, _session_of(recording))
    db.session.commit()
    return dump_recording(recording)


@api.post("/recordings/<id:recording_id>/stop")
@caller_required
@spec.validate(json=StopIn, resp=Responses(**RECORDING, retry_after=("HTTP_503",)))
def stop(recording_id: int, json: StopIn):
    """Stop and seal the recording: last segment closed, manifest signed (503 with
    Retry-After while the recorder is still closing it: ask again)."""
    recording = services.load_recording(recording_id)
    recording = services.stop_recording(g.staff, recording, _session_of(recording), json.reason)
    db.session.commit()
    return dump_recording(recording, full=True)


@api.put("/recordings/<id:recording_id>/hold")
@caller_required
@spec.validate(json=ReasonIn, resp=Responses(**RECORDING))
def place_hold(recording_id: int, json: ReasonIn):
    """Place a legal hold (admins of the involved courts): no deletion while it lasts."""
    recording = services.load_recording(recording_id)
    archive.set_legal_hold(g.staff, recording, _session_of(recording), json.reason)
    db.session.commit()
    return dump_recording(recording)


@api.delete("/recordings/<id:recording_id>/hold")
@caller_required
@spec.validate(resp=Responses(**RECORDING))
def lift_hold(recording_id: int):
    """Lift a legal hold."""
    recording = services.load_recording(recording_id)
    archive.set_legal_hold(g.staff, recording, _session_of(recording), None)
    db.session.commit()
    return dump_recording(recording)


@api.delete("/recordings/<id:recording_id>")
@caller_required
@spec.validate(resp=Responses(**RECORDING))
def delete(recording_id: int):
    """Delete a recording's files after its retention period (refused before, or on hold)."""
    recording = services.load_recording(recording_id)
    archive.delete_recording(g.staff, recording, _session_of(recording))
    db.session.commit()
    return dump_recording(recording)


@api.get("/recordings/<id:recording_id>/record.pdf")
@writes_on_read
@caller_required
@spec.validate(resp=Responses(media={"HTTP_200": "application/pdf"}, **ERRORS))
def witness_record_pdf_api(recording_id: int):
    """The witness record (见证笔录) as PDF; the export enters the custody log."""
    return record_pdf_response(g.staff, recording_id)


def identity_checks_of(session: Session) -> list[IdentityCheck]:
    """The session's identity checks, in the order they were made."""
    return list(
        db.session.scalars(
            sa.select(IdentityCheck)
            .where(IdentityCheck.session_id == session.id)
            .order_by(IdentityCheck.id)
        )
    )


def record_pdf_response(staff: Any, recording_id: int) -> FileResponse:
    """The witness record as a PDF download, its export logged in the custody log."""
    from hearings.witness.record_pdf import record_pdf  # reportlab: only when asked

    recording = services.load_recording(recording_id)
    session = require_recording_access(staff, recording, f"export recording {recording_id}")
    services.witness_record_of(session, recording_id)
    now = utcnow()
    generated = (
        f"生成 Generated {local(now).strftime('%Y-%m-%d %H:%M:%S')} (北京时间) · "
        f"{staff.name} ({staff.court_id}) · hearings"
    )
    manifest = json.loads(recording.manifest) if recording.manifest else None
    pdf = record_pdf(recording, session, identity_checks_of(session), manifest, generated)
    archive.log_access(recording, staff, "exported", document="witness record", format="pdf",
                       sha256=hashlib.sha256(pdf).hexdigest(), bytes=len(pdf))  # fmt: skip
    db.session.commit()
    name = f"witness-record-{recording.id}.pdf"
    return FileResponse(
        pdf, mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )  # fmt: skip
