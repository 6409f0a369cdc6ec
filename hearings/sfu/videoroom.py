"""Janus's VideoRoom plugin (https://janus.conf.meetecho.com/docs/videoroom.html) on top of
the HTTP client: a room made with a secret (optionally recorded by Janus itself), a
publisher per participant, a subscriber per feed (one connection per feed: what aiortc can
take; FACTS.md), moderation at the SFU and the list of participants.

SDPs go in and out as ``{"type": ..., "sdp": ...}`` dicts, as on our WebSocket.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hearings.sfu.janus import Event, JanusError, JanusHandle, JanusSession

PLUGIN = "janus.plugin.videoroom"


def _data(event: Event) -> dict[str, Any]:
    return dict(event.get("plugindata", {}).get("data", {}))


def _jsep(event: Event) -> dict[str, str]:
    jsep = event.get("jsep")
    if not jsep:
        raise JanusError("Janus answered without an SDP")
    return {"type": jsep["type"], "sdp": jsep["sdp"]}


@dataclass(frozen=True)
class Participant:
    """Someone in a room as Janus lists them: their feed id, name, and whether they publish."""

    id: int
    display: str
    publisher: bool


@dataclass
class VideoRoom:
    """A VideoRoom at Janus, managed through a handle of its own (create, destroy,
    moderate, listparticipants all need the room's ``secret``)."""

    session: JanusSession
    handle: JanusHandle
    id: int
    secret: str

    @classmethod
    async def create(
        cls,
        session: JanusSession,
        secret: str,
        *,
        room: int | None = None,
        description: str | None = None,
        publishers: int = 16,
        record: bool = False,
        rec_dir: str | None = None,
    ) -> VideoRoom:
        """Create a room that only ``secret`` manages (Janus picks its id unless ``room``);
        ``record`` has Janus record every published stream (``.mjr``) into ``rec_dir``."""
        handle = await session.attach(PLUGIN)
        body: dict[str, Any] = {
            "request": "create",
            "secret": secret,
            "publishers": publishers,
            "is_private": True,
            "permanent": False,
            "audiocodec": "opus",
            "videocodec": "vp8",
            "record": record,
        }
        optional = {"room": room, "description": description, "rec_dir": rec_dir}
        body.update({key: value for key, value in optional.items() if value is not None})
        try:
            answer = await handle.message(body)
        except JanusError:
            await handle.detach()
            raise
        return cls(session, handle, int(answer["room"]), secret)

    async def destroy(self) -> None:
        """Destroy the room at Janus (everyone in it is sent away), then its handle (kept
        when Janus refuses: the room is still there)."""
        await self.handle.message({"request": "destroy", "room": self.id, "secret": self.secret})
        await self.handle.detach()

    async def participants(self) -> list[Participant]:
        """Who is in the room, as Janus lists them."""
        answer = await self.handle.message({"request": "listparticipants", "room": self.id})
        return [
            Participant(int(p["id"]), str(p.get("display", "")), bool(p.get("publisher")))
            for p in answer.get("participants", [])
        ]

    async def moderate(self, feed: int, mid: str, *, mute: bool) -> None:
        """Mute (or unmute) one stream of a publisher at the SFU: Janus stops forwarding it."""
        await self.handle.message(
            {"request": "moderate", "room": self.id, "secret": self.secret,
             "id": feed, "mid": mid, "mute": mute}
        )  # fmt: skip

    async def publisher(self, display: str) -> Publisher:
        """Join as a publisher (not yet publishing): a handle and a feed id of its own."""
        handle = await self.session.attach(PLUGIN)
        try:
            event = await handle.request(
                {"request": "join", "ptype": "publisher", "room": self.id, "display": display}
            )
        except JanusError:
            await handle.detach()
            raise
        joined = _data(event)
        return Publisher(self, handle, int(joined["id"]), int(joined.get("private_id") or 0))

    async def subscriber(self, feed: int, private_id: int | None = None) -> Subscriber:
        """Subscribe to one feed: a handle whose ``offer`` is Janus's SDP to answer. The
        feed must be live (``Publisher.wait_until_up``): before that Janus has no offer."""
        handle = await self.session.attach(PLUGIN)
        body: dict[str, Any] = {
            "request": "join",
            "ptype": "subscriber",
            "room": self.id,
            "streams": [{"feed": feed}],
        }
        if private_id:
            body["private_id"] = private_id
        try:
            event = await handle.request(body)
        except JanusError:
            await handle.detach()
            raise
        return Subscriber(self, handle, feed, _jsep(event), list(_data(event).get("streams", [])))


@dataclass
class Publisher:
    """A participant's uplink: one feed in a room."""

    room: VideoRoom
    handle: JanusHandle
    feed: int
    private_id: int
    #: The published streams as Janus describes them (``type``, ``mid``, ``codec`` …).
    streams: list[dict[str, Any]] = field(default_factory=list)

    async def publish(self, offer: dict[str, str], *, record: bool | None = None) -> dict[str, str]:
        """Publish the client's offer (its candidates in the SDP); Janus's answer."""
        body: dict[str, Any] = {"request": "publish"}
        if record is not None:
            body["record"] = record
        event = await self.handle.request(body, jsep=offer)
        self.streams = list(_data(event).get("streams", []))
        return _jsep(event)

    async def configure(
        self, offer: dict[str, str] | None = None, **settings: Any
    ) -> dict[str, str] | None:
        """Change what the feed sends (``bitrate``, ``display``, ``record`` …, or a new
        ``offer`` to renegotiate); Janus's answer when an offer was given."""
        event = await self.handle.request({"request": "configure", **settings}, jsep=offer)
        streams = _data(event).get("streams")
        if streams is not None:
            self.streams = list(streams)
        return _jsep(event) if offer is not None else None

    def mid(self, kind: str) -> str:
        """The mid of the published stream of ``kind`` (``audio``, ``video``)."""
        for stream in self.streams:
            if stream.get("type") == kind and not stream.get("disabled"):
                return str(stream["mid"])
        raise JanusError(f"the feed publishes no {kind}")

    async def wait_until_up(self, timeout: float = 10.0) -> None:
        """Wait until the publisher's PeerConnection is up at Janus (``webrtcup``): only
        then does Janus offer its feed to subscribers."""
        await self.handle.wait_for(lambda e: e.get("janus") == "webrtcup", timeout)

    async def unpublish(self) -> None:
        """Stop publishing (the feed goes; the participant stays in the room)."""
        await self.handle.request({"request": "unpublish"})

    async def leave(self) -> None:
        """Leave the room and drop the handle."""
        await leave(self.handle)


async def leave(handle: JanusHandle) -> None:
    """Leave a VideoRoom (publisher or subscriber) unless Janus has ended the handle, then
    detach it."""
    try:
        if handle.ended is None:
            await handle.request({"request": "leave"})
    finally:
        await handle.detach()


@dataclass
class Subscriber:
    """One feed's downlink: Janus's ``offer`` to answer with ``start``."""

    room: VideoRoom
    handle: JanusHandle
    feed: int
    offer: dict[str, str]
    #: The streams offered (``mid``, ``type``, ``feed_id``, ``feed_mid`` …).
    streams: list[dict[str, Any]] = field(default_factory=list)

    async def start(self, answer: dict[str, str]) -> None:
        """Give Janus the client's answer: the feed's media starts flowing."""
        await self.handle.request({"request": "start"}, jsep=answer)

    async def leave(self) -> None:
        """Stop receiving the feed and drop the handle."""
        await leave(self.handle)
