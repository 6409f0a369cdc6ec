"""Resident ID numbers: the GB 11643 checksum, masking, and encryption at rest."""

from __future__ import annotations

import base64
import os
import re
from datetime import date

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

#: GB 11643-1999: weights of the first 17 digits, and the check character for sum mod 11.
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
ID_PATTERN = re.compile(r"^[1-9]\d{16}[\dX]$")
#: Prefix of the stored ciphertext: the scheme, so the key or cipher can change later.
SCHEME = "v1"


class IdentityError(ValueError):
    """A resident ID number that is malformed or fails its checksum; ``code`` names which
    (``witness/words.py`` says it)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def check_character(first17: str) -> str:
    """The GB 11643 check character of the first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def normalize_id_number(text: str) -> str:
    """Upper-case, strip spaces; refuse anything that is not a valid 18-character number."""
    number = re.sub(r"\s+", "", text).upper()
    if not ID_PATTERN.match(number):
        raise IdentityError(
            "id-number-form", "a resident ID number has 17 digits and a check digit (0–9 or X)"
        )
    try:
        date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise IdentityError(
            "id-number-birth-date", "the birth date in the ID number does not exist"
        ) from None
    if check_character(number[:17]) != number[17]:
        raise IdentityError(
            "id-number-check-digit", "the ID number's check digit is wrong (GB 11643)"
        )
    return number


def mask_id_number(number: str) -> str:
    """Show the region and the last four only: ``4103**********1234``."""
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def configured_key(raw: str | None, purpose: bytes) -> bytes:
    """A configured base64 key, or (development) one derived from SECRET_KEY."""
    if raw:
        key = base64.b64decode(raw)
        if len(key) != 32:
            raise ValueError("the key must be 32 bytes, base64-encoded")
        return key
    # Outside the demo and tests the service does not start without the key (hearings/keys.py).
    return derive_key(current_app.config["SECRET_KEY"], purpose)


def derive_key(secret: str, purpose: bytes) -> bytes:
    """The 32-byte key for ``purpose`` derived from ``secret`` (HKDF-SHA256)."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"hearings", info=purpose)
    return hkdf.derive(secret.encode())


def id_key() -> bytes:
    """The AES-256 key for ID numbers (``WITNESS_ID_KEY``)."""
    return configured_key(current_app.config.get("WITNESS_ID_KEY"), b"witness id numbers")


def encrypt_id_number(number: str, context: str, key: bytes | None = None) -> str:
    """AES-GCM encrypt; ``context`` (session and participant) is bound as associated data."""
    nonce = os.urandom(12)
    sealed = AESGCM(key or id_key()).encrypt(nonce, number.encode(), context.encode())
    return f"{SCHEME}:{base64.b64encode(nonce + sealed).decode()}"


def decrypt_id_number(stored: str, context: str, key: bytes | None = None) -> str:
    """Decrypt a stored number; raises IdentityError with the wrong key or context."""
    scheme, _, payload = stored.partition(":")
    if scheme != SCHEME:
        raise IdentityError("id-number-unreadable", f"unknown encryption scheme {scheme!r}")
    raw = base64.b64decode(payload)
    try:
        return AESGCM(key or id_key()).decrypt(raw[:12], raw[12:], context.encode()).decode()
    except InvalidTag:
        raise IdentityError(
            "id-number-unreadable", "the ID number can't be decrypted with this key"
        ) from None
