"""Sessions, participants and availability (API)."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import Blueprint, current_app, g

from hearings.courts.auth import staff_required
from hearings.courts.calendar import load_calendars
from hearings.courts.models import Room, Staff
from hearings.errors import RuleViolation
from hearings.extensions import db, spec
from hearings.inputs import DB_ID_MAX, form_id
from hearings.openapi import Problem, Responses
from hearings.scheduling import services
from hearings.scheduling.access import load_session, visible_sessions_clause
from hearings.scheduling.availability import find_free_slots
from hearings.scheduling.conflicts import room_resource, staff_resource
from hearings.scheduling.models import Participant, Session
from hearings.scheduling.schemas import (
    AvailabilityQuery,
    CancelIn,
    ParticipantIn,
    ParticipantOut,
    SessionIn,
    SessionList,
    SessionOut,
    SessionPatch,
    SessionQuery,
    SlotList,
)
from hearings.timekeeping import isoformat, utcnow

api = Blueprint("scheduling_api", __name__)

ERRORS = {"HTTP_400": Problem, "HTTP_401": Problem, "HTTP_403": Problem, "HTTP_404": Problem}


def dump_participant(p: Participant) -> dict:
    """A participant as the API shows it."""
    return {
        "id": p.id,
        "role": p.role,
        "staff_id": p.staff_id,
        "name": p.display_name,
        "email": p.staff.email if p.staff is not None else p.email,
        "phone": p.staff.phone if p.staff is not None else p.phone,
        "side": p.side,
        "court": p.court_id,
        "removed_at": isoformat(p.removed_at),
    }


def dump_session(s: Session) -> dict:
    """A session as the API shows it."""
    return {
        "id": s.id,
        "kind": s.kind,
        "title": s.title,
        "case_number": s.case_number,
        "host_court": s.host_court_id,
        "starts_at": isoformat(s.starts_at),
        "ends_at": isoformat(s.ends_at),
        "status": s.status,
        "rrule": s.rrule,
        "series_id": s.series_id,
        "outside_hours_reason": s.outside_hours_reason,
        "short_notice_reason": s.short_notice_reason,
        "cancel_reason": s.cancel_reason,
        "sequence": s.sequence,
        "room_ids": [r.id for r in s.rooms],
        "participants": [dump_participant(p) for p in s.participants],
    }


@api.post("/sessions")
@staff_required
@spec.validate(
    json=SessionIn,
    resp=Responses(HTTP_201=SessionOut, HTTP_409=Problem, HTTP_422=Problem, **ERRORS),
    skip_validation=False,
)
def book(json: SessionIn):
    """Book a session (or a recurring liaison series)."""
    session = services.book_session(g.staff, json)
    db.session.commit()
    return dump_session(session), 201


@api.get("/sessions")
@staff_required
@spec.validate(query=SessionQuery, resp=Responses(HTTP_200=SessionList, **ERRORS))
def list_sessions(query: SessionQuery):
    """Sessions the caller may see, filtered."""
    stmt = sa.select(Session).where(visible_sessions_clause(g.staff))
    if query.court:
        stmt = stmt.where(Session.host_court_id == query.court)
    if query.kind:
        stmt = stmt.where(Session.kind == query.kind)
    if query.status:
        stmt = stmt.where(Session.status == query.status)
    if query.staff_id:
        stmt = stmt.where(
            Session.id.in_(
                sa.select(Participant.session_id).where(
                    Participant.staff_id == query.staff_id, Participant.removed_at.is_(None)
                )
            )
        )
    if query.from_:
        stmt = stmt.where(Session.ends_at > query.from_)
    if query.to:
        stmt = stmt.where(Session.starts_at < query.to)
    sessions = db.session.scalars(stmt.order_by(Session.starts_at, Session.id).limit(1000))
    return {"items": [dump_session(s) for s in sessions]}


@api.get("/sessions/<id:session_id>")
@staff_required
@spec.validate(resp=Responses(HTTP_200=SessionOut, **ERRORS))
def read(session_id: int):
    """One session."""
    session = load_session(session_id)
    services.ensure_staff_may_see(g.staff, session)
    return dump_session(session)


@api.patch("/sessions/<id:session_id>")
@staff_required
@spec.validate(
    json=SessionPatch,
    resp=Responses(HTTP_200=SessionOut, HTTP_409=Problem, HTTP_422=Problem, **ERRORS),
)
def update(session_id: int, json: SessionPatch):
    """Reschedule or edit a session."""
    edit = services.SessionEdit(**json.model_dump(exclude_unset=True))
    session = services.update_session(g.staff, load_session(session_id), edit)
    db.session.commit()
    return dump_session(session)


@api.post("/sessions/<id:session_id>/cancel")
@staff_required
@spec.validate(
    json=CancelIn, resp=Responses(HTTP_200=SessionOut, HTTP_409=Problem, HTTP_422=Problem, **ERRORS)
)
def cancel(session_id: int, json: CancelIn):
    """Cancel a session (or the rest of its series)."""
    session = load_session(session_id)
    services.cancel_session(g.staff, session, json.reason, json.scope)
    db.session.commit()
    return dump_session(session)


@api.post("/sessions/<id:session_id>/participants")
@staff_required
@spec.validate(
    json=ParticipantIn,
    resp=Responses(HTTP_201=ParticipantOut, HTTP_409=Problem, HTTP_422=Problem, **ERRORS),
)
def add_participant(session_id: int, json: ParticipantIn):
    """Add a participant."""
    participant = services.add_participant(g.staff, load_session(session_id), json)
    db.session.commit()
    return dump_participant(participant), 201


@api.delete("/sessions/<id:session_id>/participants/<id:participant_id>")
@staff_required
@spec.validate(
    resp=Responses(HTTP_200=ParticipantOut, HTTP_409=Problem, HTTP_422=Problem, **ERRORS)
)
def remove_participant(session_id: int, participant_id: int):
    """Remove a participant."""
    participant = services.remove_participant(g.staff, load_session(session_id), participant_id)
    db.session.commit()
    return dump_participant(participant)


def _ids(text: str, field: str) -> list[int]:
    ids = [form_id(part) for part in text.split(",") if part.strip()]
    if None in ids:
        raise RuleViolation("ids-invalid", field=field, max=DB_ID_MAX) from None
    return [i for i in ids if i is not None]


@api.get("/availability")
@staff_required
@spec.validate(
    query=AvailabilityQuery, resp=Responses(HTTP_200=SlotList, HTTP_422=Problem, **ERRORS)
)
def availability(query: AvailabilityQuery):
    """The earliest common free slots of staff and rooms inside every court's hours."""
    config = current_app.config
    staff_ids, room_ids = _ids(query.staff_ids, "staff_ids"), _ids(query.room_ids, "room_ids")
    courts = {c.strip() for c in query.courts.split(",") if c.strip()}
    staff = list(db.session.scalars(sa.select(Staff).where(Staff.id.in_(staff_ids))))
    rooms = list(db.session.scalars(sa.select(Room).where(Room.id.in_(room_ids))))
    unknown = sorted(set(staff_ids) - {s.id for s in staff}) + sorted(
        set(room_ids) - {r.id for r in rooms}
    )
    if unknown:
        raise RuleViolation("unknown-resources", unknown=unknown)
    courts |= {s.court_id for s in staff} | {r.court_id for r in rooms}
    if not courts:
        raise RuleViolation("search-needs-something")
    calendars = load_calendars(courts)
    missing = sorted(c for c, cal in calendars.items() if not cal.timetables)
    if missing:
        raise RuleViolation("courts-without-hours", missing=missing)
    now = utcnow()
    start = max(query.from_, now) if query.from_ else now
    end = query.to or start + timedelta(days=30)
    if end <= start:
        raise RuleViolation("search-window-order")
    if end - start > timedelta(days=config["AVAILABILITY_MAX_DAYS"]):
        raise RuleViolation("search-too-long", days=config["AVAILABILITY_MAX_DAYS"])
    resources = [staff_resource(i) for i in staff_ids] + [room_resource(i) for i in room_ids]
    slots = find_free_slots(
        list(calendars.values()),
        resources,
        timedelta(minutes=query.duration_minutes),
        start,
        end,
        query.limit or config["AVAILABILITY_DEFAULT_LIMIT"],
    )
    return {"items": [{"starts_at": isoformat(s), "ends_at": isoformat(e)} for s, e in slots]}
