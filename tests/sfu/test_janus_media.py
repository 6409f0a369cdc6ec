"""The Janus client against a real Janus, with real aiortc peers: rooms made and destroyed
with their secret, a publisher relayed to a subscriber (frames decoded), mute at the SFU
measured at the subscriber, and Janus's refusals and absence as ``JanusError``.

Media runs in the namespace ``.ci/run`` makes (an ``ifb`` interface with 198.18.0.1, FACTS.md:
Janus's ICE skips loopback); elsewhere the fixture skips these tests.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, MediaStreamError, VideoStreamTrack

from hearings.sfu.janus import JanusClient, JanusError
from hearings.sfu.videoroom import Publisher, Subscriber, VideoRoom
from tests.fixtures.janus import JANUS_ADDRESS, JanusServer

pytestmark = pytest.mark.media

#: The VideoRoom's error codes the tests expect (janus_videoroom.c).
UNAUTHORIZED = 433
NO_SUCH_ROOM = 426
#: Janus's core codes: a request without the right api_secret; a session Janus doesn't know.
WRONG_API_SECRET = 403
NO_SUCH_SESSION = 458


def janus_candidates(sdp: str) -> set[str]:
    """The addresses of the ICE candidates in Janus's SDP (none may be outside the namespace)."""
    return {line.split()[4] for line in sdp.splitlines() if line.startswith("a=candidate:")}


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(scenario())


class FrameCounter:
    """Counts the video frames a subscriber decodes."""

    def __init__(self) -> None:
        self.frames = 0
        self.sizes: set[tuple[int, int]] = set()
        self.first = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    def watch(self, track: Any) -> None:
        self.task = asyncio.ensure_future(self._read(track))

    async def _read(self, track: Any) -> None:
        try:
            while True:
                frame = await track.recv()
                self.frames += 1
                self.sizes.add((frame.width, frame.height))
                self.first.set()
        except MediaStreamError:
            pass

    async def until(self, count: int, timeout: float) -> None:
        """Wait until ``count`` frames in all (assert it within ``timeout`` seconds)."""
        async with asyncio.timeout(timeout):
            while self.frames < count:
                await asyncio.sleep(0.05)


async def publish(room: VideoRoom, name: str) -> tuple[Publisher, RTCPeerConnection]:
    """An aiortc publisher (synthetic audio and video) through the client, up at Janus."""
    publisher = await room.publisher(name)
    pc = RTCPeerConnection()
    pc.addTrack(AudioStreamTrack())
    pc.addTrack(VideoStreamTrack())
    await pc.setLocalDescription(await pc.createOffer())
    offer = {"type": pc.localDescription.type, "sdp": pc.localDescription.sdp}
    answer = await publisher.publish(offer)
    assert janus_candidates(answer["sdp"]) == {JANUS_ADDRESS}
    await pc.setRemoteDescription(RTCSessionDescription(**answer))
    await publisher.wait_until_up(timeout=15)
    return publisher, pc


async def subscribe(
    room: VideoRoom, feed: int
) -> tuple[Subscriber, RTCPeerConnection, FrameCounter]:
    """An aiortc subscriber of one feed through the client, counting decoded frames."""
    subscriber = await room.subscriber(feed)
    assert janus_candidates(subscriber.offer["sdp"]) == {JANUS_ADDRESS}
    pc = RTCPeerConnection()
    counter = FrameCounter()

    @pc.on("track")
    def on_track(track: Any) -> None:
        if track.kind == "video":
            counter.watch(track)

    await pc.setRemoteDescription(RTCSessionDescription(**subscriber.offer))
    await pc.setLocalDescription(await pc.createAnswer())
    await subscriber.start({"type": pc.localDescription.type, "sdp": pc.localDescription.sdp})
    return subscriber, pc, counter


async def frames_while(counter: FrameCounter, seconds: float) -> int:
    """How many frames the counter gains over ``seconds``."""
    before = counter.frames
    await asyncio.sleep(seconds)
    return counter.frames - before


