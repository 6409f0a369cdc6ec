"""Resident ID numbers: GB 11643 checksum, masking, encryption at rest."""

from __future__ import annotations

import base64
import os

import pytest

from hearings.witness.identity import (
    IdentityError,
    decrypt_id_number,
    encrypt_id_number,
    mask_id_number,
    normalize_id_number,
)
from tests.fixtures.witness import valid_id

KEY = os.urandom(32)


@pytest.mark.parametrize(
    "number",
    ["11010519491231002X", "11010519491231002x", " 440524 18800101 0014 ", valid_id()],
)
def test_valid_numbers_pass_the_checksum(number):
    assert normalize_id_number(number) == number.replace(" ", "").upper()


@pytest.mark.parametrize(
    ("number", "why"),
    [
        ("110105194912310021", "check digit"),  # should be X
        ("410302199003071230", "check digit"),
        ("41030219900307123", "17 digits"),
        ("01030219900307123X", "17 digits"),  # a region never starts with 0
        ("410302199002301238", "birth date"),  # 30 February
        ("41030219900307123Y", "17 digits"),
    ],
)
def test_wrong_numbers_are_refused_with_the_reason(number, why):
    with pytest.raises(IdentityError, match=why):
        normalize_id_number(number)


def test_masking_shows_region_and_last_four():
    assert mask_id_number("410302199003071234") == "4103**********1234"


def test_encryption_round_trip_needs_the_key_and_the_context():
    number = valid_id()
    stored = encrypt_id_number(number, "7:12", KEY)
    assert number not in stored and number[6:14] not in base64.b64decode(stored[3:]).hex()
    assert decrypt_id_number(stored, "7:12", KEY) == number
    # Encrypted twice, never the same ciphertext (random nonce).
    assert encrypt_id_number(number, "7:12", KEY) != stored
    with pytest.raises(IdentityError, match="key"):
        decrypt_id_number(stored, "7:12", os.urandom(32))
    # Bound to its session and participant: copied to another row, it does not decrypt.
    with pytest.raises(IdentityError):
        decrypt_id_number(stored, "7:13", KEY)
