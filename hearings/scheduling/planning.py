"""Plans: a session as it would be booked, checked against the rules and the calendar,
and written with its reservations. Shared by booking, rescheduling and participant changes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from hearings.courts.calendar import load_calendars
from hearings.courts.models import Room, Staff
from hearings.courts.services import court_ids
from hearings.errors import Conflict, RuleViolation
from hearings.extensions import db
from hearings.scheduling import rules, vocabulary
from hearings.scheduling.conflicts import (
    find_conflicts,
    is_exclusion_violation,
    room_resource,
    staff_resource,
)
from hearings.scheduling.models import Participant, Reservation, Session, session_rooms
from hearings.timekeeping import utcnow

OPEN_STATUSES = vocabulary.OPEN_STATUSES


class PersonRequest(Protocol):
    """Someone asked to take part, as a booking names them (the API's ``ParticipantIn``
    is one): staff by id, anyone else by name and contacts."""

    @property
    def role(self) -> str: ...
    @property
    def staff_id(self) -> int | None: ...
    @property
    def name(self) -> str | None: ...
    @property
    def email(self) -> str | None: ...
    @property
    def phone(self) -> str | None: ...
    @property
    def side(self) -> str | None: ...
    @property
    def court(self) -> str | None: ...


@dataclass
class Plan:
    """A session as it would be booked: who, where, when, and why it may break hours."""

    kind: str
    host_court_id: str
    people: list[rules.PersonDraft]
    rooms: list[Room]
    starts: datetime
    ends: datetime
    outside_hours_reason: str | None
    short_notice_reason: str | None

    @property
    def resources(self) -> list[str]:
        """The reservation keys this plan holds."""
        keys = [staff_resource(p.staff.id) for p in self.people if p.staff is not None]
        return keys + [room_resource(r.id) for r in self.rooms]

    @property
    def court_ids(self) -> set[str]:
        """Every court whose hours bound the session: host, staff's and rooms' courts."""
        courts = {self.host_court_id}
        courts.update(p.staff.court_id for p in self.people if p.staff is not None)
        courts.update(r.court_id for r in self.rooms)
        return courts


def require_court(court_id: str) -> str:
    """The host court's id, if there is such a court, or 422."""
    if court_id not in court_ids(court_id):
        raise RuleViolation("unknown-host-court", court_id=court_id, field="host_court")
    return court_id


def load_rooms(room_ids: Sequence[int]) -> list[Room]:
    """The requested rooms, each active and named once, or 422."""
    if len(set(room_ids)) != len(room_ids):
        raise RuleViolation("room-listed-twice", field="room_ids")
    rooms = list(db.session.scalars(sa.select(Room).where(Room.id.in_(room_ids))))
    unknown = sorted(set(room_ids) - {r.id for r in rooms if r.active})
    if unknown:
        raise RuleViolation("unknown-rooms", unknown=unknown, field="room_ids")
    return sorted(rooms, key=lambda r: r.id)


def resolve_people(people: Sequence[PersonRequest]) -> list[rules.PersonDraft]:
    """The requested participants with their staff records (unknown staff or courts: 422)."""
    ids = {p.staff_id for p in people if p.staff_id is not None}
    staff = {s.id: s for s in db.session.scalars(sa.select(Staff).where(Staff.id.in_(ids)))}
    unknown = sorted(i for i in ids if i not in staff or not staff[i].active)
    if unknown:
        raise RuleViolation("unknown-staff", unknown=unknown, field="participants")
    courts = {p.court for p in people if p.court is not None}
    known_courts = court_ids(*courts)
    if courts - known_courts:
        raise RuleViolation(
            "unknown-courts", unknown=sorted(courts - known_courts), field="participants"
        )
    drafts = []
    for p in people:
        member = staff.get(p.staff_id) if p.staff_id is not None else None
        drafts.append(
            rules.PersonDraft(
                role=p.role,
                staff=member,
                name=p.name,
                email=p.email,
                phone=p.phone,
                side=p.side,
                court_id=member.court_id if member is not None else p.court,
            )
        )
    return drafts


