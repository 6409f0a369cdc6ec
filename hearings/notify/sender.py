"""The outbox's sender: one thread per scheduler process, woken as soon as a message is stored.

A booking's transaction stores its invites in the outbox; once it commits, the sender is
woken: in this process through the session's ``after_commit`` (``hearings serve``), from any
other process through PostgreSQL's ``NOTIFY hearings_outbox``, which the transaction sends
with its rows and PostgreSQL delivers only at commit (never before the rows are visible,
never for a rollback). Wake-ups that arrive while a pass runs are coalesced into one more
pass, never dropped; the periodic sweep wakes it too, as the safety net.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import psycopg
import sqlalchemy as sa
from flask import Flask

from hearings.extensions import db
from hearings.notify.outbox import CHANNEL, deliver_outbox

log = logging.getLogger(__name__)

_SENDER = "hearings.notify.sender"
_LISTENER = "hearings.notify.listener"
_lock = threading.Lock()
#: The longest wait between two tries to reconnect the listener, seconds.
MAX_RECONNECT_DELAY = 30.0


class OutboxSender:
    """A thread that drains the outbox each time it is woken, one pass at a time.

    ``wake()`` only sets an event. The thread clears it before each pass, so a wake that
    arrives during a pass (any number of them) makes exactly one more pass after it.
    """

    def __init__(self, app: Flask, drain: Callable[[], Any] | None = None) -> None:
        self.app = app
        self.drain = drain or self._deliver
        self.runs = 0
        self._wanted = threading.Event()
        self._stopping = threading.Event()
        self._idle = threading.Condition()
        self._running = False
        self._thread = threading.Thread(target=self._run, name="hearings-sender", daemon=True)

    def start(self) -> None:
        """Start the thread (it makes a first pass at once)."""
        self._wanted.set()
        self._thread.start()

    def wake(self) -> None:
        """Ask for a pass: now if idle, right after the running one otherwise."""
        self._wanted.set()

    def stop(self, wait: bool = True) -> None:
        """Stop after the running pass (a message is either sent and marked, or queued)."""
        self._stopping.set()
        self._wanted.set()
        if wait and self._thread.is_alive():
            self._thread.join()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no pass runs and none is asked for; whether that happened in time."""
        with self._idle:
            return self._idle.wait_for(
                lambda: not self._running and not self._wanted.is_set(), timeout
            )

    def _run(self) -> None:
        while True:
            self._wanted.wait()
            if self._stopping.is_set():
                return
            with self._idle:
                self._running = True
                self._wanted.clear()  # a wake from here on asks for one more pass
            try:
                self.drain()
            except Exception:
                # The thread must outlive a failed pass (the database restarting, say):
                # the messages stay queued for the next wake or sweep.
                log.exception("outbox pass failed; the next wake or sweep tries again")
            finally:
                with self._idle:
                    self.runs += 1
                    self._running = False
                    self._idle.notify_all()

    def _deliver(self) -> None:
        with self.app.app_context():
            try:
                counts = deliver_outbox()
            finally:
                db.session.remove()
        if any(counts.values()):
            log.info("outbox: %(sent)d sent, %(retry)d to retry, %(failed)d failed", counts)
        if sum(counts.values()) >= BATCH:
            self.wake()  # more are due than one pass takes


#: Messages one pass takes (``deliver_outbox``'s limit).
BATCH = 200


class OutboxListener:
    """A thread on a PostgreSQL connection of its own that ``LISTEN``s on the outbox channel.

    It calls ``on_notify(payload)`` for each notification and ``on_listen()`` each time it
    (re)starts listening, because notifications sent while it was not are lost. A dropped
    connection is logged and reconnected, waiting longer after each failure (at most 30 s).
    """

    def __init__(
        self, conninfo: str, on_notify: Callable[[str], None], on_listen: Callable[[], None]
    ) -> None:
        self.conninfo = conninfo
        self.on_notify = on_notify
        self.on_listen = on_listen
        #: Set while listening; the backend's pid then (for an operator, and tests).
        self.listening = threading.Event()
        self.backend_pid: int | None = None
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hearings-listener", daemon=True)

    def start(self) -> None:
        """Connect and listen, in the thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop listening (within a second) and close the connection."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        delay, lost = 0.5, False
        while not self._stopping.is_set():
            try:
                with psycopg.connect(self.conninfo, autocommit=True, connect_timeout=10) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.backend_pid = conn.info.backend_pid
                    self.listening.set()
                    if lost:
                        log.warning("outbox listener: listening again on %s", CHANNEL)
                    delay, lost = 0.5, False
                    self.on_listen()
                    while not self._stopping.is_set():
                        # The timeout only lets the loop see a stop.
                        for notification in conn.notifies(timeout=1.0):
                            self.on_notify(notification.payload)
            except psycopg.Error as error:
                self.listening.clear()
                if self._stopping.is_set():
                    return
                log.warning(
                    "outbox listener: connection lost (%s); reconnecting in %.1f s",
                    str(error).strip() or type(error).__name__,
                    delay,
                )
                lost = True
                self._stopping.wait(delay)
                delay = min(delay * 2, MAX_RECONNECT_DELAY)
        self.listening.clear()


def libpq_conninfo(url: sa.URL) -> str:
    """The libpq address of an app's PostgreSQL URL (``postgresql+psycopg://…``)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def start_sender(app: Flask) -> OutboxSender:
    """Start this process's sender (and, on PostgreSQL, its listener); once per process."""
    with _lock:
        sender = app.extensions.get(_SENDER)
        if sender is not None:
            return sender  # type: ignore[no-any-return]
        sender = app.extensions[_SENDER] = OutboxSender(app)
        sender.start()
        with app.app_context():
            url = db.engine.url
        if url.get_backend_name() == "postgresql":
            listener = OutboxListener(
                libpq_conninfo(url), lambda _payload: sender.wake(), sender.wake
            )
            app.extensions[_LISTENER] = listener
            listener.start()
        return sender


def stop_sender(app: Flask, *, wait: bool = True) -> None:
    """Stop the listener, then the sender after its running pass."""
    with _lock:
        listener = app.extensions.pop(_LISTENER, None)
        sender = app.extensions.pop(_SENDER, None)
    if listener is not None:
        listener.stop()
    if sender is not None:
        sender.stop(wait=wait)


def sender_of(app: Flask) -> OutboxSender | None:
    """This process's sender, if it runs one."""
    return app.extensions.get(_SENDER)


def listener_of(app: Flask) -> OutboxListener | None:
    """This process's listener, if it runs one (PostgreSQL)."""
    return app.extensions.get(_LISTENER)


def wake_sender(app: Flask) -> bool:
    """Wake this process's sender; False if it runs none (a web worker)."""
    sender = sender_of(app)
    if sender is None:
        return False
    sender.wake()
    return True
