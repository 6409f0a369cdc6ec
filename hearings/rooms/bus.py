"""The room bus: who is in which room, and delivery of frames to peers on any process.

Here: what the bus promises (``Bus``), what it carries (``PeerInfo``), and the in-process
bus for a single process. With ``HEARINGS_REDIS_URL`` the Redis bus (``redis_bus``) does the
same across processes.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol


class BusUnavailable(Exception):
    """The bus can't reach the other processes now (Redis does not answer)."""


class Owner(Protocol):
    """What the bus calls back: the hub of this process."""

    def deliver(self, session_id: int, envelope: dict[str, Any]) -> None:
        """Hand an envelope published to a room to this process's connections."""

    def local_peers(self) -> list[PeerInfo]:
        """The peers connected to this process, as they stand."""

    def reaped(self, peers: list[PeerInfo], *, record: bool) -> None:
        """These peers are gone (with their process, if ``record``): tell their rooms."""


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
        #: This process: host, pid and a nonce (the pid shows operators which one).
        self.node = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._owner: Owner | None = None

    def start(self, owner: Owner) -> None:
        """Begin handing every envelope published to any room to ``owner.deliver``."""
        self._owner = owner

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

    @contextlib.contextmanager
    def room_lock(self, session_id: int) -> Iterator[None]:
        """Changes to one room's roster one at a time, on every process: of two peers
        entering at once, exactly one sees the other (and offers to it)."""
        raise NotImplementedError
        yield

    def peer(self, session_id: int, peer_id: str) -> PeerInfo | None:
        """One peer of the room, if present."""
        return self.peers_by_id(session_id, [peer_id])[0]

    def peers_by_id(self, session_id: int, peer_ids: list[str]) -> list[PeerInfo | None]:
        """Some peers of the room, in the order asked (None for one not present)."""
        room = {p.peer_id: p for p in self.peers(session_id)}
        return [room.get(peer_id) for peer_id in peer_ids]

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
        self._entering = threading.RLock()

    @contextlib.contextmanager
    def room_lock(self, session_id: int) -> Iterator[None]:
        with self._entering:  # one process, and entering a room is rare: one lock for all
            yield

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

    def peers_by_id(self, session_id: int, peer_ids: list[str]) -> list[PeerInfo | None]:
        with self._lock:
            room = self._rooms.get(session_id, {})
            return [room.get(peer_id) for peer_id in peer_ids]

    def publish(self, session_id: int, envelope: dict[str, Any]) -> None:
        if self._owner is not None:
            self._owner.deliver(session_id, envelope)
