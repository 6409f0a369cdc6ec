"""Subscriptions to the scheduling signals: messages and reminder jobs are written in the
transaction of the change that causes them, so they commit or roll back with it."""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from flask import current_app

from hearings.extensions import db
from hearings.notify import reminders, services
from hearings.notify.outbox import WAKE_AFTER_COMMIT
from hearings.scheduling import signals
from hearings.scheduling.models import Session
from hearings.scheduling.vocabulary import Status

log = logging.getLogger(__name__)


def _later(session: Session, *, new: bool = False) -> None:
    """Move the session's reminder jobs, in this transaction; wake the scheduler after it."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    plan = reminders.plan_jobs(session, new=new)
    reminders.write_job_plan(app, db.session.connection(), plan)
    db.session.info[WAKE_AFTER_COMMIT] = True  # (storing a message sets it too)


def on_booked(sender: Session, occurrences: list[Session] | None = None, **_: Any) -> None:
    """A booking: invites (stored with the booking, in its transaction) and reminders."""
    sessions = occurrences or [sender]
    services.notify_booked(sessions)
    for session in sessions:
        _later(session, new=True)


def on_changed(sender: Session, changes: dict[str, Any] | None = None, **_: Any) -> None:
    """A change: updates, the reminders moved."""
    services.notify_changed(sender, changes or {})
    _later(sender)


def on_cancelled(sender: Session, reason: str | None = None, **_: Any) -> None:
    """A cancellation: CANCEL invites, the reminders removed."""
    services.notify_cancelled(sender, reason)
    _later(sender)


def on_progressed(sender: Session, after: str | None = None, **_: Any) -> None:
    """The room moved the session on: started and ended are announced; reminders stop."""
    announced: dict[str, str] = {Status.IN_PROGRESS: "started", Status.COMPLETED: "ended"}
    event = announced.get(after or "")
    if event is not None:
        services.announce_progress(sender, event)
    if after not in reminders.REMINDED_STATUSES:
        _later(sender)  # it started or ended: its reminders go (opening the room changes none)


def _after_commit(session: sa.orm.Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint released: the outer transaction is still open
    if not session.info.pop(WAKE_AFTER_COMMIT, None):
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        reminders.wake(app)
    except Exception:
        # The change, its messages and jobs are committed; the next sweep finds them.
        log.exception("the scheduler could not be woken; its next sweep finds the new work")


def _after_rollback(session: sa.orm.Session) -> None:
    if session.get_nested_transaction() is None:  # not merely a savepoint
        session.info.pop(WAKE_AFTER_COMMIT, None)


def connect() -> None:
    """Subscribe (once per process) to the scheduling signals and the session's commits."""
    signals.session_booked.connect(on_booked)
    signals.session_changed.connect(on_changed)
    signals.session_cancelled.connect(on_cancelled)
    # Sent by the rooms package as it drives a session (open, in progress, completed).
    progressed = getattr(signals, "session_progressed", None)
    if progressed is not None:
        progressed.connect(on_progressed)
    if not sa.event.contains(db.session, "after_commit", _after_commit):
        sa.event.listen(db.session, "after_commit", _after_commit)
        sa.event.listen(db.session, "after_rollback", _after_rollback)
