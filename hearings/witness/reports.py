"""What the recorder reports as it records (segments opened and closed, an interruption, a
resumption), written into the recording's rows and custody log from the recorder's worker
threads, each in an app context of its own."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Flask

from hearings.extensions import db
from hearings.rooms.tokens import LIVE_STATUSES, issue_recorder_token
from hearings.scheduling.models import Session
from hearings.timekeeping import utcnow
from hearings.witness import custody, leases
from hearings.witness.archive import EMPTY_NOTE, NOTHING_RECORDED, salvage
from hearings.witness.manifest import file_sha256
from hearings.witness.models import Recording, Segment
from hearings.witness.services import ACTIVE, announce, recordings_root


class RecorderReports:
    """The recorder's reports, written from its loop's worker threads (own app context)."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    @property
    def heartbeat_seconds(self) -> float:
        """How often the recorder renews its hold (``RECORDER_HEARTBEAT_SECONDS``)."""
        return float(self.app.config["RECORDER_HEARTBEAT_SECONDS"])

    def heartbeat(self, recording_ids: list[int]) -> None:
        """Renew this process's hold on the recordings it records."""
        with self.app.app_context():
            leases.heartbeat(leases.holder_name(), recording_ids)

    def release(self, rid: int) -> None:
        """This process no longer records that recording."""
        with self.app.app_context():
            leases.release(rid, leases.holder_name())

    def token(self, recording_id: int) -> str | None:
        """A fresh recorder token, or None if the recording or session is over."""
        with self.app.app_context():
            recording = db.session.get(Recording, recording_id)
            session = db.session.get(Session, recording.session_id) if recording else None
            if recording is None or session is None or recording.status not in ACTIVE:
                return None
            if recording.stop_requested_at is not None:
                return None
            if session.status not in LIVE_STATUSES:
                return None
            token = issue_recorder_token(session)
            db.session.commit()
            return token

    def segment_opened(self, rid: int, n: int, filename: str, streams: list[Any]) -> None:
        """A new segment file is being written."""
        with self.app.app_context():
            db.session.add(Segment(recording_id=rid, n=n, filename=filename, status="open",
                                   started_at=utcnow(), streams=streams))  # fmt: skip
            db.session.commit()

    def segment_closed(self, rid: int, n: int, filename: str, status: str) -> None:
        """A segment was closed cleanly: hash it and log it (``empty``: log that nothing
        was written)."""
        with self.app.app_context():
            recording = db.session.get(Recording, rid)
            segment = _segment(rid, n)
            assert recording is not None and segment is not None
            segment.status, segment.ended_at = status, utcnow()
            if status == "empty":
                custody.append(recording, NOTHING_RECORDED, None, n=n, file=filename,
                               note=EMPTY_NOTE)  # fmt: skip
            else:  # ``closed``; ``partial``: what Janus wrote before it was lost
                path = recordings_root() / recording.folder / filename
                segment.sha256, segment.bytes = file_sha256(path)
                cut = {"status": status} if status != "closed" else {}
                custody.append(recording, "recorded", None, n=n, file=filename,
                               sha256=segment.sha256, bytes=segment.bytes, **cut)  # fmt: skip
            db.session.commit()

    def failed(self, rid: int, cause: str, n: int | None) -> None:
        """Part of the recording could not be made (Art. 4: logged with its cause, said to
        the room); segment ``n``, if given, is lost."""
        with self.app.app_context():
            recording = db.session.get(Recording, rid)
            assert recording is not None
            segment = _segment(rid, n) if n is not None else None
            if segment is not None:
                segment.status, segment.ended_at = "lost", utcnow()
            custody.append(recording, "failed", None, reason=cause, segment_n=n)
            db.session.commit()
            announce(recording.session_id, "failed", recording_id=rid, reason=cause)

    def interrupted(self, rid: int, reason: str, open_n: int | None) -> None:
        """The recorder ended unexpectedly: salvage its open segment, log the gap."""
        with self.app.app_context():
            recording = db.session.get(Recording, rid)
            assert recording is not None
            segment = _segment(rid, open_n) if open_n is not None else None
            folder = recordings_root() / recording.folder
            if segment is not None:
                salvage(recording, segment, folder, reason)
            if recording.status == "recording":
                recording.status = "interrupted"
            custody.append(recording, "interrupted", None, reason=reason, segment_n=open_n)
            db.session.commit()
            announce(recording.session_id, "interrupted", reason=reason)

    def resumed(self, rid: int, n: int) -> None:
        """The recorder rejoined and writes again, from segment ``n``."""
        with self.app.app_context():
            recording = db.session.get(Recording, rid)
            assert recording is not None
            if recording.status == "interrupted":
                recording.status = "recording"
            custody.append(recording, "resumed", None, segment_n=n, by="recorder")
            db.session.commit()
            announce(recording.session_id, "resumed")


def _segment(rid: int, n: int) -> Segment | None:
    return db.session.scalar(sa.select(Segment).where(Segment.recording_id == rid, Segment.n == n))
