"""The Redis bus: the roster in Redis hashes and frames over Redis pub/sub, so two peers of
one room connected to different app processes reach each other (``HEARINGS_REDIS_URL``).

Processes come and go (a restart, a crash) and Redis may be away for a while. Each process
beats a heartbeat into Redis; a process whose heartbeat stands still while the others watch
is gone, and the first to notice takes its peers off the rosters (the rooms hear
``peer-left``). When Redis answers again after an outage, each process puts its own peers
back as they are (Redis may have restarted empty) and drops the ones that left meanwhile.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

from hearings.rooms.bus import Bus, BusUnavailable, Owner, PeerInfo

# The bus's log, as before the split: operators' filters keep matching.
log = logging.getLogger("hearings.rooms.bus")

#: Seconds between two heartbeats of a process on the Redis bus; a process whose heartbeat
#: has not moved for ``DEAD_AFTER`` seconds of another's watching is gone.
HEARTBEAT_SECONDS = 2.0
DEAD_AFTER_SECONDS = 8.0


class RedisBus(Bus):
    """Several processes: the roster in Redis hashes, delivery over Redis pub/sub."""

    def __init__(self, url: str, prefix: str = "hearings") -> None:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        super().__init__()
        # Fail fast when Redis is away (one retry covers a connection gone stale): a
        # room's frame waits for no backoff; the hub answers "try again" instead.
        self._redis: Any = redis.Redis.from_url(
            url, decode_responses=True, socket_timeout=5, socket_connect_timeout=2,
            retry=Retry(NoBackoff(), 1),
        )  # fmt: skip
        self._errors: tuple[type[Exception], ...] = (redis.ConnectionError, redis.TimeoutError)
        self._pubsub: Any = None
        self._thread: Any = None
        self._beat: threading.Thread | None = None
        self._stopping = threading.Event()
        #: Other processes' heartbeats as last seen: node -> (beat, when it last moved).
        self._seen: dict[str, tuple[float, float]] = {}
        #: Whether the last heartbeat failed (Redis away): the next success restores.
        self.lost = False
        #: Keys and channel share a prefix, so deployments (or tests) can share one Redis.
        self.prefix = prefix
        self.channel = f"{prefix}:rooms"
        self._nodes = f"{prefix}:nodes"

    def _key(self, session_id: int) -> str:
        return f"{self.prefix}:room:{session_id}:peers"

    @contextlib.contextmanager
    def room_lock(self, session_id: int) -> Iterator[None]:
        lock = self._redis.lock(
            f"{self.prefix}:room:{session_id}:lock", timeout=10, sleep=0.01, blocking_timeout=10
        )
        with self._redis_answers():
            if not lock.acquire():
                raise BusUnavailable("the room is busy; try again")
        try:
            yield
        finally:
            with contextlib.suppress(Exception):  # expired, or Redis gone: it lapses itself
                lock.release()

    def _held(self, node: str) -> str:
        return f"{self.prefix}:node:{node}:peers"

    @contextlib.contextmanager
    def _redis_answers(self) -> Iterator[None]:
        try:
            yield
        except self._errors as error:
            raise BusUnavailable(str(error)) from error

    def start(self, owner: Owner) -> None:
        super().start(owner)
        with self._redis_answers():
            self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            self._pubsub.subscribe(**{self.channel: self._on_message})
            self._redis.zadd(self._nodes, {self.node: time.time()})
        self._thread = self._pubsub.run_in_thread(
            sleep_time=0.5, daemon=True, exception_handler=self._on_listener_error
        )
        self._stopping.clear()
        self._beat = threading.Thread(target=self._heartbeat, name="room-bus-beat", daemon=True)
        self._beat.start()

    def _on_listener_error(self, error: BaseException, pubsub: Any, thread: Any) -> None:
        # Redis went away: say so, pause, and keep listening (the next read reconnects and
        # subscribes again).
        log.error("room bus: Redis listener error: %s", error)
        time.sleep(1)

    def stop(self) -> None:
        self._stopping.set()
        if self._beat is not None:
            self._beat.join(timeout=5)
            self._beat = None
        if self._thread is not None:
            self._thread.stop()
            self._thread.join(timeout=5)  # it wakes at least every sleep_time
            self._thread = None
        if self._pubsub is not None:
            self._pubsub.close()
            self._pubsub = None
        with contextlib.suppress(*self._errors):
            self._redis.zrem(self._nodes, self.node)
        self._redis.close()

    # --- liveness -------------------------------------------------------------------
    def _heartbeat(self) -> None:
        while not self._stopping.wait(HEARTBEAT_SECONDS):
            try:
                self.beat()
            except Exception as error:  # Redis away, or a reaping gone wrong: next beat
                if not self.lost:
                    log.error("room bus: Redis unavailable: %s", error)
                self.lost, self._seen = True, {}

    def beat(self) -> None:
        """One heartbeat: say this process lives, restore after an outage, reap the dead."""
        now = time.time()
        self._redis.zadd(self._nodes, {self.node: now})
        if self.lost and self._owner is not None:
            self._restore(self._owner.local_peers())
            log.warning("room bus: Redis answers again; this process's peers restored")
        self.lost = False
        watched = time.monotonic()
        for node, beat in self._redis.zrange(self._nodes, 0, -1, withscores=True):
            if node == self.node:
                continue
            last, since = self._seen.get(node, (beat, watched))
            if beat != last:
                last, since = beat, watched
            self._seen[node] = (last, since)
            if watched - since >= DEAD_AFTER_SECONDS:
                self._reap(node)

    def _restore(self, mine: list[PeerInfo]) -> None:
        """Put this process's peers back on the rosters; drop those that left meanwhile."""
        here = {f"{p.session_id}:{p.peer_id}" for p in mine}
        ghosts = [m for m in self._redis.smembers(self._held(self.node)) if m not in here]
        gone = self._take_off(self.node, ghosts)
        for info in mine:
            self.add(info)
            if info.state == "admitted" and info.participant_id is not None:
                self.remember_admitted(info.session_id, info.participant_id, True)
        if gone and self._owner is not None:
            self._owner.reaped(gone, record=False)  # their departures were recorded here

    def _reap(self, node: str) -> None:
        """Take a gone process's peers off the rosters; the first process to see it does."""
        if not self._redis.zrem(self._nodes, node):
            return  # another process is reaping it
        self._seen.pop(node, None)
        gone = self._take_off(node, list(self._redis.smembers(self._held(node))))
        self._redis.delete(self._held(node))
        log.warning("room bus: process %s is gone; %d of its peers taken off", node, len(gone))
        if gone and self._owner is not None:
            self._owner.reaped(gone, record=True)

    def _take_off(self, node: str, members: list[str]) -> list[PeerInfo]:
        """Remove ``session:peer`` members of a process from their rosters; who they were."""
        gone = []
        for member in members:
            session_id, peer_id = member.split(":", 1)
            raw = self._redis.hget(self._key(int(session_id)), peer_id)
            if raw is not None:
                gone.append(PeerInfo(**json.loads(raw)))
            self._redis.hdel(self._key(int(session_id)), peer_id)
            self._redis.srem(self._held(node), member)
        return gone

    # --- delivery and the roster ------------------------------------------------------
    def _on_message(self, message: dict[str, Any]) -> None:
        try:
            data = json.loads(message["data"])
            if self._owner is not None:
                self._owner.deliver(int(data["session_id"]), data["envelope"])
        except Exception:  # one bad message must not stop the listener thread
            log.exception("room bus: undeliverable message")

    def add(self, info: PeerInfo) -> None:
        key = self._key(info.session_id)
        with self._redis_answers():
            pipe = self._redis.pipeline()
            pipe.hset(key, info.peer_id, json.dumps(asdict(info)))
            pipe.expire(key, 24 * 3600)  # a crashed process's peers don't linger forever
            pipe.sadd(self._held(self.node), f"{info.session_id}:{info.peer_id}")
            pipe.expire(self._held(self.node), 24 * 3600)
            pipe.execute()

    def update(self, info: PeerInfo) -> None:
        with self._redis_answers():
            self._redis.hset(self._key(info.session_id), info.peer_id, json.dumps(asdict(info)))

    def remove(self, session_id: int, peer_id: str) -> None:
        with self._redis_answers():
            pipe = self._redis.pipeline()
            pipe.hdel(self._key(session_id), peer_id)
            pipe.srem(self._held(self.node), f"{session_id}:{peer_id}")
            pipe.execute()

    def remember_admitted(self, session_id: int, participant_id: int, admitted: bool) -> None:
        key = f"{self.prefix}:room:{session_id}:admitted"
        with self._redis_answers():
            if admitted:
                self._redis.sadd(key, participant_id)
                self._redis.expire(key, 24 * 3600)
            else:
                self._redis.srem(key, participant_id)

    def was_admitted(self, session_id: int, participant_id: int) -> bool:
        key = f"{self.prefix}:room:{session_id}:admitted"
        with self._redis_answers():
            return bool(self._redis.sismember(key, str(participant_id)))

    def peers(self, session_id: int) -> list[PeerInfo]:
        with self._redis_answers():
            values = self._redis.hvals(self._key(session_id))
        return [PeerInfo(**json.loads(v)) for v in values]

    def peers_by_id(self, session_id: int, peer_ids: list[str]) -> list[PeerInfo | None]:
        # One HMGET: a relayed frame reads its sender and its addressee in one round trip.
        with self._redis_answers():
            values = self._redis.hmget(self._key(session_id), peer_ids)
        return [None if v is None else PeerInfo(**json.loads(v)) for v in values]

    def publish(self, session_id: int, envelope: dict[str, Any]) -> None:
        with self._redis_answers():
            self._redis.publish(
                self.channel, json.dumps({"session_id": session_id, "envelope": envelope})
            )
