"""Identity checks, recordings and their segments, the custody log and the script's marks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hearings.extensions import Model
from hearings.timekeeping import UTCDateTime

RECORDING_STATUSES = ("recording", "paused", "interrupted", "sealed", "deleted")
SEGMENT_STATUSES = ("open", "closed", "partial", "empty", "lost")


class IdentityCheck(Model):
    """The officer's check of a person's identity in one session (在线诉讼规则 Art. 7)."""

    __tablename__ = "witness_identity_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("sessions.id"), index=True)
    participant_id: Mapped[int] = mapped_column(sa.ForeignKey("participants.id"), index=True)
    #: The name on the ID card, as read by the officer.
    name: Mapped[str] = mapped_column(sa.String(100))
    #: The resident ID number, AES-GCM encrypted with ``WITNESS_ID_KEY`` (never in clear).
    id_number_encrypted: Mapped[str] = mapped_column(sa.String(200))
    #: What may be shown: ``4103**********1234``.
    masked_id_number: Mapped[str] = mapped_column(sa.String(32))
    #: ``visual`` (card shown on camera) or another method the court uses.
    method: Mapped[str] = mapped_column(sa.String(32))
    #: The officer confirmed the face on camera matches the card.
    face_confirmed: Mapped[bool] = mapped_column(default=True)
    checked_by_id: Mapped[int] = mapped_column(sa.ForeignKey("staff.id"))
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Recording(Model):
    """The server-side recording of one witnessing, cut into segments, sealed by a manifest."""

    __tablename__ = "witness_recordings"
    __table_args__ = (
        sa.CheckConstraint(
            "status IN ('recording', 'paused', 'interrupted', 'sealed', 'deleted')",
            name="status",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("sessions.id"), index=True)
    status: Mapped[str] = mapped_column(sa.String(16), default="recording")
    #: Folder of the segment files, relative to ``RECORDINGS_PATH``.
    folder: Mapped[str] = mapped_column(sa.String(200))
    #: The powers the principal grants, confirmed one by one: ``general`` or special ones.
    powers: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    started_by_id: Mapped[int] = mapped_column(sa.ForeignKey("staff.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Why it stopped before the script was complete (庭审录音录像规定 Art. 4).
    stop_reason: Mapped[str | None] = mapped_column(sa.String(500))
    #: The signed manifest (canonical JSON) and its Ed25519 signature (base64).
    manifest: Mapped[str | None] = mapped_column(sa.Text)
    signature: Mapped[str | None] = mapped_column(sa.String(200))
    sealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Deletion before this is refused (retention years of the host court).
    retain_until: Mapped[datetime] = mapped_column(UTCDateTime)
    legal_hold: Mapped[bool] = mapped_column(default=False)
    legal_hold_reason: Mapped[str | None] = mapped_column(sa.String(500))
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The recorder process writing it (``host:pid:nonce``), and when it last said so (the
    #: real clock); a holder that is gone or silent is swept (see ``leases``).
    recorder_holder: Mapped[str | None] = mapped_column(sa.String(200))
    recorder_heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The officer stopped it: the holder closes its last segment and lets go, then it seals.
    stop_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    segments: Mapped[list[Segment]] = relationship(order_by="Segment.n")
    marks: Mapped[list[ScriptMark]] = relationship(order_by="ScriptMark.id")


class Segment(Model):
    """One file of a recording: every participant's audio and video for a few minutes."""

    __tablename__ = "witness_segments"
    __table_args__ = (
        sa.UniqueConstraint("recording_id", "n"),
        sa.CheckConstraint(
            "status IN ('open', 'closed', 'partial', 'empty', 'lost')", name="status"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recording_id: Mapped[int] = mapped_column(sa.ForeignKey("witness_recordings.id"), index=True)
    #: 1, 2, 3 … in recording order.
    n: Mapped[int]
    filename: Mapped[str] = mapped_column(sa.String(100))
    #: ``open`` while written; ``closed`` cleanly; ``partial`` salvaged after a crash;
    #: ``empty``: it ended before any media reached it, so there is no file (``lost``: a
    #: file missing, from before ``empty`` existed).
    status: Mapped[str] = mapped_column(sa.String(16), default="open")
    sha256: Mapped[str | None] = mapped_column(sa.String(64))
    bytes: Mapped[int | None] = mapped_column(sa.BigInteger)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Which stream is whose: ``[{index, kind, participant_id, role, name}]``.
    streams: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)


class CustodyEntry(Model):
    """One entry of a recording's chain of custody; each carries the hash of the one before.

    The database refuses UPDATE and DELETE on this table (see migration 0004).
    """

    __tablename__ = "witness_custody_entries"
    __table_args__ = (sa.UniqueConstraint("recording_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recording_id: Mapped[int] = mapped_column(sa.ForeignKey("witness_recordings.id"), index=True)
    #: 1, 2, 3 … per recording.
    seq: Mapped[int]
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: The staff member; None for the recorder itself.
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff.id"))
    #: ``started``, ``recorded``, ``paused``, ``interrupted``, ``sealed``, ``viewed`` …
    action: Mapped[str] = mapped_column(sa.String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    #: SHA-256 of the canonical entry including ``prev_hash``.
    hash: Mapped[str] = mapped_column(sa.String(64))


class ScriptMark(Model):
    """A step of the witnessing script, done, with its place in the recording."""

    __tablename__ = "witness_script_marks"

    id: Mapped[int] = mapped_column(primary_key=True)
    recording_id: Mapped[int] = mapped_column(sa.ForeignKey("witness_recordings.id"), index=True)
    #: ``undertaking``, ``power``, ``agent_accepts``, ``attestation``.
    step: Mapped[str] = mapped_column(sa.String(32))
    #: For ``power``: which one (``general``, ``admit_claims`` …).
    power: Mapped[str | None] = mapped_column(sa.String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Seconds since the recording started, and the segment and offset it falls in.
    elapsed_seconds: Mapped[float]
    segment_n: Mapped[int | None]
    segment_offset_seconds: Mapped[float | None]
    by_id: Mapped[int] = mapped_column(sa.ForeignKey("staff.id"))
    note: Mapped[str | None] = mapped_column(sa.String(500))
