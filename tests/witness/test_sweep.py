"""The startup sweep: recordings the database thinks are running but no live process holds
(crash, power loss) are taken over: the gap is logged with its reason, the open segment is
hashed as it lies (its cut tail counted), and recording resumes if the session is still on."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import timedelta
from fractions import Fraction
from pathlib import Path

import av
import pytest

from hearings.extensions import db
from hearings.recording.segments import CONTAINER, CRASH_SAFE_OPTIONS
from hearings.witness import leases
from hearings.witness.archive import whole_mp4_bytes
from hearings.witness.models import Recording
from hearings.witness.worker import RecorderService
from tests.conftest import TEST_KEYS_ENV
from tests.witness.test_integrity import write_segment


def fragmented_mp4(seconds: float = 2.0) -> bytes:
    """A real fragmented MP4 as the recorder writes it (H.264, 1 s fragments)."""
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"sweep-{os.getpid()}.{CONTAINER}"
    container = av.open(str(path), mode="w", format=CONTAINER, options=CRASH_SAFE_OPTIONS)
    stream = container.add_stream("libx264", rate=30)
    stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
    for i in range(int(seconds * 30)):
        frame = av.VideoFrame(160, 120, "yuv420p")
        for plane in frame.planes:
            plane.update(bytes([(i * 5) % 256]) * plane.buffer_size)
        frame.pts, frame.time_base = i, Fraction(1, 30)
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))
    container.close()
    data = path.read_bytes()
    path.unlink()
    return data


def dead_pid() -> int:
    """The pid of a process that has ended."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


@pytest.fixture
def held(app, witness, recording):
    """A recording whose recorder wrote segment 1, was writing segment 2 (cut mid-fragment)
    and is held by ``holder`` with a heartbeat ``age`` seconds old."""

    def make(holder: str, age: float = 0.0) -> int:
        rid = recording()["id"]
        db.session.commit()
        write_segment(app, rid, 1, fragmented_mp4())
        whole = fragmented_mp4()
        write_segment(app, rid, 2, whole[: len(whole) - 700], close=False)  # killed here
        row = db.session.get(Recording, rid)
        row.recorder_holder = holder
        row.recorder_heartbeat_at = leases.wall_clock() - timedelta(seconds=age)
        db.session.commit()
        return rid

    return make


def log_of(witness, rid):
    return witness["call"]("GET", f"/recordings/{rid}").json


def test_whole_fragments_are_counted_and_a_cut_tail_is_not():
    data = fragmented_mp4()
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"whole-{os.getpid()}.mp4"
    try:
        path.write_bytes(data)
        assert whole_mp4_bytes(path) == len(data)
        path.write_bytes(data[:-700])
        cut = whole_mp4_bytes(path)
        assert 0 < cut < len(data) - 700
    finally:
        path.unlink()


def test_a_recording_whose_recorder_process_died_is_taken_over(app, witness, held):
    pid = dead_pid()
    rid = held(f"{socket.gethostname()}:{pid}:0123abcd")
    work = leases.sweep("here:1:me", set())
    assert [(w.recording_id, w.interrupted) for w in work] == [(rid, True)]
    body = log_of(witness, rid)
    assert body["status"] == "interrupted"
    assert [(s["n"], s["status"]) for s in body["segments"]] == [(1, "closed"), (2, "partial")]
    gap = ("salvaged", "interrupted")
    salvaged, interrupted = (e for e in body["custody"] if e["action"] in gap)
    reason = f"the recorder process {pid} on {socket.gethostname()} ended without closing"
    assert interrupted["detail"]["reason"].startswith(reason)
    assert interrupted["detail"]["segment_n"] == 2
    segment = body["segments"][1]
    assert salvaged["detail"]["sha256"] == segment["sha256"] and segment["sha256"]
    assert 0 < salvaged["detail"]["whole_bytes"] < segment["bytes"]
    assert salvaged["detail"]["cut_bytes"] == segment["bytes"] - salvaged["detail"]["whole_bytes"]
    db.session.expire_all()
    assert db.session.get(Recording, rid).recorder_holder == "here:1:me"
    # Nobody else takes it now, and what was salvaged verifies.
    assert leases.sweep("there:2:you", set()) == []
    assert witness["call"]("GET", f"/recordings/{rid}/verify").json["ok"] is True


