"""Reminders: APScheduler date jobs in the app's database, and a sent-log that makes them once.

Each reminder is a date job with a stable id (``reminder-<session>-<minutes>``) in a
SQLAlchemy job store, so it survives restarts and moves with its session. Whatever runs it
(the job, the periodic sweep that catches jobs lost or late, a second scheduler process),
``send_due_reminders`` first takes a unique sent-log row, so each reminder goes out once.
"""

from __future__ import annotations

import concurrent.futures
import functools
import logging
import pickle
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from apscheduler.executors.base import run_job
from apscheduler.executors.pool import BasePoolExecutor
from apscheduler.job import Job
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_PAUSED, STATE_RUNNING, STATE_STOPPED
from apscheduler.triggers.date import DateTrigger
from apscheduler.util import datetime_to_utc_timestamp
from flask import Flask, current_app
from sqlalchemy.exc import IntegrityError

from hearings.extensions import db
from hearings.notify import sender
from hearings.notify.models import ReminderSent, scheduler_jobs
from hearings.notify.outbox import deliver_outbox, dialect_insert
from hearings.notify.services import send_reminder_emails
from hearings.scheduling.models import Session
from hearings.scheduling.vocabulary import Status
from hearings.timekeeping import utcnow

log = logging.getLogger(__name__)

SWEEP_JOB = "notify-sweep"
#: The pickle protocol of the job store's rows (SQLAlchemyJobStore's default).
JOB_PICKLE_PROTOCOL = pickle.HIGHEST_PROTOCOL
_EXTENSION = "hearings.scheduler"
_lock = threading.Lock()
#: Sessions in these states still get their reminders.
REMINDED_STATUSES = (Status.SCHEDULED, Status.OPEN)


def reminder_minutes(app: Flask | None = None) -> list[int]:
    """``REMINDER_MINUTES``: how long before a session its reminders are due, latest last."""
    raw = (app or current_app).config["REMINDER_MINUTES"]
    values = raw if isinstance(raw, list | tuple) else str(raw).split(",")
    return sorted({int(v) for v in values if str(v).strip()}, reverse=True)


def reminder_job_id(session_id: int, minutes: int) -> str:
    """The stable id of one reminder's job."""
    return f"reminder-{session_id}-{minutes}"


# -- the sent-log ---------------------------------------------------------------------------


def _due_minutes(session: Session, now: datetime, offsets: list[int]) -> list[int]:
    # A reminder that was due before the session was even booked is not sent: the invite
    # has just told them.
    return [
        m
        for m in offsets
        if session.starts_at - timedelta(minutes=m) <= now
        and session.starts_at - timedelta(minutes=m) >= session.created_at
    ]


def send_due_reminders(now: datetime | None = None, session_ids: list[int] | None = None) -> int:
    """Take the sent-log row of every reminder due at ``now`` and queue its emails.

    When several reminders of a session are due at once (the service was down), only the
    one closest to the start goes out; the others are logged as skipped. Returns the
    number of reminders taken here (not by another process).
    """
    now = now or utcnow()
    offsets = reminder_minutes()
    if not offsets:
        return 0
    query = sa.select(Session.id).where(
        Session.status.in_(REMINDED_STATUSES),
        Session.starts_at > now,
        Session.starts_at <= now + timedelta(minutes=offsets[0]),
    )
    if session_ids is not None:
        query = query.where(Session.id.in_(session_ids))
    candidates = db.session.scalars(query.order_by(Session.starts_at)).all()
    db.session.commit()
    taken = 0
    for session_id in candidates:
        taken += _remind(session_id, now, offsets)
    return taken


def _remind(session_id: int, now: datetime, offsets: list[int]) -> int:
    session = db.session.get(Session, session_id)
    if session is None or session.status not in REMINDED_STATUSES:
        db.session.rollback()
        return 0
    due = _due_minutes(session, now, offsets)
    done = set(
        db.session.scalars(
            sa.select(ReminderSent.minutes).where(
                ReminderSent.session_id == session.id,
                ReminderSent.starts_at == session.starts_at,
            )
        )
    )
    pending = [m for m in due if m not in done]
    if not pending:
        db.session.rollback()
        return 0
    latest = min(due)
    for minutes in pending:
        db.session.add(
            ReminderSent(
                session_id=session.id,
                minutes=minutes,
                starts_at=session.starts_at,
                state="sent" if minutes == latest else "skipped",
                taken_at=now,
            )
        )
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()  # another scheduler took it first: it sends, not us
        return 0
    if latest in pending:
        send_reminder_emails(session, latest)
    db.session.commit()
    log.info("reminder %s min before session %s taken", latest, session.id)
    return 1 if latest in pending else 0


