"""Every hearing recorded by Janus itself (``.mjr``, nothing decoded): the presiding judge's
``start`` frame starts it, segments rotate and follow each participant's feed, a pause needs
a reason, the end seals it; the segments (one WebM per participant stretch) verify and
decode. Janus killed mid-hearing: the rooms rebuild their media and the custody log names
the gap. Real Janus, real aiortc participants, in the media namespace (FACTS.md, Janus)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.janus import JanusServer, relaunch
from tests.fixtures.sfu import SfuPeer, until
from tests.witness.test_recording_media import frame_times, http

pytestmark = [pytest.mark.media]

#: Short segments, so that a test sees several rotate.
SEGMENT_SECONDS = 3.0


def cast(court_staff: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"role": "presiding_judge", "staff_id": court_staff["luoyang-judge1"].id},
        {"role": "clerk", "staff_id": court_staff["luoyang-clerk1"].id},  # not in the room
        {"role": "party", "name": "王五", "side": "plaintiff", "phone": "13800000002"},
        {"role": "party", "name": "赵七", "side": "defendant", "phone": "13800000007"},
    ]


class Hearing:
    """A hearing in SFU mode: its server, peers, and the judge's API calls."""

    def __init__(self, janus: JanusServer, sfu_server, now_session, auth, court_staff) -> None:
        self.session = now_session("hearing", participants=cast(court_staff))
        self.server = sfu_server(janus.url, janus.api_secret, RECORDER_ENABLED=True,
                                 SEGMENT_SECONDS=SEGMENT_SECONDS)  # fmt: skip
        url = self.server.url(self.session["id"])
        tokens = self.session["tokens"]
        self.judge = SfuPeer(url, tokens["presiding_judge"])
        self.parties = [SfuPeer(url, tokens["plaintiff"]), SfuPeer(url, tokens["defendant"])]
        self.everyone = [self.judge, *self.parties]
        self.headers = auth(court_staff["luoyang-judge1"])

    async def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        return await asyncio.to_thread(http, self.server.address, method, path, self.headers,
                                       body)  # fmt: skip

    async def in_court(self) -> None:
        """Everyone in, each receiving the two others."""
        self.judge.start()
        await until(lambda: self.judge.peer_id, 10, "the judge's welcome")
        for party in self.parties:
            party.start()
        await until(lambda: len(self.judge.waiting) == 2, 10, "both parties waiting")
        for party in self.parties:
            await self.judge.send({"type": "admit", "peer_id": party.peer_id})
        await self.all_see_all()

    async def all_see_all(self, frames: int = 10) -> None:
        for peer in self.everyone:
            for other in self.everyone:
                if other is not peer:
                    await peer.frames_of(other.peer_id, frames, timeout=30)

    async def start(self) -> int:
        await self.judge.send({"type": "start"})
        await until(lambda: self.announced("started"), 10, "the recording started")
        return int(self.announced("started")[0]["recording_id"])

    def announced(self, state: str) -> list[dict[str, Any]]:
        return [f for f in self.judge.of_type("recording") if f["state"] == state]

    async def recording(self, rid: int) -> dict[str, Any]:
        status, body = await self.call("GET", f"/recordings/{rid}")
        assert status == 200, body
        return body

    async def segments_closed(self, rid: int, count: int, timeout: float = 30) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            body = await self.recording(rid)
            closed = [s for s in body["segments"] if s["status"] == "closed"]
            if len(closed) >= count:
                return
            assert loop.time() < deadline, body["segments"]
            await asyncio.sleep(0.3)

    async def end_and_verify(self, rid: int) -> tuple[dict[str, Any], dict[str, Any]]:
        await self.judge.send({"type": "end"})
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 40
        while (sealed := await self.recording(rid))["status"] != "sealed":
            assert loop.time() < deadline, sealed["status"]
            await asyncio.sleep(0.3)
        status, verified = await self.call("GET", f"/recordings/{rid}/verify")
        assert status == 200, verified
        return sealed, verified

    def folder(self) -> Path:
        root = Path(self.server.app.instance_path) / "recordings"
        return next(root.glob(f"session-{self.session['id']}/*"))

    async def close(self) -> None:
        for peer in self.everyone:
            await peer.close()


