"""End to end with real media: three aiortc peers (officer, principal, agent) and the
server's recorder peer, on loopback only (see tests/rooms/test_media.py and .ci/run)."""

from __future__ import annotations

import asyncio
import json
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import av
import pytest

from hearings.witness.services import recordings_root
from tests.rooms.test_media import ONLY_LOOPBACK, RtcPeer

pytestmark = [pytest.mark.media]
if not ONLY_LOOPBACK:
    pytestmark.append(
        pytest.mark.skip(reason="media tests run in a loopback-only network namespace (.ci/run)")
    )

KINDS = ("audio", "video")


class Attendee(RtcPeer):
    """A browser-like peer that also keeps the room's recording announcements."""

    def __init__(self, url: str, token: str) -> None:
        super().__init__(url, token)
        self.announcements: list[dict[str, Any]] = []

    async def handle(self, m: dict) -> None:
        if m["type"] == "recording":
            self.announcements.append(m)
        if m["type"] in ("answer", "candidate") and m["from"] not in self.pcs:
            return  # from a recorder run that is gone
        await super().handle(m)


def http(server: str, method: str, path: str, headers: dict, body: Any = None) -> tuple[int, Any]:
    """A real HTTP call to the live server (run off the peers' loop)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        f"http://{server}/api/v1{path}", data=data, method=method,
        headers={**headers, "Content-Type": "application/json"},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


def decode(path: Path, streams: list[dict[str, Any]]) -> dict[tuple[str, str], int]:
    """Frames per (role, kind) in a segment, decoded with PyAV."""
    return {key: len(times) for key, times in frame_times(path, streams).items()}


def frame_times(path: Path, streams: list[dict[str, Any]]) -> dict[tuple[str, str], list[float]]:
    """The time of every decoded frame per (role, kind) in a segment."""
    times: dict[tuple[str, str], list[float]] = {}
    with av.open(str(path)) as container:
        owner = {s["index"]: (s["role"], s["kind"]) for s in streams}
        for frame_stream in container.streams:
            assert frame_stream.type == owner[frame_stream.index][1]
        for packet in container.demux():
            for frame in packet.decode():
                times.setdefault(owner[packet.stream.index], []).append(frame.time)
    return times


async def stop_and_verify(call: Any, rid: int) -> tuple[dict, dict]:
    """Stop (and so seal) a recording, then verify it: (the sealed recording, the report)."""
    status, sealed = await call("POST", f"/recordings/{rid}/stop", {"reason": "演练 drill"})
    assert status == 200, sealed
    status, verified = await call("GET", f"/recordings/{rid}/verify")
    return sealed, verified


def witnessing(media_app, live_server, now_session, auth, court_staff, scenario, attendee=Attendee):
    """Join the three peers (made by ``attendee(url, token)``), then run
    ``scenario(call, session, peers)`` beside them."""
    s = now_session("witness")
    headers = auth(court_staff["luoyang-clerk1"])
    url = f"ws://{live_server}/ws/rooms/{s['id']}"
    peers = {role: attendee(url, s["tokens"][role]) for role in ("clerk", "principal", "agent")}
    principal_id = next(p["id"] for p in s["participants"] if p["role"] == "principal")

    async def call(method: str, path: str, body: Any = None) -> tuple[int, Any]:
        return await asyncio.to_thread(http, live_server, method, path, headers, body)

    async def main() -> Any:
        tasks = [asyncio.create_task(peers["clerk"].run())]
        try:
            await asyncio.wait_for(_joined(peers["clerk"]), 10)
            tasks += [asyncio.create_task(peers[r].run()) for r in ("principal", "agent")]
            await asyncio.wait_for(
                asyncio.gather(*(p.connected.wait() for p in peers.values())), 30
            )
            status, check = await call("POST", f"/sessions/{s['id']}/identity-checks", {
                "participant_id": principal_id, "name": "赵六",
                "id_number": "11010519491231002X", "method": "visual",
            })  # fmt: skip
            assert status == 201, check
            return await scenario(call, s, peers)
        finally:
            for peer in peers.values():
                await peer.close()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    return asyncio.run(main())


async def _joined(peer: RtcPeer) -> None:
    while not peer.peer_id:
        await asyncio.sleep(0.02)  # the peer's own loop sets it; nothing else to wait on


def wait_segment(app, rid: int, n: int, timeout: float = 40) -> Any:
    recorders = app.extensions["hearings.recorders"]
    return asyncio.to_thread(recorders.wait_segment, rid, n, timeout)


def open_files(folder: Path) -> list[str]:
    """The files in ``folder`` this process holds open."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue  # closed meanwhile (the listing's own descriptor)
        if target.startswith(str(folder)):
            found.append(target)
    return found


