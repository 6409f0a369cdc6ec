"""Manifest key rotation: the signing key carries a key id; retired public keys stay
configured for verification; a manifest naming a key the court does not know is named."""

from __future__ import annotations

import base64
import json
import os

import pytest

from hearings.cli import main
from hearings.witness.manifest import manifest_keys, public_bytes, signing_key
from tests.witness.test_integrity import sealed_recording


def new_seed() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def public_of(seed: str) -> str:
    return base64.b64encode(public_bytes(signing_key(seed).public_key())).decode()


def faults(witness, rid):
    result = witness["call"]("GET", f"/recordings/{rid}/verify").json
    return result["ok"], [(f["code"], f["message"]) for f in result["faults"]]


def test_a_manifest_signed_with_a_retired_key_still_verifies(app, witness, recording, runner):
    old = new_seed()
    app.config["MANIFEST_SIGNING_KEY"] = f"court-2026:{old}"
    rid, folder = sealed_recording(app, witness, recording)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["key_id"] == "court-2026"
    assert manifest["public_key"] == public_of(old)

    # Rotation: a new key signs from now on; the old one's public key stays for verifying.
    app.config["MANIFEST_SIGNING_KEY"] = f"court-2027:{new_seed()}"
    app.config["MANIFEST_VERIFY_KEYS"] = f"court-2026:{public_of(old)}"
    assert faults(witness, rid) == (True, [])
    result = runner.invoke(main, ["verify-recording", str(folder)])
    assert result.exit_code == 0, result.output
    _, newer = sealed_recording(app, witness, recording)
    assert json.loads((newer / "manifest.json").read_text())["key_id"] == "court-2027"
    assert runner.invoke(main, ["verify-recording", str(newer)]).exit_code == 0


def test_an_unknown_key_id_is_named(app, witness, recording, runner):
    app.config["MANIFEST_SIGNING_KEY"] = f"court-2026:{new_seed()}"
    rid, folder = sealed_recording(app, witness, recording)
    # The old key was dropped from configuration: nothing the court holds can check it.
    app.config["MANIFEST_SIGNING_KEY"] = f"court-2027:{new_seed()}"
    ok, found = faults(witness, rid)
    assert not ok
    assert found == [
        ("signature-key", "the manifest was signed with key court-2026, which is not one "
                          "of the court's keys (court-2027)"),
    ]  # fmt: skip
    result = runner.invoke(main, ["verify-recording", str(folder)])
    assert result.exit_code == 1
    assert "FAULT signature-key: the manifest was signed with key court-2026" in result.output


def test_a_known_key_id_with_another_signature_is_named(app, witness, recording):
    app.config["MANIFEST_SIGNING_KEY"] = f"court-2026:{new_seed()}"
    rid, _ = sealed_recording(app, witness, recording)
    # Someone configured a different key under the same id: the signature does not hold.
    app.config["MANIFEST_SIGNING_KEY"] = f"court-2026:{new_seed()}"
    ok, found = faults(witness, rid)
    assert not ok and [code for code, _ in found] == ["signature-invalid"]
    assert "with key court-2026" in found[0][1]


@pytest.mark.parametrize(
    ("signing", "retired", "message"),
    [
        ("bad id!:AAAA", None, "HEARINGS_MANIFEST_SIGNING_KEY: key id 'bad id!'"),
        ("court:c2hvcnQ=", None, "HEARINGS_MANIFEST_SIGNING_KEY: the key must be 32 bytes"),
        (None, "court-2026:not-base64", "HEARINGS_MANIFEST_VERIFY_KEYS: 'court-2026:not-base64'"),
    ],
)
def test_a_malformed_key_setting_says_which(app, signing, retired, message):
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(")):
        manifest_keys(signing, retired)
