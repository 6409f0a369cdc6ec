"""Double-booking: which reservations a span would collide with, and the database guard."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from hearings.courts.models import Room, Staff
from hearings.extensions import db
from hearings.scheduling.models import Reservation
from hearings.scheduling.rules import MAX_SESSION_LENGTH
from hearings.timekeeping import isoformat

#: PostgreSQL's SQLSTATE for an exclusion-constraint violation.
EXCLUSION_VIOLATION = "23P01"
#: The name of the database's guard against overlapping reservations.
OVERLAP_GUARD = "ex_reservations_no_overlap"


class Busy(NamedTuple):
    """A span during which a resource is held by a session."""

    resource: str
    session_id: int
    starts_at: datetime
    ends_at: datetime


def staff_resource(staff_id: int) -> str:
    """The reservation key of a staff member."""
    return f"staff:{staff_id}"


def room_resource(room_id: int) -> str:
    """The reservation key of a room."""
    return f"room:{room_id}"


def busy_spans(
    resources: Iterable[str],
    starts: datetime,
    ends: datetime,
    exclude_session_id: int | None = None,
) -> list[Busy]:
    """Active reservations of the resources overlapping [starts, ends), earliest first."""
    keys = sorted(set(resources))
    if not keys:
        return []
    # Reservations are at most MAX_SESSION_LENGTH long, which bounds the index range scan.
    # Plain rows, not ORM objects: availability reads hundreds of them per query.
    query = (
        sa.select(
            Reservation.resource, Reservation.session_id, Reservation.starts_at, Reservation.ends_at
        )
        .where(
            Reservation.resource.in_(keys),
            Reservation.active.is_(True),
            Reservation.starts_at >= starts - MAX_SESSION_LENGTH,
            Reservation.starts_at < ends,
            Reservation.ends_at > starts,
        )
        .order_by(Reservation.starts_at)
    )
    if exclude_session_id is not None:
        query = query.where(Reservation.session_id != exclude_session_id)
    return [Busy(*row) for row in db.session.execute(query)]


def describe_resource(resource: str) -> str:
    """A human name for a reservation key (the staff member's or room's name)."""
    kind, _, raw_id = resource.partition(":")
    found: Staff | Room | None = (
        db.session.get(Staff, int(raw_id)) if kind == "staff" else db.session.get(Room, int(raw_id))
    )
    return found.name if found is not None else resource


def find_conflicts(
    resources: Iterable[str],
    starts: datetime,
    ends: datetime,
    exclude_session_id: int | None = None,
) -> list[dict[str, Any]]:
    """Every collision of the resources with other sessions, as the 409 lists them."""
    return [
        {
            "resource": r.resource,
            "resource_name": describe_resource(r.resource),
            "session_id": r.session_id,
            "starts_at": isoformat(r.starts_at),
            "ends_at": isoformat(r.ends_at),
        }
        for r in busy_spans(resources, starts, ends, exclude_session_id)
    ]


def is_exclusion_violation(error: IntegrityError) -> bool:
    """Whether the database refused a write because two reservations would overlap
    (PostgreSQL's exclusion constraint, or SQLite's triggers of the same name)."""
    if getattr(error.orig, "sqlstate", None) == EXCLUSION_VIOLATION:
        return True
    return str(error.orig).startswith(OVERLAP_GUARD)
