"""A hearing recorded whole, with real media: the presiding judge's ``start`` frame starts the
server's recorder, two aiortc participants send audio and video, the judge's ``end`` frame
stops and seals it; the sealed segments verify and decode. Loopback only (``.ci/run``)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from hearings.witness.services import recordings_root
from tests.rooms.test_media import ONLY_LOOPBACK
from tests.witness.test_recording_media import KINDS, Attendee, frame_times, http, wait_segment

pytestmark = [pytest.mark.media]
if not ONLY_LOOPBACK:
    pytestmark.append(
        pytest.mark.skip(reason="media tests run in a loopback-only network namespace (.ci/run)")
    )


async def until(condition: Any, timeout: float) -> None:
    """Wait until ``condition()`` holds (set by the peers' own loop: nothing to await)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("stop_timeout", [30.0, 0.05], ids=["sealed-at-the-end", "sealed-after"])
def test_a_hearing_is_recorded_from_the_judges_start_to_its_end(
    media_app, live_server, now_session, auth, court_staff, stop_timeout
):
    # 0.05 s: the end can't wait for the recorder to close its last segment; the seal follows
    # once it has (asked again off the room's thread).
    media_app.config["RECORDER_STOP_TIMEOUT"] = stop_timeout
    s = now_session("hearing")
    url = f"ws://{live_server}/ws/rooms/{s['id']}"
    judge = Attendee(url, s["tokens"]["presiding_judge"])
    party = Attendee(url, s["tokens"]["plaintiff"])
    headers = auth(court_staff["luoyang-judge1"])

    async def call(method: str, path: str, body: Any = None) -> tuple[int, Any]:
        return await asyncio.to_thread(http, live_server, method, path, headers, body)

    async def main() -> tuple[dict[str, Any], dict[str, Any]]:
        tasks = [asyncio.create_task(judge.run())]
        try:
            await until(lambda: judge.peer_id, 10)
            tasks.append(asyncio.create_task(party.run()))  # the judge admits the party
            await asyncio.wait_for(
                asyncio.gather(judge.connected.wait(), party.connected.wait()), 30
            )
            status, before = await call("GET", f"/sessions/{s['id']}/recordings")
            assert status == 200 and before["items"] == []  # nothing until the judge starts

            await judge.send({"type": "start"})
            await until(lambda: judge.announcements, 10)
            started = judge.announcements[0]
            assert started["state"] == "started", started
            rid = started["recording_id"]
            # Two whole segments (4 s each) of both participants, then the judge ends it.
            assert await wait_segment(media_app, rid, 3)
            await judge.send({"type": "end"})
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 40
            while True:
                status, sealed = await call("GET", f"/recordings/{rid}")
                assert status == 200, sealed
                if sealed["status"] == "sealed":
                    break
                assert loop.time() < deadline, sealed["status"]
                await asyncio.sleep(0.2)  # polling the recording: the seal has no event here
            status, verified = await call("GET", f"/recordings/{rid}/verify")
            assert status == 200, verified
            return sealed, verified
        finally:
            for peer in (judge, party):
                await peer.close()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    sealed, verified = asyncio.run(main())
    assert sealed["status"] == "sealed" and sealed["stop_reason"] == "the session ended"
    assert verified == {"ok": True, "faults": [], "sealed": True}
    states = [a["state"] for a in party.announcements]
    # Sealed within the end, the room hears it before it closes. With the end's wait too
    # short the seal follows from its own thread, after the room has closed, unless the
    # recorder had closed already (the judge's end can beat the wait): either way it is sealed.
    if stop_timeout > 1:
        assert states == ["started", "stopped"], states
    else:
        assert states in (["started"], ["started", "stopped"]), states
    manifest = sealed["manifest"]
    assert manifest["session"]["kind"] == "hearing" and manifest["powers"] == []
    segments = manifest["segments"]
    assert len(segments) >= 2 and {x["status"] for x in segments} == {"closed"}, segments

    folder = next(recordings_root().glob(f"session-{s['id']}/*"))
    everyone = {(role, kind) for role in ("presiding_judge", "party") for kind in KINDS}
    for segment in segments[:-1]:  # the last may be cut short by the end
        times = frame_times(folder / segment["file"], segment["streams"])
        assert set(times) == everyone, (segment["n"], {k: len(v) for k, v in times.items()})
        assert all(len(v) > 0 for v in times.values())
