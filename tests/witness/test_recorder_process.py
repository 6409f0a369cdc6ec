"""The recorder in a process of its own (``RECORDER_MODE=external``): a real ``hearings
recorder`` records the witnessing through the same signaling; killed mid-recording and
started again, it logs the gap with its reason and records on. Real media, loopback only."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from hearings.witness.services import recordings_root
from tests.conftest import FROZEN_NOW, TEST_KEYS_ENV
from tests.rooms.test_media import ONLY_LOOPBACK
from tests.witness.test_recording_media import (
    decode,
    frame_times,
    open_segment_plays,
    stop_and_verify,
    witnessing,
)

pytestmark = [pytest.mark.media]
if not ONLY_LOOPBACK:
    pytestmark.append(
        pytest.mark.skip(reason="media tests run in a loopback-only network namespace (.ci/run)")
    )

ROLES = ("clerk", "principal", "agent")


@pytest.fixture
def recorder_process(app, live_server, tmp_path):
    """The app records nothing itself; ``start()`` runs a ``hearings recorder`` beside it on
    the same database and folder, as a deployment would."""
    app.config.update(RECORDER_MODE="external", RECORDER_SIGNALING_URL=f"ws://{live_server}")
    env = {
        **os.environ,
        "HEARINGS_DATABASE_URL": app.config["DATABASE_URL"],
        "HEARINGS_INSTANCE_PATH": app.instance_path,
        **TEST_KEYS_ENV,
        "HEARINGS_NOW": FROZEN_NOW,
        "HEARINGS_RECORDER_MODE": "external",
        "HEARINGS_RECORDER_SIGNALING_URL": f"ws://{live_server}",
        "HEARINGS_SEGMENT_SECONDS": "4",
        "HEARINGS_RECORDER_POLL_SECONDS": "0.2",
        "HEARINGS_RECORDER_HEARTBEAT_SECONDS": "1",
    }
    command = [str(Path(sys.executable).with_name("hearings")), "recorder"]
    started: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        with (tmp_path / f"recorder-{len(started) + 1}.log").open("wb") as log:
            process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


async def until(call: Any, rid: int, test: Any, what: str, timeout: float = 40) -> dict:
    """Poll the recording through the API until ``test(body)`` holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        status, body = await call("GET", f"/recordings/{rid}")
        assert status == 200, body
        if test(body):
            return body
        assert loop.time() < deadline, f"timed out waiting for {what}: {body['status']}"
        await asyncio.sleep(0.2)  # the recorder is another process: its reports are rows


def newest(body: dict) -> int:
    return max((s["n"] for s in body["segments"]), default=0)


