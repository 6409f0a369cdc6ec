"""The officer may stop at any moment: right after starting, right after resuming, during a
pause, right after an interruption. Each stop seals and the seal verifies; a segment that
received no media is recorded as such (no file, said so in the custody log), never listed
as a file that fails to hash or to decode. Real media, loopback only.

To stop *deterministically* before a segment has media, the participants' cameras and
microphones go through a ``Gate``: closed, they send nothing (as a frozen camera would), so
the segment the recorder opens next receives nothing at all.
"""

from __future__ import annotations

import asyncio
import functools
from pathlib import Path
from typing import Any

import pytest
from aiortc import MediaStreamTrack

from hearings.witness.services import recordings_root
from tests.rooms.test_media import ONLY_LOOPBACK
from tests.witness.test_recording_media import (
    Attendee,
    decode,
    open_files,
    open_segment_plays,
    stop_and_verify,
    wait_segment,
    witnessing,
)

pytestmark = [pytest.mark.media]
if not ONLY_LOOPBACK:
    pytestmark.append(
        pytest.mark.skip(reason="media tests run in a loopback-only network namespace (.ci/run)")
    )

NOTHING = "nothing_recorded"


class GatedTrack(MediaStreamTrack):
    """A participant's track that sends only while the gate is open."""

    def __init__(self, inner: MediaStreamTrack, gate: asyncio.Event) -> None:
        super().__init__()
        self.kind = inner.kind
        self.inner, self.gate = inner, gate

    async def recv(self) -> Any:
        await self.gate.wait()
        return await self.inner.recv()


class GatedAttendee(Attendee):
    """An attendee whose camera and microphone go through ``gate``."""

    def __init__(self, url: str, token: str, gate: asyncio.Event) -> None:
        super().__init__(url, token)
        self.gate = gate

    def pc_for(self, remote: str):
        known = remote in self.pcs
        pc = super().pc_for(remote)
        if not known:
            for sender in pc.getSenders():
                sender.replaceTrack(GatedTrack(sender.track, self.gate))
        return pc


def gated(gate: asyncio.Event) -> Any:
    return functools.partial(GatedAttendee, gate=gate)


def check_sealed(sealed: dict, verified: dict) -> Path:
    """The seal verifies; every segment is a file that decodes, or honestly empty."""
    assert sealed["status"] == "sealed", sealed
    assert verified == {"ok": True, "faults": [], "sealed": True}, verified
    folder = next(recordings_root().glob(f"session-{sealed['session_id']}/*"))
    nothing = {e["detail"]["n"] for e in sealed["custody"] if e["action"] == NOTHING}
    for segment in sealed["manifest"]["segments"]:
        path = folder / segment["file"]
        if segment["status"] == "empty":
            assert segment["n"] in nothing
            assert segment["sha256"] is None and not path.exists()
        else:
            assert segment["status"] == "closed", segment
            assert sum(decode(path, segment["streams"]).values()) > 0, segment
    assert not open_files(folder)
    return folder


def test_a_stop_right_after_resuming_seals_and_verifies(
    media_app, live_server, now_session, auth, court_staff
):
    gate = asyncio.Event()
    gate.set()

    async def scenario(call, s, peers):
        status, started = await call("POST", f"/sessions/{s['id']}/recordings", {})
        assert status == 201, started
        rid = started["id"]
        assert await wait_segment(media_app, rid, 1)
        assert await open_segment_plays(call, recordings_root(), rid) == 1
        gate.clear()  # from here on nobody's media reaches the recorder
        status, body = await call("POST", f"/recordings/{rid}/pause", {"reason": "取证件"})
        assert status == 200, body
        status, body = await call("POST", f"/recordings/{rid}/resume", {})
        assert status == 200, body
        return await stop_and_verify(call, rid)

    sealed, verified = witnessing(
        media_app, live_server, now_session, auth, court_staff, scenario, gated(gate)
    )
    check_sealed(sealed, verified)
    assert [(s["n"], s["status"]) for s in sealed["segments"]] == [(1, "closed"), (2, "empty")]
    entry = next(e for e in sealed["custody"] if e["action"] == NOTHING)
    assert entry["detail"]["n"] == 2 and entry["detail"]["file"] == "seg-00002.mp4"
    actions = [e["action"] for e in sealed["custody"]]
    assert actions.index("resumed") < actions.index(NOTHING) < actions.index("stopped")


@pytest.mark.parametrize("moment", ["started", "paused", "interrupted"])
def test_a_stop_before_any_media_seals_and_verifies(
    media_app, live_server, now_session, auth, court_staff, moment
):
    """The participants' media stops before the recording starts: segment 1 opens (after
    the recorder's brief wait for media) and never receives any."""
    gate = asyncio.Event()

    async def scenario(call, s, peers):
        status, started = await call("POST", f"/sessions/{s['id']}/recordings", {})
        assert status == 201, started
        rid = started["id"]
        assert await wait_segment(media_app, rid, 1)
        if moment == "paused":
            status, body = await call("POST", f"/recordings/{rid}/pause", {"reason": "休息"})
            assert status == 200, body
        elif moment == "interrupted":
            recorders = media_app.extensions["hearings.recorders"]
            await asyncio.to_thread(recorders.kill, rid, "recorder process killed (drill)")
        return await stop_and_verify(call, rid)

    sealed, verified = witnessing(
        media_app, live_server, now_session, auth, court_staff, scenario, gated(gate)
    )
    check_sealed(sealed, verified)
    assert (sealed["segments"][0]["n"], sealed["segments"][0]["status"]) == (1, "empty")
    assert all(s["status"] == "empty" for s in sealed["segments"])


def test_a_stop_right_after_starting_seals_and_verifies(
    media_app, live_server, now_session, auth, court_staff
):
    async def scenario(call, s, peers):
        status, started = await call("POST", f"/sessions/{s['id']}/recordings", {})
        assert status == 201, started
        # At once: the recorder may not even have joined the room yet.
        status, sealed = await call("POST", f"/recordings/{started['id']}/stop", {"reason": "误开"})
        assert status == 200, sealed
        status, verified = await call("GET", f"/recordings/{started['id']}/verify")
        return sealed, verified

    sealed, verified = witnessing(media_app, live_server, now_session, auth, court_staff, scenario)
    check_sealed(sealed, verified)
    assert media_app.extensions["hearings.recorders"].runs == {}
