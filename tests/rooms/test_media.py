"""Two real WebRTC peers (aiortc) meet through the hub and exchange media on loopback.

Media stays on this machine: the test runs only inside a network namespace that has
nothing but ``lo`` with a second address, 127.0.0.2 (aioice skips 127.0.0.1 itself).
``.ci/run`` runs ``pytest -m media`` that way; elsewhere these tests skip.
"""

from __future__ import annotations

import asyncio
import json
import socket

import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack
from aiortc.sdp import candidate_from_sdp
from websockets.asyncio.client import connect

pytestmark = pytest.mark.media

ONLY_LOOPBACK = [name for _, name in socket.if_nameindex()] == ["lo"]
if not ONLY_LOOPBACK:
    pytestmark = [
        pytest.mark.media,
        pytest.mark.skip(reason="media tests run in a loopback-only network namespace (.ci/run)"),
    ]


class RtcPeer:
    """A signaling client with one RTCPeerConnection per remote peer, like the browser's."""

    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token
        self.pcs: dict[str, RTCPeerConnection] = {}
        self.connected = asyncio.Event()
        self.frames: list[tuple[str, int, int]] = []
        self.got_frames = asyncio.Event()
        self.candidates_received = 0
        self.readers: list[asyncio.Future] = []
        self.ws = None
        self.peer_id = ""

    async def send(self, frame: dict) -> None:
        await self.ws.send(json.dumps(frame))

    def pc_for(self, remote: str) -> RTCPeerConnection:
        if remote in self.pcs:
            return self.pcs[remote]
        pc = RTCPeerConnection()
        pc.addTrack(AudioStreamTrack())
        pc.addTrack(VideoStreamTrack())

        @pc.on("connectionstatechange")
        def on_state() -> None:
            if pc.connectionState == "connected":
                self.connected.set()

        @pc.on("track")
        def on_track(track) -> None:
            if track.kind == "video":
                self.readers.append(asyncio.ensure_future(self.read_video(track)))

        self.pcs[remote] = pc
        return pc

    async def read_video(self, track) -> None:
        for _ in range(5):
            frame = await track.recv()
            self.frames.append((track.kind, frame.width, frame.height))
        self.got_frames.set()

    async def send_candidates(self, remote: str, pc: RTCPeerConnection) -> None:
        # aiortc puts its candidates in the SDP; send them as trickle frames as well.
        for line in pc.localDescription.sdp.splitlines():
            if line.startswith("a=candidate:"):
                await self.send(
                    {"type": "candidate", "to": remote,
                     "candidate": {"candidate": line[2:], "sdpMid": "0", "sdpMLineIndex": 0}}
                )  # fmt: skip

    async def offer(self, remote: str) -> None:
        pc = self.pc_for(remote)
        await pc.setLocalDescription(await pc.createOffer())
        sdp = {"type": pc.localDescription.type, "sdp": pc.localDescription.sdp}
        await self.send({"type": "offer", "to": remote, "sdp": sdp})
        await self.send_candidates(remote, pc)

    async def run(self) -> None:
        async with connect(self.url) as ws:
            self.ws = ws
            await self.send({"type": "join", "token": self.token})
            async for raw in ws:
                message = json.loads(raw)
                await self.handle(message)

    async def handle(self, m: dict) -> None:
        kind = m["type"]
        if kind == "welcome":
            self.peer_id = m["peer_id"]
            if m["state"] == "admitted":
                for p in m["peers"]:
                    await self.offer(p["peer_id"])
        elif kind == "waiting":
            await self.send({"type": "admit", "peer_id": m["peer"]["peer_id"]})
        elif kind == "admitted":
            for p in m["peers"]:
                await self.offer(p["peer_id"])
        elif kind == "offer":
            pc = self.pc_for(m["from"])
            await pc.setRemoteDescription(RTCSessionDescription(**m["sdp"]))
            await pc.setLocalDescription(await pc.createAnswer())
            sdp = {"type": pc.localDescription.type, "sdp": pc.localDescription.sdp}
            await self.send({"type": "answer", "to": m["from"], "sdp": sdp})
            await self.send_candidates(m["from"], pc)
        elif kind == "answer":
            await self.pcs[m["from"]].setRemoteDescription(RTCSessionDescription(**m["sdp"]))
        elif kind == "candidate":
            self.candidates_received += 1
            c = m["candidate"]
            candidate = candidate_from_sdp(c["candidate"].split(":", 1)[1])
            candidate.sdpMid, candidate.sdpMLineIndex = c["sdpMid"], c["sdpMLineIndex"]
            await self.pcs[m["from"]].addIceCandidate(candidate)

    async def close(self) -> None:
        for reader in self.readers:
            reader.cancel()
        for pc in self.pcs.values():
            await pc.close()


def test_two_webrtc_peers_connect_through_the_hub(now_session, live_server):
    s = now_session("mediation")
    url = f"ws://{live_server}/ws/rooms/{s['id']}"
    mediator = RtcPeer(url, s["tokens"]["mediator"])
    party = RtcPeer(url, s["tokens"]["applicant"])

    async def scenario() -> None:
        tasks = [asyncio.create_task(mediator.run())]
        await asyncio.sleep(0)  # the mediator joins first; the party arrives later and offers
        while not mediator.peer_id:
            await asyncio.sleep(0.05)
        tasks.append(asyncio.create_task(party.run()))
        try:
            await asyncio.wait_for(
                asyncio.gather(
                    mediator.connected.wait(), party.connected.wait(),
                    mediator.got_frames.wait(), party.got_frames.wait(),
                ),
                timeout=30,
            )  # fmt: skip
        finally:
            await mediator.close()
            await party.close()
            for task in tasks:
                task.cancel()
            # Let the cancelled clients close their sockets before the loop goes away.
            await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(scenario())
    assert all(width > 0 and height > 0 for _, width, height in mediator.frames + party.frames)
    assert len(mediator.frames) >= 5 and len(party.frames) >= 5
    assert mediator.candidates_received > 0 and party.candidates_received > 0
