"""What the SFU driver (``sfu_room``) knows of a session's media: its VideoRoom, each peer's
publisher and each subscriber connection; and the media frames' shapes (an SDP, a refusal)."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from typing import Any, Protocol

from hearings.errors import say
from hearings.rooms.bus import PeerInfo
from hearings.rooms.room import Room
from hearings.sfu.janus import JanusSession
from hearings.sfu.videoroom import Publisher, Subscriber, VideoRoom


class MediaFrameError(Exception):
    """A media frame the driver can't act on (the hub answers with an ``error`` frame)."""


def refusal_frame(code: str) -> dict[str, Any]:
    """The ``error`` frame of a media refusal: its code and words in both languages."""
    return {
        "type": "error",
        "code": code,
        "error": say(code, {}, "en"),
        "words": {"zh": say(code, {}, "zh"), "en": say(code, {}, "en")},
    }


def sdp_of(message: dict[str, Any], kind: str) -> dict[str, str]:
    sdp = message.get("sdp")
    if not (isinstance(sdp, dict) and sdp.get("type") == kind and isinstance(sdp.get("sdp"), str)):
        raise MediaFrameError(f"sdp must be {{type: {kind}, sdp}}")
    return {"type": kind, "sdp": sdp["sdp"]}


class FeedRecorder(Protocol):
    """What records a session's feeds at Janus (``recording.sfu_recorder``), told on the
    loop as feeds come and go and when Janus is lost."""

    async def feed_up(self, peer: PeerInfo, publisher: Publisher) -> None: ...
    async def feed_down(self, peer_id: str) -> None: ...
    async def media_lost(self, reason: str) -> None: ...


@dataclass
class PeerMedia:
    """One peer's media at the SFU."""

    publisher: Publisher | None = None
    #: Who publishes (as the roster had them when they published).
    info: PeerInfo | None = None
    #: The publisher's connection is up at Janus: its feed may be subscribed to.
    live: bool = False
    #: The peer may be offered subscriptions (it published, or may not publish).
    ready: bool = False


@dataclass
class Feed:
    """One subscriber connection: ``subscriber`` receives ``publisher``'s feed on ``pc``."""

    pc: str
    subscriber: str
    publisher: str
    handle: Subscriber | None = None  # None while Janus makes it


@dataclass
class MediaRoom:
    """A session's media at the SFU (touched on the loop only)."""

    session_id: int
    room: Room
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    janus: JanusSession | None = None
    videoroom: VideoRoom | None = None
    peers: dict[str, PeerMedia] = field(default_factory=dict)
    #: Subscriber connections by (subscriber, publisher) peer ids.
    feeds: dict[tuple[str, str], Feed] = field(default_factory=dict)
    #: What a moderator muted, by peer id (applied again when the peer publishes anew).
    muted: dict[str, set[str]] = field(default_factory=dict)
    #: Candidates a client trickled before its publisher's handle existed, by peer id.
    early: dict[str, list[dict[str, Any] | None]] = field(default_factory=dict)
    #: Records the feeds while the session's recording runs.
    recorder: FeedRecorder | None = None
    #: Changes to peers and feeds one at a time.
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    closed: bool = False
