"""The sealed record: manifest and signature, access with custody, retention and legal hold."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from flask import current_app

from hearings.courts.models import Staff
from hearings.errors import Conflict, Forbidden, NotFound
from hearings.extensions import db
from hearings.recording import timestamps
from hearings.scheduling.models import Session
from hearings.scheduling.vocabulary import Kind
from hearings.timekeeping import isoformat, utcnow
from hearings.witness import custody, script
from hearings.witness.access import involved_courts
from hearings.witness.manifest import (
    CUSTODY_FILE,
    VERSION,
    file_sha256,
    manifest_keys,
    public_bytes,
    sign,
    write_files,
)
from hearings.witness.models import IdentityCheck, Recording, Segment
from hearings.witness.verify import segment_faults, timestamp_faults, verify_sealed

DEFAULT_RETENTION_YEARS = 30


def retention_years(court_id: str) -> int:
    """Years a court keeps recordings (``RETENTION_YEARS``: ``30`` or ``luoyang=30,…``)."""
    text = str(current_app.config.get("RETENTION_YEARS") or DEFAULT_RETENTION_YEARS)
    if "=" not in text:
        return int(text)
    for item in text.split(","):
        court, _, years = item.partition("=")
        if court.strip() == court_id:
            return int(years)
    return DEFAULT_RETENTION_YEARS


def retention_end(court_id: str, start: datetime) -> datetime:
    """When a recording started at ``start`` may be deleted."""
    return start + relativedelta(years=retention_years(court_id))


#: The custody action for a segment that ended before any media reached it.
NOTHING_RECORDED = "nothing_recorded"
EMPTY_NOTE = "opened, but no media reached it before it ended: no file was written"


def salvage(recording: Recording, segment: Segment, folder: Path, reason: str) -> None:
    """Hash what a crashed recorder left of its open segment, as it lies, and log it as
    partial with how much of it is whole fragments (the rest was cut mid-write).

    No file means no media had reached it: the file is made with the first packet
    (``recording.segments``). That segment is ``empty``, and logged so, never a missing file."""
    path = folder / segment.filename
    segment.ended_at = utcnow()
    if not path.is_file():
        segment.status = "empty"
        custody.append(recording, NOTHING_RECORDED, None, n=segment.n, file=segment.filename,
                       note=EMPTY_NOTE, reason=reason)  # fmt: skip
        return
    segment.sha256, segment.bytes = file_sha256(path)
    segment.status = "partial"
    whole = whole_mp4_bytes(path)
    custody.append(recording, "salvaged", None, n=segment.n, file=segment.filename,
                   status=segment.status, sha256=segment.sha256, bytes=segment.bytes,
                   reason=reason, whole_bytes=whole,
                   cut_bytes=segment.bytes - whole)  # fmt: skip


def whole_mp4_bytes(path: Path) -> int:
    """How many bytes from the start of a fragmented MP4 are whole boxes: the header, then
    each fragment (``moof`` with its ``mdat``). What follows was cut mid-write; the file is
    never changed, the cut is only recorded."""
    size = path.stat().st_size
    whole = position = 0
    with path.open("rb") as handle:
        while position + 8 <= size:
            handle.seek(position)
            header = handle.read(16)
            length, kind = int.from_bytes(header[:4], "big"), header[4:8]
            if length == 1 and len(header) == 16:
                length = int.from_bytes(header[8:16], "big")
            elif length == 0:
                length = size - position
            if length < 8 or position + length > size:
                break
            position += length
            if kind != b"moof":  # a fragment's header counts only with its media data
                whole = position
    return whole


def segment_entry(segment: Segment) -> dict[str, Any]:
    """A segment as the manifest and the API list it."""
    return {
        "n": segment.n, "file": segment.filename, "sha256": segment.sha256,
        "bytes": segment.bytes, "status": segment.status,
        "started_at": isoformat(segment.started_at), "ended_at": isoformat(segment.ended_at),
        "streams": segment.streams,
    }  # fmt: skip


def build_manifest(
    recording: Recording, session: Session, sealed_by: Staff | None
) -> dict[str, Any]:
    """Everything the record must prove, in one document to sign."""
    checks = db.session.scalars(
        sa.select(IdentityCheck)
        .where(IdentityCheck.session_id == session.id)
        .order_by(IdentityCheck.id)
    )
    log = custody.entries(recording.id)
    keys = manifest_keys()
    public = keys.signing.public_key()
    return {
        "version": VERSION,
        "recording_id": recording.id,
        "session": {
            "id": session.id, "kind": session.kind, "title": session.title,
            "case_number": session.case_number, "host_court": session.host_court_id,
            "starts_at": isoformat(session.starts_at), "ends_at": isoformat(session.ends_at),
        },
        "participants": [
            {"id": p.id, "role": p.role, "name": p.display_name, "court": p.court_id}
            for p in session.participants
        ],
        "identity_checks": [
            {"participant_id": c.participant_id, "name": c.name,
             "masked_id_number": c.masked_id_number, "method": c.method,
             "face_confirmed": c.face_confirmed, "checked_by": c.checked_by_id,
             "checked_at": isoformat(c.checked_at)}
            for c in checks
        ],
        "powers": recording.powers,
        "script": [mark_entry(m) for m in recording.marks],
        # Only a witnessing has a script (a hearing's or mediation's manifest says None).
        "script_complete": script.is_complete(
            recording.powers, [script.Done(m.step, m.power) for m in recording.marks]
        )
        if session.kind == Kind.WITNESS
        else None,
        "segments": [segment_entry(s) for s in recording.segments],
        "started_at": isoformat(recording.started_at),
        "stopped_at": isoformat(recording.stopped_at),
        "stop_reason": recording.stop_reason,
        "sealed_by": sealed_by.id if sealed_by else None,  # None: sealed as the session ended
        "custody_head": {"seq": log[-1].seq, "hash": log[-1].hash} if log else None,
        "key_id": keys.signing_id,
        "public_key": base64.b64encode(public_bytes(public)).decode(),
    }  # fmt: skip


def mark_entry(mark: Any) -> dict[str, Any]:
    """A script mark with its place in the recording."""
    return {
        "step": mark.step, "power": mark.power, "at": isoformat(mark.at),
        "elapsed_seconds": mark.elapsed_seconds, "segment_n": mark.segment_n,
        "segment_offset_seconds": mark.segment_offset_seconds, "by": mark.by_id,
    }  # fmt: skip


def seal(recording: Recording, session: Session, actor: Staff | None, folder: Path) -> None:
    """Sign the manifest, log the seal, and write the evidence package beside the segments."""
    manifest = build_manifest(recording, session, actor)
    signature = sign(manifest, manifest_keys().signing)
    recording.manifest = custody.canonical(manifest).decode()
    recording.signature = signature
    recording.sealed_at = utcnow()
    manifest_hash = file_sha256_bytes(recording.manifest.encode())
    custody.append(recording, "sealed", actor.id if actor else None, manifest_sha256=manifest_hash,
                   key_id=manifest["key_id"], signature=signature)  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    token = _timestamp(recording, recording.manifest.encode())
    if token is not None:
        (folder / timestamps.TOKEN_FILE).write_bytes(token)
    write_files(folder, manifest, signature, custody.export(recording.id))


def _timestamp(recording: Recording, manifest: bytes) -> bytes | None:
    """An RFC 3161 timestamp of the manifest from ``TSA_URL``, logged in custody; a TSA that
    fails does not stop the seal: its failure is logged instead."""
    url = current_app.config.get("TSA_URL")
    if not url:
        return None
    try:
        token = timestamps.request_token(url, manifest)
    except timestamps.TimestampError as error:
        custody.append(recording, "timestamp_failed", None, tsa_url=url, reason=str(error))
        return None
    custody.append(recording, "timestamped", None, tsa_url=url, **timestamps.describe(token),
                   token=base64.b64encode(token).decode())  # fmt: skip
    return token


def tsa_ca() -> bytes | None:
    """The CA certificates trusted for timestamps (``TSA_CA_FILE``), if configured."""
    path = current_app.config.get("TSA_CA_FILE")
    return Path(path).read_bytes() if path else None


def file_sha256_bytes(data: bytes) -> str:
    """SHA-256 of bytes, hex."""
    return hashlib.sha256(data).hexdigest()


def log_access(recording: Recording, actor: Staff, action: str, **detail: Any) -> None:
    """Every access enters the custody log (and the folder's copy of it, once sealed)."""
    custody.append(recording, action, actor.id, **detail)
    folder = recording_folder(recording)
    if recording.manifest is not None and folder.is_dir():
        lines = [json.dumps(e, ensure_ascii=False, sort_keys=True)
                 for e in custody.export(recording.id)]  # fmt: skip
        (folder / CUSTODY_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")


def recording_folder(recording: Recording) -> Path:
    """The folder of a recording's files."""
    root = current_app.config.get("RECORDINGS_PATH")
    return Path(root or Path(current_app.instance_path) / "recordings") / recording.folder


def segment_file(recording: Recording, n: int) -> Path:
    """The file of segment ``n`` (404 if unknown or gone)."""
    segment = next((s for s in recording.segments if s.n == n), None)
    if segment is None or segment.status == "open":
        raise NotFound("no-such-segment", recording_id=recording.id, n=n)
    if segment.status == "empty":
        raise NotFound("segment-empty", recording_id=recording.id, n=n)
    path = recording_folder(recording) / segment.filename
    if recording.status == "deleted" or not path.is_file():
        raise NotFound("segment-not-on-file", recording_id=recording.id, n=n)
    return path


def verify(recording: Recording) -> dict[str, Any]:
    """Re-hash every segment, check the custody chain and the signature: ``{ok, faults}``."""
    folder = recording_folder(recording)
    log = custody.export(recording.id)
    keys = manifest_keys().verifying
    if recording.manifest is None:
        listed = [segment_entry(s) for s in recording.segments if s.status != "open"]
        faults = segment_faults(folder, listed) + custody.chain_faults(log)
        return {"ok": not faults, "faults": faults, "sealed": False}
    manifest = json.loads(recording.manifest)
    faults = verify_sealed(folder, manifest, recording.signature, log, keys)
    faults += timestamp_faults(recording.manifest.encode(), log, tsa_ca())
    return {"ok": not faults, "faults": faults, "sealed": True}


def set_legal_hold(
    actor: Staff, recording: Recording, session: Session, reason: str | None
) -> None:
    """Place (with a reason) or lift (None) a legal hold: admins of the involved courts."""
    if not (actor.is_admin and actor.court_id in involved_courts(session)):
        raise Forbidden("hold-admins-only")
    recording.legal_hold, recording.legal_hold_reason = reason is not None, reason
    custody.append(recording, "hold_placed" if reason else "hold_lifted", actor.id, reason=reason)


def delete_recording(actor: Staff, recording: Recording, session: Session) -> None:
    """Delete the files once retention has run out and no hold applies; the log stays."""
    if not (actor.is_admin and actor.court_id in involved_courts(session)):
        raise Forbidden("delete-admins-only")
    if recording.status == "deleted":
        raise Conflict("recording-deleted", recording_id=recording.id)
    if recording.legal_hold:
        raise Conflict(
            "recording-on-hold", recording_id=recording.id, reason=recording.legal_hold_reason
        )
    if utcnow() < recording.retain_until:
        raise Conflict(
            "recording-retained",
            recording_id=recording.id,
            retain_until=isoformat(recording.retain_until),
        )
    if recording.status != "sealed":
        raise Conflict("recording-not-sealed", recording_id=recording.id)
    shutil.rmtree(recording_folder(recording), ignore_errors=True)
    recording.status, recording.deleted_at = "deleted", utcnow()
    custody.append(recording, "deleted", actor.id)
