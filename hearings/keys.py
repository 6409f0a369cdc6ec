"""The keys the service starts with: refused when anyone could know them.

A key in the source (the old shipped default) lets anyone mint an admin API token, a login
cookie or a recorder's room token. Outside the demo and the tests the service therefore
starts only with ``HEARINGS_SECRET_KEY`` set to a long random value, and with its own keys
for ID numbers and manifests (derived from the secret key only in the demo and tests, so
rotating the secret key never makes stored ID numbers unreadable or old manifests unsigned).
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: The exit status of a refused start (sysexits' EX_CONFIG): systemd units don't restart on it.
EX_CONFIG = 78
#: Shortest secret key accepted, bytes (as for signing keys: hearings/tokens.py).
MIN_SECRET_BYTES = 32
#: Keys that were once shipped in the source: anyone can read them, so none is a secret.
SHIPPED_KEYS = frozenset({"dev-secret-key-change-me-0123456789abcdef"})
#: The demo's own key, in its instance folder.
DEMO_KEY_FILE = "secret_key"

_MAKE_SECRET = "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
_MAKE_32_BYTES = (
    "python3 -c 'import base64, secrets; print(base64.b64encode(secrets.token_bytes(32)).decode())'"
)


class KeyRefused(ValueError):
    """The configured keys can't be used; the message is the one line to show."""


def start_refusal(config: Mapping[str, Any], *, demo: bool, testing: bool) -> str | None:
    """Why the service must not start with these keys, in one line; None if it may."""
    secret = config.get("SECRET_KEY")
    if not secret:
        return (
            "HEARINGS_SECRET_KEY is not set: the service will not start with a key anyone can "
            f"read in the source; set it to 32+ random bytes ({_MAKE_SECRET})"
        )
    if secret in SHIPPED_KEYS:
        return (
            "HEARINGS_SECRET_KEY is the development key once shipped in the source: anyone can "
            f"forge tokens with it; set it to 32+ random bytes ({_MAKE_SECRET})"
        )
    if len(secret.encode()) < MIN_SECRET_BYTES:
        return (
            f"HEARINGS_SECRET_KEY is {len(secret.encode())} bytes: at least {MIN_SECRET_BYTES} "
            f"random bytes are needed ({_MAKE_SECRET})"
        )
    if demo or testing:
        return None  # the ID-number and manifest keys may derive from the secret key
    if not config.get("WITNESS_ID_KEY"):
        return (
            "HEARINGS_WITNESS_ID_KEY is not set: resident ID numbers must not be encrypted with "
            f"a key derived from HEARINGS_SECRET_KEY; set it to 32 random bytes, base64 "
            f"({_MAKE_32_BYTES})"
        )
    if not _is_32_bytes(config["WITNESS_ID_KEY"]):
        return f"HEARINGS_WITNESS_ID_KEY is not 32 bytes, base64 ({_MAKE_32_BYTES})"
    signing = config.get("MANIFEST_SIGNING_KEY")
    if not signing:
        return (
            "HEARINGS_MANIFEST_SIGNING_KEY is not set: recording manifests must not be signed "
            "with a key derived from HEARINGS_SECRET_KEY; set it to an Ed25519 seed, 32 random "
            f"bytes, base64, optionally as kid:seed ({_MAKE_32_BYTES})"
        )
    if not _is_32_bytes(signing.rpartition(":")[2]):
        return (
            "HEARINGS_MANIFEST_SIGNING_KEY is not kid:seed with a 32-byte seed, base64 "
            f"({_MAKE_32_BYTES})"
        )
    return None


def environment_refusal(environ: Mapping[str, str] | None = None) -> str | None:
    """``start_refusal`` for a production start configured by ``HEARINGS_*`` variables."""
    from hearings.config import Config, from_environment

    defaults = {name: getattr(Config, name) for name in dir(Config) if name.isupper()}
    settings = {**defaults, **from_environment(None if environ is None else dict(environ))}
    return start_refusal(settings, demo=False, testing=bool(settings.get("TESTING")))


def check_keys(config: Mapping[str, Any], *, demo: bool, testing: bool) -> None:
    """Raise KeyRefused with the one line of ``start_refusal``, if there is one."""
    refusal = start_refusal(config, demo=demo, testing=testing)
    if refusal:
        raise KeyRefused(refusal)


def demo_secret_key(instance: Path) -> str:
    """The demo's random secret key, kept in ``<instance>/secret_key`` (0600), made once."""
    path = instance / DEMO_KEY_FILE
    try:
        # O_EXCL: two demo processes starting at once agree on one key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as file:
        key = secrets.token_urlsafe(48)
        file.write(key + "\n")
    return key


def _is_32_bytes(text: str) -> bool:
    try:
        return len(base64.b64decode(text.strip(), validate=True)) == 32
    except (ValueError, binascii.Error):
        return False
