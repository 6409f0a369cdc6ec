"""Reminders: APScheduler jobs with stable ids in the database, and each sent exactly once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_JOB_MISSED

from hearings import create_app
from hearings.extensions import db
from hearings.notify.models import ReminderSent
from hearings.notify.outbox import deliver_outbox
from hearings.notify.reminders import (
    reminder_job_id,
    scheduler_of,
    send_due_reminders,
    start_scheduler,
    stop_scheduler,
)
from hearings.timekeeping import parse_api_time
from tests.conftest import base_config
from tests.notify.conftest import WAIT

#: The mediation of ``session_payload`` starts 2026-09-10 09:00 Beijing time.
DAY_BEFORE = parse_api_time("2026-09-09T09:00:00", "t")
HALF_HOUR_BEFORE = parse_api_time("2026-09-10T08:30:00", "t")


def release() -> None:
    """End the test's transaction (a request leaves one open): SQLite has one writer, and the
    job store and the scheduler's threads use connections of their own."""
    db.session.rollback()


def stored_jobs(app) -> list:
    """The jobs in the job store, as a scheduler reads them (opened paused: it runs none)."""
    return start_scheduler(app, paused=True).get_jobs()


def is_reminder(message) -> bool:
    return "Reminder" in message["Subject"]


def sent_log() -> list[tuple[int, str]]:
    rows = db.session.execute(
        sa.select(ReminderSent.minutes, ReminderSent.state).order_by(ReminderSent.id)
    )
    return [tuple(row) for row in rows]


class JobWatcher:
    """Records the job events of an app's scheduler (watch before starting it)."""

    def __init__(self, app, mask=EVENT_JOB_EXECUTED | EVENT_JOB_MISSED) -> None:
        self.events: list[tuple[int, str]] = []
        self.changed = threading.Condition()
        scheduler_of(app).add_listener(self._on_event, mask)

    def _on_event(self, event) -> None:
        with self.changed:
            self.events.append((event.code, event.job_id))
            self.changed.notify_all()

    def wait_executed(self, job_id: str) -> None:
        with self.changed:
            assert self.changed.wait_for(
                lambda: (EVENT_JOB_EXECUTED, job_id) in self.events, timeout=WAIT
            ), self.events


def test_reminder_jobs_have_stable_ids_move_and_go(make_session, client, auth, court_staff, app):
    session_id = make_session("mediation")["id"]
    release()
    scheduler = start_scheduler(app, paused=True)  # opens the job store, runs nothing
    day, half_hour = (
        scheduler.get_job(reminder_job_id(session_id, 1440)),
        scheduler.get_job(reminder_job_id(session_id, 30)),
    )
    assert day.next_run_time == DAY_BEFORE
    assert half_hour.next_run_time == HALF_HOUR_BEFORE
    assert (day.misfire_grace_time, half_hour.misfire_grace_time) == (86400, 1800)

    admin = auth(court_staff["luoyang-admin"])
    moved = client.patch(
        f"/api/v1/sessions/{session_id}",
        json={"starts_at": "2026-09-11T15:00:00", "ends_at": "2026-09-11T16:00:00"},
        headers=admin,
    )
    assert moved.status_code == 200
    release()
    assert scheduler.get_job(reminder_job_id(session_id, 30)).next_run_time == parse_api_time(
        "2026-09-11T14:30:00", "t"
    )
    assert len(scheduler.get_jobs()) == 2

    client.post(f"/api/v1/sessions/{session_id}/cancel", json={"reason": "撤诉"}, headers=admin)
    release()
    assert scheduler.get_jobs() == []


