"""The recorders as a service: ``hearings recorder``, and the sweep an embedded app runs.

With ``RECORDER_MODE=external`` the app starts no recorder. ``hearings recorder`` looks at
the database every ``RECORDER_POLL_SECONDS``: it takes the recordings no live process holds
(new ones, and those a dead recorder left: the sweep in ``leases`` logs the gap and salvages
the open segment), joins their rooms through the same signaling as any browser, follows
each one's pause, resume and stop, and on SIGTERM closes its segments cleanly and logs the
interruption, so that the next recorder resumes. Polling keeps it simple and works on
SQLite and PostgreSQL alike; a second of delay is nothing beside a segment of minutes.

An app that records itself (``embedded``) runs the sweep once when it starts serving.
"""

from __future__ import annotations

import logging
import socket
import threading
import time

from flask import Flask

from hearings.extensions import db
from hearings.recording.supervisor import Recorders
from hearings.witness import leases, services
from hearings.witness.models import Recording

log = logging.getLogger(__name__)


class RecorderService:
    """This process's recorders, driven by what the database says."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.recorders: Recorders = app.extensions["hearings.recorders"]

    def sweep(self) -> list[int]:
        """Take every recording no live recorder holds and start recording it; their ids."""
        with self.app.app_context():
            work = leases.sweep(leases.holder_name(), set(self.recorders.runs))
            for item in work:
                log.info("recording %s: recorder started here", item.recording_id)
                services.start_run(item.recording_id, interrupted=item.interrupted)
            return [item.recording_id for item in work]

    def follow(self) -> None:
        """Apply the officer's pause, resume and stop to this process's runs (and end a run
        whose recording another recorder has taken over)."""
        for rid in list(self.recorders.runs):
            with self.app.app_context():
                recording = db.session.get(Recording, rid)
                stopped = (
                    recording is None
                    or recording.status not in leases.ACTIVE
                    or recording.stop_requested_at is not None
                    # Another recorder took it over (this one went silent too long).
                    or recording.recorder_holder != leases.holder_name()
                )
                paused = recording is not None and recording.status == "paused"
                db.session.rollback()
            if stopped:
                self.recorders.stop(rid)  # the last segment closes and is hashed; hold let go
            elif self.recorders.paused(rid) != paused:
                self.recorders.pause(rid, paused)

    def run(self, stop: threading.Event) -> None:
        """Poll until ``stop`` is set, then end every run cleanly."""
        poll = float(self.app.config["RECORDER_POLL_SECONDS"])
        try:
            while True:
                try:
                    self.follow()
                    self.sweep()
                except Exception:  # the database may be down a moment: the next pass retries
                    log.exception("recorder pass failed")
                if stop.wait(poll):
                    return
        finally:
            self.shutdown("the recorder process was shut down")

    def shutdown(self, reason: str) -> None:
        """Close every run's segment cleanly and log the interruption (it resumes elsewhere)."""
        for rid in list(self.recorders.runs):
            self.recorders.stop(rid)
            self.recorders.sink.interrupted(rid, reason, None)


def sweep_when_serving(app: Flask, host: str, port: int, timeout: float = 60.0) -> threading.Thread:
    """Once the server accepts connections (its recorders join rooms through it), take over
    the recordings no live recorder holds: the embedded app's startup sweep."""

    def wait_then_sweep() -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                socket.create_connection((host, port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)  # the server is still binding its socket
        try:
            RecorderService(app).sweep()
        except Exception:
            log.exception("the recorders' startup sweep failed")

    thread = threading.Thread(target=wait_then_sweep, name="witness-sweep", daemon=True)
    thread.start()
    return thread
