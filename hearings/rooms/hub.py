"""The signaling hub: the join handshake's aftermath, the waiting room, relay, and the
moderator's controls. One hub per process; rooms span processes through the bus."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any

from hearings.logs import event
from hearings.rooms import moderation
from hearings.rooms.bus import Bus, BusUnavailable, PeerInfo
from hearings.rooms.connection import Connection
from hearings.rooms.moderation import ProtocolError
from hearings.rooms.room import EventSink, Room, waiting_frame
from hearings.rooms.sfu_room import MEDIA_FRAMES, SfuDriver
from hearings.rooms.sfu_state import MediaFrameError

log = logging.getLogger(__name__)

#: Close code telling clients to come back (through another process): "service restart".
SERVICE_RESTART = 1012

RELAYED = ("offer", "answer", "candidate")


class Hub:
    """This process's rooms (one ``Room`` per session with connections here), coordinated
    through the bus; the join handshake, relay and the frames' dispatch (the moderator's
    controls are in ``moderation``)."""

    def __init__(
        self,
        bus: Bus,
        on_event: EventSink,
        context: Callable[[], contextlib.AbstractContextManager[Any]] = contextlib.nullcontext,
        ping_interval: float = 20.0,
        sfu: SfuDriver | None = None,
    ) -> None:
        self.bus = bus
        #: The SFU (Janus) driver when one is configured; None: the browser mesh.
        self.sfu = sfu
        #: One pinger for all of this process's sockets (not a timer in each socket's reader:
        #: a select per frame per socket costs the relay a tenth of its CPU).
        self.ping_interval = ping_interval
        self._pinger: threading.Thread | None = None
        self._stopping = threading.Event()
        self.on_event = on_event
        #: Entered around work the bus's own threads start (the app context, for records).
        self._context = context
        #: The rooms holding this process's connections, by session id.
        self._rooms: dict[int, Room] = {}
        self._lock = threading.Lock()
        self._started = False
        #: Set once the process stops: whoever still reaches it is sent on (1012).
        self.closing = False
        #: Connections joined and not yet departed (recorded); shutdown waits for none.
        self._open = 0
        self._empty = threading.Event()
        self._empty.set()

    # --- delivery ---------------------------------------------------------------------
    def ensure_started(self) -> None:
        """Start listening on the bus (lazily: apps that never open a room don't)."""
        with self._lock:
            if not self._started:
                self.bus.start(self)
                self._started = True
                self._stopping.clear()
                if self.ping_interval > 0:
                    self._pinger = threading.Thread(target=self._ping, name="room-pinger",
                                                    daemon=True)  # fmt: skip
                    self._pinger.start()

    def stop(self) -> None:
        """Stop the bus listener."""
        with self._lock:
            if self._started:
                self._stopping.set()
                self.bus.stop()
                self._started = False
        if self.sfu is not None:
            self.sfu.stop()

    def _ping(self) -> None:
        """Ping every socket once each interval, the pings spread evenly over it (a burst of
        a thousand at once held up every relay of the process); one silent for a whole
        interval is dropped."""
        while not self._stopping.is_set():
            connections = self.local_connections()
            if not connections:
                self._stopping.wait(self.ping_interval)
                continue
            gap = self.ping_interval / len(connections)
            for conn in connections:
                if self._stopping.wait(gap):
                    return
                if not conn.ping():
                    info = conn.info
                    event(log, "room.closed", session=info.session_id, peer=info.peer_id,
                          code=1011, reason="no answer to ping")  # fmt: skip

    def shutdown(
        self, code: int = SERVICE_RESTART, reason: str = "service restart", wait: float = 10.0
    ) -> int:
        """Tell every connection of this process to reconnect (elsewhere), and wait up to
        ``wait`` seconds for their handlers to record the departures; how many there were."""
        self.closing = True
        connections = self.local_connections()
        event(log, "room.shutdown", connections=len(connections), code=code)
        for conn in connections:
            conn.close(code, reason)
        self._empty.wait(wait)
        if self.sfu is not None:
            self.sfu.stop()
        return len(connections)

    def room(self, session_id: int) -> Room:
        """The session's room: the one holding this process's connections, or a fresh one
        (a room with none here is still on the bus: its roster and delivery are there)."""
        with self._lock:
            room = self._rooms.get(session_id)
        return room if room is not None else Room(self.bus, session_id, self.on_event)

    def deliver(self, session_id: int, envelope: dict[str, Any]) -> None:
        """Hand an envelope from the bus to the matching local connections."""
        with self._lock:
            room = self._rooms.get(session_id)
        if room is not None:
            room.deliver(envelope)

    def local_peers(self) -> list[PeerInfo]:
        """The peers connected to this process (the bus restores them after an outage)."""
        return [conn.info for conn in self.local_connections()]

    def reaped(self, peers: list[PeerInfo], *, record: bool) -> None:
        """Peers whose process is gone (``record``: their drop is not on file yet), or who
        left this one while Redis was away: tell the rooms."""
        with self._context():
            for info in peers:
                try:
                    room = self.room(info.session_id)
                    room.tell_gone(info)
                    if record:
                        room.record(info, "dropped", {"by": "process gone"})
                except Exception:  # one room's trouble must not keep the others uninformed
                    log.exception("room: could not announce a gone peer")

    def local_connections(self, session_id: int | None = None) -> list[Connection]:
        """This process's open connections (of one room, or all)."""
        with self._lock:
            rooms = (
                list(self._rooms.values())
                if session_id is None
                else [r for r in [self._rooms.get(session_id)] if r is not None]
            )
        return [c for room in rooms for c in room.connections()]

    def send_to(self, session_id: int, peer_ids: list[str], frame: dict[str, Any]) -> None:
        """Send a frame to some peers of a room, wherever they are connected."""
        self.room(session_id).send_to(peer_ids, frame)

    def broadcast(self, session_id: int, frame: dict[str, Any]) -> None:
        """Send a frame to everyone in the room."""
        self.room(session_id).broadcast(frame)

    def announce_recording(self, session_id: int, state: str, **detail: Any) -> None:
        """Tell everyone in the room that recording started or stopped (contract)."""
        self.broadcast(session_id, {"type": "recording", "state": state, **detail})

    def close_participant(self, session_id: int, participant_id: int, reason: str) -> None:
        """Close every connection of a participant (removed, or link revoked): 4403."""
        self.room(session_id).close_participant(participant_id, reason)

    def close_room(self, session_id: int, code: int, reason: str, departure: str) -> None:
        """Close every connection of a room."""
        self.room(session_id).close(code, reason, departure)

    # --- the protocol -----------------------------------------------------------------
    def join(self, conn: Connection, kind: str, ice_servers: list[dict[str, Any]]) -> None:
        """Enter the room: moderators at once, everyone else into the waiting room."""
        if self.closing:
            # The server takes a moment to stop accepting: send latecomers on, too.
            conn.close(SERVICE_RESTART, "service restart")
            return
        self.ensure_started()
        info = conn.info
        info.node = self.bus.node
        # Moderators and the server's recorder are in at once; so is a party the court let
        # in before whose connection dropped (it comes back on its own). Others wait.
        back = info.participant_id is not None and self.bus.was_admitted(
            info.session_id, info.participant_id
        )
        at_once = info.moderates or "record" in info.can or back
        info.state = "admitted" if at_once else "waiting"
        with self._lock:
            room = self._rooms.get(info.session_id)
            if room is None:
                room = self._rooms[info.session_id] = Room(self.bus, info.session_id, self.on_event)
            room.attach(conn)
            self._open += 1
            self._empty.clear()
        # One entry at a time per room: of two peers arriving together, one offers.
        with room.entry():
            room.add(info)
            room.record(info, "joined", {})
            welcome: dict[str, Any] = {
                "type": "welcome",
                "peer_id": info.peer_id,
                "role": info.role,
                # What the token allows: the client shows a moderator's controls from this,
                # never from a copy of the server's rule about roles.
                "can": list(info.can),
                "state": info.state,
                # The media plane: "sfu" (publish to and subscribe from the server) or
                # "mesh" (offer to peers).
                "media": "mesh" if self.sfu is None else "sfu",
                "peers": [],
                "ice_servers": ice_servers,
            }
            if info.state == "admitted":
                # Recorded before anyone hears of it: what peers are told is already on file.
                room.record(info, "admitted", {"by": "reconnect" if back else "role"})
                roster = room.roster()
                others = room.admitted_beside(info, roster=roster)
                welcome["peers"] = [p.public() for p in others]
                # The others hear of the arrival before it can offer them anything: its
                # offer never overtakes the name and role it comes from.
                room.send_to([p.peer_id for p in others],
                             {"type": "peer-joined", "peer": info.public()})  # fmt: skip
                conn.send(welcome)
                for waiting in roster:
                    if waiting.state == "waiting":
                        conn.send(waiting_frame(waiting, kind))
                if kind == "mediation":
                    room.tell_subrooms(roster)
                if self.sfu is not None:
                    self.sfu.refresh(room)
            else:
                conn.send(welcome)
                moderators = [m.peer_id for m in room.moderators()]
                room.send_to(moderators, waiting_frame(info, kind))

    def depart(self, conn: Connection) -> None:
        """The connection is gone: tell the room, keep the attendance record."""
        info = conn.info
        with self._lock:
            room = self._rooms.get(info.session_id)
            if room is None or not room.detach(conn):
                return
            if room.empty:
                del self._rooms[info.session_id]
        try:
            try:
                current = room.peer(info.peer_id) or info
                room.remove(info.peer_id)
                room.tell_gone(current)
            except BusUnavailable:
                # The roster is put right (and the room told) when Redis is back.
                current = info
            room.record(current, conn.departure, {})
            if self.sfu is not None:
                self.sfu.drop(room, info.peer_id)
                if room.empty:  # the last of this process's peers (SFU mode: one process)
                    self.sfu.close(info.session_id)
        finally:
            with self._lock:
                self._open -= 1
                if not self._open:
                    self._empty.set()

    def handle(self, conn: Connection, message: dict[str, Any], kind: str) -> None:
        """Act on one frame from a peer."""
        kind_of = message.get("type")
        to = message.get("to") if kind_of in RELAYED else None
        room = self.room(conn.info.session_id)
        # The sender as the roster has it now (and a relay's addressee, in the same read).
        me, target = room.peers_by_id([conn.info.peer_id, to if isinstance(to, str) else ""])
        if me is None:
            raise ProtocolError("not in the room")
        if kind_of in MEDIA_FRAMES or (kind_of == "candidate" and "pc" in message):
            self._media(room, me, message)
        elif kind_of in RELAYED:
            self._relay(room, me, target, message)
        elif kind_of == "leave":
            room.remember(me, False)  # leaving on purpose: coming back means asking again
            conn.departure = "left"
            conn.close(1000, "left")
        elif kind_of == "ping":
            conn.send({"type": "pong"})
        elif isinstance(kind_of, str) and kind_of in moderation.ACTIONS:
            if not me.moderates or me.state != "admitted":
                raise ProtocolError(f"only the judge or mediator may {kind_of}")
            with room.entry():
                moderation.ACTIONS[kind_of](room, me, message, kind)
            if self.sfu is not None:  # after the roster changed, outside the room's lock
                self.sfu.follow(room, kind_of, message)
        else:
            raise ProtocolError(f"unknown frame type {kind_of!r}")

    def _media(self, room: Room, me: PeerInfo, message: dict[str, Any]) -> None:
        if self.sfu is None:
            raise ProtocolError("this room is a mesh: send offers to peers")
        if me.state != "admitted":
            raise ProtocolError("wait until you are admitted")
        try:
            self.sfu.frame(room, me, message)
        except MediaFrameError as error:
            raise ProtocolError(str(error)) from None

    def _relay(
        self, room: Room, me: PeerInfo, target: PeerInfo | None, message: dict[str, Any]
    ) -> None:
        if me.state != "admitted":
            raise ProtocolError("wait until you are admitted")
        if target is None or target.state != "admitted" or target.subroom != me.subroom:
            raise ProtocolError("no such peer here")
        if message["type"] in ("offer", "answer"):
            sdp = message.get("sdp")
            kinds = ("offer", "answer", "pranswer", "rollback")
            if not (
                isinstance(sdp, dict)
                and isinstance(sdp.get("sdp"), str)
                and sdp.get("type") in kinds
            ):
                raise ProtocolError("sdp must be {type, sdp}")
            payload: dict[str, Any] = {"sdp": {"type": sdp["type"], "sdp": sdp["sdp"]}}
        else:
            candidate = message.get("candidate")
            if not isinstance(candidate, dict | None):
                raise ProtocolError("candidate must be an object")
            payload = {"candidate": candidate}
        frame = {"type": message["type"], "to": target.peer_id, "from": me.peer_id, **payload}
        room.send_to([target.peer_id], frame)
        event(log, "room.relay", logging.DEBUG, session=me.session_id, peer=me.peer_id,
              to=target.peer_id, frame=message["type"])  # fmt: skip
