"""Sign-in, the contact directory and the working-hours notice of each court."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Any

import sqlalchemy as sa
from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from hearings.courts import signals
from hearings.courts.calendar import (
    CourtCalendar,
    holiday_name,
    is_adjusted_working_day,
    load_calendars,
)
from hearings.courts.models import SEASONS, Court, CourtClosure, Room, Staff, WorkingHours
from hearings.courts.throttle import SignInThrottled, current_throttle
from hearings.errors import NotAuthenticated, NotFound, RuleViolation
from hearings.extensions import db
from hearings.timekeeping import isoformat, local

#: Where an app keeps the ids of the courts once read.
_COURT_IDS = "hearings.court_ids"


def hash_password(password: str) -> str:
    """Hash a password with the configured method."""
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


@cache
def _dummy_hash(method: str) -> str:
    return generate_password_hash("not anyone's password", method=method)


def dummy_password_hash() -> str:
    """What an unknown username's password is checked against: a hash made once with the
    configured method, so an unknown username costs the time of a wrong password."""
    return _dummy_hash(current_app.config["PASSWORD_HASH_METHOD"])


def authenticate(username: str, password: str, address: str) -> Staff:
    """The active staff member with these credentials, or 401; 429, before any password is
    hashed, while the username or the client ``address`` has too many recent failures."""
    throttle = current_throttle()
    refused = throttle.refusal(username, address)
    if refused is not None:
        limit, wait = refused
        if throttle.refusal_to_audit(limit, username, address):
            signals.sign_in_throttled.send(
                None, username=username, address=address, limit=limit, retry_after=wait
            )
        raise SignInThrottled(retry_after=wait)
    staff = db.session.scalar(sa.select(Staff).where(Staff.username == username))
    if staff is None:
        check_password_hash(dummy_password_hash(), password)
        reason = "unknown-username"
    elif not check_password_hash(staff.password_hash, password):
        reason = "wrong-password"
    elif not staff.active:
        reason = "inactive"
    else:
        signals.sign_in_succeeded.send(staff, username=username, address=address)
        return staff
    throttle.count_failure(username, address)
    signals.sign_in_failed.send(staff, username=username, address=address, reason=reason)
    raise NotAuthenticated("wrong-credentials")


def court_ids(*wanted: str) -> frozenset[str]:
    """The ids of the courts: reference data, kept per app once read, and read again when one
    of ``wanted`` is not among them (a court added since)."""
    known: frozenset[str] | None = current_app.extensions.get(_COURT_IDS)
    if known is None or not known.issuperset(wanted):
        known = frozenset(db.session.scalars(sa.select(Court.id)))
        current_app.extensions[_COURT_IDS] = known
    return known


def get_court(court_id: str) -> Court:
    """The court with that code, or 404."""
    court = db.session.get(Court, court_id)
    if court is None:
        raise NotFound("no-such-court", court_id=court_id)
    return court


def list_courts() -> list[Court]:
    """Every court, by code."""
    return list(db.session.scalars(sa.select(Court).order_by(Court.id)))


def search_directory(court: str | None, q: str | None, role: str | None) -> list[Staff]:
    """Active staff of both courts, filtered by court, role and a name/department search."""
    query = sa.select(Staff).where(Staff.active.is_(True))
    if court:
        query = query.where(Staff.court_id == court)
    if role:
        query = query.where(Staff.role == role)
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(
            sa.or_(
                Staff.name.ilike(pattern, escape="\\"),
                Staff.department.ilike(pattern, escape="\\"),
                Staff.phone.ilike(pattern, escape="\\"),
            )
        )
    return list(db.session.scalars(query.order_by(Staff.court_id, Staff.role, Staff.name)))


def list_rooms(court: str | None) -> list[Room]:
    """Active rooms, of one court or all."""
    query = sa.select(Room).where(Room.active.is_(True))
    if court:
        query = query.where(Room.court_id == court)
    return list(db.session.scalars(query.order_by(Room.court_id, Room.id)))


def hours_notice(
    court: Court, day: date, now: datetime, calendar: CourtCalendar | None = None
) -> dict[str, Any]:
    """The court's hours on a day, whether it is open now, and when it next opens.

    Pass the court's ``calendar`` when asking about several days (loaded once)."""
    calendar = calendar or load_calendars([court.id])[court.id]
    timetable = calendar.timetable(day)
    periods = calendar.open_periods(day)
    closed = calendar.closed_reason(day)
    next_opening = calendar.next_opening(now)
    return {
        "court": court.id,
        "date": day.isoformat(),
        "working_day": closed is None,
        "closed_reason": closed,
        "holiday": holiday_name(day),
        "adjusted_working_day": is_adjusted_working_day(day),
        "season": timetable.season if timetable else None,
        "periods": [{"opens": isoformat(o), "closes": isoformat(c)} for o, c in periods],
        "open_now": calendar.is_open(now),
        "next_opening": isoformat(next_opening),
        "phone": court.phone,
    }


def week_of(day: date) -> list[date]:
    """Monday to Sunday of the week holding ``day``."""
    monday = day - timedelta(days=day.weekday())
    return [monday + timedelta(days=n) for n in range(7)]


def local_today(now: datetime) -> date:
    """Today's date in Asia/Shanghai."""
    return local(now).date()


def set_timetable(
    court: Court, season: str, starts: tuple[int, int], morning: tuple[time, time],
    afternoon: tuple[time, time],
) -> WorkingHours:  # fmt: skip
    """Create or replace one seasonal timetable of a court."""
    if season not in SEASONS:
        raise RuleViolation("season-invalid", seasons=", ".join(SEASONS))
    try:
        date(2028, *starts)  # a leap year: 29 February is a valid season start
    except ValueError:
        raise RuleViolation("day-invalid", day=f"{starts[0]:02d}-{starts[1]:02d}") from None
    if not (morning[0] < morning[1] <= afternoon[0] < afternoon[1]):
        raise RuleViolation("hours-order")
    row = db.session.scalar(
        sa.select(WorkingHours).where(
            WorkingHours.court_id == court.id, WorkingHours.season == season
        )
    )
    if row is None:
        row = WorkingHours(court_id=court.id, season=season)
        db.session.add(row)
    row.starts_month, row.starts_day = starts
    row.morning_opens, row.morning_closes = morning
    row.afternoon_opens, row.afternoon_closes = afternoon
    return row


def close_court(court: Court, day: date, reason: str) -> CourtClosure:
    """Close a court for a whole day besides the national holidays."""
    if not reason.strip():
        raise RuleViolation("closure-needs-reason")
    closure = db.session.scalar(
        sa.select(CourtClosure).where(CourtClosure.court_id == court.id, CourtClosure.day == day)
    )
    if closure is None:
        closure = CourtClosure(court_id=court.id, day=day, reason=reason.strip())
        db.session.add(closure)
    closure.reason = reason.strip()
    return closure


def reopen_court(court: Court, day: date) -> bool:
    """Lift a closure; False if there was none."""
    result = db.session.execute(
        sa.delete(CourtClosure).where(CourtClosure.court_id == court.id, CourtClosure.day == day)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