# -- the scheduler --------------------------------------------------------------------------


class SharedJobStore(SQLAlchemyJobStore):
    """The SQLAlchemy job store, tolerant of a job another scheduler already ran or removed.

    With two schedulers on one store both may pick up a due job; the second's update or
    removal then finds nothing, which is no error here (the sent-log keeps sends single).
    """

    def update_job(self, job: Any) -> None:
        try:
            super().update_job(job)
        except JobLookupError:
            log.debug("job %s was removed by another scheduler", job.id)

    def remove_job(self, job_id: str) -> None:
        try:
            super().remove_job(job_id)
        except JobLookupError:
            log.debug("job %s was already removed", job_id)


class AppContextExecutor(BasePoolExecutor):
    """Runs jobs in a thread pool, each inside the app's context, releasing its DB session."""

    def __init__(self, app: Flask, max_workers: int = 2) -> None:
        super().__init__(
            concurrent.futures.ThreadPoolExecutor(max_workers, thread_name_prefix="hearings-job")
        )
        self.app = app

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        app, logger_name = self.app, self._logger.name

        def in_app_context() -> Any:
            with app.app_context():
                try:
                    return run_job(job, job._jobstore_alias, run_times, logger_name)
                finally:
                    db.session.remove()

        def done(future: concurrent.futures.Future[Any]) -> None:
            error = future.exception()
            if error is not None:
                self._run_job_error(job.id, error, error.__traceback__)
            else:
                self._run_job_success(job.id, future.result())

        self._pool.submit(in_app_context).add_done_callback(done)


class ReminderScheduler(BackgroundScheduler):
    """A background scheduler that does nothing more once shut down.

    APScheduler 3's loop makes one last pass over the job store after ``shutdown()``; it
    would hand due jobs to the closed executor and then drop them from the store.
    """

    def _process_jobs(self) -> float | None:
        if self.state == STATE_STOPPED:
            return None
        return super()._process_jobs()  # type: ignore[no-any-return]

    def remove_job(self, job_id: str, jobstore: str | None = None) -> None:
        """Remove a job; a shutdown racing a pass over the store is no error."""
        try:
            super().remove_job(job_id, jobstore)
        except JobLookupError:
            # Stopped in the middle of a pass: APScheduler then looks among pending jobs
            # only. The job is in the store; the next scheduler's pass handles it.
            if self.state != STATE_STOPPED:
                raise


def scheduler_of(app: Flask) -> BackgroundScheduler:
    """The app's scheduler (one per process), built on first use, not started."""
    with _lock:
        scheduler = app.extensions.get(_EXTENSION)
        if scheduler is None:
            with app.app_context():
                url = db.engine.url
            # The job store gets a pool of its own: job changes run right after a request's
            # commit, while that request still holds one of the app's connections, and a
            # shared pool could run dry with every request thread waiting for a second one.
            options: dict[str, Any] = {"pool_size": 2, "max_overflow": 4}
            if url.get_backend_name() == "sqlite":
                options = {"connect_args": {"timeout": 30, "check_same_thread": False}}
            store = SharedJobStore(
                url=url.render_as_string(hide_password=False),
                engine_options=options,
                pickle_protocol=JOB_PICKLE_PROTOCOL,
            )
            scheduler = ReminderScheduler(
                jobstores={"default": store},
                executors={"default": AppContextExecutor(app)},
                job_defaults={"coalesce": True, "max_instances": 1},
                timezone=UTC,
            )
            app.extensions[_EXTENSION] = scheduler
        return scheduler


def start_scheduler(app: Flask, *, paused: bool = False) -> BackgroundScheduler:
    """Start the app's scheduler; ``paused`` only opens the job store, to add and move jobs
    (web workers when a separate ``hearings scheduler`` process runs them)."""
    scheduler = scheduler_of(app)
    with _lock:
        if scheduler.state == STATE_STOPPED:
            scheduler.start(paused=True)
        if not paused and scheduler.state == STATE_PAUSED:
            scheduler.add_job(
                "hearings.notify.reminders:run_sweep",
                trigger="interval",
                seconds=int(app.config["SCHEDULER_SWEEP_SECONDS"]),
                id=SWEEP_JOB,
                replace_existing=True,
                next_run_time=datetime.now(UTC),
                misfire_grace_time=None,
            )
            scheduler.resume()
            sender.start_sender(app)  # the outbox goes out from its own thread
    return scheduler


