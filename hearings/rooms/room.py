"""One session's room: its roster (on the bus, so every process sees the same), this
process's connections to it, and the envelopes sent to its peers. The hub keeps one per
session with connections here; ``moderation`` acts on a room through these methods only."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict
from typing import Any

from hearings.logs import event
from hearings.rooms.bus import Bus, PeerInfo
from hearings.rooms.connection import Connection

log = logging.getLogger("hearings.rooms.hub")  # the hub's log, as before the Room

#: Called as ``on_event(info, event, detail)`` for attendance and session progress.
EventSink = Callable[[PeerInfo, str, dict[str, Any]], None]


def waiting_frame(info: PeerInfo, kind: str) -> dict[str, Any]:
    """The ``waiting`` frame moderators get for a peer in the lobby."""
    # In a hearing a witness waits apart, called in only when the judge wants them.
    apart = kind == "hearing" and info.role == "witness"
    return {"type": "waiting", "peer": {**info.public(), "apart": apart}}


class Room:
    """A session's room as this process sees it (its roster and delivery are the bus's)."""

    def __init__(self, bus: Bus, session_id: int, on_event: EventSink) -> None:
        self.bus = bus
        self.session_id = session_id
        self._on_event = on_event
        #: This process's connections to the room, by peer id.
        self._connections: dict[str, Connection] = {}
        self._lock = threading.Lock()

    # --- this process's connections ---------------------------------------------------
    def attach(self, conn: Connection) -> None:
        """Hold a connection of this process in the room."""
        with self._lock:
            self._connections[conn.info.peer_id] = conn

    def detach(self, conn: Connection) -> bool:
        """Let go of a connection; whether it was the one held under its peer id."""
        with self._lock:
            if self._connections.get(conn.info.peer_id) is not conn:
                return False
            del self._connections[conn.info.peer_id]
            return True

    def connections(self) -> list[Connection]:
        """This process's open connections to the room."""
        with self._lock:
            return list(self._connections.values())

    @property
    def empty(self) -> bool:
        """Whether no connection of this process is in the room."""
        with self._lock:
            return not self._connections

    def deliver(self, envelope: dict[str, Any]) -> None:
        """Hand an envelope from the bus to the matching connections of this process."""
        here = self.connections()
        if envelope["kind"] == "frame":
            to = envelope.get("to")
            for conn in here:
                if to is None or conn.info.peer_id in to:
                    conn.send(envelope["frame"])
        elif envelope["kind"] == "update":
            changed = PeerInfo(**envelope["peer"])
            for conn in here:
                if conn.info.peer_id == changed.peer_id:
                    conn.info = changed
        elif envelope["kind"] == "close":
            for conn in here:
                if (
                    envelope.get("all")
                    or conn.info.peer_id in envelope.get("peer_ids", ())
                    or (
                        envelope.get("participant_id") is not None
                        and conn.info.participant_id == envelope["participant_id"]
                    )
                ):
                    conn.close(envelope["code"], envelope["reason"], envelope.get("departure"))

    # --- the roster (every process's peers) -------------------------------------------
    @contextlib.contextmanager
    def entry(self) -> Iterator[None]:
        """Changes to the roster one at a time, on every process (``Bus.room_lock``)."""
        with self.bus.room_lock(self.session_id):
            yield

    def roster(self) -> list[PeerInfo]:
        """Everyone in the room, on every process."""
        return self.bus.peers(self.session_id)

    def peer(self, peer_id: str) -> PeerInfo | None:
        """One peer of the room, if present."""
        return self.bus.peer(self.session_id, peer_id)

    def peers_by_id(self, peer_ids: list[str]) -> list[PeerInfo | None]:
        """Some peers of the room, in the order asked (None for one not present)."""
        return self.bus.peers_by_id(self.session_id, peer_ids)

    def add(self, info: PeerInfo) -> None:
        """Put a peer on the roster."""
        self.bus.add(info)

    def remove(self, peer_id: str) -> None:
        """Take a peer off the roster."""
        self.bus.remove(self.session_id, peer_id)

    def store(self, info: PeerInfo) -> None:
        """Keep a peer's new state: on the roster, and on its connection wherever it is."""
        self.bus.update(info)
        self.bus.publish(self.session_id, {"kind": "update", "peer": asdict(info)})

    def remember(self, info: PeerInfo, admitted: bool) -> None:
        """Remember (or forget) that the peer's participant was let in."""
        if info.participant_id is not None:
            self.bus.remember_admitted(self.session_id, info.participant_id, admitted)

    def was_admitted(self, participant_id: int) -> bool:
        """Whether the participant was let in and has not been sent out since."""
        return self.bus.was_admitted(self.session_id, participant_id)

    # ``roster``: the room's peers as just read from the bus (one read serves several uses).
    def admitted_beside(
        self, info: PeerInfo, subroom: str | None = None, roster: list[PeerInfo] | None = None
    ) -> list[PeerInfo]:
        """The other admitted peers in ``info``'s sub-room (or in ``subroom``)."""
        room = subroom or info.subroom
        return [
            p
            for p in (self.roster() if roster is None else roster)
            if p.state == "admitted" and p.subroom == room and p.peer_id != info.peer_id
        ]

    def moderators(self, roster: list[PeerInfo] | None = None) -> list[PeerInfo]:
        """The admitted peers who moderate."""
        peers = self.roster() if roster is None else roster
        return [p for p in peers if p.moderates and p.state == "admitted"]

    def record(self, info: PeerInfo, name: str, detail: dict[str, Any]) -> None:
        """Log a room event (one structured line) and keep it as attendance."""
        event(log, f"room.{name}", session=info.session_id, peer=info.peer_id,
              participant=info.participant_id, role=info.role, state=info.state,
              subroom=info.subroom, node=self.bus.node, **detail)  # fmt: skip
        self._on_event(info, name, detail)

    # --- envelopes (to peers on any process) ------------------------------------------
    def send_to(self, peer_ids: list[str], frame: dict[str, Any]) -> None:
        """Send a frame to some peers of the room, wherever they are connected."""
        if peer_ids:
            self.bus.publish(self.session_id, {"kind": "frame", "to": peer_ids, "frame": frame})

    def broadcast(self, frame: dict[str, Any]) -> None:
        """Send a frame to everyone in the room."""
        self.bus.publish(self.session_id, {"kind": "frame", "to": None, "frame": frame})

    def close_peers(self, peer_ids: list[str], code: int, reason: str, departure: str) -> None:
        """Close these peers' connections, wherever they are."""
        self.bus.publish(
            self.session_id,
            {"kind": "close", "peer_ids": peer_ids, "code": code, "reason": reason,
             "departure": departure},
        )  # fmt: skip

    def close_participant(self, participant_id: int, reason: str) -> None:
        """Close every connection of a participant (removed, or link revoked): 4403."""
        self.bus.publish(
            self.session_id,
            {"kind": "close", "participant_id": participant_id, "code": 4403,
             "reason": reason, "departure": "removed"},
        )  # fmt: skip

    def close(self, code: int, reason: str, departure: str) -> None:
        """Close every connection of the room."""
        self.bus.publish(
            self.session_id,
            {"kind": "close", "all": True, "code": code, "reason": reason, "departure": departure},
        )

    def tell_subrooms(self, roster: list[PeerInfo], changed: bool = False) -> None:
        """Tell the moderators who is in which sub-room, while any caucus is in use.

        ``peer-joined``/``peer-left`` (and ``welcome``/``admitted`` lists) mean "in your
        sub-room: expect or send an offer", so a peer elsewhere can't be announced with them;
        this frame of its own, sent to moderators only, carries no one's media or signaling.
        ``changed``: a caucus just emptied, so send even when everyone is back in ``main``.
        """
        admitted = [p for p in roster if p.state == "admitted"]
        if not changed and all(p.subroom == "main" for p in admitted):
            return
        frame = {
            "type": "subrooms",
            "peers": [{**p.public(), "subroom": p.subroom} for p in admitted],
        }
        self.send_to([p.peer_id for p in admitted if p.moderates], frame)

    def tell_gone(self, info: PeerInfo) -> None:
        """Tell those who knew of a peer that it is gone (``peer-left``)."""
        roster = self.roster()
        if info.state == "admitted":
            audience = self.admitted_beside(info, roster=roster)
        else:
            audience = self.moderators(roster)
        self.send_to([p.peer_id for p in audience], {"type": "peer-left", "peer_id": info.peer_id})
        if info.state == "admitted":
            self.tell_subrooms(roster, changed=info.subroom != "main")
