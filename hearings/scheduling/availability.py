"""The earliest free slots common to a set of staff and rooms, on a 15-minute grid."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from hearings.courts.calendar import CourtCalendar, Period, common_open_periods
from hearings.scheduling.conflicts import busy_spans
from hearings.timekeeping import GRID, ceil_to_grid, local_dates


def merge(spans: Sequence[Period]) -> list[Period]:
    """Merge overlapping or touching spans, earliest first."""
    merged: list[Period] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def free_slots(
    calendars: Sequence[CourtCalendar],
    busy: Sequence[Period],
    duration: timedelta,
    start: datetime,
    end: datetime,
    limit: int,
    one_per_period: bool = False,
) -> list[Period]:
    """Slots of ``duration`` on the grid inside every court's hours and outside ``busy``;
    with ``one_per_period``, only the earliest of each opening (a morning, an afternoon), so
    that a few suggestions reach over several days."""
    blocked = merge(busy)
    slots: list[Period] = []
    cursor = 0  # index of the first blocked span that may still matter
    for day in local_dates(start, end):
        for opens, closes in common_open_periods(calendars, day):
            t = ceil_to_grid(max(opens, start))
            last_end = min(closes, end)
            while t + duration <= last_end:
                while cursor < len(blocked) and blocked[cursor][1] <= t:
                    cursor += 1
                if cursor < len(blocked) and blocked[cursor][0] < t + duration:
                    t = ceil_to_grid(blocked[cursor][1])
                    continue
                slots.append((t, t + duration))
                if len(slots) >= limit:
                    return slots
                if one_per_period:
                    break
                t += GRID
    return slots


def find_free_slots(
    calendars: Sequence[CourtCalendar],
    resources: Sequence[str],
    duration: timedelta,
    start: datetime,
    end: datetime,
    limit: int,
    one_per_period: bool = False,
) -> list[Period]:
    """The earliest free slots for all ``resources`` at once, within [start, end)
    (with ``one_per_period``, the earliest of each morning and afternoon)."""
    reservations = busy_spans(resources, start, end)
    busy = [(r.starts_at, r.ends_at) for r in reservations]
    return free_slots(calendars, busy, duration, start, end, limit, one_per_period)