async def open_segment_plays(call: Any, root: Path, rid: int, timeout: float = 20) -> int:
    """Wait until the segment being written decodes to at least one frame; its number."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        status, body = await call("GET", f"/recordings/{rid}")
        segment = max(body["segments"], key=lambda x: x["n"]) if status == 200 else None
        files = list(root.glob(f"*/*/{segment['file']}")) if segment else []
        if files:
            try:
                if sum(decode(files[0], segment["streams"]).values()) > 0:
                    return int(segment["n"])
            except (av.error.FFmpegError, AssertionError, KeyError):
                pass  # still being written: no complete fragment yet
        await asyncio.sleep(0.25)  # polling a file being written; there is no event for it
    return 0


def test_three_peers_recorded_scripted_sealed_and_verified(
    media_app, live_server, now_session, auth, court_staff
):
    async def scenario(call, s, peers):
        status, started = await call("POST", f"/sessions/{s['id']}/recordings",
                                     {"powers": ["admit_claims", "settle"]})  # fmt: skip
        assert status == 201, started
        rid = started["id"]
        assert await wait_segment(media_app, rid, 1)
        for step, power in (("undertaking", None), ("power", "admit_claims"),
                            ("power", "settle"), ("agent_accepts", None)):  # fmt: skip
            status, mark = await call("POST", f"/recordings/{rid}/steps",
                                      {"step": step, "power": power})  # fmt: skip
            assert status == 201, mark
            assert mark["segment_n"] >= 1 and mark["segment_offset_seconds"] >= 0
        assert await wait_segment(media_app, rid, 5)  # four segments of 4 s before it
        # Not synchronisation: the last segment gets 2 s of media before the stop.
        await asyncio.sleep(2)
        status, mark = await call("POST", f"/recordings/{rid}/steps", {"step": "attestation"})
        assert status == 201
        status, sealed = await call("POST", f"/recordings/{rid}/stop", {})
        assert status == 200, sealed
        status, verified = await call("GET", f"/recordings/{rid}/verify")
        return sealed, verified, peers

    sealed, verified, peers = witnessing(
        media_app, live_server, now_session, auth, court_staff, scenario
    )
    assert sealed["status"] == "sealed"
    assert verified == {"ok": True, "faults": [], "sealed": True}
    manifest = sealed["manifest"]
    assert manifest["script_complete"] and len(manifest["segments"]) >= 4
    marks = manifest["script"]
    assert [m["elapsed_seconds"] for m in marks] == sorted(m["elapsed_seconds"] for m in marks)
    for peer in peers.values():
        assert [a["state"] for a in peer.announcements][:1] == ["started"]
        assert peer.announcements[-1]["state"] == "stopped"

    folder = next(recordings_root().glob(f"session-{sealed['session_id']}/*"))
    seconds = 0.0
    everyone = {(role, kind) for role in ("clerk", "principal", "agent") for kind in KINDS}
    for segment in manifest["segments"]:
        assert segment["status"] == "closed"
        times = frame_times(folder / segment["file"], segment["streams"])
        # Every segment decodes and has audio and video frames of each participant.
        assert set(times) == everyone, (segment["n"], {k: len(v) for k, v in times.items()})
        principal = times[("principal", "video")]
        seconds += principal[-1] - principal[0]
    # The recorder recorded ≥ 10 s (media time: the frame rate falls on a loaded machine).
    assert seconds >= 10, f"only {seconds:.1f} s of the principal's video"


def test_a_killed_recorder_rejoins_and_the_finished_segments_verify(
    media_app, live_server, now_session, auth, court_staff
):
    root = recordings_root()

    async def scenario(call, s, peers):
        status, started = await call("POST", f"/sessions/{s['id']}/recordings", {})
        assert status == 201, started
        rid = started["id"]
        assert await wait_segment(media_app, rid, 2)
        # Kill only once segment 2 holds a decodable fragment (1 s fragments): that is what
        # the crash must not lose.
        assert await open_segment_plays(call, root, rid), "no segment held a fragment"
        recorders = media_app.extensions["hearings.recorders"]
        writing = open_files(root)
        assert writing  # the segment with a fragment in it
        await asyncio.to_thread(recorders.kill, rid, "recorder process killed (drill)")
        # As after a real kill, nothing holds the file it was writing any more.
        assert not set(writing) & set(open_files(root))
        # The supervisor rejoins the room with a fresh token and records on.
        assert await wait_segment(media_app, rid, 3)
        # The supervisor reports "resumed" just after the new segment opens: wait for it.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 20
        while True:
            _, body = await call("GET", f"/recordings/{rid}")
            if body["status"] == "recording" or loop.time() > deadline:
                break
            await asyncio.sleep(0.2)  # polling the recording's state; the report has no event
        assert body["status"] == "recording", body["status"]
        return await stop_and_verify(call, rid)

    sealed, verified = witnessing(media_app, live_server, now_session, auth, court_staff, scenario)
    assert verified["ok"] is True, verified
    log = sealed["custody"]
    interrupted = next(e for e in log if e["action"] == "interrupted")
    killed = interrupted["detail"]["segment_n"]
    assert killed >= 2  # the drill waits for segment 2 at least
    assert interrupted["detail"] == {
        "reason": "recorder process killed (drill)",
        "segment_n": killed,
    }
    # The segment open at the kill is partial; every other one closed normally.
    statuses = [(s["n"], s["status"]) for s in sealed["segments"]]
    assert statuses == [(n, "partial" if n == killed else "closed") for n, _ in statuses]
    assert len(statuses) > killed
    resumed = next(e for e in log if e["action"] == "resumed")
    assert resumed["seq"] > interrupted["seq"] and resumed["detail"]["segment_n"] > killed
    # What the killed recorder left still plays up to its last fragment.
    folder = next(recordings_root().glob(f"session-{sealed['session_id']}/*"))
    partial = sealed["segments"][killed - 1]
    assert sum(decode(folder / partial["file"], partial["streams"]).values()) > 0


def test_a_stop_that_outlasts_its_wait_answers_503_and_the_next_one_seals(
    media_app, live_server, now_session, auth, court_staff
):
    """The recorder may take longer than RECORDER_STOP_TIMEOUT to close its last segment: the
    clerk is told to ask again (503, nothing lost), and asking again seals the recording."""

    async def scenario(call, s, peers):
        status, started = await call("POST", f"/sessions/{s['id']}/recordings", {})
        assert status == 201, started
        rid = started["id"]
        assert await wait_segment(media_app, rid, 1)
        media_app.config["RECORDER_STOP_TIMEOUT"] = 0.0001  # no recorder closes that fast
        status, busy = await call("POST", f"/recordings/{rid}/stop", {"reason": "演练 drill"})
        media_app.config["RECORDER_STOP_TIMEOUT"] = 30.0
        assert status == 503, busy
        assert busy["type"].endswith("/still-working") and busy["retry_after"] == 30
        _, meanwhile = await call("GET", f"/recordings/{rid}")
        assert meanwhile["status"] == "recording"  # not sealed, nothing salvaged in between
        return await stop_and_verify(call, rid)

    sealed, verified = witnessing(media_app, live_server, now_session, auth, court_staff, scenario)
    assert sealed["status"] == "sealed"
    assert verified == {"ok": True, "faults": [], "sealed": True}
    assert [s["status"] for s in sealed["segments"]] == ["closed"] * len(sealed["segments"])
