"""The room bus: who is in which room, and delivery of frames to peers on any process.

With ``HEARINGS_REDIS_URL`` the roster lives in Redis hashes and frames travel over Redis
pub/sub, so two peers of one room connected to different app processes reach each other.
Without it, an in-process bus does the same for a single process.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

log = logging.getLogger(__name__)

Deliver = Callable[[int, dict[str, Any]], None]


@dataclass
class PeerInfo:
    """One connection in a room, as every process sees it."""

    peer_id: str
    session_id: int
    participant_id: int | None
    name: str
    role: str
    can: list[str]
    #: ``waiting`` (in the lobby) or ``admitted``.
    state: str = "waiting"
    #: ``main`` or a caucus sub-room (背对背) of a mediation.
    subroom: str = "main"
    #: The process holding the connection.
    node: str = field(default="")

    @property
    def moderates(self) -> bool:
        """Whether this peer may admit, mute, remove, move and end."""
        return "moderate" in self.can

    def public(self) -> dict[str, Any]:
        """What other peers learn about this one."""
        return {"peer_id": self.peer_id, "name": self.name, "role": self.role}


class Bus:
    """Roster and delivery; subclasses keep them in this process or in Redis."""

    def __init__(self) -> None:
        self.node = uuid.uuid4().hex[:12]
        self._deliver: Deliver | None = None

    def start(self, deliver: Deliver) -> None:
        """Begin handing every envelope published to any room to ``deliver``."""
        self._deliver = deliver

    def stop(self) -> None:
        """Stop listening."""

    def add(self, info: PeerInfo) -> None:
        """Put a peer on its room's roster."""
        raise NotImplementedError

    def update(self, info: PeerInfo) -> None:
        """Store a peer's changed state or sub-room."""
        self.add(info)

    def remove(self, session_id: int, peer_id: str) -> None:
        """Take a peer off its room's roster."""
        raise NotImplementedError

    def peers(self, session_id: int) -> list[PeerInfo]:
        """Everyone in the room, on every process."""
        raise NotImplementedError

    def publish(self, session_id: int, envelope: dict[str, Any]) -> None:
        """Send an envelope to the room on every process."""
        raise NotImplementedError

    def peer(self, session_id: int, peer_id: str) -> PeerInfo | None:
        """One peer of the room, if present."""
        return next((p for p in self.peers(session_id) if p.peer_id == peer_id), None)

    def remember_admitted(self, session_id: int, participant_id: int, admitted: bool) -> None:
        """Remember (or forget) that a participant was let in, so a dropped one comes back in."""
        raise NotImplementedError

    def was_admitted(self, session_id: int, participant_id: int) -> bool:
        """Whether the participant was let in and has not been sent out since."""
        raise NotImplementedError


class LocalBus(Bus):
    """One process: the roster in a dict, delivery by a direct call."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._rooms: dict[int, dict[str, PeerInfo]] = {}
        self._admitted: dict[int, set[int]] = {}

    def remember_admitted(self, session_id: int, participant_id: int, admitted: bool) -> None:
        with self._lock:
            known = self._admitted.setdefault(session_id, set())
            if admitted:
                known.add(participant_id)
            else:
                known.discard(participant_id)

    def was_admitted(self, session_id: int, participant_id: int) -> bool:
        with self._lock:
            return participant_id in self._admitted.get(session_id, set())

    def add(self, info: PeerInfo) -> None:
        with self._lock:
            self._rooms.setdefault(info.session_id, {})[info.peer_id] = info

    def remove(self, session_id: int, peer_id: str) -> None:
        with self._lock:
            room = self._rooms.get(session_id, {})
            room.pop(peer_id, None)
            if not room:
                self._rooms.pop(session_id, None)

    def peers(self, session_id: int) -> list[PeerInfo]:
        with self._lock:
            return list(self._rooms.get(session_id, {}).values())

    def publish(self, session_id: int, envelope: dict[str, Any]) -> None:
        if self._deliver is not None:
            self._deliver(session_id, envelope)


class RedisBus(Bus):
    """Several processes: the roster in Redis hashes, delivery over Redis pub/sub."""

    def __init__(self, url: str, prefix: str = "hearings") -> None:
        import redis

        super().__init__()
        self._redis = redis.Redis.from_url(url, decode_responses=True)
        self._pubsub: Any = None
        self._thread: Any = None
        #: Keys and channel share a prefix, so deployments (or tests) can share one Redis.
        self.prefix = prefix
        self.channel = f"{prefix}:rooms"

    def _key(self, session_id: int) -> str:
        return f"{self.prefix}:room:{session_id}:peers"

    def start(self, deliver: Deliver) -> None:
        super().start(deliver)
        self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        self._pubsub.subscribe(**{self.channel: self._on_message})
        self._thread = self._pubsub.run_in_thread(
            sleep_time=0.5, daemon=True, exception_handler=self._on_listener_error
        )

    def _on_listener_error(self, error: BaseException, pubsub: Any, thread: Any) -> None:
        # Redis went away: say so, pause, and keep listening (the next read reconnects).
        log.error("room bus: Redis listener error: %s", error)
        time.sleep(1)

    def stop(self) -> None:
        if self._thread is not None:
            self._thread.stop()
            self._thread.join(timeout=5)  # it wakes at least every sleep_time
            self._thread = None
        if self._pubsub is not None:
            self._pubsub.close()
            self._pubsub = None
        self._redis.close()

    def _on_message(self, message: dict[str, Any]) -> None:
        try:
            data = json.loads(message["data"])
            if self._deliver is not None:
                self._deliver(int(data["session_id"]), data["envelope"])
        except Exception:  # one bad message must not stop the listener thread
            log.exception("room bus: undeliverable message")

    def add(self, info: PeerInfo) -> None:
        key = self._key(info.session_id)
        pipe = self._redis.pipeline()
        pipe.hset(key, info.peer_id, json.dumps(asdict(info)))
        pipe.expire(key, 24 * 3600)  # a crashed process's peers don't linger forever
        pipe.execute()

    def remove(self, session_id: int, peer_id: str) -> None:
        self._redis.hdel(self._key(session_id), peer_id)

    def remember_admitted(self, session_id: int, participant_id: int, admitted: bool) -> None:
        key = f"{self.prefix}:room:{session_id}:admitted"
        if admitted:
            self._redis.sadd(key, participant_id)
            self._redis.expire(key, 24 * 3600)
        else:
            self._redis.srem(key, participant_id)

    def was_admitted(self, session_id: int, participant_id: int) -> bool:
        key = f"{self.prefix}:room:{session_id}:admitted"
        return bool(self._redis.sismember(key, str(participant_id)))

    def peers(self, session_id: int) -> list[PeerInfo]:
        return [PeerInfo(**json.loads(v)) for v in self._redis.hvals(self._key(session_id))]

    def publish(self, session_id: int, envelope: dict[str, Any]) -> None:
        self._redis.publish(
            self.channel, json.dumps({"session_id": session_id, "envelope": envelope})
        )
