"""The recorders' supervisor, against a stand-in room (signaling only, no media): a stop
that comes while the recorder is still joining ends the run at once, whatever moment of
the join it hits (an officer who stops right after starting)."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve

from hearings.recording.supervisor import Recorders

WAIT = 10.0


class Sink:
    """Records the reports; ``token`` can be held up by the test."""

    heartbeat_seconds = 60.0

    def __init__(self) -> None:
        self.token_asked = threading.Event()
        self.token_free = threading.Event()
        self.reports: list[tuple[Any, ...]] = []

    def token(self, recording_id: int) -> str:
        self.token_asked.set()
        assert self.token_free.wait(WAIT)
        return "recorder-token"

    def __getattr__(self, name: str) -> Any:
        return lambda *args: self.reports.append((name, *args))


class Room:
    """A signaling server whose handshake the test holds until ``let_in``."""

    def __init__(self) -> None:
        self.knocked = threading.Event()
        self.joined = threading.Event()
        self.let_in: asyncio.Event | None = None
        self.url = ""

    async def start(self) -> Any:
        self.let_in = asyncio.Event()

        async def hold(connection: ServerConnection, request: Any) -> None:
            self.knocked.set()
            assert self.let_in is not None
            await self.let_in.wait()

        async def handler(ws: ServerConnection) -> None:
            join = json.loads(await ws.recv())
            assert join["type"] == "join"
            self.joined.set()
            await ws.send(json.dumps({"type": "welcome", "peer_id": "r1", "peers": []}))
            async for _ in ws:
                pass  # the recorder's "leave"; it closes the socket itself

        server = await serve(handler, "127.0.0.1", 0, process_request=hold)
        port = server.sockets[0].getsockname()[1]
        self.url = f"ws://127.0.0.1:{port}/ws/rooms/1"
        return server


@pytest.mark.parametrize("moment", ["token", "handshake"])
def test_a_stop_while_the_recorder_joins_ends_the_run_at_once(tmp_path, moment):
    sink = Sink()
    recorders = Recorders(sink)
    room = Room()
    loop = recorders.loop()
    server = asyncio.run_coroutine_threadsafe(room.start(), loop).result(WAIT)
    try:
        if moment == "handshake":
            sink.token_free.set()
        recorders.start(7, room.url, tmp_path / "rec", 4.0)
        held = sink.token_asked if moment == "token" else room.knocked
        assert held.wait(WAIT)
        stopping = threading.Thread(target=recorders.stop, args=(7,))
        stopping.start()
        # The stop is under way (the run is told to end) before the join goes on.
        assert _until(lambda: recorders.runs.get(7) is None or recorders.runs[7].stop.is_set())
        sink.token_free.set()
        assert room.let_in is not None
        loop.call_soon_threadsafe(room.let_in.set)
        stopping.join(WAIT)
        assert not stopping.is_alive(), "the stop waited on a recorder that joined after it"
        assert recorders.runs == {}
        assert not room.joined.is_set()  # it never joined the room it was told to leave
        assert ("release", 7) in sink.reports
        assert not [r for r in sink.reports if r[0] in ("segment_opened", "interrupted")]
    finally:
        loop.call_soon_threadsafe(server.close)


def _until(test: Any) -> bool:
    event = threading.Event()
    for _ in range(int(WAIT / 0.01)):
        if test():
            return True
        event.wait(0.01)  # a flag set on the recorders' loop thread; nothing to wait on
    return False


@pytest.mark.parametrize("turns", range(4))
def test_the_segment_clock_ends_when_a_cut_and_the_stop_come_together(tmp_path, turns):
    """A stop closes the connections, whose ending tracks ask for a cut: however the cut
    and the shutdown's cancellation fall, the clock ends (Python 3.11's ``wait_for`` can
    drop a cancellation that comes just as what it waits on is done)."""
    from hearings.recording.peer import Counter, RecorderPeer

    async def never(*args: Any) -> None:
        raise AssertionError("nothing opens or closes: no one is in the room")

    async def main() -> None:
        peer = RecorderPeer("ws://unused", "t", tmp_path, 60.0, Counter(), never, never)
        clock = asyncio.create_task(peer._segment_clock())
        peer._tasks.append(clock)
        await asyncio.sleep(0)  # the clock waits for a cut
        peer._cut.set()  # a track ended
        for _ in range(turns):
            await asyncio.sleep(0)
        peer.stopping = True  # what stop() does before it shuts down
        await asyncio.wait_for(peer.shutdown(), 2.0)
        assert clock.done()

    asyncio.run(main())
