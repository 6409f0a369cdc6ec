"""Verification: re-hash every segment, check the custody chain and the manifest signature.

Works on a recording's folder alone (``hearings verify-recording PATH``: the manifest,
its signature and the custody log sit beside the segments) and on the database's copy
(``GET /api/v1/recordings/{rid}/verify``). Each fault names what fails.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from hearings.recording.timestamps import TOKEN_FILE, token_faults
from hearings.witness.custody import chain_faults
from hearings.witness.manifest import (
    CUSTODY_FILE,
    MANIFEST_FILE,
    SIGNATURE_FILE,
    file_sha256,
    signature_faults,
)

SEGMENT_FILE = re.compile(r"^seg-\d{5}\.\w+$")


def segment_faults(folder: Path, listed: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Segments missing, altered, resized, or on disk but not listed; a file on disk for
    a segment recorded as empty (no media reached it, so none was written)."""
    faults: list[dict[str, Any]] = []
    for segment in listed:
        n, path = segment["n"], folder / str(segment["file"])
        if segment.get("status") == "empty":
            if path.exists():
                faults.append(
                    {"code": "segment-not-empty", "n": n,
                     "message": f"segment {n} was recorded empty, but {path.name} is on disk"}
                )  # fmt: skip
            continue
        if segment.get("sha256") is None:
            faults.append({"code": "segment-unhashed", "n": n,
                           "message": f"segment {n} was never hashed"})  # fmt: skip
            continue
        if not path.is_file():
            faults.append({"code": "segment-missing", "n": n,
                           "message": f"segment {n} ({path.name}) is missing"})  # fmt: skip
            continue
        sha256, size = file_sha256(path)
        if size != segment["bytes"]:
            faults.append(
                {"code": "segment-size", "n": n,
                 "message": f"segment {n} ({path.name}) has {size} bytes, "
                            f"{segment['bytes']} were recorded"}
            )  # fmt: skip
        if sha256 != segment["sha256"]:
            faults.append(
                {"code": "segment-altered", "n": n,
                 "message": f"segment {n} ({path.name}) hashes to {sha256}, "
                            f"{segment['sha256']} was recorded"}
            )  # fmt: skip
    known = {str(s["file"]) for s in listed}
    if folder.is_dir():
        for path in sorted(folder.iterdir()):
            if SEGMENT_FILE.match(path.name) and path.name not in known:
                faults.append({"code": "segment-unlisted", "file": path.name,
                               "message": f"{path.name} is not in the record"})  # fmt: skip
    return faults


def head_faults(
    manifest: Mapping[str, Any], log: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The custody entry the manifest was sealed at must still be in the log, unchanged."""
    head = manifest.get("custody_head") or {}
    found = next((e for e in log if e.get("seq") == head.get("seq")), None)
    if found is None or found.get("hash") != head.get("hash"):
        return [
            {"code": "custody-head", "seq": head.get("seq"),
             "message": f"the manifest was sealed at custody entry {head.get('seq')}, which the "
                        "log no longer holds as it was"}
        ]  # fmt: skip
    return []


def verify_sealed(
    folder: Path,
    manifest: dict[str, Any],
    signature: str | None,
    log: Sequence[Mapping[str, Any]],
    keys: Mapping[str, Ed25519PublicKey],
) -> list[dict[str, Any]]:
    """All faults of a sealed recording: signature, segments against it, custody chain."""
    faults = signature_faults(manifest, signature, keys)
    faults += segment_faults(folder, manifest.get("segments", []))
    faults += chain_faults(log)
    faults += head_faults(manifest, log)
    return faults


def timestamp_faults(
    manifest: bytes,
    log: Sequence[Mapping[str, Any]],
    ca_pem: bytes | None,
    token_file: bytes | None = None,
) -> list[dict[str, Any]]:
    """The manifest's RFC 3161 timestamp, if the custody log says it was timestamped: the
    token (in the log, or the file beside the manifest) must be that one and hold."""
    stamped = [e for e in log if e.get("action") == "timestamped"]
    if not stamped:
        return []
    detail = stamped[-1].get("detail") or {}
    token = token_file
    if token is None:
        try:
            token = base64.b64decode(detail.get("token") or "", validate=True)
        except ValueError:
            token = b""
    if not token:
        return [{"code": "timestamp-missing",
                 "message": f"the custody log says the manifest was timestamped, but "
                            f"{TOKEN_FILE} is missing"}]  # fmt: skip
    if hashlib.sha256(token).hexdigest() != detail.get("token_sha256"):
        return [{"code": "timestamp-altered",
                 "message": f"{TOKEN_FILE} is not the token the custody log recorded"}]  # fmt: skip
    return token_faults(token, manifest, ca_pem)


def read_custody_file(path: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The custody log exported beside the segments, and faults reading it."""
    if not path.is_file():
        return [], [{"code": "custody-missing", "message": f"{path.name} is missing"}]
    log, faults = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            log.append(json.loads(line))
        except ValueError:
            faults.append({"code": "custody-unreadable",
                           "message": f"line {number} of {path.name} is not JSON"})  # fmt: skip
    return log, faults


def verify_folder(
    folder: Path, keys: Mapping[str, Ed25519PublicKey], tsa_ca: bytes | None = None
) -> dict[str, Any]:
    """Verify a recording's folder on its own: ``{ok, faults, manifest}``."""
    manifest_path = folder / MANIFEST_FILE
    if not manifest_path.is_file():
        faults = [{"code": "manifest-missing", "message": f"no {MANIFEST_FILE} in {folder}"}]
        return {"ok": False, "faults": faults, "manifest": None}
    try:
        manifest = json.loads(manifest_path.read_bytes())
    except ValueError:
        faults = [{"code": "manifest-unreadable", "message": f"{MANIFEST_FILE} is not JSON"}]
        return {"ok": False, "faults": faults, "manifest": None}
    signature_path = folder / SIGNATURE_FILE
    signature = signature_path.read_text().strip() if signature_path.is_file() else None
    log, faults = read_custody_file(folder / CUSTODY_FILE)
    faults += verify_sealed(folder, manifest, signature, log, keys)
    token_path = folder / TOKEN_FILE
    token = token_path.read_bytes() if token_path.is_file() else b""
    faults += timestamp_faults(manifest_path.read_bytes(), log, tsa_ca, token)
    return {"ok": not faults, "faults": faults, "manifest": manifest}
