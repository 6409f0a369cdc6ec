"""The officer's witnessing controls on the room page: the same services as the API, reached
with the staff member's login cookie (and the page's CSRF token) instead of an API token.

The room page stays in the call while the officer works, so these endpoints take and give
JSON (errors are problem+json): identity check, start, each step of the script, pause,
resume, stop and seal. Only the session's officer sees the panel or may call them.
"""

from __future__ import annotations

from typing import Any, TypeVar

import sqlalchemy as sa
from flask import Blueprint, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from pydantic import BaseModel, ValidationError

from hearings.errors import Conflict, NotAuthenticated, RuleViolation, answers_scripts
from hearings.extensions import db
from hearings.inputs import invalid_request
from hearings.scheduling.access import load_session
from hearings.scheduling.models import Participant, Session
from hearings.timekeeping import isoformat
from hearings.witness import archive, script, services
from hearings.witness.access import RECORDERS, is_officer, require_officer
from hearings.witness.models import Recording
from hearings.witness.schemas import IdentityCheckIn, ReasonIn, RecordingIn, StepIn, StopIn

room = Blueprint("witness_room", __name__)

Body = TypeVar("Body", bound=BaseModel)

#: The recording's status as the room's indicator shows it (``recording`` frames' states).
INDICATOR = {"recording": "started", "paused": "paused", "interrupted": "interrupted"}


def _officer_session(session_id: int) -> Session:
    """The session, if the signed-in staff member is its witnessing officer (401/403)."""
    if not current_user.is_authenticated:
        raise NotAuthenticated("sign-in-required")
    session = load_session(session_id)
    if session.kind != "witness":
        raise RuleViolation("not-a-witnessing", session_id=session.id, kind=session.kind)
    require_officer(current_user, session, f"drive the witnessing of session {session.id}")
    return session


def _body(schema: type[Body], defaults: dict[str, Any] | None = None) -> Body:
    """The JSON body as ``schema`` (422 with the API's wording when it doesn't fit)."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        data = {}
    try:
        return schema.model_validate({**(defaults or {}), **data})
    except ValidationError as error:
        raise invalid_request(error) from None


def _principal(session: Session) -> Participant | None:
    return next((p for p in session.active_participants if p.role == "principal"), None)


def _active(session: Session) -> Recording:
    recording = services.active_recording(session.id)
    if recording is None:
        raise Conflict("no-recording-in-progress")
    return recording


def witness_state(session: Session) -> dict[str, Any]:
    """Where the witnessing stands: identity check, recording, script, last seal."""
    principal = _principal(session)
    check = services.principal_check(session)
    recording = services.active_recording(session.id)
    sealed = db.session.scalar(
        sa.select(Recording)
        .where(Recording.session_id == session.id, Recording.status == "sealed")
        .order_by(Recording.id.desc())
        .limit(1)
    )
    state: dict[str, Any] = {
        "session_id": session.id,
        "principal": None if principal is None else {"id": principal.id,
                                                     "name": principal.display_name},
        "identity": None if check is None else {
            "name": check.name, "masked_id_number": check.masked_id_number,
            "method": check.method, "checked_at": isoformat(check.checked_at),
        },
        "recording": None,
        "done": [],
        "next": None,
        "complete": False,
        "sealed": None if sealed is None else {
            "id": sealed.id, "sealed_at": isoformat(sealed.sealed_at),
            "record_url": url_for("witness.witness_record", recording_id=sealed.id),
        },
    }  # fmt: skip
    if recording is not None:
        done = services.done_steps(recording)
        nxt = script.expected(recording.powers, done)
        state.update(
            recording={"id": recording.id, "status": recording.status,
                       "powers": recording.powers, "started_at": isoformat(recording.started_at)},
            done=[archive.mark_entry(m) for m in recording.marks],
            next=None if nxt is None else {"step": nxt.step, "power": nxt.power},
            complete=nxt is None,
        )  # fmt: skip
    return state


@room.get("/sessions/<id:session_id>/witness")
@answers_scripts
def state(session_id: int) -> dict[str, Any]:
    """Where the witnessing of the session stands (for the officer's panel)."""
    return witness_state(_officer_session(session_id))


@room.post("/sessions/<id:session_id>/witness/identity-check")
@answers_scripts
def identity_check(session_id: int) -> tuple[dict[str, Any], int]:
    """The officer records the principal's identity check (name, ID number, face)."""
    session = _officer_session(session_id)
    principal = _principal(session)
    body = _body(IdentityCheckIn, {"participant_id": principal.id if principal else 0})
    services.record_identity_check(
        current_user, session, body.participant_id, body.name, body.id_number, body.method,
        body.face_confirmed,
    )  # fmt: skip
    db.session.commit()
    return witness_state(session), 201


@room.post("/sessions/<id:session_id>/witness/recording")
@answers_scripts
def start(session_id: int) -> tuple[dict[str, Any], int]:
    """Start the recording with the powers granted (the principal's identity checked first)."""
    session = _officer_session(session_id)
    recording = services.start_recording(current_user, session, _body(RecordingIn).powers)
    db.session.commit()
    services.launch_recorder(recording)
    return witness_state(session), 201


@room.post("/sessions/<id:session_id>/witness/steps")
@answers_scripts
def step(session_id: int) -> tuple[dict[str, Any], int]:
    """Mark the next step of the script; a skipped step is refused (409)."""
    session = _officer_session(session_id)
    body = _body(StepIn)
    services.mark_step(current_user, _active(session), session, body.step, body.power, body.note)
    db.session.commit()
    return witness_state(session), 201


@room.post("/sessions/<id:session_id>/witness/pause")
@answers_scripts
def pause(session_id: int) -> dict[str, Any]:
    """Pause the recording, with the reason (logged and announced to the room)."""
    session = _officer_session(session_id)
    services.pause_recording(current_user, _active(session), session, _body(ReasonIn).reason)
    db.session.commit()
    return witness_state(session)


@room.post("/sessions/<id:session_id>/witness/resume")
@answers_scripts
def resume(session_id: int) -> dict[str, Any]:
    """Resume the paused recording."""
    session = _officer_session(session_id)
    services.resume_recording(current_user, _active(session), session)
    db.session.commit()
    return witness_state(session)


@room.post("/sessions/<id:session_id>/witness/stop")
@answers_scripts
def stop(session_id: int) -> dict[str, Any]:
    """Stop and seal the recording (a reason is needed if the script is not complete)."""
    session = _officer_session(session_id)
    services.stop_recording(current_user, _active(session), session, _body(StopIn).reason)
    db.session.commit()
    return witness_state(session)


def officer_panel(session: Session, participant: Participant) -> Markup | None:
    """The witnessing controls, for the officer signed in as themself; nothing for others."""
    if session.kind != "witness" or participant.staff is None:
        return None
    if not is_officer(participant.staff, session):
        return None
    signed_in = current_user.is_authenticated and current_user.id == participant.staff_id
    return Markup(
        render_template(
            "witness_room.html",
            session=session,
            signed_in=signed_in,
            principal=_principal(session),
            special=list(script.SPECIAL_POWERS),
        )
    )


def recording_indicator(session: Session) -> dict[str, Any]:
    """Whether the room is being recorded as the page opens (later changes are announced)."""
    if session.kind not in RECORDERS:  # a liaison meeting: never recorded, no indicator
        return {}
    recording = services.active_recording(session.id)
    return {"recording": INDICATOR.get(recording.status) if recording else None}