def check_plan(
    plan: Plan, exclude_session_id: int | None = None, *, look_up_conflicts: bool = True
) -> tuple[list, list]:
    """The rule problems and conflicts of one occurrence of a plan (conflicts not looked up
    when ``look_up_conflicts`` is false: the database's guard will answer for them)."""
    now = utcnow()
    found = rules.check_times(plan.kind, plan.starts, plan.ends, now, plan.short_notice_reason)
    if plan.starts < plan.ends:
        calendars = load_calendars(plan.court_ids).values()
        found += rules.check_hours(calendars, plan.starts, plan.ends, plan.outside_hours_reason)
    conflicts = (
        find_conflicts(plan.resources, plan.starts, plan.ends, exclude_session_id)
        if plan.starts < plan.ends and look_up_conflicts
        else []
    )
    return found, conflicts


def raise_for(found: list[dict[str, Any]], conflicts: list[dict[str, Any]]) -> None:
    """Refuse with 422 for rule problems, else 409 for conflicts; return if neither."""
    if found:
        raise RuleViolation("rules-broken", problems=found)
    if conflicts:
        raise Conflict(
            "double-booking",
            title="Double booking",
            conflicts=conflicts,
        )


def insert_session(
    values: dict[str, Any], people: Sequence[rules.PersonDraft], rooms: Sequence[Room]
) -> Session:
    """Write a new session, its participants and its rooms (three INSERTs, no flush)
    and hand back the session with both collections loaded, as a flush would leave it."""
    session = db.session.scalars(sa.insert(Session).returning(Session), [values]).one()
    rows = [
        {
            "session_id": session.id,
            "role": p.role,
            "staff_id": p.staff.id if p.staff else None,
            "name": None if p.staff else p.name,
            "email": p.email,
            "phone": p.phone,
            "side": p.side,
            "court_id": p.court_id,
            "removed_at": None,
        }
        for p in people
    ]
    # One statement for all of them (NULLs written out, so that every row has the same
    # columns); ordered by id, as the relationship loads them.
    insert = sa.insert(Participant).returning(Participant).execution_options(render_nulls=True)
    participants = sorted(db.session.scalars(insert, rows), key=lambda p: p.id) if rows else []
    if rooms:
        links = [{"session_id": session.id, "room_id": room.id} for room in rooms]
        db.session.execute(sa.insert(session_rooms), links)
    set_committed_value(session, "participants", participants)
    set_committed_value(session, "rooms", sorted(rooms, key=lambda r: r.id))
    return session


def reserve(session: Session, plan: Plan, exclude_session_id: int | None) -> None:
    """Write the plan's reservations (staff and rooms) in one statement; if PostgreSQL's
    exclusion constraint refuses them (a booking not checked beforehand, or a race), roll
    back and answer with the conflicts (409)."""
    rows = [
        {"session_id": session.id, "resource": resource}
        | {"starts_at": plan.starts, "ends_at": plan.ends, "active": True}
        for resource in plan.resources
    ]
    if not rows:
        return
    try:
        db.session.execute(sa.insert(Reservation), rows)
        return
    except IntegrityError as error:
        if not is_exclusion_violation(error):
            raise
    db.session.rollback()
    raise_for([], find_conflicts(plan.resources, plan.starts, plan.ends, exclude_session_id))
    # The rival that held the time is gone again (cancelled or rolled back meanwhile).
    raise Conflict(
        "booking-raced",
        title="Double booking",
        conflicts=[],
    )


def plan_of(session: Session, **changes: Any) -> Plan:
    """The plan a booked session stands for, with some fields changed."""
    people = [
        rules.PersonDraft(
            role=p.role,
            staff=p.staff,
            name=p.name,
            email=p.email,
            phone=p.phone,
            side=p.side,
            court_id=p.court_id,
        )
        for p in session.active_participants
    ]
    values: dict[str, Any] = {
        "kind": session.kind,
        "host_court_id": session.host_court_id,
        "people": people,
        "rooms": list(session.rooms),
        "starts": session.starts_at,
        "ends": session.ends_at,
        "outside_hours_reason": session.outside_hours_reason,
        "short_notice_reason": session.short_notice_reason,
    }
    values.update(changes)
    return Plan(**values)


def require_open(session: Session) -> None:
    """Refuse (409) changes to a session that is over or cancelled."""
    if session.status not in OPEN_STATUSES:
        raise Conflict("session-closed", session_id=session.id, state=session.status)


def rewrite_reservations(session: Session, plan: Plan) -> None:
    """Replace the session's reservations with the plan's (reschedule, new rooms)."""
    db.session.execute(sa.delete(Reservation).where(Reservation.session_id == session.id))
    reserve(session, plan, session.id)
