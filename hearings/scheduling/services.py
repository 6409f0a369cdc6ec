"""Booking, rescheduling, cancelling, and changing who takes part: the rules applied."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa

from hearings.courts.calendar import load_calendars
from hearings.courts.models import Staff
from hearings.errors import Conflict, NotFound, RuleViolation
from hearings.extensions import db
from hearings.scheduling import audit, planning, rules, signals
from hearings.scheduling.access import require_court_access, require_session_access
from hearings.scheduling.conflicts import (
    find_conflicts,
    staff_resource,
)
from hearings.scheduling.models import Participant, Reservation, Session
from hearings.scheduling.planning import OPEN_STATUSES, PersonRequest, Plan
from hearings.scheduling.recurrence import expand
from hearings.scheduling.vocabulary import Kind, Status
from hearings.timekeeping import isoformat, local, utcnow


class BookingRequest(Protocol):
    """What a booking asks for (the API's ``SessionIn`` is one); times are aware datetimes."""

    @property
    def kind(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def case_number(self) -> str | None: ...
    @property
    def host_court(self) -> str: ...
    @property
    def starts_at(self) -> datetime: ...
    @property
    def ends_at(self) -> datetime: ...
    @property
    def room_ids(self) -> Sequence[int]: ...
    @property
    def participants(self) -> Sequence[PersonRequest]: ...
    @property
    def rrule(self) -> str | None: ...
    @property
    def outside_hours_reason(self) -> str | None: ...
    @property
    def short_notice_reason(self) -> str | None: ...


class _Keep:
    """The value of a field an edit leaves as it is."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP = _Keep()


@dataclass(frozen=True)
class SessionEdit:
    """An edit of a session: a field left as ``KEEP`` stays; so does a title, time or room
    set given as None, while None clears a case number or a reason."""

    title: str | _Keep | None = KEEP
    case_number: str | _Keep | None = KEEP
    starts_at: datetime | _Keep | None = KEEP
    ends_at: datetime | _Keep | None = KEEP
    room_ids: Sequence[int] | _Keep | None = KEEP
    outside_hours_reason: str | _Keep | None = KEEP
    short_notice_reason: str | _Keep | None = KEEP

    def given(self) -> dict[str, Any]:
        """The fields the edit names (None included), by name."""
        return {
            f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not KEEP
        }


def book_session(actor: Staff, request: BookingRequest) -> Session:
    """Book a session (or a recurring series); refuse rule breaks (422) and overlaps (409)."""
    court_id = planning.require_court(request.host_court)
    require_court_access(actor, court_id, "book sessions")
    starts, ends = request.starts_at, request.ends_at
    people = planning.resolve_people(request.participants)
    rooms = planning.load_rooms(request.room_ids)
    found = rules.check_participants(request.kind, people)
    if request.rrule and request.kind != Kind.LIAISON:
        found.append(rules.problem("no-recurrence", "Only liaison meetings may recur."))
    if found:
        planning.raise_for(found, [])

    def plan_at(s: datetime, e: datetime) -> Plan:
        return Plan(
            kind=request.kind,
            host_court_id=court_id,
            people=people,
            rooms=rooms,
            starts=s,
            ends=e,
            outside_hours_reason=request.outside_hours_reason,
            short_notice_reason=request.short_notice_reason,
        )

    if request.rrule and ends > starts:
        plans = [plan_at(s, e) for s, e in expand(request.rrule, starts, ends)]
    else:
        plans = [plan_at(starts, ends)]

    # A single booking leaves overlaps to the database's guard (``reserve`` lists them if it
    # refuses: one query fewer on the way that succeeds); a series lists every occurrence's.
    report: list[dict[str, Any]] = []
    for plan in plans:
        problems, conflicts = planning.check_plan(plan, look_up_conflicts=bool(request.rrule))
        if problems or conflicts:
            report.append(
                {
                    "date": local(plan.starts).date().isoformat(),
                    "starts_at": isoformat(plan.starts),
                    "problems": problems,
                    "conflicts": conflicts,
                }
            )
    if report and request.rrule:
        status_error = RuleViolation if any(r["problems"] for r in report) else Conflict
        raise status_error(
            "occurrences-refused",
            count=len(report),
            total=len(plans),
            dates=", ".join(r["date"] for r in report),
            occurrences=report,
        )
    if report:
        planning.raise_for(report[0]["problems"], report[0]["conflicts"])

    now = utcnow()
    sessions: list[Session] = []
    for plan in plans:
        session = planning.insert_session(
            {
                "kind": request.kind,
                "title": request.title,
                "case_number": request.case_number or None,
                "host_court_id": court_id,
                "starts_at": plan.starts,
                "ends_at": plan.ends,
                "status": Status.SCHEDULED,
                "rrule": request.rrule,
                "series_id": sessions[0].id if sessions else None,
                "outside_hours_reason": request.outside_hours_reason,
                "short_notice_reason": request.short_notice_reason,
                "sequence": 0,
                "created_by_id": actor.id,
                "created_at": now,
                "updated_at": now,
            },
            people,
            rooms,
        )
        if request.rrule and not sessions:
            session.series_id = session.id  # the first occurrence names the series
        planning.reserve(session, plan, None)
        audit.record(
            "session.booked",
            actor,
            session,
            kind=session.kind,
            starts_at=isoformat(plan.starts),
            ends_at=isoformat(plan.ends),
            outside_hours_reason=request.outside_hours_reason,
            short_notice_reason=request.short_notice_reason,
        )
        sessions.append(session)
    signals.session_booked.send(sessions[0], occurrences=sessions)
    return sessions[0]


def update_session(actor: Staff, session: Session, edit: SessionEdit) -> Session:
    """Edit or reschedule; a new time or room set obeys the same rules as a booking."""
    require_session_access(actor, session, "change")
    planning.require_open(session)
    given = edit.given()
    if given.get("title", "") is None:
        del given["title"]  # null leaves the title as it is, as it does the times and rooms
    changes: dict[str, Any] = {}
    plan_changes: dict[str, Any] = {}
    if isinstance(edit.starts_at, datetime):
        plan_changes["starts"] = edit.starts_at
    if isinstance(edit.ends_at, datetime):
        plan_changes["ends"] = edit.ends_at
    if edit.room_ids is not None and not isinstance(edit.room_ids, _Keep):
        plan_changes["rooms"] = planning.load_rooms(edit.room_ids)
    for reason in ("outside_hours_reason", "short_notice_reason"):
        if reason in given:
            plan_changes[reason] = given[reason]
    if plan_changes:
        plan = planning.plan_of(session, **plan_changes)
        moved = plan.starts != session.starts_at or plan.ends != session.ends_at
        found, conflicts = planning.check_plan(plan, exclude_session_id=session.id)
        if not moved:
            # A session that already started may still change rooms without tripping "past".
            found = [p for p in found if p["code"] != "in-the-past"]
        planning.raise_for(found, conflicts)
        if moved:
            changes["starts_at"] = [isoformat(session.starts_at), isoformat(plan.starts)]
            changes["ends_at"] = [isoformat(session.ends_at), isoformat(plan.ends)]
        if "rooms" in plan_changes:
            changes["room_ids"] = [[r.id for r in session.rooms], [r.id for r in plan.rooms]]
        session.starts_at, session.ends_at = plan.starts, plan.ends
        session.rooms = list(plan.rooms)
        session.outside_hours_reason = plan.outside_hours_reason
        session.short_notice_reason = plan.short_notice_reason
        planning.rewrite_reservations(session, plan)
    for field in ("title", "case_number"):
        if field in given and given[field] != getattr(session, field):
            changes[field] = [getattr(session, field), given[field]]
            setattr(session, field, given[field])
    if not changes and not plan_changes:
        return session
    session.sequence += 1
    session.updated_at = utcnow()
    action = "session.rescheduled" if "starts_at" in changes else "session.updated"
    audit.record(
        action,
        actor,
        session,
        changes=changes,
        outside_hours_reason=session.outside_hours_reason,
        short_notice_reason=session.short_notice_reason,
    )
    signals.session_changed.send(session, changes=changes)
    return session


def cancel_session(actor: Staff, session: Session, reason: str, scope: str) -> list[Session]:
    """Cancel one occurrence (or it and the rest of its series); the slots are freed."""
    require_session_access(actor, session, "cancel")
    planning.require_open(session)
    targets = [session]
    if scope == "series" and session.series_id is not None:
        targets = list(
            db.session.scalars(
                sa.select(Session).where(
                    Session.series_id == session.series_id,
                    Session.starts_at >= session.starts_at,
                    Session.status.in_(OPEN_STATUSES),
                )
            )
        )
    now = utcnow()
    for target in targets:
        target.status = Status.CANCELLED
        target.cancel_reason = reason
        target.sequence += 1
        target.updated_at = now
        db.session.execute(
            sa.update(Reservation).where(Reservation.session_id == target.id).values(active=False)
        )
        audit.record("session.cancelled", actor, target, reason=reason)
        signals.session_cancelled.send(target, reason=reason)
    return targets


def add_participant(actor: Staff, session: Session, person: PersonRequest) -> Participant:
    """Add someone; staff must be free then and their court open (unless a reason stands)."""
    require_session_access(actor, session, "change")
    planning.require_open(session)
    (draft,) = planning.resolve_people([person])
    plan = planning.plan_of(session)
    plan.people.append(draft)
    found = rules.check_participants(session.kind, plan.people)
    found = [p for p in found if p.get("participant") in (None, len(plan.people) - 1)]
    for p in found:
        p.pop("participant", None)
    if draft.staff is not None:
        calendars = load_calendars(plan.court_ids).values()
        found += rules.check_hours(calendars, plan.starts, plan.ends, plan.outside_hours_reason)
        conflicts = find_conflicts(
            [staff_resource(draft.staff.id)], plan.starts, plan.ends, session.id
        )
    else:
        conflicts = []
    planning.raise_for(found, conflicts)
    participant = Participant(
        role=draft.role,
        staff_id=draft.staff.id if draft.staff else None,
        name=None if draft.staff else draft.name,
        email=draft.email,
        phone=draft.phone,
        side=draft.side,
        court_id=draft.court_id,
    )
    session.participants.append(participant)
    if draft.staff is not None:
        resource_plan = planning.plan_of(session, people=[draft], rooms=[])
        planning.reserve(session, resource_plan, session.id)
    db.session.flush()
    session.sequence += 1
    session.updated_at = utcnow()
    audit.record(
        "participant.added", actor, session, participant_id=participant.id, role=draft.role
    )
    signals.session_changed.send(session, changes={"participant_added": participant.id})
    return participant


def remove_participant(actor: Staff, session: Session, participant_id: int) -> Participant:
    """Remove someone; the session keeps its required roles, their slot is freed."""
    require_session_access(actor, session, "change")
    planning.require_open(session)
    participant = next((p for p in session.active_participants if p.id == participant_id), None)
    if participant is None:
        raise NotFound("no-such-participant", session_id=session.id, participant_id=participant_id)
    people = planning.plan_of(session).people
    remaining = [
        draft
        for draft, p in zip(people, session.active_participants, strict=True)
        if p.id != participant_id
    ]
    missing = [
        p for p in rules.check_participants(session.kind, remaining) if p["code"] == "missing-role"
    ]
    if missing:
        raise RuleViolation(
            "removal-leaves-role-missing",
            problems=missing,
        )
    participant.removed_at = utcnow()
    if participant.staff_id is not None:
        db.session.execute(
            sa.update(Reservation)
            .where(
                Reservation.session_id == session.id,
                Reservation.resource == staff_resource(participant.staff_id),
            )
            .values(active=False)
        )
    session.sequence += 1
    session.updated_at = utcnow()
    audit.record(
        "participant.removed", actor, session, participant_id=participant.id, role=participant.role
    )
    signals.session_changed.send(session, changes={"participant_removed": participant.id})
    return participant


def ensure_staff_may_see(actor: Staff, session: Session) -> None:
    """Reading a session follows the same rule as acting on it."""
    require_session_access(actor, session, "view")


#: How a session moves as its room is used (the room drives it; cancel and adjourn don't).
PROGRESS: dict[str, int] = {
    status: n
    for n, status in enumerate(
        (Status.SCHEDULED, Status.OPEN, Status.IN_PROGRESS, Status.COMPLETED)
    )
}


def advance_status(session: Session, status: str, actor: Staff | None) -> bool:
    """Move a live session forward (open → in progress → completed); never backwards."""
    if session.status not in PROGRESS or PROGRESS[status] <= PROGRESS[session.status]:
        return False
    before = session.status
    now = utcnow()
    session.status = status
    session.updated_at = now
    detail: dict[str, Any] = {"before": before, "after": status}
    if status == Status.COMPLETED and now < session.ends_at:
        release_unused_time(session, now)
        detail["released_from"] = isoformat(max(now, session.starts_at))
    audit.record("session.status", actor, session, **detail)
    signals.session_progressed.send(session, before=before, after=status)
    return True


def release_unused_time(session: Session, now: datetime) -> None:
    """A session ended early frees its staff and rooms for the rest of the booked time (all
    of it if it ended before it began); the booked times stay on the session as planned."""
    held = sa.update(Reservation).where(
        Reservation.session_id == session.id, Reservation.active.is_(True)
    )
    if now <= session.starts_at:
        db.session.execute(held.values(active=False))
    else:
        db.session.execute(held.where(Reservation.ends_at > now).values(ends_at=now))
