"""The court calendar: seasonal working hours, China's holidays and 调休, court closures."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

import holidays
import sqlalchemy as sa
from flask import current_app

from hearings.courts.models import Court, CourtClosure, WorkingHours
from hearings.extensions import db
from hearings.timekeeping import at_local, local, local_dates

Period = tuple[datetime, datetime]
#: Where an app keeps the calendars it loaded: court id → (calendar_version, calendar).
_CACHE = "hearings.calendars"


@lru_cache(maxsize=32)
def _china(year: int) -> holidays.HolidayBase:
    return holidays.China(years=year, language="zh_CN")


def holiday_name(day: date) -> str | None:
    """The name of China's public holiday (or substituted day off) on ``day``, if any."""
    return _china(day.year).get(day)


def is_adjusted_working_day(day: date) -> bool:
    """True for a Saturday or Sunday that is a working day by the State Council's 调休."""
    return day in _china(day.year).weekend_workdays


def is_national_working_day(day: date) -> bool:
    """Monday to Friday unless a holiday, plus the adjusted working weekend days."""
    return bool(_china(day.year).is_working_day(day))


@dataclass(frozen=True)
class Timetable:
    """One season's hours: a morning and an afternoon period."""

    season: str
    starts: tuple[int, int]
    periods: tuple[tuple[time, time], ...]


@dataclass
class CourtCalendar:
    """Everything needed to say when one court is open."""

    court_id: str
    timetables: list[Timetable]
    closures: dict[date, str] = field(default_factory=dict)

    def timetable(self, day: date) -> Timetable | None:
        """The seasonal timetable in force on ``day``."""
        if not self.timetables:
            return None
        key = (day.month, day.day)
        current = [t for t in self.timetables if t.starts <= key]
        return current[-1] if current else self.timetables[-1]

    def closed_reason(self, day: date) -> str | None:
        """Why the court is closed all day, or None on a working day."""
        if day in self.closures:
            return f"court closed: {self.closures[day]}"
        if is_national_working_day(day):
            return None
        name = holiday_name(day)
        return f"public holiday: {name}" if name else "weekend"

    def open_periods(self, day: date) -> list[Period]:
        """The UTC spans the court is open on a local calendar day (empty when closed)."""
        if self.closed_reason(day) is not None:
            return []
        timetable = self.timetable(day)
        if timetable is None:
            return []
        return [
            (at_local(day, opens), at_local(day, closes)) for opens, closes in timetable.periods
        ]

    def hours_problem(self, starts: datetime, ends: datetime) -> str | None:
        """Why [starts, ends) is not inside this court's working hours, or None if it is."""
        issue = self.hours_issue(starts, ends)
        if not issue:
            return None
        day = issue.get("date")
        match issue["issue"]:
            case "past-midnight":
                return "the session runs past midnight"
            case "holiday":
                reason = f"public holiday: {issue['holiday']}"
            case "closure":
                reason = f"court closed: {issue['closure']}"
            case "weekend":
                reason = "weekend"
            case _:
                return f"outside working hours on {day} ({', '.join(issue['hours'])})"
        return f"{day} is not a working day ({reason})"

    def hours_issue(self, starts: datetime, ends: datetime) -> dict[str, Any]:
        """What keeps [starts, ends) out of this court's working hours, for a person to read:
        ``issue`` (past-midnight, closure, holiday, weekend, hours) and its particulars;
        empty if the span is inside them."""
        days = local_dates(starts, ends)
        if len(days) > 1:
            return {"issue": "past-midnight"}
        day = days[0]
        at = {"date": day.isoformat()}
        if day in self.closures:
            return {"issue": "closure", "closure": self.closures[day], **at}
        if not is_national_working_day(day):
            name = holiday_name(day)
            if name:
                return {"issue": "holiday", "holiday": name, **at}
            return {"issue": "weekend", **at}
        periods = self.open_periods(day)
        if any(opens <= starts and ends <= closes for opens, closes in periods):
            return {}
        hours = [f"{local(o):%H:%M}–{local(c):%H:%M}" for o, c in periods]
        return {"issue": "hours", "hours": hours, **at}

    def next_opening(self, after: datetime, horizon_days: int = 60) -> datetime | None:
        """The first opening time after ``after`` within the horizon."""
        day = local(after).date()
        for offset in range(horizon_days):
            for opens, _ in self.open_periods(day + timedelta(days=offset)):
                if opens > after:
                    return opens
        return None

    def is_open(self, moment: datetime) -> bool:
        """Whether the court is open at ``moment``."""
        return any(o <= moment < c for o, c in self.open_periods(local(moment).date()))


def load_calendars(court_ids: Iterable[str]) -> dict[str, CourtCalendar]:
    """The calendars of the given courts: one small query when this process has them already.

    Calendars are cached per app against each court's ``calendar_version``, which the
    database changes with every write to the court's hours or closures (whichever process
    or tool makes it); a changed version loads that court's calendar again, with two queries.
    Callers must not change the calendars they get.
    """
    ids = sorted(set(court_ids))
    if not ids:
        return {}
    cache: dict[str, tuple[int, CourtCalendar]] = current_app.extensions.setdefault(_CACHE, {})
    query = sa.select(Court.id, Court.calendar_version).where(Court.id.in_(ids))
    versions: dict[str, int] = {cid: version for cid, version in db.session.execute(query)}
    calendars: dict[str, CourtCalendar] = {}
    stale = []
    for cid in ids:
        cached = cache.get(cid)
        if cached is not None and cid in versions and cached[0] == versions[cid]:
            calendars[cid] = cached[1]
        else:
            stale.append(cid)
    if stale:
        loaded = _load_calendars(stale)
        for cid, calendar in loaded.items():
            if cid in versions:
                cache[cid] = (versions[cid], calendar)
        calendars.update(loaded)
    return calendars


def _load_calendars(ids: list[str]) -> dict[str, CourtCalendar]:
    """Load the calendars of the given courts with two queries."""
    calendars = {cid: CourtCalendar(cid, []) for cid in ids}
    rows = db.session.scalars(
        sa.select(WorkingHours)
        .where(WorkingHours.court_id.in_(ids))
        .order_by(WorkingHours.starts_month, WorkingHours.starts_day)
    )
    for row in rows:
        calendars[row.court_id].timetables.append(
            Timetable(
                season=row.season,
                starts=(row.starts_month, row.starts_day),
                periods=(
                    (row.morning_opens, row.morning_closes),
                    (row.afternoon_opens, row.afternoon_closes),
                ),
            )
        )
    for closure in db.session.scalars(
        sa.select(CourtClosure).where(CourtClosure.court_id.in_(ids))
    ):
        calendars[closure.court_id].closures[closure.day] = closure.reason
    return calendars


def common_open_periods(calendars: Iterable[CourtCalendar], day: date) -> list[Period]:
    """The spans of ``day`` during which every given court is open."""
    common: list[Period] | None = None
    for calendar in calendars:
        periods = calendar.open_periods(day)
        if common is None:
            common = periods
            continue
        common = [
            (max(a0, b0), min(a1, b1))
            for a0, a1 in common
            for b0, b1 in periods
            if max(a0, b0) < min(a1, b1)
        ]
    return sorted(common or [])
