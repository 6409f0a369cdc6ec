"""The booking rules of the two courts. Each check returns problems; none raises."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from hearings.courts.calendar import CourtCalendar
from hearings.courts.models import Staff
from hearings.courts.vocabulary import StaffRole
from hearings.scheduling.vocabulary import Kind, ParticipantRole

#: Sessions last at most a working day.
MAX_SESSION_LENGTH = timedelta(hours=10)
#: 民诉法 Art. 139: parties are summoned at least three days before a hearing.
HEARING_NOTICE = timedelta(days=3)

R = ParticipantRole
#: For each role only staff hold (``vocabulary.STAFF_ONLY_ROLES``), the staff roles that may.
ELIGIBLE_STAFF: dict[str, frozenset[StaffRole]] = {
    R.PRESIDING_JUDGE: frozenset({StaffRole.JUDGE}),
    R.JUDGE: frozenset({StaffRole.JUDGE}),
    R.CLERK: frozenset({StaffRole.CLERK}),
    R.MEDIATOR: frozenset({StaffRole.MEDIATOR, StaffRole.JUDGE}),
    R.LIAISON: frozenset({StaffRole.LIAISON, StaffRole.JUDGE}),
}
SIDED_ROLES = frozenset({R.PARTY, R.ATTORNEY})

#: For each kind: (the key of what is missing, as pages name it; what is missing; the
#: participant roles that fill it).
REQUIRED_ROLES: dict[str, tuple[tuple[str, str, frozenset[ParticipantRole]], ...]] = {
    Kind.MEDIATION: (("mediator", "a mediator", frozenset({R.MEDIATOR})),),
    Kind.HEARING: (
        ("presiding_judge", "a presiding judge", frozenset({R.PRESIDING_JUDGE})),
        ("clerk", "a clerk", frozenset({R.CLERK})),
    ),
    Kind.WITNESS: (
        (
            "officer",
            "an officer (clerk or judge)",
            frozenset({R.CLERK, R.JUDGE, R.PRESIDING_JUDGE}),
        ),
        ("principal", "a principal", frozenset({R.PRINCIPAL})),
        ("agent", "an agent", frozenset({R.AGENT})),
    ),
    Kind.LIAISON: (("liaison", "a liaison officer or judge", frozenset({R.LIAISON, R.JUDGE})),),
}


@dataclass(frozen=True)
class PersonDraft:
    """A participant as requested, with the staff member resolved."""

    role: str
    staff: Staff | None
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    side: str | None = None
    court_id: str | None = None


def problem(code: str, detail: str, **extra: Any) -> dict[str, Any]:
    """One rule problem as reported in a 422."""
    return {"code": code, "detail": detail, **extra}


def check_person(person: PersonDraft, index: int | None = None) -> list[dict[str, Any]]:
    """A participant's role must fit who they are (staff or outsider)."""
    at: dict[str, Any] = {"role": person.role}
    if index is not None:
        at["participant"] = index
    found = []
    allowed_staff = ELIGIBLE_STAFF.get(person.role)
    if allowed_staff is not None:
        if person.staff is None:
            found.append(problem("staff-required", f"The {person.role} must be court staff.", **at))
        elif person.staff.role not in allowed_staff:
            found.append(
                problem(
                    "role-mismatch",
                    f"{person.staff.name} is a {person.staff.role} and can't act as {person.role}.",
                    name=person.staff.name,
                    staff_role=person.staff.role,
                    **at,
                )
            )
    elif person.staff is None and not (person.name or "").strip():
        found.append(problem("name-required", f"The {person.role} needs a name.", **at))
    elif person.staff is not None and person.role != R.OBSERVER:
        found.append(
            problem("outsider-role", f"Staff can't take the outside role {person.role}.", **at)
        )
    if person.side is not None and person.role not in SIDED_ROLES:
        found.append(problem("side-not-allowed", f"A {person.role} has no side.", **at))
    return found


def check_participants(kind: str, people: Sequence[PersonDraft]) -> list[dict[str, Any]]:
    """Each person fits their role; the kind's required roles are present; no one twice."""
    found: list[dict[str, Any]] = []
    for index, person in enumerate(people):
        found.extend(check_person(person, index))
    roles = {p.role for p in people}
    for needs, missing, fillers in REQUIRED_ROLES[kind]:
        if not roles & fillers:
            found.append(
                problem(
                    "missing-role", f"A {kind} session needs {missing}.", kind=kind, needs=needs
                )
            )
    staff = [p.staff for p in people if p.staff is not None]
    staff_ids = [s.id for s in staff]
    names = {s.id: s.name for s in staff}
    for staff_id in sorted({s for s in staff_ids if staff_ids.count(s) > 1}):
        found.append(
            problem(
                "duplicate-staff",
                f"Staff member {staff_id} is listed twice.",
                staff_id=staff_id,
                name=names[staff_id],
            )
        )
    if kind == Kind.LIAISON:
        outsiders = [p for p in people if p.staff is None]
        if outsiders:
            found.append(
                problem("staff-only", "A liaison meeting is for court staff only.", kind=kind)
            )
        courts = {p.staff.court_id for p in people if p.staff and p.role in {R.LIAISON, R.JUDGE}}
        if len(courts) < 2:
            found.append(
                problem(
                    "missing-role",
                    "A liaison meeting needs a liaison officer or judge from each court.",
                    kind=kind,
                    needs="liaison_each_court",
                )
            )
    return found


def check_times(
    kind: str,
    starts: datetime,
    ends: datetime,
    now: datetime,
    short_notice_reason: str | None,
) -> list[dict[str, Any]]:
    """Start before end, not in the past, at most a working day, hearing notice."""
    found = []
    if ends <= starts:
        found.append(problem("end-before-start", "The session must end after it starts."))
        return found
    if ends - starts > MAX_SESSION_LENGTH:
        hours = int(MAX_SESSION_LENGTH.total_seconds() // 3600)
        found.append(
            problem(
                "too-long",
                f"A session lasts at most a working day ({hours} hours).",
                hours=hours,
            )
        )
    if starts < now:
        found.append(problem("in-the-past", "The session can't start in the past."))
    elif kind == Kind.HEARING and starts - now < HEARING_NOTICE and not short_notice_reason:
        found.append(
            problem(
                "short-notice",
                "A hearing needs 3 days' notice (民诉法 Art. 139); give a short_notice_reason "
                "to book it sooner.",
                days=HEARING_NOTICE.days,
            )
        )
    return found


def check_hours(
    calendars: Iterable[CourtCalendar],
    starts: datetime,
    ends: datetime,
    outside_hours_reason: str | None,
) -> list[dict[str, Any]]:
    """Every involved court must be open for the whole session, unless a reason is given."""
    if outside_hours_reason or ends <= starts:
        return []
    found = []
    for calendar in calendars:
        why = calendar.hours_problem(starts, ends)
        if why:
            found.append(
                problem(
                    "outside-hours",
                    f"{calendar.court_id}: {why}; give an outside_hours_reason to book anyway.",
                    court=calendar.court_id,
                    **calendar.hours_issue(starts, ends),
                )
            )
    return found
