"""Sessions, their participants and rooms, resource reservations and the audit trail."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hearings.courts.models import Court, Room, Staff
from hearings.extensions import Model, db
from hearings.scheduling.vocabulary import Kind, ParticipantRole, Side, Status
from hearings.timekeeping import UTCDateTime


def _in(column: str, values: Iterable[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(str(v)) for v in values)})"


session_rooms = sa.Table(
    "session_rooms",
    db.metadata,
    sa.Column("session_id", sa.ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("room_id", sa.ForeignKey("rooms.id"), primary_key=True),
)


class Session(Model):
    """One booked video meeting of one of the four kinds."""

    __tablename__ = "sessions"
    __table_args__ = (
        sa.CheckConstraint(_in("kind", Kind), name="kind"),
        sa.CheckConstraint(_in("status", Status), name="status"),
        sa.CheckConstraint("starts_at < ends_at", name="ordered"),
        sa.Index("ix_sessions_host_court_starts", "host_court_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: ``mediation`` 视频调解, ``hearing`` 网上开庭, ``witness`` 委托代理视频见证,
    #: ``liaison`` 联络视频会议.
    kind: Mapped[str] = mapped_column(sa.String(16))
    title: Mapped[str] = mapped_column(sa.String(200))
    #: E.g. (2026)豫03民初123号; optional for liaison meetings.
    case_number: Mapped[str | None] = mapped_column(sa.String(64))
    #: The court that organizes the session.
    host_court_id: Mapped[str] = mapped_column(sa.ForeignKey("courts.id"))
    #: Half-open span [starts_at, ends_at), stored in UTC.
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(sa.String(16), default=Status.SCHEDULED.value)
    #: RFC 5545 RRULE of a recurring series (kept on every occurrence of it).
    rrule: Mapped[str | None] = mapped_column(sa.String(500))
    #: The first occurrence of the series this session belongs to, if recurring.
    series_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sessions.id"), index=True)
    #: Why the session may sit outside working hours or on a holiday (night/weekend court).
    outside_hours_reason: Mapped[str | None] = mapped_column(sa.String(500))
    #: Why a hearing may be held with less than 3 days' notice (民诉法 Art. 139).
    short_notice_reason: Mapped[str | None] = mapped_column(sa.String(500))
    cancel_reason: Mapped[str | None] = mapped_column(sa.String(500))
    #: iCalendar SEQUENCE: rises by one with every change participants must hear about.
    sequence: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    host_court: Mapped[Court] = relationship()
    participants: Mapped[list[Participant]] = relationship(
        back_populates="session", order_by="Participant.id", cascade="all, delete-orphan"
    )
    rooms: Mapped[list[Room]] = relationship(secondary=session_rooms, order_by="Room.id")

    @property
    def active_participants(self) -> list[Participant]:
        """Participants not removed from the session."""
        return [p for p in self.participants if p.removed_at is None]


class Participant(Model):
    """A person in a session: a staff member, or an outsider who joins by a personal link."""

    __tablename__ = "participants"
    __table_args__ = (
        sa.CheckConstraint(_in("role", ParticipantRole), name="role"),
        sa.CheckConstraint(f"side IS NULL OR {_in('side', Side)}", name="side"),
        sa.CheckConstraint("staff_id IS NOT NULL OR name IS NOT NULL", name="identified"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        sa.ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(sa.String(32))
    #: Set for court staff; outsiders have a name and contact instead.
    staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff.id"), index=True)
    name: Mapped[str | None] = mapped_column(sa.String(100))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    phone: Mapped[str | None] = mapped_column(sa.String(32))
    #: For parties: plaintiff, defendant, applicant, respondent, third_party.
    side: Mapped[str | None] = mapped_column(sa.String(16))
    #: The court the person attends from (staff: their own court).
    court_id: Mapped[str | None] = mapped_column(sa.ForeignKey("courts.id"))
    #: Set when removed; their room token stops working.
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    session: Mapped[Session] = relationship(back_populates="participants")
    staff: Mapped[Staff | None] = relationship()

    @property
    def display_name(self) -> str:
        """The name to show: the staff member's, or the outsider's."""
        return self.staff.name if self.staff is not None else (self.name or "")


class Reservation(Model):
    """A staff member's or room's claim on a span of time; the database refuses overlaps.

    PostgreSQL enforces it with the exclusion constraint ``ex_reservations_no_overlap``
    (migration 0001), SQLite with triggers that refuse under the same name (migration 0009);
    SQLite also takes the write lock when a transaction begins (``BEGIN IMMEDIATE``).
    """

    __tablename__ = "reservations"
    __table_args__ = (
        sa.CheckConstraint("starts_at < ends_at", name="ordered"),
        sa.Index("ix_reservations_resource_starts", "resource", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        sa.ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    )
    #: ``staff:<id>`` or ``room:<id>``.
    resource: Mapped[str] = mapped_column(sa.String(32))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: False once the session is cancelled or the person removed: the slot is free again.
    active: Mapped[bool] = mapped_column(default=True)


class AuditEvent(Model):
    """One entry of the append-only audit trail (the database refuses UPDATE and DELETE)."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Who did it; None for the system (scheduler, demo seeding).
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff.id"))
    session_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sessions.id"), index=True)
    #: E.g. ``session.booked``, ``session.rescheduled``, ``access.denied``.
    action: Mapped[str] = mapped_column(sa.String(64))
    #: What changed, with reasons given (outside hours, short notice, cancel).
    detail: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
