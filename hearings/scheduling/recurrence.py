"""Recurring liaison meetings: RFC 5545 RRULEs expanded into occurrences."""

from __future__ import annotations

from datetime import datetime, timedelta

from dateutil.rrule import rrulestr

from hearings.errors import RuleViolation
from hearings.timekeeping import COURT_TZ, local

#: A series is booked at most this far ahead and with at most this many occurrences.
MAX_SERIES_SPAN = timedelta(days=366)
MAX_OCCURRENCES = 60


def expand(rrule: str, starts: datetime, ends: datetime) -> list[tuple[datetime, datetime]]:
    """The occurrences of a series, each with the first one's duration (local wall time)."""
    text = rrule.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    if "COUNT=" not in text.upper() and "UNTIL=" not in text.upper():
        raise RuleViolation("A recurring series needs COUNT or UNTIL in its rrule.", field="rrule")
    first = local(starts).replace(tzinfo=None)
    try:
        rule = rrulestr(text, dtstart=first, ignoretz=True)
    except (ValueError, TypeError) as error:
        raise RuleViolation(
            f"rrule is not a valid RFC 5545 RRULE: {error}", field="rrule"
        ) from None
    duration = ends - starts
    occurrences: list[tuple[datetime, datetime]] = []
    for wall in rule:
        occurrence = wall.replace(tzinfo=COURT_TZ)
        if occurrence - local(starts) > MAX_SERIES_SPAN or len(occurrences) >= MAX_OCCURRENCES:
            raise RuleViolation(
                f"A series may hold at most {MAX_OCCURRENCES} occurrences within a year.",
                field="rrule",
            )
        occurrences.append(
            (occurrence.astimezone(starts.tzinfo), occurrence.astimezone(starts.tzinfo) + duration)
        )
    if not occurrences:
        raise RuleViolation("The rrule yields no occurrence.", field="rrule")
    return occurrences
