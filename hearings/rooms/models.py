"""Join links (the room tokens handed out) and attendance, kept as evidence."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hearings.extensions import Model
from hearings.timekeeping import UTCDateTime

ATTENDANCE_EVENTS = ("joined", "admitted", "left", "removed", "dropped", "moved", "ended")


class JoinLink(Model):
    """A room token issued to one participant; revoked ones stop working at once."""

    __tablename__ = "join_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("sessions.id"), index=True)
    participant_id: Mapped[int] = mapped_column(sa.ForeignKey("participants.id"), index=True)
    #: The token's ``jti``: what a connection is checked against.
    jti: Mapped[str] = mapped_column(sa.String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: The token's ``nbf`` and ``exp``.
    not_before: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Set when a newer link replaces it, or the participant or session goes away.
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    issued_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff.id"))


class AttendanceEvent(Model):
    """Who joined, was admitted, left, was removed or dropped off, and when."""

    __tablename__ = "attendance_events"
    __table_args__ = (
        sa.CheckConstraint(
            "event IN ('joined', 'admitted', 'left', 'removed', 'dropped', 'moved', 'ended')",
            name="event",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("sessions.id"), index=True)
    #: None for the server-side recorder.
    participant_id: Mapped[int | None] = mapped_column(sa.ForeignKey("participants.id"))
    #: The connection's id in the room (one person may connect several times).
    peer_id: Mapped[str] = mapped_column(sa.String(64))
    name: Mapped[str] = mapped_column(sa.String(100))
    role: Mapped[str] = mapped_column(sa.String(32))
    event: Mapped[str] = mapped_column(sa.String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    detail: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
