"""Time: UTC inside, Asia/Shanghai on the outside, and one clock the tests can freeze."""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app, has_app_context

from hearings.errors import MalformedRequest, RuleViolation

COURT_TZ = ZoneInfo("Asia/Shanghai")
GRID = timedelta(minutes=15)
#: The years a time the service is given may fall in: far from datetime's own ends (year 1
#: and 9999), so no offset, duration or calendar step on it overflows (a 500).
YEARS = range(1970, 2200)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timezone-aware datetime stored as UTC on every backend (SQLite has no zones)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    """The current time in UTC, or the configured frozen time (demos and tests)."""
    if has_app_context():
        frozen = current_app.config.get("NOW")
        if frozen:
            return _frozen(frozen)
    return datetime.now(UTC)


@functools.lru_cache(maxsize=8)
def _frozen(text: str) -> datetime:
    return parse_api_time(text, "NOW")


def parse_api_time(text: str, field: str) -> datetime:
    """Parse an ISO 8601 time from the API; a time without offset is Asia/Shanghai."""
    try:
        value = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise MalformedRequest("time-invalid", field=field, value=str(text)) from None
    return served_time(value, field)


def served_time(value: datetime, field: str) -> datetime:
    """A time the service is given, in UTC: without an offset it is Asia/Shanghai; a year
    outside ``YEARS`` is refused (422, naming ``field``)."""
    if value.year not in YEARS:
        raise RuleViolation(
            "time-out-of-range", field=field, first=YEARS.start, last=YEARS.stop - 1
        )
    if value.tzinfo is None:
        value = value.replace(tzinfo=COURT_TZ)
    return value.astimezone(UTC)


def local(value: datetime) -> datetime:
    """The time as the courts read it (Asia/Shanghai)."""
    return value.astimezone(COURT_TZ)


def isoformat(value: datetime | None) -> str | None:
    """Render a time for the API: Asia/Shanghai with its offset."""
    return None if value is None else local(value).isoformat()


def at_local(day: date, clock: time) -> datetime:
    """The UTC instant of a wall-clock time on a day in Asia/Shanghai."""
    return datetime.combine(day, clock, tzinfo=COURT_TZ).astimezone(UTC)


def ceil_to_grid(value: datetime) -> datetime:
    """Round up to the 15-minute grid (Shanghai has whole-hour offsets, so UTC aligns)."""
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    steps = -(-(value - epoch) // GRID)
    return epoch + steps * GRID


def local_dates(start: datetime, end: datetime) -> list[date]:
    """Every Asia/Shanghai calendar day touched by the half-open span [start, end)."""
    first = local(start).date()
    last = local(end - timedelta(microseconds=1)).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]
