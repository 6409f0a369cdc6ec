"""The outbox of messages, the reminders' sent-log, calendar-feed tokens, the job store table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hearings.extensions import Model, db
from hearings.timekeeping import UTCDateTime

CHANNELS = ("email", "wecom")
#: ``pending`` waits for (another) try; ``sending`` is claimed by one worker; ``sent``;
#: ``failed`` gave up or was refused for good; ``no_address`` had nowhere to go (reported).
STATES = ("pending", "sending", "sent", "failed", "no_address")
REMINDER_STATES = ("sent", "skipped")


class OutboxMessage(Model):
    """One message to one recipient, stored before it is sent and kept as the delivery record.

    ``dedupe_key`` is unique: a message goes out at most once per
    (session, participant, sequence, kind), however often a signal or a job repeats.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (
        sa.CheckConstraint("channel IN ('email', 'wecom')", name="channel"),
        sa.CheckConstraint(
            "state IN ('pending', 'sending', 'sent', 'failed', 'no_address')", name="state"
        ),
        sa.Index("ix_outbox_messages_state_next", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: ``<session>:<participant or court>:<sequence>:<kind>``.
    dedupe_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    session_id: Mapped[int] = mapped_column(
        sa.ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    )
    #: The person it is for; None for a court group notice.
    participant_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("participants.id", ondelete="CASCADE")
    )
    #: ``email`` or ``wecom`` (WeChat Work group robot).
    channel: Mapped[str] = mapped_column(sa.String(16))
    #: ``invite``, ``update``, ``cancel``, ``reminder-<minutes>``, ``notice-<event>``.
    kind: Mapped[str] = mapped_column(sa.String(32))
    #: The session's iCalendar SEQUENCE when the message was made.
    sequence: Mapped[int]
    #: An email address, or the court whose group robot gets the notice.
    recipient: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(300))
    #: The whole message as sent: RFC 5322 text for email, the JSON body for WeChat Work.
    body: Mapped[str] = mapped_column(sa.Text)
    #: What to write (``{text, method, reason}``) when the message is written at sending
    #: time (``letters.write_email``); ``body`` then holds what was sent.
    draft: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    state: Mapped[str] = mapped_column(sa.String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Why the last try failed (or why there was nowhere to send it).
    last_error: Mapped[str | None] = mapped_column(sa.String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ReminderSent(Model):
    """The sent-log: a reminder's row is taken before it is sent, so it goes out once.

    One row per (session, minutes before start, the start it was about): a rescheduled
    session gets its reminders again for its new time.
    """

    __tablename__ = "reminders_sent"
    __table_args__ = (
        sa.UniqueConstraint("session_id", "minutes", "starts_at", name="uq_reminders_sent_once"),
        sa.CheckConstraint("state IN ('sent', 'skipped')", name="state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("sessions.id", ondelete="CASCADE"))
    #: How long before the start the reminder is due.
    minutes: Mapped[int]
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: ``skipped`` when a later reminder was due at the same time (service was down).
    state: Mapped[str] = mapped_column(sa.String(16))
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CalendarFeed(Model):
    """A staff member's private calendar subscription; only the token's hash is kept."""

    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(sa.ForeignKey("staff.id"), index=True)
    #: SHA-256 of the token in the feed's URL.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Set when revoked or replaced by a new URL: the old URL answers 404 at once.
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


#: APScheduler's SQLAlchemyJobStore table, declared here so migrations know it (the job
#: store itself builds the same table in a metadata of its own).
scheduler_jobs = sa.Table(
    "apscheduler_jobs",
    db.metadata,
    sa.Column("id", sa.Unicode(191), primary_key=True),
    sa.Column("next_run_time", sa.Float(25), index=True),
    sa.Column("job_state", sa.LargeBinary, nullable=False),
)
