"""Which process records which recording, and taking over from a recorder that is gone.

A recorder holds a recording by writing its name (``host:pid:nonce``) into the row and
renews the hold with a heartbeat. Another recorder takes the recording over only when the
holder is gone: its process no longer exists on this host, or it has sent no heartbeat for
``RECORDER_LEASE_SECONDS``. Taking over is the startup sweep of issue 6: the interruption is
logged with its reason, the segment left open is hashed (with how much of it is whole
fragments), and recording resumes if the session is still on. Claims are compare-and-set
updates, so two recorders never both take one recording.

Leases follow the real clock, not the configured ``NOW`` (which demos and tests freeze).
"""

from __future__ import annotations

import os
import secrets
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import current_app

from hearings.extensions import db
from hearings.timekeeping import isoformat
from hearings.witness import custody
from hearings.witness.archive import recording_folder, salvage
from hearings.witness.models import Recording, Segment

ACTIVE = ("recording", "paused", "interrupted")
#: This process's name as a holder; the nonce tells a new process from an old one that
#: had the same pid.
HOLDER = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def wall_clock() -> datetime:
    """The real time (leases never use the frozen ``NOW``)."""
    return datetime.now(UTC)


def holder_name() -> str:
    """This process's name as a recorder."""
    return HOLDER


def gone_reason(holder: str, heartbeat_at: datetime | None) -> str | None:
    """Why a holder no longer records (its process is gone, or it went silent); None if
    it may still be recording."""
    if holder == HOLDER:
        return None
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host == socket.gethostname() and pid_text.isdigit():
        pid = int(pid_text)
        if pid == os.getpid():
            return f"the recorder {holder} was an earlier run of this process"
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return f"the recorder process {pid} on {host} ended without closing the recording"
        except PermissionError:
            pass  # it exists, under another user
    lease = float(current_app.config["RECORDER_LEASE_SECONDS"])
    if heartbeat_at is None or (wall_clock() - heartbeat_at).total_seconds() > lease:
        last = isoformat(heartbeat_at) if heartbeat_at else "never"
        return f"the recorder {holder} sent no heartbeat for {lease:g} s (last: {last})"
    return None


def claim(recording_id: int, holder: str, previous: str | None = None) -> bool:
    """Take a recording if it is still held by ``previous`` (None: held by no one)."""
    held = (
        Recording.recorder_holder.is_(None)
        if previous is None
        else Recording.recorder_holder == previous
    )
    result = db.session.execute(
        sa.update(Recording)
        .where(Recording.id == recording_id, held, Recording.status.in_(ACTIVE))
        .values(recorder_holder=holder, recorder_heartbeat_at=wall_clock())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]


def heartbeat(holder: str, recording_ids: list[int]) -> None:
    """Renew the holds of this process."""
    if recording_ids:
        db.session.execute(
            sa.update(Recording)
            .where(Recording.id.in_(recording_ids), Recording.recorder_holder == holder)
            .values(recorder_heartbeat_at=wall_clock())
            .execution_options(synchronize_session=False)
        )
    db.session.commit()


def release(recording_id: int, holder: str) -> None:
    """Let go of a recording (its run ended)."""
    db.session.execute(
        sa.update(Recording)
        .where(Recording.id == recording_id, Recording.recorder_holder == holder)
        .values(recorder_holder=None, recorder_heartbeat_at=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


@dataclass
class Work:
    """What a recorder should do about one recording it does not record yet."""

    recording_id: int
    #: The recording was interrupted: its first new segment logs ``resumed``.
    interrupted: bool


def sweep(holder: str, running: set[int]) -> list[Work]:
    """Take every active recording no live process holds; log the gaps; what to start.

    Recordings already being stopped, or whose session is no longer live, are left to the
    app's stop (which salvages and seals) or to nobody.
    """
    from hearings.rooms.tokens import LIVE_STATUSES
    from hearings.scheduling.models import Session

    work: list[Work] = []
    rows = db.session.execute(
        sa.select(Recording.id, Recording.recorder_holder, Recording.recorder_heartbeat_at)
        .join(Session, Session.id == Recording.session_id)
        .where(
            Recording.status.in_(ACTIVE),
            Recording.stop_requested_at.is_(None),
            Session.status.in_(LIVE_STATUSES),
        )
        .order_by(Recording.id)
    ).all()
    db.session.rollback()  # end the read: the takeovers below write one by one
    for rid, previous, heartbeat_at in rows:
        if rid in running:
            continue
        reason = None if previous is None else gone_reason(previous, heartbeat_at)
        if previous is not None and reason is None:
            continue  # another live recorder has it
        if not claim(rid, holder, previous):
            continue  # another recorder was quicker
        if reason is not None:
            take_over(rid, reason)
        recording = db.session.get(Recording, rid)
        assert recording is not None
        work.append(Work(rid, recording.status == "interrupted"))
        db.session.rollback()
    return work


def take_over(recording_id: int, reason: str) -> None:
    """Log that the recorder holding a recording is gone: salvage its open segments (each
    hashed as it lies, with its whole fragments counted) and mark the gap."""
    recording = db.session.get(Recording, recording_id)
    assert recording is not None
    folder = recording_folder(recording)
    open_segments = list(
        db.session.scalars(
            sa.select(Segment)
            .where(Segment.recording_id == recording_id, Segment.status == "open")
            .order_by(Segment.n)
        )
    )
    for segment in open_segments:
        salvage(recording, segment, folder, reason)
    if recording.status == "recording":
        recording.status = "interrupted"
    last_open = open_segments[-1].n if open_segments else None
    custody.append(recording, "interrupted", None, reason=reason, segment_n=last_open,
                   found_by=HOLDER)  # fmt: skip
    db.session.commit()
    current_app.extensions["hearings.hub"].announce_recording(
        recording.session_id, "interrupted", reason=reason
    )


def wait_released(recording_id: int, timeout: float) -> bool:
    """Wait for the recording's holder (another process) to close its last segment and let
    go, or to be gone; False after ``timeout`` seconds (the caller salvages what is open)."""
    deadline = time.monotonic() + timeout
    while True:
        db.session.expire_all()
        row = db.session.execute(
            sa.select(Recording.recorder_holder, Recording.recorder_heartbeat_at).where(
                Recording.id == recording_id
            )
        ).one()
        db.session.rollback()  # never hold the database while the holder has to write
        holder, heartbeat_at = row
        if holder is None or gone_reason(holder, heartbeat_at) is not None:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)  # the holder's release is a row update; nothing to wait on but it
