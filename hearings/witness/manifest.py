"""The manifest of a recording, signed with the court's Ed25519 key, and its files.

The signing key carries a key id (``MANIFEST_SIGNING_KEY=kid:seed``) that the manifest
names. Keys are rotated by configuring a new signing key and keeping the retired one's
public key in ``MANIFEST_VERIFY_KEYS``: manifests it signed still verify; a manifest naming
a key the court does not know is a fault that says so.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
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


KEY_ID = re.compile(r"^[A-Za-z0-9._-]{1,40}$")


@dataclass(frozen=True)
class ManifestKeys:
    """The court's manifest keys: the one that signs, and every one that verifies."""

    signing_id: str
    signing: Ed25519PrivateKey
    #: Key id → public key: the signing key's and each retired one's.
    verifying: dict[str, Ed25519PublicKey]


def _split_key_id(text: str, setting: str) -> tuple[str | None, str]:
    kid, colon, rest = text.strip().partition(":")
    if not colon:
        return None, kid
    if not KEY_ID.match(kid):
        raise ValueError(f"{setting}: key id {kid!r} is not 1–40 letters, digits, . _ -")
    return kid, rest.strip()


def _signing(raw: str | None) -> tuple[str, Ed25519PrivateKey]:
    kid, seed = _split_key_id(raw, "HEARINGS_MANIFEST_SIGNING_KEY") if raw else (None, "")
    try:
        private = Ed25519PrivateKey.from_private_bytes(
            configured_key(seed or None, b"manifest signing")
        )
    except (ValueError, binascii.Error) as error:
        raise ValueError(f"HEARINGS_MANIFEST_SIGNING_KEY: {error}") from None
    return kid or key_id(private.public_key()), private


def manifest_keys(signing: str | None = None, retired: str | None = None) -> ManifestKeys:
    """The keys from configuration (``MANIFEST_SIGNING_KEY``, ``MANIFEST_VERIFY_KEYS``)."""
    config = current_app.config
    kid, private = _signing(signing or config.get("MANIFEST_SIGNING_KEY"))
    verifying = {kid: private.public_key()}
    for item in (retired or config.get("MANIFEST_VERIFY_KEYS") or "").split(","):
        if not item.strip():
            continue
        old_id, text = _split_key_id(item, "HEARINGS_MANIFEST_VERIFY_KEYS")
        try:
            public = Ed25519PublicKey.from_public_bytes(base64.b64decode(text, validate=True))
        except (ValueError, binascii.Error):
            raise ValueError(
                f"HEARINGS_MANIFEST_VERIFY_KEYS: {item.strip()[:60]!r} is not "
                "kid:<32-byte Ed25519 public key, base64>"
            ) from None
        verifying.setdefault(old_id or key_id(public), public)
    return ManifestKeys(kid, private, verifying)


def signing_key(raw: str | None = None) -> Ed25519PrivateKey:
    """The manifest signing key (``MANIFEST_SIGNING_KEY``: ``kid:seed`` or a bare seed)."""
    return _signing(raw or current_app.config.get("MANIFEST_SIGNING_KEY"))[1]


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
    manifest: dict[str, Any], signature: str | None, keys: Mapping[str, Ed25519PublicKey]
) -> list[dict[str, Any]]:
    """Why the signature does not hold with the key the manifest names (empty if it holds)."""
    if not signature:
        return [{"code": "signature-missing", "message": "the manifest is not signed"}]
    named = manifest.get("key_id")
    key = keys.get(named) if isinstance(named, str) else None
    if key is None:
        known = ", ".join(sorted(keys))
        return [
            {"code": "signature-key",
             "message": f"the manifest was signed with key {named}, which is not one of the "
                        f"court's keys ({known})"}
        ]  # fmt: skip
    try:
        key.verify(base64.b64decode(signature, validate=True), canonical(manifest))
    except (InvalidSignature, ValueError):
        return [
            {"code": "signature-invalid",
             "message": f"the signature does not match the manifest with key {named} (altered "
                        "after sealing, or signed with another key)"}
        ]  # fmt: skip
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