def test_each_reminder_goes_out_once(make_session, smtp):
    make_session("mediation")
    deliver_outbox()
    smtp.mailbox.wait_for(2)  # the invites
    assert send_due_reminders(DAY_BEFORE - timedelta(minutes=1)) == 0
    assert send_due_reminders(DAY_BEFORE) == 1
    assert send_due_reminders(DAY_BEFORE + timedelta(minutes=5)) == 0
    deliver_outbox(DAY_BEFORE)
    assert len(smtp.mailbox.wait_for(2, is_reminder)) == 2
    assert send_due_reminders(HALF_HOUR_BEFORE) == 1
    deliver_outbox(HALF_HOUR_BEFORE)
    reminders = smtp.mailbox.wait_for(4, is_reminder)
    assert len(reminders) == 4
    assert "2026-09-10 09:00" in reminders[-1].get_body(("plain",)).get_content()
    assert sent_log() == [(1440, "sent"), (30, "sent")]


def test_when_several_are_due_only_the_latest_goes(make_session, smtp):
    make_session("mediation")
    assert send_due_reminders(HALF_HOUR_BEFORE + timedelta(minutes=10)) == 1
    assert sent_log() == [(1440, "skipped"), (30, "sent")]
    deliver_outbox(HALF_HOUR_BEFORE)
    assert len(smtp.mailbox.wait_for(2, is_reminder)) == 2


def test_no_reminder_for_what_was_booked_after_it_was_due(make_session, smtp, app):
    app.config["NOW"] = "2026-09-10T08:45:00+08:00"
    make_session("mediation", starts_at="2026-09-10T10:00:00", ends_at="2026-09-10T11:00:00")
    release()
    # The day-before reminder was due before the booking: only the 30-minute one is set.
    assert [j.id.rsplit("-", 1)[1] for j in stored_jobs(app)] == ["30"]
    assert send_due_reminders() == 0


def test_reschedule_brings_new_reminders(make_session, smtp, client, auth, court_staff, app):
    session_id = make_session("mediation")["id"]
    assert send_due_reminders(DAY_BEFORE) == 1
    app.config["NOW"] = DAY_BEFORE.isoformat()
    moved = client.patch(
        f"/api/v1/sessions/{session_id}",
        json={"starts_at": "2026-09-11T09:00:00", "ends_at": "2026-09-11T10:00:00"},
        headers=auth(court_staff["luoyang-admin"]),
    )
    assert moved.status_code == 200
    assert send_due_reminders(DAY_BEFORE + timedelta(days=1)) == 1
    assert sent_log() == [(1440, "sent"), (1440, "sent")]


def test_two_workers_take_a_reminder_once(make_session, smtp, app):
    make_session("mediation")
    release()
    barrier = threading.Barrier(2)
    taken = []

    def worker():
        with app.app_context():
            barrier.wait(timeout=WAIT)
            taken.append(send_due_reminders(DAY_BEFORE))
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=WAIT * 2)
    assert sorted(taken) == [0, 1]
    deliver_outbox(DAY_BEFORE)
    assert len(smtp.mailbox.wait_for(2, is_reminder)) == 2


def test_the_real_scheduler_fires_the_reminder_job(make_session, smtp, app):
    app.config["REMINDER_MINUTES"] = "30"
    app.config["SCHEDULER_SWEEP_SECONDS"] = 3600
    session_id = make_session("mediation")["id"]
    job_id = reminder_job_id(session_id, 30)
    release()
    # The app's clock is frozen in September; the scheduler's is the real one. Put the
    # job in the real future before the scheduler runs, then bring it forward below.
    start_scheduler(app, paused=True).modify_job(
        job_id, next_run_time=datetime.now(UTC) + timedelta(days=1)
    )
    watcher = JobWatcher(app)
    scheduler = start_scheduler(app)
    watcher.wait_executed("notify-sweep")  # it runs at start: the invites go out
    smtp.mailbox.wait_for(2)
    # The clock reaches 08:31 on the day; the job's time (the real clock's now) has come.
    app.config["NOW"] = "2026-09-10T08:31:00+08:00"
    scheduler.modify_job(job_id, next_run_time=datetime.now(UTC))
    watcher.wait_executed(job_id)
    assert len(smtp.mailbox.wait_for(2, is_reminder)) == 2
    assert scheduler.get_job(job_id) is None  # a date job runs once