def test_a_room_is_made_with_its_secret_and_destroyed(janus: JanusServer):
    async def scenario() -> None:
        async with JanusClient(janus.url, janus.api_secret) as client:
            info = await client.info()
            assert "janus.plugin.videoroom" in info["plugins"]
            session = await client.create_session()
            room = await VideoRoom.create(session, "room-secret", description="案件 1")
            assert room.id > 0
            assert await room.participants() == []
            await room.destroy()
            other = await VideoRoom.create(session, "another-secret")
            with pytest.raises(JanusError) as gone:
                await VideoRoom(session, other.handle, room.id, "room-secret").participants()
            assert gone.value.code == NO_SUCH_ROOM
            await other.destroy()
            await session.destroy()

    run(scenario)


def test_a_wrong_room_secret_is_janus_refusal_with_its_code(janus: JanusServer):
    async def scenario() -> None:
        async with JanusClient(janus.url, janus.api_secret) as client:
            session = await client.create_session()
            room = await VideoRoom.create(session, "the-right-secret")
            impostor = VideoRoom(session, await session.attach(), room.id, "a-wrong-secret")
            with pytest.raises(JanusError) as refused:
                await impostor.destroy()
            assert refused.value.code == UNAUTHORIZED
            assert refused.value.reason
            assert await room.participants() == []  # still there
            with pytest.raises(JanusError) as refused:
                await impostor.moderate(1, "0", mute=True)
            assert refused.value.code == UNAUTHORIZED
            await room.destroy()

    run(scenario)


def test_a_wrong_api_secret_is_refused_by_janus(janus: JanusServer):
    async def scenario() -> None:
        async with JanusClient(janus.url, "not-the-api-secret") as client:
            with pytest.raises(JanusError) as refused:
                await client.create_session()
            assert refused.value.code == WRONG_API_SECRET

    run(scenario)


def test_a_publisher_reaches_a_subscriber_through_janus_and_mute_stops_it_at_the_sfu(
    janus: JanusServer,
):
    async def scenario() -> None:
        peers: list[RTCPeerConnection] = []
        async with JanusClient(janus.url, janus.api_secret) as client:
            session = await client.create_session()
            room = await VideoRoom.create(
                session, "room-secret", record=True, rec_dir=str(janus.recordings)
            )
            try:
                publisher, pc = await publish(room, "申请人")
                peers.append(pc)
                listed = {p.id: p for p in await room.participants()}
                assert listed[publisher.feed].publisher
                assert listed[publisher.feed].display == "申请人"

                subscriber, spc, counter = await subscribe(room, publisher.feed)
                peers.append(spc)
                async with asyncio.timeout(15):
                    await counter.first.wait()
                await counter.until(20, timeout=15)
                assert all(w > 0 and h > 0 for w, h in counter.sizes)

                assert await frames_while(counter, 2.0) >= 15  # flowing: about 30 a second
                # Muted at the SFU: the subscriber's frames stop (the publisher still sends).
                await room.moderate(publisher.feed, publisher.mid("video"), mute=True)
                await asyncio.sleep(1.0)  # what was in flight when the mute took effect
                assert await frames_while(counter, 2.0) <= 2
                await room.moderate(publisher.feed, publisher.mid("video"), mute=False)
                await counter.until(counter.frames + 20, timeout=15)
                assert await frames_while(counter, 2.0) >= 15  # and flowing again

                # A new display name, through configure; then unpublish: the feed goes, the
                # participant stays until they leave.
                assert await publisher.configure(display="申请人 张三") is None
                await subscriber.leave()
                await publisher.unpublish()
                listed = {p.id: p for p in await room.participants()}
                assert not listed[publisher.feed].publisher
                assert listed[publisher.feed].display == "申请人 张三"
                await publisher.leave()
                assert await room.participants() == []
            finally:
                for peer in peers:
                    await peer.close()
                await room.destroy()

    run(scenario)
    # Janus recorded the feed itself (``.mjr``: no decoding), into the room's rec_dir.
    recorded = sorted(p.name for p in Path(janus.recordings).glob("*.mjr"))
    assert any("-video-" in name for name in recorded), recorded
    assert any("-audio-" in name for name in recorded), recorded