def assert_segments_decode(folder: Path, segments: list[dict[str, Any]]) -> set[str]:
    """Every closed segment holds its one participant's video and audio, decoding (VP8,
    Opus); the roles seen."""
    roles = set()
    for segment in segments:
        if segment["status"] == "empty":
            continue
        streams = segment["streams"]
        assert [s["kind"] for s in streams] == ["video", "audio"], segment
        assert len({s["participant_id"] for s in streams}) == 1, segment
        times = frame_times(folder / segment["file"], streams)
        assert times, segment
        if segment["status"] == "closed":
            role = streams[0]["role"]
            assert {kind for _, kind in times} == {"video", "audio"}, (segment["n"], times.keys())
            assert all(len(v) > 0 for v in times.values()), segment
            roles.add(role)
    return roles


def test_a_hearing_is_recorded_by_janus_from_start_to_end(
    janus: JanusServer, sfu_server, now_session, auth, court_staff
):
    hearing = Hearing(janus, sfu_server, now_session, auth, court_staff)

    async def scenario() -> tuple[int, dict[str, Any], dict[str, Any]]:
        try:
            await hearing.in_court()
            rid = await hearing.start()
            # Each of the three feeds in a segment of its own, rotated every 3 s.
            await hearing.segments_closed(rid, 4)
            status, refused = await hearing.call("POST", f"/recordings/{rid}/pause", {})
            assert status == 422, refused  # a pause needs its reason (Art. 3)
            status, paused = await hearing.call(
                "POST", f"/recordings/{rid}/pause", {"reason": "休庭 recess"}
            )
            assert status == 200, paused
            body = await hearing.recording(rid)
            assert body["status"] == "paused"
            status, _ = await hearing.call("POST", f"/recordings/{rid}/resume")
            assert status == 200
            await hearing.all_see_all(frames=20)  # the media never stopped
            opened = len((await hearing.recording(rid))["segments"])
            await hearing.segments_closed(rid, opened)  # more after the resumption
            sealed, verified = await hearing.end_and_verify(rid)
            return rid, sealed, verified
        finally:
            await hearing.close()

    _, sealed, verified = asyncio.run(scenario())
    assert sealed["stop_reason"] == "the session ended"
    assert verified == {"ok": True, "faults": [], "sealed": True}
    segments = sealed["manifest"]["segments"]
    assert {s["status"] for s in segments} <= {"closed", "empty"}, segments
    roles = assert_segments_decode(hearing.folder(), segments)
    assert roles == {"presiding_judge", "party"}
    actions = [e["action"] for e in sealed["custody"]]
    assert actions[0] == "started" and "paused" in actions and "resumed" in actions, actions
    assert actions.count("recorded") >= 6 and "stopped" in actions, actions
    pause = sealed["custody"][actions.index("paused")]
    assert pause["detail"]["reason"] == "休庭 recess"
    # Nothing of Janus's own files is left behind: each became a segment.
    assert list(Path(hearing.server.app.instance_path, "janus-recordings").rglob("*.mjr")) == []


def test_janus_killed_mid_hearing_rooms_rebuild_and_the_gap_is_logged(
    janus: JanusServer, sfu_server, now_session, auth, court_staff
):
    hearing = Hearing(janus, sfu_server, now_session, auth, court_staff)

    async def scenario() -> tuple[int, dict[str, Any], dict[str, Any]]:
        try:
            await hearing.in_court()
            rid = await hearing.start()
            await hearing.segments_closed(rid, 2)
            await asyncio.to_thread(relaunch, janus)  # SIGKILL, then systemd's restart
            await until(lambda: hearing.announced("interrupted"), 20, "the gap announced")
            # The room rebuilds its media by itself: everyone sees everyone again.
            for peer in hearing.everyone:
                await until(lambda p=peer: p.of_type("media-reset"), 30, "media-reset")
            await hearing.all_see_all(frames=10)
            await until(lambda: hearing.announced("resumed"), 20, "the recording resumed")
            before = len((await hearing.recording(rid))["segments"])
            await hearing.segments_closed(rid, before)
            sealed, verified = await hearing.end_and_verify(rid)
            return rid, sealed, verified
        finally:
            await hearing.close()

    _, sealed, verified = asyncio.run(scenario())
    assert verified["ok"], verified
    custody = sealed["custody"]
    actions = [e["action"] for e in custody]
    gap = actions.index("interrupted")
    assert "media server was lost" in custody[gap]["detail"]["reason"]
    assert "resumed" in actions[gap:], actions
    segments = sealed["manifest"]["segments"]
    statuses = {s["status"] for s in segments}
    assert "closed" in statuses and statuses <= {"closed", "partial", "empty"}, segments
    assert_segments_decode(hearing.folder(), segments)
