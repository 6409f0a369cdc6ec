"""The signaling hub: the join handshake's aftermath, the waiting room, relay, and the
moderator's controls. One hub per process; rooms span processes through the bus."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from hearings.logs import event
from hearings.rooms import moderation
from hearings.rooms.bus import Bus, BusUnavailable, PeerInfo
from hearings.rooms.connection import Connection
from hearings.rooms.moderation import ProtocolError

log = logging.getLogger(__name__)

#: Close code telling clients to come back (through another process): "service restart".
SERVICE_RESTART = 1012

RELAYED = ("offer", "answer", "candidate")

#: Called as ``on_event(info, event, detail)`` for attendance and session progress.
EventSink = Callable[[PeerInfo, str, dict[str, Any]], None]


class Hub:
    """Rooms of this process's connections, coordinated through the bus (the moderator's
    controls are in ``moderation``)."""

    def __init__(
        self,
        bus: Bus,
        on_event: EventSink,
        context: Callable[[], contextlib.AbstractContextManager[Any]] = contextlib.nullcontext,
        ping_interval: float = 20.0,
    ) -> None:
        self.bus = bus
        #: One pinger for all of this process's sockets (not a timer in each socket's reader:
        #: a select per frame per socket costs the relay a tenth of its CPU).
        self.ping_interval = ping_interval
        self._pinger: threading.Thread | None = None
        self._stopping = threading.Event()
        self.on_event = on_event
        #: Entered around work the bus's own threads start (the app context, for records).
        self._context = context
        #: This process's connections, by room and peer id.
        self._local: dict[int, dict[str, Connection]] = {}
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
        return len(connections)

    def deliver(self, session_id: int, envelope: dict[str, Any]) -> None:
        """Hand an envelope from the bus to the matching local connections."""
        with self._lock:
            here = list(self._local.get(session_id, {}).values())
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

    def local_peers(self) -> list[PeerInfo]:
        """The peers connected to this process (the bus restores them after an outage)."""
        return [conn.info for conn in self.local_connections()]

    def reaped(self, peers: list[PeerInfo], *, record: bool) -> None:
        """Peers whose process is gone (``record``: their drop is not on file yet), or who
        left this one while Redis was away: tell the rooms."""
        with self._context():
            for info in peers:
                try:
                    self._tell_gone(info)
                    if record:
                        self._record(info, "dropped", {"by": "process gone"})
                except Exception:  # one room's trouble must not keep the others uninformed
                    log.exception("room: could not announce a gone peer")

    def _tell_gone(self, info: PeerInfo) -> None:
        roster = self.bus.peers(info.session_id)
        if info.state == "admitted":
            audience = self._admitted(info, roster=roster)
        else:
            audience = self._moderators(info.session_id, roster)
        self.send_to(info.session_id, [p.peer_id for p in audience],
                     {"type": "peer-left", "peer_id": info.peer_id})  # fmt: skip
        if info.state == "admitted":
            self._tell_subrooms(info.session_id, roster, changed=info.subroom != "main")

    def local_connections(self, session_id: int | None = None) -> list[Connection]:
        """This process's open connections (of one room, or all)."""
        with self._lock:
            rooms = (
                self._local.values() if session_id is None else [self._local.get(session_id, {})]
            )
            return [c for room in rooms for c in room.values()]

    def send_to(self, session_id: int, peer_ids: list[str], frame: dict[str, Any]) -> None:
        """Send a frame to some peers of a room, wherever they are connected."""
        if peer_ids:
            self.bus.publish(session_id, {"kind": "frame", "to": peer_ids, "frame": frame})

    def broadcast(self, session_id: int, frame: dict[str, Any]) -> None:
        """Send a frame to everyone in the room."""
        self.bus.publish(session_id, {"kind": "frame", "to": None, "frame": frame})

    def announce_recording(self, session_id: int, state: str, **detail: Any) -> None:
        """Tell everyone in the room that recording started or stopped (contract)."""
        self.broadcast(session_id, {"type": "recording", "state": state, **detail})

    def close_participant(self, session_id: int, participant_id: int, reason: str) -> None:
        """Close every connection of a participant (removed, or link revoked): 4403."""
        self.bus.publish(
            session_id,
            {"kind": "close", "participant_id": participant_id, "code": 4403,
             "reason": reason, "departure": "removed"},
        )  # fmt: skip

    def close_room(self, session_id: int, code: int, reason: str, departure: str) -> None:
        """Close every connection of a room."""
        self.bus.publish(
            session_id,
            {"kind": "close", "all": True, "code": code, "reason": reason, "departure": departure},
        )

    # --- roster helpers ---------------------------------------------------------------
    def _record(self, info: PeerInfo, name: str, detail: dict[str, Any]) -> None:
        """Log a room event (one structured line) and keep it as attendance."""
        event(log, f"room.{name}", session=info.session_id, peer=info.peer_id,
              participant=info.participant_id, role=info.role, state=info.state,
              subroom=info.subroom, node=self.bus.node, **detail)  # fmt: skip
        self.on_event(info, name, detail)

    # ``roster``: the room's peers as just read from the bus (one read serves several uses).
    def _admitted(
        self, info: PeerInfo, subroom: str | None = None, roster: list[PeerInfo] | None = None
    ) -> list[PeerInfo]:
        room = subroom or info.subroom
        return [
            p
            for p in (self.bus.peers(info.session_id) if roster is None else roster)
            if p.state == "admitted" and p.subroom == room and p.peer_id != info.peer_id
        ]

    def _moderators(self, session_id: int, roster: list[PeerInfo] | None = None) -> list[PeerInfo]:
        peers = self.bus.peers(session_id) if roster is None else roster
        return [p for p in peers if p.moderates and p.state == "admitted"]

    def _tell_subrooms(
        self, session_id: int, roster: list[PeerInfo], changed: bool = False
    ) -> None:
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
        self.send_to(session_id, [p.peer_id for p in admitted if p.moderates], frame)

    def _waiting_frame(self, info: PeerInfo, kind: str) -> dict[str, Any]:
        # In a hearing a witness waits apart, called in only when the judge wants them.
        apart = kind == "hearing" and info.role == "witness"
        return {"type": "waiting", "peer": {**info.public(), "apart": apart}}

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
            self._local.setdefault(info.session_id, {})[info.peer_id] = conn
            self._open += 1
            self._empty.clear()
        # One entry at a time per room: of two peers arriving together, one offers.
        with self.bus.room_lock(info.session_id):
            self.bus.add(info)
            self._record(info, "joined", {})
            welcome: dict[str, Any] = {
                "type": "welcome",
                "peer_id": info.peer_id,
                "role": info.role,
                # What the token allows: the client shows a moderator's controls from this,
                # never from a copy of the server's rule about roles.
                "can": list(info.can),
                "state": info.state,
                "peers": [],
                "ice_servers": ice_servers,
            }
            if info.state == "admitted":
                # Recorded before anyone hears of it: what peers are told is already on file.
                self._record(info, "admitted", {"by": "reconnect" if back else "role"})
                roster = self.bus.peers(info.session_id)
                others = self._admitted(info, roster=roster)
                welcome["peers"] = [p.public() for p in others]
                # The others hear of the arrival before it can offer them anything: its
                # offer never overtakes the name and role it comes from.
                self.send_to(info.session_id, [p.peer_id for p in others],
                             {"type": "peer-joined", "peer": info.public()})  # fmt: skip
                conn.send(welcome)
                for waiting in roster:
                    if waiting.state == "waiting":
                        conn.send(self._waiting_frame(waiting, kind))
                if kind == "mediation":
                    self._tell_subrooms(info.session_id, roster)
            else:
                conn.send(welcome)
                moderators = [m.peer_id for m in self._moderators(info.session_id)]
                self.send_to(info.session_id, moderators, self._waiting_frame(info, kind))

    def depart(self, conn: Connection) -> None:
        """The connection is gone: tell the room, keep the attendance record."""
        info = conn.info
        with self._lock:
            room = self._local.get(info.session_id, {})
            if room.get(info.peer_id) is not conn:
                return
            del room[info.peer_id]
            if not room:
                del self._local[info.session_id]
        try:
            try:
                current = self.bus.peer(info.session_id, info.peer_id) or info
                self.bus.remove(info.session_id, info.peer_id)
                self._tell_gone(current)
            except BusUnavailable:
                # The roster is put right (and the room told) when Redis is back.
                current = info
            self._record(current, conn.departure, {})
        finally:
            with self._lock:
                self._open -= 1
                if not self._open:
                    self._empty.set()

    def handle(self, conn: Connection, message: dict[str, Any], kind: str) -> None:
        """Act on one frame from a peer."""
        kind_of = message.get("type")
        to = message.get("to") if kind_of in RELAYED else None
        # The sender as the roster has it now (and a relay's addressee, in the same read).
        me, target = self.bus.peers_by_id(
            conn.info.session_id, [conn.info.peer_id, to if isinstance(to, str) else ""]
        )
        if me is None:
            raise ProtocolError("not in the room")
        if kind_of in RELAYED:
            self._relay(me, target, message)
        elif kind_of == "leave":
            self._remember(me, False)  # leaving on purpose: coming back means asking again
            conn.departure = "left"
            conn.close(1000, "left")
        elif kind_of == "ping":
            conn.send({"type": "pong"})
        elif isinstance(kind_of, str) and kind_of in moderation.ACTIONS:
            if not me.moderates or me.state != "admitted":
                raise ProtocolError(f"only the judge or mediator may {kind_of}")
            with self.bus.room_lock(me.session_id):
                moderation.ACTIONS[kind_of](self, me, message, kind)
        else:
            raise ProtocolError(f"unknown frame type {kind_of!r}")

    def _store(self, info: PeerInfo) -> None:
        """Keep a peer's new state: on the roster, and on its connection wherever it is."""
        self.bus.update(info)
        self.bus.publish(info.session_id, {"kind": "update", "peer": asdict(info)})

    def _remember(self, info: PeerInfo, admitted: bool) -> None:
        if info.participant_id is not None:
            self.bus.remember_admitted(info.session_id, info.participant_id, admitted)

    def _target(self, me: PeerInfo, message: dict[str, Any]) -> PeerInfo:
        peer_id = message.get("peer_id")
        target = self.bus.peer(me.session_id, peer_id) if isinstance(peer_id, str) else None
        if target is None:
            raise ProtocolError("no such peer in this room")
        return target

    def _relay(self, me: PeerInfo, target: PeerInfo | None, message: dict[str, Any]) -> None:
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
        self.send_to(me.session_id, [target.peer_id], frame)
        event(log, "room.relay", logging.DEBUG, session=me.session_id, peer=me.peer_id,
              to=target.peer_id, frame=message["type"])  # fmt: skip