def stop_scheduler(app: Flask, *, wait: bool = True) -> None:
    """Shut the app's scheduler down (waiting for running jobs), then its outbox sender
    (after its running pass); a later start builds anew."""
    with _lock:
        scheduler = app.extensions.pop(_EXTENSION, None)
    if scheduler is not None and scheduler.state != STATE_STOPPED:
        scheduler.shutdown(wait=wait)
    sender.stop_sender(app, wait=wait)


def is_running(app: Flask) -> bool:
    """Whether this process runs jobs (not merely writes them)."""
    scheduler = app.extensions.get(_EXTENSION)
    return scheduler is not None and scheduler.state == STATE_RUNNING


def plan_jobs(session: Session, *, new: bool = False) -> dict[str, Any]:
    """The jobs a session should have now: its future reminders, or none once cancelled.

    ``new``: booked in this transaction, so it has no jobs to remove yet."""
    now = utcnow()
    jobs = []
    if session.status in REMINDED_STATUSES:
        for minutes in reminder_minutes():
            due = session.starts_at - timedelta(minutes=minutes)
            if due > now and due >= session.created_at:
                jobs.append((reminder_job_id(session.id, minutes), due, minutes))
    wanted = {job_id for job_id, _, _ in jobs}
    gone = [
        reminder_job_id(session.id, m)
        for m in reminder_minutes()
        if not new and reminder_job_id(session.id, m) not in wanted
    ]
    return {"session_id": session.id, "add": jobs, "remove": gone}


def write_job_plan(app: Flask, connection: sa.Connection, plan: dict[str, Any]) -> None:
    """Put a session's reminder jobs in the job store in the caller's transaction.

    The rows are those APScheduler's own store writes (same table, same pickled state), so
    a scheduler process runs them like any job; written with the change that caused them,
    they commit or roll back with it, and a booking costs no transaction of its own here.
    """
    scheduler = scheduler_of(app)
    table = scheduler_jobs
    if plan["remove"]:
        connection.execute(sa.delete(table).where(table.c.id.in_(plan["remove"])))
    rows = []
    for job_id, due, minutes in plan["add"]:
        job = Job(
            scheduler,
            id=job_id,
            func="hearings.notify.reminders:run_reminder",
            trigger=DateTrigger(run_date=due, timezone=UTC),
            executor="default",
            args=(plan["session_id"],),
            kwargs={},
            name=f"{minutes} min reminder of session {plan['session_id']}",
            # Late is better than never, until the session starts.
            misfire_grace_time=minutes * 60,
            coalesce=True,
            max_instances=1,
            next_run_time=due,
        )
        state = pickle.dumps(job.__getstate__(), JOB_PICKLE_PROTOCOL)
        rows.append(
            {"id": job_id, "next_run_time": datetime_to_utc_timestamp(due), "job_state": state}
        )
    if rows:
        connection.execute(_upsert_statement(connection.dialect.name), rows)


@functools.cache
def _upsert_statement(dialect: str) -> Any:
    # Same id, new time: the job moves (the rows of a reschedule replace the old ones).
    # Built once: a fresh ON CONFLICT clause costs more to build and key than to run.
    upsert = dialect_insert(dialect, scheduler_jobs)
    return upsert.on_conflict_do_update(
        index_elements=[scheduler_jobs.c.id],
        set_={
            "next_run_time": upsert.excluded.next_run_time,
            "job_state": upsert.excluded.job_state,
        },
    )


def wake(app: Flask) -> None:
    """New messages or jobs: wake the sender and have the job store read again, if this
    process runs them (a web worker leaves it to the scheduler's ``LISTEN``)."""
    if is_running(app):
        scheduler_of(app).wakeup()
    sender.wake_sender(app)


# -- what the jobs run (referenced by name, so the job store can keep them) ------------------


def run_reminder(session_id: int) -> None:
    """Job: the reminders of one session that are due now, then send them."""
    send_due_reminders(session_ids=[session_id])
    _deliver()


def run_sweep() -> None:
    """Job: any reminder due but not taken (a lost or late job), and the outbox."""
    taken = send_due_reminders()
    if taken:
        log.info("sweep: %d late reminders taken", taken)
    _deliver()


def _deliver() -> None:
    # The sender sends, one pass at a time; a job never waits on SMTP (nor skips a sweep).
    if sender.wake_sender(current_app._get_current_object()):  # type: ignore[attr-defined]
        return
    counts = deliver_outbox()
    if any(counts.values()):
        log.info("outbox: %(sent)d sent, %(retry)d to retry, %(failed)d failed", counts)
