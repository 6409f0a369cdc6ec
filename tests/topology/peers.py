"""A participant's client as room.js runs it, in aiortc: relay-only ICE through the TURN
server the app hands out, one peer connection per remote, reconnection after any close
but the final ones."""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
import time
from typing import Any

from aiortc import (
    RTCConfiguration,
    RTCIceServer,
    RTCIceTransportPolicy,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError, VideoStreamTrack
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

#: Close codes after which room.js does not reconnect.
FINAL = (1000, 4401, 4403, 4408)


class CallPeer:
    """One participant in the call."""

    def __init__(self, url: str, token: str, tls: ssl.SSLContext, moderator: bool = False):
        self.url, self.token, self.tls, self.moderator = url, token, tls, moderator
        self.pcs: dict[str, RTCPeerConnection] = {}
        #: Per peer connection: when it was made, and video frames received on it.
        self.made: dict[RTCPeerConnection, float] = {}
        self.frames: dict[RTCPeerConnection, int] = {}
        self.peer_ids: list[str] = []
        self.closes: list[int | None] = []
        self.left: list[str] = []
        self.sdps: list[str] = []
        self.ice: list[dict[str, Any]] = []
        self.ws: Any = None
        self.stopped = False
        self.tasks: list[asyncio.Task[Any]] = []
        #: Frames this client could not act on (none is expected).
        self.errors: list[str] = []
        #: Connection attempts that failed (the server was away), and why.
        self.refused: list[str] = []

    def start(self) -> None:
        """Join the room (and keep rejoining) in the background."""
        self.tasks.append(asyncio.create_task(self.run()))

    async def run(self) -> None:
        while not self.stopped:
            code: int | None = None
            try:
                async with connect(self.url, ssl=self.tls, open_timeout=10) as ws:
                    self.ws = ws
                    await ws.send(json.dumps({"type": "join", "token": self.token}))
                    async for raw in ws:
                        try:
                            await self.handle(json.loads(raw))
                        except Exception as error:  # kept for the test to see, as room.js logs
                            self.errors.append(f"{type(error).__name__}: {error}")
                    code = ws.close_code
            except ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd is not None else 1006
            except (OSError, InvalidHandshake, TimeoutError) as error:
                # Could not connect (a browser's socket closes with 1006): try again.
                self.refused.append(f"{type(error).__name__}: {error}")
                code = None
            self.closes.append(code)
            for remote in list(self.pcs):
                await self.drop(remote)
            if code in FINAL or self.stopped:
                return
            await asyncio.sleep(0.3)  # room.js backs off too

    async def send(self, frame: dict[str, Any]) -> None:
        with contextlib.suppress(ConnectionClosed):
            await self.ws.send(json.dumps(frame))

    def config(self) -> RTCConfiguration:
        """Relay only, through the TURN server and credentials of the ``welcome``."""
        turn = next(s for s in self.ice if any(u.startswith("turn:") for u in s["urls"]))
        url = next(u for u in turn["urls"] if u.startswith("turn:"))
        server = RTCIceServer(urls=url, username=turn["username"], credential=turn["credential"])
        return RTCConfiguration(iceServers=[server], iceTransportPolicy=RTCIceTransportPolicy.RELAY)

    def connection(self, remote: str) -> RTCPeerConnection:
        pc = RTCPeerConnection(self.config())
        pc.addTrack(VideoStreamTrack())
        self.pcs[remote], self.made[pc], self.frames[pc] = pc, time.monotonic(), 0

        @pc.on("track")
        def on_track(track: Any) -> None:
            self.tasks.append(asyncio.create_task(self.count(pc, track)))

        return pc

    async def count(self, pc: RTCPeerConnection, track: Any) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                await track.recv()
                self.frames[pc] += 1

    async def drop(self, remote: str) -> None:
        pc = self.pcs.pop(remote, None)
        if pc is not None:
            await pc.close()

    async def offer(self, remote: str) -> None:
        await self.drop(remote)
        pc = self.connection(remote)
        await pc.setLocalDescription(await pc.createOffer())
        self.sdps.append(pc.localDescription.sdp)
        sdp = {"type": "offer", "sdp": pc.localDescription.sdp}
        await self.send({"type": "offer", "to": remote, "sdp": sdp})

    async def handle(self, m: dict[str, Any]) -> None:
        kind = m["type"]
        if kind == "welcome":
            self.peer_ids.append(m["peer_id"])
            self.ice = m["ice_servers"]
            if m["state"] == "admitted":
                for p in m["peers"]:
                    await self.offer(p["peer_id"])
        elif kind == "waiting" and self.moderator:
            await self.send({"type": "admit", "peer_id": m["peer"]["peer_id"]})
        elif kind == "admitted":
            for p in m["peers"]:
                await self.offer(p["peer_id"])
        elif kind == "offer":
            await self.drop(m["from"])
            pc = self.connection(m["from"])
            await pc.setRemoteDescription(RTCSessionDescription(**m["sdp"]))
            await pc.setLocalDescription(await pc.createAnswer())
            self.sdps.append(pc.localDescription.sdp)
            sdp = {"type": "answer", "sdp": pc.localDescription.sdp}
            await self.send({"type": "answer", "to": m["from"], "sdp": sdp})
        elif kind == "answer" and m["from"] in self.pcs:
            await self.pcs[m["from"]].setRemoteDescription(RTCSessionDescription(**m["sdp"]))
        elif kind == "peer-left":
            self.left.append(m["peer_id"])
            await self.drop(m["peer_id"])

    def receiving(self, since: float, remotes: int = 1, frames: int = 10) -> bool:
        """Whether media flows in from ``remotes`` peers on connections made after ``since``."""
        fresh = [
            pc
            for pc in self.pcs.values()
            if self.made[pc] > since
            and pc.connectionState == "connected"
            and self.frames[pc] >= frames
        ]
        return len(fresh) >= remotes

    def __repr__(self) -> str:
        states = {r: (pc.connectionState, self.frames[pc]) for r, pc in self.pcs.items()}
        return (f"<peer {self.peer_ids} closes={self.closes} pcs={states} "
                f"errors={self.errors} refused={self.refused[-3:]}>")  # fmt: skip

    def frame_count(self) -> int:
        """Video frames received on the connections open now."""
        return sum(self.frames[pc] for pc in self.pcs.values())

    async def stop(self) -> None:
        """Leave: close the socket, let the client's loop end, close every connection."""
        self.stopped = True
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()
        runner, readers = self.tasks[0], self.tasks[1:]
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.shield(runner), 10)
        for pc in self.made:  # every connection ever made (closing twice is harmless)
            await pc.close()
        for task in [runner, *readers]:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


async def until(condition: Any, timeout: float, what: str) -> None:
    """Wait (without blocking the loop) until ``condition()`` is true."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            what = what() if callable(what) else what
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.05)
