"""Courts, staff, rooms and the data of each court's calendar."""

from __future__ import annotations

from datetime import date, time
from enum import StrEnum

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hearings.courts.vocabulary import RoomKind, StaffRole
from hearings.extensions import Model

SEASONS = ("summer", "winter")


def _one_of(column: str, values: type[StrEnum]) -> str:
    """A CHECK that the column holds one of an enum's values."""
    return f"{column} IN ({', '.join(repr(str(v)) for v in values)})"


class Court(Model):
    """An intermediate people's court taking part in the cooperation agreement."""

    __tablename__ = "courts"

    #: Short code used in URLs and usernames, e.g. ``luoyang``.
    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    #: Official name in Chinese, e.g. 洛阳市中级人民法院.
    name_zh: Mapped[str] = mapped_column(sa.String(100))
    name_en: Mapped[str] = mapped_column(sa.String(200))
    #: Case-number prefix, e.g. 豫03.
    case_prefix: Mapped[str] = mapped_column(sa.String(16))
    phone: Mapped[str] = mapped_column(sa.String(32))
    address: Mapped[str] = mapped_column(sa.String(200))
    #: Set to a new random number by the database (triggers) whenever a row of the court's
    #: working hours or closures is written: loaded calendars are cached against it.
    calendar_version: Mapped[int] = mapped_column(sa.BigInteger, server_default="0")

    hours: Mapped[list[WorkingHours]] = relationship(
        back_populates="court", order_by="WorkingHours.starts_month, WorkingHours.starts_day"
    )
    closures: Mapped[list[CourtClosure]] = relationship(back_populates="court")


class WorkingHours(Model):
    """One seasonal timetable of a court: in force from its start day until the next one's."""

    __tablename__ = "working_hours"
    __table_args__ = (
        sa.UniqueConstraint("court_id", "season"),
        sa.CheckConstraint("starts_month BETWEEN 1 AND 12", name="month"),
        sa.CheckConstraint("starts_day BETWEEN 1 AND 31", name="day"),
        sa.CheckConstraint(
            "morning_opens < morning_closes AND morning_closes <= afternoon_opens "
            "AND afternoon_opens < afternoon_closes",
            name="ordered",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    court_id: Mapped[str] = mapped_column(sa.ForeignKey("courts.id"))
    #: ``summer`` or ``winter`` (夏季/冬季作息时间).
    season: Mapped[str] = mapped_column(sa.String(16))
    #: Month and day from which this timetable applies every year.
    starts_month: Mapped[int]
    starts_day: Mapped[int]
    morning_opens: Mapped[time] = mapped_column(sa.Time)
    morning_closes: Mapped[time] = mapped_column(sa.Time)
    afternoon_opens: Mapped[time] = mapped_column(sa.Time)
    afternoon_closes: Mapped[time] = mapped_column(sa.Time)

    court: Mapped[Court] = relationship(back_populates="hours")


class CourtClosure(Model):
    """A day one court is closed besides the national holidays (e.g. a local event)."""

    __tablename__ = "court_closures"
    __table_args__ = (sa.UniqueConstraint("court_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    court_id: Mapped[str] = mapped_column(sa.ForeignKey("courts.id"))
    day: Mapped[date] = mapped_column(sa.Date)
    reason: Mapped[str] = mapped_column(sa.String(200))

    court: Mapped[Court] = relationship(back_populates="closures")


class Staff(UserMixin, Model):
    """A court employee with a login."""

    __tablename__ = "staff"
    __table_args__ = (sa.CheckConstraint(_one_of("role", StaffRole), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    court_id: Mapped[str] = mapped_column(sa.ForeignKey("courts.id"), index=True)
    #: Login name, ``<court>-<role><n>`` in the demo.
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    name: Mapped[str] = mapped_column(sa.String(100))
    role: Mapped[str] = mapped_column(sa.String(16))
    department: Mapped[str] = mapped_column(sa.String(100), default="")
    phone: Mapped[str] = mapped_column(sa.String(32), default="")
    email: Mapped[str] = mapped_column(sa.String(254), default="")
    #: Inactive staff can't sign in and are left out of the directory.
    active: Mapped[bool] = mapped_column(default=True)

    court: Mapped[Court] = relationship()

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        """Flask-Login: inactive staff can't sign in."""
        return self.active

    @property
    def is_admin(self) -> bool:
        """Admins act on every court's sessions."""
        return self.role == StaffRole.ADMIN


class Room(Model):
    """A physical room with a video terminal at a court."""

    __tablename__ = "rooms"
    __table_args__ = (sa.CheckConstraint(_one_of("kind", RoomKind), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    court_id: Mapped[str] = mapped_column(sa.ForeignKey("courts.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    #: ``courtroom``, ``mediation_room`` or ``service_window`` (诉讼服务窗口).
    kind: Mapped[str] = mapped_column(sa.String(32))
    active: Mapped[bool] = mapped_column(default=True)

    court: Mapped[Court] = relationship()
