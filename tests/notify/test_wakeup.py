"""The outbox's sender is woken by the booking itself: during a pass, and across processes."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
import sqlalchemy as sa

from hearings.extensions import db
from hearings.notify.outbox import CHANNEL, message_row, store_rows
from hearings.notify.reminders import is_running, start_scheduler, stop_scheduler
from hearings.notify.sender import (
    OutboxListener,
    OutboxSender,
    libpq_conninfo,
    listener_of,
    sender_of,
)
from hearings.scheduling.models import Session
from tests.conftest import FROZEN_NOW
from tests.notify.conftest import WAIT, Mailbox
from tests.notify.test_reminders import JobWatcher, release, second_app

#: The sweep is an hour away in these tests: whatever arrives, the wake-up sent it.
SWEEP_SECONDS = 3600
#: "Within a few seconds": how long a woken sender may take to hand a message over.
FEW_SECONDS = 10
on_sqlite = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
on_postgresql = [
    pytest.mark.postgres,
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]


class HeldMailbox(Mailbox):
    """An SMTP server that holds its first message until the test lets it go (a slow one)."""

    def __init__(self) -> None:
        super().__init__()
        self.holding = threading.Event()
        self.let_go = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if not self.holding.is_set():
            self.holding.set()
            await asyncio.get_running_loop().run_in_executor(None, self.let_go.wait, WAIT)
        return await super().handle_DATA(server, session, envelope)


def titled(title: str):
    return lambda message: title in message["Subject"]


def started_scheduler(app) -> None:
    """Start the app's scheduler and wait for its first sweep and outbox pass to end."""
    watcher = JobWatcher(app)
    start_scheduler(app)
    watcher.wait_executed("notify-sweep")
    assert sender_of(app).wait_idle(WAIT)


def test_a_booking_during_a_pass_is_sent_without_waiting_for_the_sweep(
    app, make_session, smtp_down
):
    app.config["SCHEDULER_SWEEP_SECONDS"] = SWEEP_SECONDS
    smtp_down.mailbox = mailbox = HeldMailbox()
    smtp_down.start()
    release()
    started_scheduler(app)
    make_session("liaison", title="第一个预约")
    release()
    assert mailbox.holding.wait(WAIT), "the first booking's pass never reached the server"
    # The pass is stuck on the slow server; the next booking wakes the sender meanwhile.
    make_session("mediation", title="第二个预约", starts_at="2026-09-11T09:00:00",
         ends_at="2026-09-11T10:00:00")  # fmt: skip
    release()
    mailbox.let_go.set()
    mailbox.wait_for(2, titled("第一个预约"))
    mailbox.wait_for(2, titled("第二个预约"), timeout=FEW_SECONDS)


@on_sqlite
def test_wakes_during_a_pass_make_one_more_pass(app):
    let_go, passing = threading.Event(), threading.Event()

    def slow_pass() -> None:
        passing.set()
        assert let_go.wait(WAIT)

    sender = OutboxSender(app, slow_pass)
    sender.start()  # a first pass at once
    try:
        assert passing.wait(WAIT)
        for _ in range(5):
            sender.wake()
        let_go.set()
        assert sender.wait_idle(WAIT)
        assert sender.runs == 2  # the five wakes: one more pass, none lost
        sender.wake()
        assert sender.wait_idle(WAIT)
        assert sender.runs == 3
    finally:
        sender.stop()


@on_sqlite
def test_a_failed_pass_leaves_the_sender_running(app, caplog):
    def failing() -> None:
        raise RuntimeError("the database went away")

    sender = OutboxSender(app, failing)
    sender.start()
    try:
        assert sender.wait_idle(WAIT)
        sender.wake()
        assert sender.wait_idle(WAIT)
        assert sender.runs == 2
    finally:
        sender.stop()
    assert "outbox pass failed" in caplog.text


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.postgres
def test_a_booking_by_a_web_worker_reaches_the_scheduler_process(
    app, make_session, smtp, database_url, tmp_path
):
    # ``app`` plays a gunicorn worker (no scheduler); ``other`` the ``hearings scheduler``.
    other = second_app(database_url, tmp_path, smtp, FROZEN_NOW)
    release()
    try:
        started_scheduler(other)
        assert listener_of(other).listening.wait(WAIT)
        assert not is_running(app)
        make_session("mediation", title="跨进程预约")
        release()
        assert len(smtp.mailbox.wait_for(2, titled("跨进程预约"), timeout=FEW_SECONDS)) == 2
    finally:
        stop_scheduler(other)
        with other.app_context():
            db.engine.dispose()


class Notifications:
    """What a listener heard: the payloads, and how many times it started listening."""

    def __init__(self) -> None:
        self.payloads: list[str] = []
        self.listens = 0
        self.changed = threading.Condition()

    def heard(self, payload: str) -> None:
        with self.changed:
            self.payloads.append(payload)
            self.changed.notify_all()

    def listening(self) -> None:
        with self.changed:
            self.listens += 1
            self.changed.notify_all()

    def wait(self, condition) -> None:
        with self.changed:
            assert self.changed.wait_for(condition, timeout=WAIT), (self.payloads, self.listens)


def notify(payload: str) -> None:
    """NOTIFY the outbox channel from a connection of its own, committed."""
    db.session.execute(sa.select(sa.func.pg_notify(CHANNEL, payload)))
    db.session.commit()


@pytest.fixture
def heard(app):
    """A listener on the outbox channel (the app's database), recording what it hears."""
    notes = Notifications()
    listener = OutboxListener(libpq_conninfo(db.engine.url), notes.heard, notes.listening)
    listener.start()
    notes.wait(lambda: notes.listens == 1)
    yield notes, listener
    listener.stop()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.postgres
def test_notify_is_delivered_at_commit_and_never_for_a_rollback(heard, make_session):
    notes, _ = heard
    session = db.session.get(Session, make_session("hearing")["id"])
    notes.wait(lambda: notes.payloads == [""])  # the booking's own, at its commit
    row = message_row(session, None, channel="wecom", kind="probe", recipient="luoyang",
                      subject="probe", body="probe")  # fmt: skip
    store_rows([row])
    db.session.rollback()
    notify("marker")  # delivered in order: a notification of the rollback would come first
    notes.wait(lambda: len(notes.payloads) == 2)
    assert notes.payloads == ["", "marker"]
    store_rows([row])
    db.session.commit()
    notes.wait(lambda: len(notes.payloads) == 3)
    assert notes.payloads == ["", "marker", ""]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.postgres
def test_the_listener_reconnects_after_its_connection_is_cut(heard, caplog):
    notes, listener = heard
    cut = listener.backend_pid
    db.session.execute(sa.select(sa.func.pg_terminate_backend(cut)))
    db.session.commit()
    notes.wait(lambda: notes.listens == 2)  # listening again (and it woke the sender)
    assert listener.backend_pid != cut
    notify("after the cut")
    notes.wait(lambda: notes.payloads == ["after the cut"])
    assert "outbox listener: connection lost" in caplog.text
    assert "listening again" in caplog.text
