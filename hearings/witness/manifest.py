"""The manifest of a recording, signed with the court's Ed25519 key, and its files."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from flask import current_app

from hearings.witness.custody import canonical
from hearings.witness.identity import configured_key

MANIFEST_FILE = "manifest.json"
SIGNATURE_FILE = "manifest.sig"
CUSTODY_FILE = "custody.jsonl"
VERSION = 1


def signing_key(raw: str | None = None) -> Ed25519PrivateKey:
    """The manifest key (``MANIFEST_SIGNING_KEY``: a base64 32-byte seed)."""
    seed = configured_key(
        raw or current_app.config.get("MANIFEST_SIGNING_KEY"), b"manifest signing"
    )
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_bytes(key: Ed25519PublicKey) -> bytes:
    """The raw 32 bytes of a public key."""
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(key: Ed25519PublicKey) -> str:
    """A short name of a public key: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(public_bytes(key)).hexdigest()[:16]


def sign(manifest: dict[str, Any], key: Ed25519PrivateKey) -> str:
    """The base64 Ed25519 signature of the manifest's canonical bytes."""
    return base64.b64encode(key.sign(canonical(manifest))).decode()


def signature_faults(
    manifest: dict[str, Any], signature: str | None, key: Ed25519PublicKey
) -> list[dict[str, Any]]:
    """Why the signature does not hold with the court's key (empty if it holds)."""
    if not signature:
        return [{"code": "signature-missing", "message": "the manifest is not signed"}]
    expected = key_id(key)
    named = manifest.get("key_id")
    try:
        key.verify(base64.b64decode(signature, validate=True), canonical(manifest))
    except (InvalidSignature, ValueError):
        if named != expected:
            return [
                {"code": "signature-key",
                 "message": f"the manifest was signed with key {named}, not the court's "
                            f"key {expected}"}
            ]  # fmt: skip
        return [
            {"code": "signature-invalid",
             "message": "the signature does not match the manifest (altered after sealing, "
                        "or signed with another key)"}
        ]  # fmt: skip
    if named != expected:
        return [{"code": "signature-key", "message": f"the manifest names key {named}"}]
    return []


def write_files(
    folder: Path, manifest: dict[str, Any], signature: str, custody_log: list[dict[str, Any]]
) -> None:
    """Put the manifest, its signature and the custody log beside the segments."""
    (folder / MANIFEST_FILE).write_bytes(canonical(manifest))
    (folder / SIGNATURE_FILE).write_text(signature + "\n")
    lines = [json.dumps(entry, ensure_ascii=False, sort_keys=True) for entry in custody_log]
    (folder / CUSTODY_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")


def file_sha256(path: Path) -> tuple[str, int]:
    """SHA-256 and size of a file, read in blocks."""
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size
