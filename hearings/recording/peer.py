"""The recorder peer: joins the room like a browser and writes every participant to segments.

One ``RecorderPeer`` per recording run. It speaks the contract's signaling over its own
WebSocket with a recorder token, offers receive-only to every admitted peer (it is the
later arrival) and answers the offers of those who come after it. All received tracks go
through a ``MediaRelay``: a drain keeps each one read (so nothing piles up while paused or
between segments, and the last size of each video is known) and each segment's file gets
its own subscriptions. A segment is cut every ``segment_seconds`` and whenever someone's
tracks come or go; it opens once everyone joining has sent media (briefly bounded), so
every segment holds audio and video of each participant present throughout it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamError
from aiortc.sdp import candidate_from_sdp
from websockets.asyncio.client import ClientConnection, connect

from hearings.recording.segments import CONTAINER, Input, SegmentFile

log = logging.getLogger(__name__)

#: Longest wait for connections being set up, and their first frames, before a new
#: segment opens, seconds.
SETTLE_SECONDS = 3.0


class RecorderGone(Exception):
    """The run ended other than by ``stop``: the reason goes into the custody log."""


@dataclass
class Source:
    """A received track and whose it is."""

    track: MediaStreamTrack
    peer_id: str
    role: str
    name: str
    #: Set at the first frame; video: the size of the last frame.
    flowing: asyncio.Event = field(default_factory=asyncio.Event)
    size: tuple[int, int] | None = None


@dataclass
class OpenSegment:
    """The segment being written."""

    n: int
    path: Path
    file: SegmentFile
    proxies: list[MediaStreamTrack]
    opened: float


@dataclass
class Counter:
    """Segment numbers and the run's clock, shared across reruns of one recording."""

    next_n: int = 1
    started: float = field(default_factory=time.monotonic)


#: Called (awaited) when a segment opens: ``(n, filename, streams)``; and when it closes:
#: ``(n, filename, status)``, status ``closed`` (a finished file) or ``empty`` (no media
#: reached it: no file).
OnOpen = Callable[[int, str, list[dict[str, Any]]], Awaitable[None]]
OnClose = Callable[[int, str, str], Awaitable[None]]