def test_a_silent_recorder_elsewhere_is_swept_only_after_its_lease(app, witness, held):
    rid = held("another-host:4242:cafe0000", age=5)
    assert leases.sweep("here:1:me", set()) == []  # it may still be recording
    assert [e["action"] for e in log_of(witness, rid)["custody"]].count("interrupted") == 0
    row = db.session.get(Recording, rid)
    row.recorder_heartbeat_at = leases.wall_clock() - timedelta(minutes=2)
    db.session.commit()
    assert [w.recording_id for w in leases.sweep("here:1:me", set())] == [rid]
    gap = next(e for e in log_of(witness, rid)["custody"] if e["action"] == "interrupted")
    assert gap["detail"]["reason"].startswith(
        "the recorder another-host:4242:cafe0000 sent no heartbeat for 20 s"
    )


def test_a_live_recorder_on_this_host_keeps_its_recording(app, witness, held):
    held(f"{socket.gethostname()}:{os.getppid()}:0123abcd", age=1)
    assert leases.sweep("here:1:me", set()) == []


def test_a_new_recording_is_started_without_a_gap(app, witness, recording):
    rid = recording()["id"]
    db.session.commit()
    work = leases.sweep("here:1:me", set())
    assert [(w.recording_id, w.interrupted) for w in work] == [(rid, False)]
    assert "interrupted" not in [e["action"] for e in log_of(witness, rid)["custody"]]


def test_the_embedded_startup_sweep_resumes_what_a_dead_process_left(
    app, witness, held, monkeypatch
):
    rid = held(f"{socket.gethostname()}:{dead_pid()}:0123abcd")
    started = []
    monkeypatch.setattr(
        "hearings.witness.services.start_run",
        lambda recording_id, interrupted=False: started.append((recording_id, interrupted)),
    )
    assert RecorderService(app).sweep() == [rid]
    assert started == [(rid, True)]


def test_a_stopped_session_is_not_resumed(app, witness, held, client, auth, court_staff):
    rid = held(f"{socket.gethostname()}:{dead_pid()}:0123abcd")
    cancelled = client.post(
        f"/api/v1/sessions/{witness['id']}/cancel", json={"reason": "取消"},
        headers=auth(court_staff["luoyang-admin"]),
    )  # fmt: skip
    assert cancelled.status_code == 200, cancelled.json
    assert leases.sweep("here:1:me", set()) == []
    assert log_of(witness, rid)["status"] == "recording"  # the officer's stop seals it


def test_an_external_mode_app_never_loads_aiortc(tmp_path):
    code = (
        "import sys\n"
        "from hearings import create_app\n"
        f"app = create_app({{'RECORDER_MODE': 'external', 'INSTANCE_PATH': {str(tmp_path)!r}}})\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('aiortc', 'av'))\n"
        "assert not loaded, loaded\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **TEST_KEYS_ENV},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


class FakeRecorders:
    """What RecorderService asks of this process's recorders, without media."""

    def __init__(self, rid: int) -> None:
        self.runs = {rid: object()}
        self.is_paused = False
        self.calls: list[tuple[str, int, bool | None]] = []

    def paused(self, rid: int) -> bool:
        return self.is_paused

    def pause(self, rid: int, paused: bool) -> None:
        self.calls.append(("pause", rid, paused))
        self.is_paused = paused

    def stop(self, rid: int) -> None:
        self.calls.append(("stop", rid, None))
        del self.runs[rid]


def test_a_recorder_process_follows_pause_stop_and_a_lost_hold(app, witness, recording):
    call = witness["call"]
    rid = recording()["id"]
    db.session.commit()
    assert leases.claim(rid, leases.holder_name())
    service = RecorderService(app)
    service.recorders = fake = FakeRecorders(rid)  # type: ignore[assignment]
    service.follow()
    assert fake.calls == []
    assert call("POST", f"/recordings/{rid}/pause", json={"reason": "休息"}).status_code == 200
    service.follow()
    assert fake.calls == [("pause", rid, True)]
    assert call("POST", f"/recordings/{rid}/resume").status_code == 200
    service.follow()
    assert fake.calls[-1] == ("pause", rid, False)
    # Another recorder took it over while this one was silent: this one lets it be.
    row = db.session.get(Recording, rid)
    row.recorder_holder = "elsewhere:1:new"
    db.session.commit()
    service.follow()
    assert fake.calls[-1] == ("stop", rid, None) and fake.runs == {}
