"""Recurring liaison meetings: RFC 5545 RRULEs expanded into occurrences."""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta

from dateutil.rrule import DAILY, MONTHLY, WEEKLY, YEARLY, rrule, rrulestr

from hearings.errors import RuleViolation
from hearings.scheduling.rules import problem
from hearings.timekeeping import COURT_TZ, local

#: A series is booked at most this far ahead and with at most this many occurrences.
MAX_SERIES_SPAN = timedelta(days=366)
MAX_OCCURRENCES = 60
#: Meetings repeat by the day at the most often: a finer FREQ is refused.
FREQUENCIES = {YEARLY: "YEARLY", MONTHLY: "MONTHLY", WEEKLY: "WEEKLY", DAILY: "DAILY"}


def _refuse(code: str, detail: str, **extra: object) -> RuleViolation:
    return RuleViolation("rules-broken", field="rrule", problems=[problem(code, detail, **extra)])


def _year_pattern(year: int) -> tuple[int, bool]:
    return date(year, 1, 1).weekday(), calendar.isleap(year)


def _shift_to_calendar_end(first: datetime) -> timedelta:
    """A whole number of days that moves ``first``'s series span to the same calendar
    (weekdays and leap years) as late before year 9999 as it can be.

    dateutil walks to year 9999 looking for the next occurrence of a rule that has none
    left (``BYMONTH=2;BYMONTHDAY=30`` walks 8,000 years: seconds, under the write lock).
    Expanded on an equivalent calendar that ends near 9999, it can walk a few decades at the
    most. The Gregorian calendar repeats every 400 years, so there always is one."""
    years = range(first.year, (first + MAX_SERIES_SPAN).year + 2)
    wanted = [_year_pattern(y) for y in years]
    last = date.max.year - len(years) + 1
    for candidate in range(last, last - 400, -1):
        if all(_year_pattern(candidate + i) == p for i, p in enumerate(wanted)):
            return date(candidate, 1, 1) - date(first.year, 1, 1)
    return timedelta(0)  # unreachable: the 400-year cycle always matches


def expand(rrule_text: str, starts: datetime, ends: datetime) -> list[tuple[datetime, datetime]]:
    """The occurrences of a series, each with the first one's duration (local wall time)."""
    text = rrule_text.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    upper = text.upper()
    if "COUNT=" not in upper and "UNTIL=" not in upper:
        raise _refuse("rrule-unbounded", "A recurring series needs COUNT or UNTIL in its rrule.")
    if "BYEASTER" in upper:
        raise _refuse("rrule-invalid", "rrule is not a valid RFC 5545 RRULE: BYEASTER.")
    first = local(starts).replace(tzinfo=None)
    try:
        rule = rrulestr(text, dtstart=first, ignoretz=True)
    except (ValueError, TypeError, OverflowError) as error:
        raise _refuse("rrule-invalid", f"rrule is not a valid RFC 5545 RRULE: {error}") from None
    if not isinstance(rule, rrule):
        raise _refuse("rrule-invalid", "rrule is not a valid RFC 5545 RRULE.")
    if rule._freq not in FREQUENCIES:
        raise _refuse(
            "rrule-frequency",
            "A series repeats at most once a day (FREQ=DAILY, WEEKLY, MONTHLY or YEARLY).",
        )
    if rule._interval < 1:
        raise _refuse("rrule-invalid", "rrule is not a valid RFC 5545 RRULE: INTERVAL < 1.")
    too_long = _refuse(
        "series-too-long",
        f"A series may span at most {MAX_SERIES_SPAN.days} days.",
        days=MAX_SERIES_SPAN.days,
    )
    too_many = _refuse(
        "series-too-many",
        f"A series may hold at most {MAX_OCCURRENCES} occurrences.",
        count=MAX_OCCURRENCES,
    )
    if rule._until is not None and rule._until - first > MAX_SERIES_SPAN:
        raise too_long
    if rule._count is not None and rule._count > MAX_OCCURRENCES:
        raise too_many
    shift = _shift_to_calendar_end(first)
    until = rule._until + shift if rule._until is not None else None
    shifted = rule.replace(dtstart=first + shift, until=until)
    duration = ends - starts
    occurrences: list[tuple[datetime, datetime]] = []
    for shifted_wall in shifted:
        wall = shifted_wall - shift
        occurrence = wall.replace(tzinfo=COURT_TZ)
        if occurrence - local(starts) > MAX_SERIES_SPAN:
            raise too_long
        if len(occurrences) >= MAX_OCCURRENCES:
            raise too_many
        start = occurrence.astimezone(starts.tzinfo)
        if occurrences and start < occurrences[-1][1]:
            raise _refuse(
                "series-overlaps-itself",
                "The series overlaps itself: an occurrence starts before the one before it ends.",
            )
        occurrences.append((start, start + duration))
    if not occurrences:
        raise _refuse("rrule-empty", "The rrule yields no occurrence.")
    if rule._count is not None and len(occurrences) < rule._count:
        # The rest lie past the calendar the series was expanded on: beyond its span.
        raise too_long
    return occurrences
