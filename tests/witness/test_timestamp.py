"""RFC 3161 timestamps of sealed manifests, against a local TSA answered by `openssl ts`."""

from __future__ import annotations

import http.server
import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from hearings.cli import main
from tests.witness.test_integrity import sealed_recording

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")

TSA_CONFIG = """
[ tsa ]
default_tsa = tsa_config1

[ tsa_config1 ]
serial = {folder}/serial
crypto_device = builtin
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256

[ tsa_ext ]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature
extendedKeyUsage = critical,timeStamping
"""


def openssl(folder: Path, *args: str, stdin: bytes | None = None) -> bytes:
    done = subprocess.run(["openssl", *args], cwd=folder, input=stdin, capture_output=True)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout


def make_ca(folder: Path, name: str) -> None:
    openssl(folder, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key",
            "-out", f"{name}.crt", "-days", "30", "-subj", f"/CN={name}")  # fmt: skip


@pytest.fixture
def tsa(tmp_path) -> Iterator[dict[str, str]]:
    """A TSA on 127.0.0.1: a court CA, a TSA certificate it issued, `openssl ts -reply`."""
    folder = tmp_path / "tsa"
    folder.mkdir()
    (folder / "tsa.cnf").write_text(TSA_CONFIG.format(folder=folder))
    (folder / "serial").write_text("01\n")
    make_ca(folder, "court-root")
    make_ca(folder, "other-root")
    openssl(folder, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "tsa.key", "-out",
            "tsa.csr", "-subj", "/CN=Court TSA")  # fmt: skip
    openssl(folder, "x509", "-req", "-in", "tsa.csr", "-CA", "court-root.crt", "-CAkey",
            "court-root.key", "-CAcreateserial", "-out", "tsa.crt", "-days", "30",
            "-extfile", "tsa.cnf", "-extensions", "tsa_ext")  # fmt: skip
    lock = threading.Lock()

    class Responder(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            query = self.rfile.read(int(self.headers["Content-Length"]))
            with lock:
                (folder / "query.tsq").write_bytes(query)
                openssl(folder, "ts", "-reply", "-queryfile", "query.tsq", "-config",
                        "tsa.cnf", "-inkey", "tsa.key", "-signer", "tsa.crt",
                        "-out", "reply.tsr")  # fmt: skip
                body = (folder / "reply.tsr").read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Responder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {
        "url": f"http://127.0.0.1:{server.server_port}/tsa",
        "folder": str(folder),
        "ca": str(folder / "court-root.crt"),
        "other_ca": str(folder / "other-root.crt"),
    }
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def verify(witness, rid):
    result = witness["call"]("GET", f"/recordings/{rid}/verify").json
    return [(f["code"], f["message"]) for f in result["faults"]]


def test_a_sealed_manifest_is_timestamped_and_verifies(app, witness, recording, runner, tsa):
    app.config.update(TSA_URL=tsa["url"], TSA_CA_FILE=tsa["ca"])
    rid, folder = sealed_recording(app, witness, recording)
    log = witness["call"]("GET", f"/recordings/{rid}").json["custody"]
    stamped = next(e for e in log if e["action"] == "timestamped")
    assert stamped["seq"] > next(e["seq"] for e in log if e["action"] == "sealed")
    assert stamped["detail"]["tsa_url"] == tsa["url"]
    assert stamped["detail"]["tsa"] == "Common Name: Court TSA"
    assert stamped["detail"]["policy"] == "1.2.3.4.1"
    assert (folder / "manifest.tsr").is_file()
    assert verify(witness, rid) == []
    result = runner.invoke(main, ["verify-recording", str(folder)])
    assert result.exit_code == 0, result.output
    # openssl, knowing nothing of this code, agrees the token timestamps manifest.json.
    out = openssl(Path(tsa["folder"]), "ts", "-verify", "-data",
                  str(folder / "manifest.json"), "-in", str(folder / "manifest.tsr"),
                  "-token_in", "-CAfile", tsa["ca"])  # fmt: skip
    assert b"Verification: OK" in out


def test_a_swapped_or_untrusted_timestamp_is_named(app, witness, recording, runner, tsa):
    app.config.update(TSA_URL=tsa["url"], TSA_CA_FILE=tsa["ca"])
    rid, folder = sealed_recording(app, witness, recording)
    token = (folder / "manifest.tsr").read_bytes()
    # A genuine token, but of another manifest (sealed later), put in its place.
    _, other = sealed_recording(app, witness, recording)
    (folder / "manifest.tsr").write_bytes((other / "manifest.tsr").read_bytes())
    result = runner.invoke(main, ["verify-recording", str(folder)])
    assert result.exit_code == 1
    assert "FAULT timestamp-altered: manifest.tsr is not the token the custody log recorded" in (
        result.output
    )
    (folder / "manifest.tsr").unlink()
    result = runner.invoke(main, ["verify-recording", str(folder)])
    assert "FAULT timestamp-missing" in result.output
    (folder / "manifest.tsr").write_bytes(token)
    # The court trusts another CA only: the TSA's certificate is not accepted.
    app.config["TSA_CA_FILE"] = tsa["other_ca"]
    assert [code for code, _ in verify(witness, rid)] == ["timestamp-untrusted"]
    result = runner.invoke(main, ["verify-recording", str(folder)])
    assert "FAULT timestamp-untrusted: the TSA certificate (CN=Court TSA) was not issued" in (
        result.output
    )


def test_an_edited_manifest_no_longer_matches_its_timestamp(app, witness, recording, tsa):
    from hearings.recording.timestamps import token_faults

    app.config.update(TSA_URL=tsa["url"], TSA_CA_FILE=tsa["ca"])
    _, folder = sealed_recording(app, witness, recording)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["stop_reason"] = "改过 edited"
    edited = json.dumps(manifest).encode()
    token = (folder / "manifest.tsr").read_bytes()
    assert [f["code"] for f in token_faults(token, edited, None)] == ["timestamp-imprint"]
    flipped = bytearray(token)
    flipped[-40] ^= 0x01  # inside the signature
    original = (folder / "manifest.json").read_bytes()
    assert [f["code"] for f in token_faults(bytes(flipped), original, None)] == [
        "timestamp-signature"
    ]


def test_a_tsa_that_does_not_answer_does_not_stop_the_seal(app, witness, recording):
    app.config["TSA_URL"] = "http://127.0.0.1:9/tsa"  # discard port: nothing listens
    rid, folder = sealed_recording(app, witness, recording)
    log = witness["call"]("GET", f"/recordings/{rid}").json["custody"]
    failed = next(e for e in log if e["action"] == "timestamp_failed")
    assert failed["detail"]["reason"].startswith("the TSA at http://127.0.0.1:9/tsa did not answer")
    assert not (folder / "manifest.tsr").exists()
    assert verify(witness, rid) == []
