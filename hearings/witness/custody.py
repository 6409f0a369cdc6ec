"""The chain of custody: append-only entries, each carrying the hash of the one before."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa

from hearings.extensions import db
from hearings.timekeeping import isoformat, utcnow
from hearings.witness.models import CustodyEntry, Recording

GENESIS = "0" * 64


def canonical(value: Any) -> bytes:
    """The one byte form of a JSON value that hashes and signatures are made over."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_body(entry: CustodyEntry) -> dict[str, Any]:
    """The entry as exported and hashed (everything but its own hash)."""
    return {
        "recording_id": entry.recording_id,
        "seq": entry.seq,
        "at": isoformat(entry.at),
        "actor_id": entry.actor_id,
        "action": entry.action,
        "detail": entry.detail,
        "prev_hash": entry.prev_hash,
    }


def entry_hash(body: Mapping[str, Any]) -> str:
    """SHA-256 of an entry's canonical body (its ``hash`` field left out)."""
    return hashlib.sha256(canonical({k: v for k, v in body.items() if k != "hash"})).hexdigest()


def append(recording: Recording, action: str, actor_id: int | None, **detail: Any) -> CustodyEntry:
    """Add an entry after the last one (committed with the caller's transaction).

    The recording's row is locked first (PostgreSQL ``FOR UPDATE``; SQLite writes one at a
    time anyway), so two appends can't both take the same place in the chain.
    """
    db.session.execute(
        sa.select(Recording.id).where(Recording.id == recording.id).with_for_update()
    )
    last = db.session.scalar(
        sa.select(CustodyEntry)
        .where(CustodyEntry.recording_id == recording.id)
        .order_by(CustodyEntry.seq.desc())
        .limit(1)
    )
    entry = CustodyEntry(
        recording_id=recording.id,
        seq=1 if last is None else last.seq + 1,
        at=utcnow(),
        actor_id=actor_id,
        action=action,
        detail=json.loads(canonical(detail)),  # exactly what a reader will get back
        prev_hash=GENESIS if last is None else last.hash,
    )
    entry.hash = entry_hash(entry_body(entry))
    db.session.add(entry)
    db.session.flush()
    return entry


def entries(recording_id: int) -> list[CustodyEntry]:
    """A recording's custody log, in order."""
    return list(
        db.session.scalars(
            sa.select(CustodyEntry)
            .where(CustodyEntry.recording_id == recording_id)
            .order_by(CustodyEntry.seq)
        )
    )


def export(recording_id: int) -> list[dict[str, Any]]:
    """The log as dicts with their hashes (the API, the manifest folder's custody.jsonl)."""
    return [{**entry_body(e), "hash": e.hash} for e in entries(recording_id)]


def chain_faults(log: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Every break in a log: altered entries, wrong links, gaps and reordering."""
    faults: list[dict[str, Any]] = []
    previous_hash, expected_seq = GENESIS, 1
    for position, item in enumerate(log, start=1):
        seq = item.get("seq")
        if seq != expected_seq:
            faults.append(
                {"code": "custody-order", "seq": seq,
                 "message": f"entry {position} of the log has seq {seq}, expected {expected_seq}"}
            )  # fmt: skip
        if item.get("hash") != entry_hash(item):
            faults.append(
                {"code": "custody-altered", "seq": seq,
                 "message": f"custody entry {seq} does not match its hash"}
            )  # fmt: skip
        if item.get("prev_hash") != previous_hash:
            faults.append(
                {"code": "custody-chain", "seq": seq,
                 "message": f"custody entry {seq} does not carry the hash of the entry before"}
            )  # fmt: skip
        previous_hash = str(item.get("hash"))
        expected_seq = (seq if isinstance(seq, int) else expected_seq) + 1
    return faults