def second_app(database_url, tmp_path, smtp, now: str):
    """Another process of the same deployment: same database, its own scheduler."""
    other = create_app(
        {
            **base_config(database_url, tmp_path),
            "NOW": now,
            "SMTP_URL": smtp.url,
            "SCHEDULER_SWEEP_SECONDS": 3600,
        }
    )
    return other


def test_reminder_due_while_stopped_is_sent_after_restart_once(
    make_session, smtp, app, database_url, tmp_path
):
    session_id = make_session("mediation")["id"]
    job_id = reminder_job_id(session_id, 30)
    deliver_outbox()
    smtp.mailbox.wait_for(2)
    release()
    stop_scheduler(app)  # the service stops
    # While it is down, the 30-minute reminder falls due (ten minutes ago, by both clocks).
    store = start_scheduler(app, paused=True)
    store.modify_job(job_id, next_run_time=datetime.now(UTC) - timedelta(minutes=10))
    stop_scheduler(app)

    restarted = second_app(database_url, tmp_path, smtp, "2026-09-10T08:40:00+08:00")
    try:
        watcher = JobWatcher(restarted)
        start_scheduler(restarted)
        watcher.wait_executed(job_id)  # late, but within its misfire grace
        assert (EVENT_JOB_MISSED, job_id) not in watcher.events
        assert len(smtp.mailbox.wait_for(2, is_reminder)) == 2
    finally:
        stop_scheduler(restarted)
    # A second restart sends nothing more.
    again = second_app(database_url, tmp_path, smtp, "2026-09-10T08:41:00+08:00")
    try:
        watcher = JobWatcher(again)
        start_scheduler(again)
        watcher.wait_executed("notify-sweep")
    finally:
        stop_scheduler(again)
        with again.app_context():
            db.engine.dispose()
    with restarted.app_context():
        db.engine.dispose()
    assert len(smtp.mailbox.matching(is_reminder)) == 2
    assert sent_log() == [(1440, "skipped"), (30, "sent")]


@pytest.mark.slow
def test_two_scheduler_processes_send_each_reminder_once(
    make_session, smtp, app, database_url, tmp_path
):
    session_id = make_session("mediation")["id"]
    job_id = reminder_job_id(session_id, 30)
    deliver_outbox()
    smtp.mailbox.wait_for(2)
    store = start_scheduler(app, paused=True)
    store.modify_job(job_id, next_run_time=datetime.now(UTC))
    stop_scheduler(app)
    release()

    now = "2026-09-10T08:31:00+08:00"
    apps = [second_app(database_url, tmp_path, smtp, now) for _ in range(2)]
    try:
        for other in apps:
            start_scheduler(other)
        # Either may run the job or the sweep, or both; the reminders go out once.
        smtp.mailbox.wait_for(2, is_reminder)
    finally:
        for other in apps:
            stop_scheduler(other)  # waits for running jobs
            with other.app_context():
                db.engine.dispose()
    deliver_outbox(parse_api_time(now, "now") + timedelta(hours=1))
    assert len(smtp.mailbox.matching(is_reminder)) == 2
    assert sent_log() == [(1440, "skipped"), (30, "sent")]


def test_cancelling_a_series_removes_every_occurrences_jobs(
    make_session, client, auth, court_staff, app, caplog
):
    weekly = {"starts_at": "2026-09-10T15:00:00", "ends_at": "2026-09-10T16:00:00"}
    first = make_session("liaison", rrule="FREQ=WEEKLY;COUNT=3", **weekly)
    release()
    assert len(stored_jobs(app)) == 6
    response = client.post(
        f"/api/v1/sessions/{first['id']}/cancel",
        json={"reason": "联络办公室调整", "scope": "series"},
        headers=auth(court_staff["luoyang-admin"]),
    )
    assert response.status_code == 200
    release()
    assert stored_jobs(app) == []
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