def test_a_recorder_process_records_is_killed_and_the_next_one_resumes(
    app, recorder_process, live_server, now_session, auth, court_staff
):
    root = recordings_root()

    async def scenario(call, s, peers):
        first = recorder_process()
        status, started = await call("POST", f"/sessions/{s['id']}/recordings", {})
        assert status == 201, started
        rid = started["id"]
        await until(call, rid, lambda b: newest(b) >= 2, "segment 2")
        for step, power in (("undertaking", None), ("power", "general")):
            status, mark = await call("POST", f"/recordings/{rid}/steps",
                                      {"step": step, "power": power})  # fmt: skip
            assert status == 201 and mark["segment_n"] >= 2, mark
        assert await open_segment_plays(call, root, rid), "no segment held a fragment"
        first.kill()  # SIGKILL: nothing is closed, reported or released
        await asyncio.to_thread(first.wait, 10)
        killed = newest((await call("GET", f"/recordings/{rid}"))[1])

        recorder_process()  # its startup sweep finds the recording held by a dead process
        await until(
            call, rid,
            lambda b: b["status"] == "recording" and newest(b) > killed + 1
            and any(e["action"] == "resumed" for e in b["custody"]),
            "the resumed recording",
        )  # fmt: skip
        for step in ("agent_accepts", "attestation"):
            status, mark = await call("POST", f"/recordings/{rid}/steps", {"step": step})
            assert status == 201 and mark["segment_n"] > killed, mark
        status, sealed = await call("POST", f"/recordings/{rid}/stop", {})
        assert status == 200, sealed
        status, verified = await call("GET", f"/recordings/{rid}/verify")
        return first.pid, killed, sealed, verified

    pid, killed, sealed, verified = witnessing(
        app, live_server, now_session, auth, court_staff, scenario
    )
    # The app process itself never recorded (nor started its recorders' loop).
    assert app.extensions["hearings.recorders"].runs == {}
    assert app.extensions["hearings.recorders"]._loop is None
    assert verified == {"ok": True, "faults": [], "sealed": True}
    assert sealed["manifest"]["script_complete"]

    log = sealed["custody"]
    interrupted = next(e for e in log if e["action"] == "interrupted")
    assert interrupted["detail"]["segment_n"] == killed
    assert interrupted["detail"]["reason"].startswith(f"the recorder process {pid} on ")
    assert "ended without closing the recording" in interrupted["detail"]["reason"]
    salvaged = next(e for e in log if e["action"] == "salvaged")
    assert salvaged["detail"]["n"] == killed and salvaged["seq"] < interrupted["seq"]
    assert (
        salvaged["detail"]["whole_bytes"] + salvaged["detail"]["cut_bytes"]
        == (salvaged["detail"]["bytes"])
    )
    resumed = next(e for e in log if e["action"] == "resumed")
    assert resumed["seq"] > interrupted["seq"] and resumed["detail"]["segment_n"] > killed

    statuses = [(s["n"], s["status"]) for s in sealed["segments"]]
    assert statuses == [(n, "partial" if n == killed else "closed") for n, _ in statuses]
    folder = next(root.glob(f"session-{sealed['session_id']}/*"))
    everyone = {(role, kind) for role in ROLES for kind in ("audio", "video")}
    for segment in sealed["segments"]:
        if segment["status"] == "partial":  # plays up to its last whole fragment
            assert sum(decode(folder / segment["file"], segment["streams"]).values()) > 0
            continue
        times = frame_times(folder / segment["file"], segment["streams"])
        assert set(times) == everyone, (segment["n"], {k: len(v) for k, v in times.items()})


def test_a_recorder_process_stops_cleanly_on_sigterm(
    app, recorder_process, live_server, now_session, auth, court_staff
):
    async def scenario(call, s, peers):
        process = recorder_process()
        status, started = await call("POST", f"/sessions/{s['id']}/recordings", {})
        rid = started["id"]
        await until(call, rid, lambda b: newest(b) >= 1, "segment 1")
        process.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(process.wait, 30) == 0
        body = await until(call, rid, lambda b: b["status"] == "interrupted", "the interruption")
        status, sealed = await call("POST", f"/recordings/{rid}/stop", {"reason": "演练 drill"})
        assert status == 200, sealed
        return body, sealed

    body, sealed = witnessing(app, live_server, now_session, auth, court_staff, scenario)
    # Its segment was closed and hashed, not salvaged; the gap names the shutdown.
    assert [s["status"] for s in body["segments"]] == ["closed"] * len(body["segments"])
    gap = next(e for e in body["custody"] if e["action"] == "interrupted")
    assert gap["detail"] == {"reason": "the recorder process was shut down", "segment_n": None}
    assert sealed["status"] == "sealed"


def test_a_recorder_process_seals_a_stop_right_after_resuming(
    app, recorder_process, live_server, now_session, auth, court_staff
):
    from tests.witness.test_stop_any_moment import check_sealed, gated

    gate = asyncio.Event()
    gate.set()

    async def scenario(call, s, peers):
        recorder_process()
        status, started = await call("POST", f"/sessions/{s['id']}/recordings", {})
        assert status == 201, started
        rid = started["id"]
        await until(call, rid, lambda b: newest(b) >= 1, "segment 1")
        assert await open_segment_plays(call, recordings_root(), rid) == 1
        gate.clear()  # nobody's media reaches the recorder from here on
        status, body = await call("POST", f"/recordings/{rid}/pause", {"reason": "取证件"})
        assert status == 200, body
        await until(call, rid, lambda b: b["segments"][0]["status"] == "closed", "the pause")
        status, body = await call("POST", f"/recordings/{rid}/resume", {})
        assert status == 200, body
        await until(call, rid, lambda b: newest(b) == 2, "the resumed segment")
        return await stop_and_verify(call, rid)

    sealed, verified = witnessing(
        app, live_server, now_session, auth, court_staff, scenario, gated(gate)
    )
    check_sealed(sealed, verified)
    assert [(s["n"], s["status"]) for s in sealed["segments"]] == [(1, "closed"), (2, "empty")]