class RecorderPeer:
    """One run of the recorder in a room."""

    def __init__(
        self,
        url: str,
        token: str,
        folder: Path,
        segment_seconds: float,
        counter: Counter,
        on_open: OnOpen,
        on_close: OnClose,
    ) -> None:
        self.url, self.token, self.folder = url, token, folder
        self.segment_seconds = segment_seconds
        self.counter = counter
        self.on_open, self.on_close = on_open, on_close
        self.pcs: dict[str, RTCPeerConnection] = {}
        self.roster: dict[str, dict[str, Any]] = {}
        self.sources: list[Source] = []
        self.relay = MediaRelay()
        self.segment: OpenSegment | None = None
        self.paused = False
        self.joined = asyncio.Event()
        self.stopping = False
        self._cut = asyncio.Event()
        self._state_changed = asyncio.Event()
        self._lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []
        self._ice: list[RTCIceServer] = []
        self.ws: ClientConnection | None = None

    # --- signaling --------------------------------------------------------------------
    async def run(self) -> None:
        """Join, then handle frames until the room or ``stop`` ends the run."""
        self._tasks.append(asyncio.create_task(self._segment_clock()))
        async with connect(self.url, open_timeout=10, max_size=1 << 20) as ws:
            self.ws = ws
            if self.stopping:
                return  # stopped while connecting (``stop`` had no socket to close)
            await ws.send(json.dumps({"type": "join", "token": self.token}))
            async for raw in ws:
                await self._handle(json.loads(raw))
            if not self.stopping:
                close = ws.close_code, ws.close_reason
                raise RecorderGone(f"the room closed the recorder's connection {close}")

    async def _send(self, frame: dict[str, Any]) -> None:
        assert self.ws is not None
        await self.ws.send(json.dumps(frame))

    async def _handle(self, m: dict[str, Any]) -> None:
        kind = m.get("type")
        if kind == "welcome":
            self._ice = [RTCIceServer(**s) for s in m.get("ice_servers", [])]
            self.joined.set()
            peers = m.get("peers", [])
            for peer in peers:
                self.roster[peer["peer_id"]] = peer
                self._pc(peer["peer_id"])  # all at once: the first segment waits for them
            for peer in peers:
                await self._offer(peer["peer_id"])
        elif kind == "peer-joined":
            self.roster[m["peer"]["peer_id"]] = m["peer"]  # it offers: the later arrival
        elif kind == "offer":
            pc = self._pc(m["from"])
            await pc.setRemoteDescription(RTCSessionDescription(**m["sdp"]))
            await pc.setLocalDescription(await pc.createAnswer())
            await self._send({"type": "answer", "to": m["from"], "sdp": self._sdp(pc)})
        elif kind == "answer" and m.get("from") in self.pcs:
            await self.pcs[m["from"]].setRemoteDescription(RTCSessionDescription(**m["sdp"]))
        elif kind == "candidate" and m.get("from") in self.pcs and m.get("candidate"):
            c = m["candidate"]
            candidate = candidate_from_sdp(c["candidate"].split(":", 1)[1])
            candidate.sdpMid, candidate.sdpMLineIndex = c.get("sdpMid"), c.get("sdpMLineIndex")
            await self.pcs[m["from"]].addIceCandidate(candidate)
        elif kind == "peer-left" and m.get("peer_id") in self.pcs:
            await self.pcs.pop(m["peer_id"]).close()

    @staticmethod
    def _sdp(pc: RTCPeerConnection) -> dict[str, str]:
        return {"type": pc.localDescription.type, "sdp": pc.localDescription.sdp}

    async def _offer(self, remote: str) -> None:
        pc = self._pc(remote)
        # Receive-only: the recorder never sends media into the room.
        pc.addTransceiver("audio", direction="recvonly")
        pc.addTransceiver("video", direction="recvonly")
        await pc.setLocalDescription(await pc.createOffer())
        await self._send({"type": "offer", "to": remote, "sdp": self._sdp(pc)})

    def _pc(self, remote: str) -> RTCPeerConnection:
        if remote in self.pcs:
            return self.pcs[remote]
        pc = RTCPeerConnection(RTCConfiguration(iceServers=self._ice or None))
        self.pcs[remote] = pc

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            peer = self.roster.get(remote, {})
            source = Source(track, remote, peer.get("role", "?"), peer.get("name", "?"))
            self.sources.append(source)
            self._tasks.append(asyncio.create_task(self._drain(source)))

            @track.on("ended")
            def on_ended() -> None:
                if source in self.sources:
                    self.sources.remove(source)
                    self._cut.set()

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            self._state_changed.set()
            if pc.connectionState == "connected":
                self._cut.set()  # new participant: a segment with their streams begins
            elif pc.connectionState == "failed":
                await pc.close()
                if self.pcs.get(remote) is pc:
                    del self.pcs[remote]

        return pc

    async def _drain(self, source: Source) -> None:
        """Keep reading the track so decoded frames never pile up; note its video size."""
        proxy = self.relay.subscribe(source.track, buffered=False)
        with contextlib.suppress(MediaStreamError):
            while True:
                frame: Any = await proxy.recv()
                if source.track.kind == "video":
                    source.size = (frame.width, frame.height)
                source.flowing.set()

    # --- segments ---------------------------------------------------------------------
    async def _segment_clock(self) -> None:
        # Ends on ``stopping``, not only on cancellation: Python 3.11's ``wait_for`` drops a
        # cancellation that arrives as the event it waits on is set (a stop closes the
        # connections, whose ending tracks set ``_cut``), and the clock then ran on for
        # ever, holding the officer's stop until it timed out.
        while not self.stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._cut.wait(), self.segment_seconds)
            if self.stopping:
                return
            await self._settle()
            self._cut.clear()  # joins during the settling are in this cut already
            await self.cut()

    async def _settle(self) -> None:
        """Let connections still being set up finish and their media begin (briefly), so a
        segment starts with everyone who is joining, each with a known video size."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SETTLE_SECONDS
        while any(pc.connectionState in ("new", "connecting") for pc in self.pcs.values()):
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            self._state_changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._state_changed.wait(), remaining)
        for source in list(self.sources):
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            if source.track.readyState == "live" and not source.flowing.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(source.flowing.wait(), remaining)

    async def cut(self) -> None:
        """Close the open segment and open the next one with the tracks present now."""
        async with self._lock:
            previous, self.segment = self.segment, None
            live = [s for s in self.sources if s.track.readyState == "live"]
            if live and not self.paused and not self.stopping:
                self.segment = await self._open(live)
            if previous is not None:
                await self._close(previous)

    async def _open(self, sources: list[Source]) -> OpenSegment:
        n = self.counter.next_n
        self.counter.next_n += 1
        path = self.folder / f"seg-{n:05d}.{CONTAINER}"
        inputs, streams = [], []
        order = sorted(sources, key=lambda s: (s.role, s.peer_id, s.track.kind))
        for index, source in enumerate(order):
            inputs.append(Input(self.relay.subscribe(source.track), source.size))
            streams.append({"index": index, "kind": source.track.kind, "peer_id": source.peer_id,
                            "role": source.role, "name": source.name})  # fmt: skip
        file = SegmentFile(path, inputs)
        await self.on_open(n, path.name, streams)
        file.start()
        return OpenSegment(n, path, file, [i.track for i in inputs], time.monotonic())

    async def _close(self, segment: OpenSegment) -> None:
        await segment.file.stop()
        for proxy in segment.proxies:
            proxy.stop()
        # Closed before any media reached it (a stop or pause right after it opened): there
        # is no file, and the record says so.
        status = "closed" if segment.file.written else "empty"
        await self.on_close(segment.n, segment.path.name, status)

    def position(self) -> tuple[int | None, float | None, float]:
        """Where the recording is now: open segment, seconds into it, seconds since start."""
        now = time.monotonic()
        seg = self.segment
        elapsed = now - self.counter.started
        return (seg.n, now - seg.opened, elapsed) if seg else (None, None, elapsed)

    async def pause(self, paused: bool) -> None:
        """Stop writing (the open segment closes) or begin again with a new segment."""
        self.paused = paused
        await self.cut()

    async def stop(self) -> None:
        """A clean end: close the open segment, leave the room, close every connection."""
        self.stopping = True
        await self.cut()
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self._send({"type": "leave"})
            await self.ws.close()
        await self.shutdown()

    async def crash(self) -> int | None:
        """End abruptly, as a killed process would: the open segment is left as it is."""
        self.stopping = True
        open_n = self.segment.n if self.segment else None
        if self.segment is not None:
            await self.segment.file.abort()  # the file is left as it is, never finished
            for proxy in self.segment.proxies:
                proxy.stop()
            self.segment = None
        if self.ws is not None:
            self.ws.transport.abort()
        await self.shutdown()
        return open_n

    async def shutdown(self) -> None:
        """Close peer connections and background tasks (an open segment is left alone)."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        for pc in list(self.pcs.values()):
            await pc.close()
        self.pcs.clear()
