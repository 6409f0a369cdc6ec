"""The hub's SFU mode: every admitted peer publishes to Janus and subscribes, through the
server, to the feeds it may see (its sub-room's), over the room's own WebSocket.

The loop thread of ``sfu_loop`` runs the Janus clients (one per server of
``HEARINGS_JANUS_URL``; a session always on the same one); the hub's WebSocket threads hand
it work and never wait for Janus. On the loop each session has a ``MediaRoom``: a Janus session, the
VideoRoom (made on the first publish, with a random secret only the server knows), a
publisher handle per peer and a subscriber handle per (subscriber, feed): one connection per
feed (what aiortc can take; browsers take it too until Janus multistream lands). Which
subscriptions exist is reconciled against the roster (``refresh``) after every change the
hub makes (admit, dismiss, move, leave, remove), so caucus sub-rooms and the waiting room
are kept apart at the SFU by the same rule as the signaling. The roster reads and the frames
sent go through one I/O thread (the bus may be Redis), in order, never on the loop.

SFU mode is single-process for now: the VideoRoom lives in this process's driver.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Coroutine
from concurrent.futures import Future
from typing import Any

from hearings.logs import event
from hearings.rooms.bus import PeerInfo
from hearings.rooms.room import Room
from hearings.rooms.sfu_loop import DriverLoop
from hearings.rooms.sfu_state import (
    Feed,
    FeedRecorder,
    MediaFrameError,
    MediaRoom,
    PeerMedia,
    refusal_frame,
    sdp_of,
)
from hearings.sfu.janus import JanusError, JanusHandle, JanusSession
from hearings.sfu.videoroom import VideoRoom

log = logging.getLogger(__name__)

#: How long a publisher's connection may take to come up at Janus, seconds.
UP_TIMEOUT = 15.0
#: Candidates kept for a publisher not yet made (a browser sends a few dozen at most).
EARLY_CANDIDATES = 64
#: The frames a peer sends the server in SFU mode (``candidate`` with a ``pc``, too).
MEDIA_FRAMES = ("publish", "subscribed")
#: After Janus is lost, how often and how many times it is asked whether it is back.
RECOVERY_PAUSE = 1.0
RECOVERY_ATTEMPTS = 300


class SfuDriver(DriverLoop):
    """This process's media at Janus: each session's ``MediaRoom``, on the loop thread."""

    # --- what the hub asks (from its threads; none of these waits for Janus) --------------
    def frame(self, room: Room, me: PeerInfo, message: dict[str, Any]) -> None:
        """A media frame from an admitted peer: ``publish``, ``subscribed``, ``candidate``."""
        kind = message.get("type")
        if kind == "publish":
            if "publish" not in me.can:
                raise MediaFrameError("you may not publish")
            self._submit(self._publish(room, me, sdp_of(message, "offer")))
            return
        pc = message.get("pc")
        if not isinstance(pc, str) or not pc:
            raise MediaFrameError("pc must name a connection")
        if kind == "subscribed":
            self._submit(self._subscribed(room, me, pc, sdp_of(message, "answer")))
        else:
            candidate = message.get("candidate")
            if not isinstance(candidate, dict | None):
                raise MediaFrameError("candidate must be an object")
            self._submit(self._trickle(room.session_id, me.peer_id, pc, candidate))

    def follow(self, room: Room, action: str, message: dict[str, Any]) -> None:
        """Keep Janus in step with a moderator's action the hub has carried out."""
        target = message.get("peer_id")
        if action in ("mute", "unmute") and isinstance(target, str):
            kind = message.get("media", "audio")
            self._submit(self._moderate(room.session_id, target, str(kind), action == "mute"))
        elif action == "remove" and isinstance(target, str):
            self.drop(room, target)
        elif action == "end":
            self.close(room.session_id)
        else:  # admit, dismiss, move: who may see whom changed
            self.refresh(room)

    def refresh(self, room: Room) -> None:
        """Subscriptions to match the roster (after an admission, a move, a departure)."""
        self._submit(self._refresh_room(room.session_id))

    def drop(self, room: Room, peer_id: str) -> None:
        """A peer is gone: its publisher leaves, its subscribers get ``unsubscribed``."""
        self._submit(self._drop(room.session_id, peer_id))

    def close(self, session_id: int) -> None:
        """The session's media is over: destroy its VideoRoom."""
        self._submit(self._close(session_id))

    # --- what the recording asks (from its threads) -------------------------------------
    def record(self, session_id: int, recorder: FeedRecorder | None) -> Future[None]:
        """Have ``recorder`` told of the session's feeds, those live now first (None: no
        more); it follows the session into a new VideoRoom after Janus is lost."""
        return self._submit(self.set_recorder(session_id, recorder))

    def submit(self, work: Coroutine[Any, Any, None]) -> Future[None]:
        """Run the recording's own work on the loop (its Janus requests)."""
        return self._submit(work)

    async def set_recorder(self, session_id: int, recorder: FeedRecorder | None) -> None:
        """``record``, on the loop."""
        if recorder is None:
            self._recorders.pop(session_id, None)
        else:
            self._recorders[session_id] = recorder
        media = self._rooms.get(session_id)
        if media is None or media.closed:
            return
        async with media.lock:
            media.recorder = recorder
            if recorder is None:
                return
            for peer in list(media.peers.values()):
                if peer.live and peer.info is not None and peer.publisher is not None:
                    await recorder.feed_up(peer.info, peer.publisher)

    # --- on the loop --------------------------------------------------------------------
    async def _refuse(self, code: str, media: MediaRoom, peer_id: str, error: Any) -> None:
        event(log, "room.media-refused", logging.WARNING, session=media.session_id,
              peer=peer_id, code=code, error=str(error))  # fmt: skip
        await self._send(media, peer_id, refusal_frame(code))

    async def _videoroom(self, media: MediaRoom) -> VideoRoom:
        if media.videoroom is None:
            janus = await self.client_for(media.session_id).create_session()
            janus.on_end = lambda error: self._lost(media, janus, error)
            try:
                media.videoroom = await VideoRoom.create(
                    janus, media.secret, description=f"session {media.session_id}"
                )
            except JanusError:
                with contextlib.suppress(JanusError):
                    await janus.destroy()
                raise
            media.janus = janus
            event(log, "room.sfu-room", session=media.session_id, videoroom=media.videoroom.id)
        return media.videoroom

    async def _publish(self, room: Room, me: PeerInfo, offer: dict[str, str]) -> None:
        media = self._rooms.get(room.session_id)
        if media is None or media.closed or (media.janus and media.janus.ended):
            # A Janus session that died (Janus restarted) takes its room with it: a new one.
            muted = media.muted if media is not None else {}
            recorder = self._recorders.get(room.session_id)
            media = self._rooms[room.session_id] = MediaRoom(
                room.session_id, room, muted=muted, recorder=recorder
            )
        async with media.lock:
            old = media.peers.pop(me.peer_id, None)
            if old is not None:  # publishing anew (a new camera, a reconnection)
                await self._retire(media, me.peer_id, old)
            peer = media.peers[me.peer_id] = PeerMedia(info=me)
            try:
                videoroom = await self._videoroom(media)
                peer.publisher = publisher = await videoroom.publisher(me.name)
                answer = await publisher.publish(offer)
                peer.ready = True  # and later candidates go straight to the handle
                while media.early.get(me.peer_id):
                    with contextlib.suppress(JanusError):  # one bad candidate fails no publish
                        await publisher.handle.trickle(media.early[me.peer_id].pop(0))
                for kind in media.muted.get(me.peer_id, ()):
                    await videoroom.moderate(publisher.feed, publisher.mid(kind), mute=True)
            except JanusError as error:
                media.peers.pop(me.peer_id, None)
                if peer.publisher is not None:
                    with contextlib.suppress(JanusError):
                        await peer.publisher.handle.detach()
                code = "media-server-unavailable" if error.code is None else "media-refused"
                await self._refuse(code, media, me.peer_id, error)
                return
            await self._send(media, me.peer_id, {"type": "published", "sdp": answer})
        try:
            await publisher.wait_until_up(UP_TIMEOUT)
        except JanusError as error:
            await self._refuse("media-not-connected", media, me.peer_id, error)
            return
        async with media.lock:
            if media.peers.get(me.peer_id) is not peer or media.closed:
                return
            peer.live = True
            if media.recorder is not None:
                await media.recorder.feed_up(me, publisher)
        await self._refresh(media)

    async def _subscribed(self, room: Room, me: PeerInfo, pc: str, answer: dict[str, str]) -> None:
        media = self._rooms.get(room.session_id)
        feed = self._feed(media, me.peer_id, pc)
        if media is None or feed is None or feed.handle is None:
            return  # the feed went meanwhile: its ``unsubscribed`` is on its way
        try:
            await feed.handle.start(answer)
        except JanusError as error:
            await self._refuse("media-refused", media, me.peer_id, error)

    async def _trickle(
        self, session_id: int, peer_id: str, pc: str, candidate: dict[str, Any] | None
    ) -> None:
        media = self._rooms.get(session_id)
        handle: JanusHandle | None = None
        if media is not None and pc == "publisher":
            peer = media.peers.get(peer_id)
            handle = peer.publisher.handle if peer and peer.publisher else None
            if handle is None or not peer or not peer.ready:
                # Browsers trickle right after their offer: kept until it is published.
                early = media.early.setdefault(peer_id, [])
                if len(early) < EARLY_CANDIDATES:
                    early.append(candidate)
                return
        else:
            feed = self._feed(media, peer_id, pc)
            handle = feed.handle.handle if feed and feed.handle else None
        if handle is not None:
            with contextlib.suppress(JanusError):  # a connection gone meanwhile
                await handle.trickle(candidate)

    @staticmethod
    def _feed(media: MediaRoom | None, peer_id: str, pc: str) -> Feed | None:
        if media is None:
            return None
        found = [f for f in media.feeds.values() if f.pc == pc and f.subscriber == peer_id]
        return found[0] if found else None

    async def _moderate(self, session_id: int, peer_id: str, kind: str, mute: bool) -> None:
        media = self._rooms.get(session_id)
        if media is None:
            return
        muted = media.muted.setdefault(peer_id, set())
        (muted.add if mute else muted.discard)(kind)
        peer = media.peers.get(peer_id)
        if peer is None or peer.publisher is None or media.videoroom is None:
            return  # nothing published yet: applied when it is
        with contextlib.suppress(JanusError):  # the feed sends no such media
            mid = peer.publisher.mid(kind)
            await media.videoroom.moderate(peer.publisher.feed, mid, mute=mute)
            event(log, "room.sfu-moderate", session=session_id, peer=peer_id, media=kind,
                  mute=mute)  # fmt: skip

    async def _refresh_room(self, session_id: int) -> None:
        media = self._rooms.get(session_id)
        if media is not None:
            await self._refresh(media)

    async def _refresh(self, media: MediaRoom) -> None:
        async with media.lock:
            if media.closed:
                return
            roster = await self._in_io(media.room.roster)
            admitted = {p.peer_id: p for p in roster if p.state == "admitted"}
            for peer_id in [p for p in media.peers if p not in admitted]:
                await self._retire(media, peer_id, media.peers.pop(peer_id))
            for info in admitted.values():
                if "publish" not in info.can and "subscribe" in info.can:
                    media.peers.setdefault(info.peer_id, PeerMedia()).ready = True
            wanted = {
                (sub, pub)
                for sub, receiver in media.peers.items()
                if receiver.ready
                for pub, sender in media.peers.items()
                if sender.live and pub != sub and admitted[pub].subroom == admitted[sub].subroom
            }
            for key in [k for k in media.feeds if k not in wanted]:
                await self._unsubscribe(media, key)
            new = [k for k in sorted(wanted) if k not in media.feeds]
            await asyncio.gather(*(self._subscribe(media, k, admitted[k[1]]) for k in new))

    async def _subscribe(self, media: MediaRoom, key: tuple[str, str], of: PeerInfo) -> None:
        sender = media.peers[key[1]]
        if media.videoroom is None or sender.publisher is None:
            return
        feed = media.feeds[key] = Feed(secrets.token_urlsafe(6), *key)
        try:
            feed.handle = await media.videoroom.subscriber(sender.publisher.feed)
        except JanusError as error:
            media.feeds.pop(key, None)
            await self._refuse("media-refused", media, key[0], error)
            return
        mids = {
            str(s["type"]): str(s["mid"])
            for s in feed.handle.streams
            if s.get("type") in ("audio", "video") and s.get("active", True)
        }
        frame = {"type": "subscription", "pc": feed.pc, "sdp": feed.handle.offer,
                 "feeds": [{**of.public(), "mids": mids}]}  # fmt: skip
        await self._send(media, key[0], frame)

    async def _unsubscribe(self, media: MediaRoom, key: tuple[str, str]) -> None:
        feed = media.feeds.pop(key)
        if feed.handle is not None:
            with contextlib.suppress(JanusError):  # Janus may have hung it up already
                await feed.handle.handle.detach()
        await self._send(media, feed.subscriber, {"type": "unsubscribed", "pc": feed.pc})

    async def _retire(self, media: MediaRoom, peer_id: str, peer: PeerMedia) -> None:
        """A peer's publisher and every connection of or to it go (``peers`` has it no more;
        one sent back to wait is still there to hear of its own)."""
        for key in [k for k in media.feeds if peer_id in k]:
            await self._unsubscribe(media, key)
        if media.recorder is not None and peer.live:
            await media.recorder.feed_down(peer_id)
        if peer.publisher is not None:
            with contextlib.suppress(JanusError):
                await peer.publisher.handle.detach()  # Janus takes the feed out of the room

    async def _drop(self, session_id: int, peer_id: str) -> None:
        media = self._rooms.get(session_id)
        if media is None:
            return
        async with media.lock:
            peer = media.peers.pop(peer_id, None)
            if peer is not None:
                await self._retire(media, peer_id, peer)
            media.muted.pop(peer_id, None)
            media.early.pop(peer_id, None)
        await self._refresh(media)

    async def _close(self, session_id: int) -> None:
        media = self._rooms.pop(session_id, None)
        if media is None:
            return
        async with media.lock:
            media.closed = True
            for peer_id, peer in media.peers.items():  # their last segments close first
                if media.recorder is not None and peer.live:
                    await media.recorder.feed_down(peer_id)
            try:
                if media.videoroom is not None:
                    await media.videoroom.destroy()
            except JanusError as error:
                log.warning("sfu: session %s: VideoRoom not destroyed: %s", session_id, error)
            finally:
                if media.janus is not None:
                    with contextlib.suppress(JanusError):
                        await media.janus.destroy()
            event(log, "room.sfu-closed", session=session_id)

    # --- Janus lost -----------------------------------------------------------------------
    def _lost(self, media: MediaRoom, janus: JanusSession, error: JanusError) -> None:
        """The Janus session of a room ended (on the loop): unless the room was closed on
        purpose, rebuild its media once Janus answers again."""
        if media.closed or media.janus is not janus:
            return
        task = asyncio.get_running_loop().create_task(self._recover(media, error))
        self._recoveries.add(task)
        task.add_done_callback(self._recoveries.discard)

    async def _recover(self, media: MediaRoom, error: JanusError) -> None:
        """Janus went (restarted, crashed): the recording logs the gap, the room's media is
        over; once Janus answers, every admitted peer is told ``media-reset`` and publishes
        anew into a new VideoRoom (``_publish`` makes it), which the recording follows."""
        event(log, "room.sfu-lost", logging.WARNING, session=media.session_id, error=str(error))
        media.closed = True
        if media.recorder is not None:
            await media.recorder.media_lost(f"the media server was lost: {error}")
        client = self.client_for(media.session_id)
        for _ in range(RECOVERY_ATTEMPTS):
            try:
                await client.info()
                break
            except JanusError:
                await asyncio.sleep(RECOVERY_PAUSE)
        else:
            event(log, "room.sfu-not-back", logging.ERROR, session=media.session_id)
            return
        if media.session_id not in self._rooms:
            return  # the session ended meanwhile
        roster = await self._in_io(media.room.roster)
        admitted = [p.peer_id for p in roster if p.state == "admitted"]
        await self._in_io(media.room.send_to, admitted, {"type": "media-reset"})
        event(log, "room.sfu-reset", session=media.session_id, peers=len(admitted))