def test_no_janus_is_an_error_at_once_not_a_hang(janus_gone: str):
    async def scenario() -> None:
        async with JanusClient(janus_gone, "any-secret", timeout=5) as client:
            started = time.monotonic()
            with pytest.raises(JanusError) as unreachable:
                await client.create_session()
            assert unreachable.value.code is None
            assert time.monotonic() - started < 2

    run(scenario)


def test_janus_gone_mid_session_fails_the_next_request_promptly(janus: JanusServer):
    async def scenario() -> None:
        async with JanusClient(janus.url, janus.api_secret, timeout=5) as client:
            session = await client.create_session()
            room = await VideoRoom.create(session, "room-secret")
            janus.process.kill()
            janus.process.wait(timeout=10)
            started = time.monotonic()
            with pytest.raises(JanusError) as gone:
                await room.participants()
            assert gone.value.code is None
            assert time.monotonic() - started < 2
            async with asyncio.timeout(5):  # the poller finds out too, and ends the session
                while session.ended is None:
                    await asyncio.sleep(0.05)

    run(scenario)


def test_a_janus_that_does_not_answer_is_an_error_by_the_deadline(janus: JanusServer):
    async def scenario() -> None:
        async with JanusClient(janus.url, janus.api_secret, timeout=1) as client:
            session = await client.create_session()
            room = await VideoRoom.create(session, "room-secret")
            janus.process.send_signal(signal.SIGSTOP)  # alive, listening, silent
            try:
                started = time.monotonic()
                with pytest.raises(JanusError) as silent:
                    await room.participants()
                assert silent.value.code is None
                assert time.monotonic() - started < 3
            finally:
                janus.process.send_signal(signal.SIGCONT)
            await room.destroy()

    run(scenario)


def test_each_of_three_participants_receives_the_two_others_one_connection_per_feed(
    janus: JanusServer,
):
    names = ["审判长", "原告", "被告"]

    async def scenario() -> None:
        peers: list[RTCPeerConnection] = []
        async with JanusClient(janus.url, janus.api_secret) as client:
            admin = await client.create_session()
            room = await VideoRoom.create(admin, "room-secret")
            # Each participant's media on a Janus session of its own, as the server will.
            sessions = [await client.create_session() for _ in names]
            try:
                publishers = []
                for session, name in zip(sessions, names, strict=True):
                    own = VideoRoom(session, await session.attach(), room.id, room.secret)
                    publisher, pc = await publish(own, name)
                    publishers.append((own, publisher))
                    peers.append(pc)
                feeds = {p.id for p in await room.participants() if p.publisher}
                assert feeds == {publisher.feed for _, publisher in publishers}
                counters = []
                for own, publisher in publishers:
                    for _, other in publishers:
                        if other.feed != publisher.feed:
                            _, pc, counter = await subscribe(own, other.feed)
                            peers.append(pc)
                            counters.append(counter)
                assert len(counters) == 6
                await asyncio.gather(*(c.until(10, timeout=20) for c in counters))
            finally:
                for peer in peers:
                    await peer.close()
                await room.destroy()

    run(scenario)


def test_a_session_lives_on_its_keepalive_and_ends_without_it(
    make_janus: Callable[..., JanusServer],
):
    janus = make_janus(session_timeout=3)

    async def scenario() -> None:
        async with (
            JanusClient(janus.url, janus.api_secret, keepalive=1) as kept,
            JanusClient(janus.url, janus.api_secret, keepalive=3600) as forgotten,
        ):
            alive = await kept.create_session()
            lapsing = await forgotten.create_session()
            room = await VideoRoom.create(alive, "room-secret")
            async with asyncio.timeout(15):  # Janus's watchdog drops the silent session
                while lapsing.ended is None:
                    await asyncio.sleep(0.1)
            assert lapsing.ended.code == NO_SUCH_SESSION
            assert alive.ended is None
            assert await room.participants() == []
            await room.destroy()

    run(scenario)
