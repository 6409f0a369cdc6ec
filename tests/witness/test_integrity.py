"""Integrity on real files: segment hashes, the custody chain, the signed manifest, and
`verify` (API and `hearings verify-recording`) naming each fault."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

from hearings.cli import main
from hearings.extensions import db
from hearings.witness.custody import canonical
from hearings.witness.manifest import key_id, sign, signing_key
from hearings.witness.models import Recording
from hearings.witness.services import recordings_root


def write_segment(app, rid: int, n: int, data: bytes, *, close: bool = True) -> Path:
    """Report a segment as the recorder does: opened, written, closed (hashed, logged)."""
    reports = app.extensions["hearings.recorders"].sink
    folder = recordings_root() / db.session.get(Recording, rid).folder
    db.session.commit()  # the reports write from their own app context (SQLite: one writer)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"seg-{n:05d}.mp4"
    reports.segment_opened(rid, n, name, [{"index": 0, "kind": "video", "role": "principal"}])
    (folder / name).write_bytes(data)
    if close:
        reports.segment_closed(rid, n, name, "closed")
    db.session.expire_all()
    return folder / name


def sealed_recording(app, witness, recording) -> tuple[int, Path]:
    rid = recording()["id"]
    db.session.commit()
    paths = [write_segment(app, rid, n, os.urandom(5000 + n)) for n in (1, 2, 3)]
    stopped = witness["call"]("POST", f"/recordings/{rid}/stop", json={"reason": "测试"})
    assert stopped.status_code == 200, stopped.json
    assert [s["n"] for s in stopped.json["manifest"]["segments"]] == [1, 2, 3]
    return rid, paths[0].parent


def faults(witness, rid):
    result = witness["call"]("GET", f"/recordings/{rid}/verify").json
    return [(f["code"], f.get("n")) for f in result["faults"]]


def test_untouched_recording_verifies_by_api_and_cli(app, witness, recording, runner):
    rid, folder = sealed_recording(app, witness, recording)
    assert faults(witness, rid) == []
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["key_id"] == key_id(signing_key().public_key())
    assert {s["sha256"] for s in manifest["segments"]} and all(
        len(s["sha256"]) == 64 for s in manifest["segments"]
    )
    result = runner.invoke(main, ["verify-recording", str(folder)])
    assert result.exit_code == 0, result.output
    assert "OK" in result.output and "3 segment(s)" in result.output


def test_a_flipped_byte_and_a_deleted_segment_are_named(app, witness, recording, runner):
    rid, folder = sealed_recording(app, witness, recording)
    second = folder / "seg-00002.mp4"
    data = bytearray(second.read_bytes())
    data[100] ^= 0x01
    second.write_bytes(bytes(data))
    assert faults(witness, rid) == [("segment-altered", 2)]
    (folder / "seg-00003.mp4").unlink()
    assert faults(witness, rid) == [("segment-altered", 2), ("segment-missing", 3)]
    result = runner.invoke(main, ["verify-recording", str(folder)])
    assert result.exit_code == 1
    assert "FAULT segment-altered: segment 2 (seg-00002.mp4)" in result.output
    assert "FAULT segment-missing: segment 3 (seg-00003.mp4) is missing" in result.output
    # Every verification is itself in the custody log, with its outcome.
    log = witness["call"]("GET", f"/recordings/{rid}").json["custody"]
    verified = [e for e in log if e["action"] == "verified"]
    assert verified[-1]["detail"] == {"ok": False, "faults": ["segment-altered", "segment-missing"]}


def test_a_reordered_custody_log_is_named(app, witness, recording, runner):
    _, folder = sealed_recording(app, witness, recording)
    path = folder / "custody.jsonl"
    lines = path.read_text().splitlines()
    lines[1], lines[2] = lines[2], lines[1]
    path.write_text("\n".join(lines) + "\n")
    result = runner.invoke(main, ["verify-recording", str(folder)])
    assert result.exit_code == 1
    assert "FAULT custody-order: entry 2 of the log has seq 3, expected 2" in result.output
    assert "FAULT custody-chain" in result.output


def test_an_edited_custody_entry_is_named(app, witness, recording, runner):
    _, folder = sealed_recording(app, witness, recording)
    path = folder / "custody.jsonl"
    entries = [json.loads(line) for line in path.read_text().splitlines()]
    entries[0]["detail"]["powers"] = ["general", "settle"]
    path.write_text("\n".join(json.dumps(e, ensure_ascii=False) for e in entries) + "\n")
    result = runner.invoke(main, ["verify-recording", str(folder)])
    assert "FAULT custody-altered: custody entry 1 does not match its hash" in result.output


def test_another_key_is_named(app, witness, recording, runner):
    rid, folder = sealed_recording(app, witness, recording)
    # A forger changes a hash and signs with their own key: the court's key refuses it.
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["segments"][0]["sha256"] = "0" * 64
    forger = signing_key(base64.b64encode(os.urandom(32)).decode())
    manifest["key_id"] = key_id(forger.public_key())
    (folder / "manifest.json").write_bytes(canonical(manifest))
    (folder / "manifest.sig").write_text(sign(manifest, forger))
    result = runner.invoke(main, ["verify-recording", str(folder)])
    assert result.exit_code == 1
    assert "FAULT signature-key: the manifest was signed with key" in result.output
    assert "FAULT segment-altered: segment 1" in result.output
    # And the database's copy, checked against a court key that is not the sealing one.
    app.config["MANIFEST_SIGNING_KEY"] = base64.b64encode(os.urandom(32)).decode()
    assert faults(witness, rid) == [("signature-key", None)]


def test_a_killed_recorder_leaves_a_partial_segment_and_a_logged_gap(app, witness, recording):
    rid = recording()["id"]
    db.session.commit()
    write_segment(app, rid, 1, os.urandom(4000))
    write_segment(app, rid, 2, os.urandom(3000), close=False)  # open when the recorder dies
    reports = app.extensions["hearings.recorders"].sink
    reports.interrupted(rid, "recorder process killed", 2)
    call = witness["call"]
    assert call("GET", f"/recordings/{rid}").json["status"] == "interrupted"
    # Nothing is marked while nothing records.
    step = call("POST", f"/recordings/{rid}/steps", json={"step": "undertaking"})
    assert step.status_code == 409
    write_segment(app, rid, 3, os.urandom(4000))
    reports.resumed(rid, 3)
    body = call("GET", f"/recordings/{rid}").json
    assert body["status"] == "recording"
    assert [(s["n"], s["status"]) for s in body["segments"]] == [
        (1, "closed"), (2, "partial"), (3, "closed"),
    ]  # fmt: skip
    gap = [e for e in body["custody"] if e["action"] in ("salvaged", "interrupted", "resumed")]
    assert [e["action"] for e in gap] == ["salvaged", "interrupted", "resumed"]
    assert gap[1]["detail"] == {"reason": "recorder process killed", "segment_n": 2}
    assert call("GET", f"/recordings/{rid}/verify").json["ok"] is True
    stopped = call("POST", f"/recordings/{rid}/stop", json={"reason": "演练 drill"})
    assert stopped.json["status"] == "sealed"
    assert call("GET", f"/recordings/{rid}/verify").json["ok"] is True


def test_a_segment_no_media_reached_is_sealed_as_empty_and_verifies(
    app, witness, recording, runner
):
    rid = recording()["id"]
    db.session.commit()
    folder = write_segment(app, rid, 1, os.urandom(4000)).parent
    reports = app.extensions["hearings.recorders"].sink
    # Resumed, then stopped before any media reached segment 2: the recorder made no file.
    reports.segment_opened(rid, 2, "seg-00002.mp4", [{"index": 0, "kind": "video"}])
    reports.segment_closed(rid, 2, "seg-00002.mp4", "empty")
    stopped = witness["call"]("POST", f"/recordings/{rid}/stop", json={"reason": "演练"})
    assert stopped.status_code == 200, stopped.json
    segments = stopped.json["manifest"]["segments"]
    assert [(s["n"], s["status"], s["sha256"], s["bytes"]) for s in segments][1:] == [
        (2, "empty", None, None)
    ]
    nothing = [e for e in stopped.json["custody"] if e["action"] == "nothing_recorded"]
    assert [e["detail"]["n"] for e in nothing] == [2]
    assert "no file was written" in nothing[0]["detail"]["note"]
    assert faults(witness, rid) == []
    result = runner.invoke(main, ["verify-recording", str(folder)])
    assert result.exit_code == 0, result.output
    assert witness["call"]("GET", f"/recordings/{rid}/segments/2").status_code == 404
    # A file that turns up later under that name is not what was recorded.
    (folder / "seg-00002.mp4").write_bytes(os.urandom(100))
    assert faults(witness, rid) == [("segment-not-empty", 2)]


def test_a_crash_before_any_media_leaves_an_empty_segment_not_a_missing_file(
    app, witness, recording
):
    rid = recording()["id"]
    db.session.commit()
    write_segment(app, rid, 1, os.urandom(4000))
    reports = app.extensions["hearings.recorders"].sink
    reports.segment_opened(rid, 2, "seg-00002.mp4", [{"index": 0, "kind": "video"}])
    reports.interrupted(rid, "recorder process killed", 2)  # no file had been made yet
    body = witness["call"]("GET", f"/recordings/{rid}").json
    assert [(s["n"], s["status"]) for s in body["segments"]] == [(1, "closed"), (2, "empty")]
    gap = [e for e in body["custody"] if e["action"] in ("nothing_recorded", "interrupted")]
    assert [e["action"] for e in gap] == ["nothing_recorded", "interrupted"]
    assert gap[0]["detail"]["reason"] == "recorder process killed"
    stopped = witness["call"]("POST", f"/recordings/{rid}/stop", json={"reason": "演练 drill"})
    assert stopped.json["status"] == "sealed"
    assert faults(witness, rid) == []
