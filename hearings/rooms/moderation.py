"""The moderator's controls of a room: admit, send back to wait, mute and unmute, remove,
start, end, and the caucus sub-rooms of a mediation (背对背); ``Hub.handle`` calls them by
frame type, each on the ``Room`` (its public methods only)."""

from __future__ import annotations

import logging
import re
from typing import Any

from hearings.logs import event
from hearings.rooms.bus import PeerInfo
from hearings.rooms.room import Room, waiting_frame
from hearings.rooms.signals import session_started
from hearings.scheduling.vocabulary import Kind, ParticipantRole

log = logging.getLogger("hearings.rooms.hub")  # the hub's log, as before

SUBROOM = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")


class ProtocolError(Exception):
    """A frame the hub can't act on; the peer gets an ``error`` frame and stays."""


def _target(room: Room, message: dict[str, Any]) -> PeerInfo:
    peer_id = message.get("peer_id")
    target = room.peer(peer_id) if isinstance(peer_id, str) else None
    if target is None:
        raise ProtocolError("no such peer in this room")
    return target


def admit(room: Room, me: PeerInfo, message: dict[str, Any], kind: str) -> None:
    target = _target(room, message)
    if target.state != "waiting":
        raise ProtocolError("that peer is not waiting")
    # Into the main room, even when the moderator admitting is in a caucus: a caucus is
    # private to the side the mediator talks to there.
    target.state, target.subroom = "admitted", "main"
    room.store(target)
    room.remember(target, True)
    room.record(target, "admitted", {"by": me.peer_id})
    roster = room.roster()
    others = room.admitted_beside(target, roster=roster)
    # peer-joined first: the admitted peer's offers follow its name (see ``join``).
    room.send_to([p.peer_id for p in others],
                 {"type": "peer-joined", "peer": target.public()})  # fmt: skip
    room.send_to([target.peer_id],
                 {"type": "admitted", "peers": [p.public() for p in others]})  # fmt: skip
    if kind == "mediation":
        room.tell_subrooms(roster)


def dismiss(room: Room, me: PeerInfo, message: dict[str, Any], kind: str) -> None:
    """Send an admitted peer back to the waiting room (a witness who has testified)."""
    target = _target(room, message)
    if target.state != "admitted" or target.moderates:
        raise ProtocolError("only an admitted party can be sent back to wait")
    others = room.admitted_beside(target)
    target.state = "waiting"
    room.store(target)
    room.remember(target, False)
    room.send_to([target.peer_id], {"type": "dismissed"})
    room.send_to([p.peer_id for p in others],
                 {"type": "peer-left", "peer_id": target.peer_id})  # fmt: skip
    roster = room.roster()
    room.send_to([m.peer_id for m in room.moderators(roster)],
                 waiting_frame(target, kind))  # fmt: skip
    room.tell_subrooms(roster, changed=target.subroom != "main")
    room.record(target, "moved", {"to": "waiting", "by": me.peer_id})


def _tell_mute(room: Room, me: PeerInfo, message: dict[str, Any], action: str) -> None:
    """Tell the target peer to mute or unmute its audio or video (``action``), and log it."""
    target = _target(room, message)
    media = message.get("media", "audio")
    if media not in ("audio", "video"):
        raise ProtocolError("media is audio or video")
    room.send_to([target.peer_id],
                 {"type": action, "media": media, "by": me.peer_id})  # fmt: skip
    event(log, f"room.{action}", session=me.session_id, peer=target.peer_id, by=me.peer_id,
          media=media)  # fmt: skip


def mute(room: Room, me: PeerInfo, message: dict[str, Any], kind: str) -> None:
    _tell_mute(room, me, message, "mute")


def unmute(room: Room, me: PeerInfo, message: dict[str, Any], kind: str) -> None:
    """Lift a moderator's mute (in SFU mode only a moderator can: the SFU enforced it)."""
    _tell_mute(room, me, message, "unmute")


def remove(room: Room, me: PeerInfo, message: dict[str, Any], kind: str) -> None:
    target = _target(room, message)
    room.remember(target, False)
    event(log, "room.remove", session=me.session_id, peer=target.peer_id, by=me.peer_id)
    room.close_peers([target.peer_id], 4403, "removed by the court", "removed")


#: Who starts a session of each kind that is started in its room (and recorded from then).
CHAIRS: dict[str, str] = {
    Kind.HEARING: ParticipantRole.PRESIDING_JUDGE,
    Kind.MEDIATION: ParticipantRole.MEDIATOR,
}


def start(room: Room, me: PeerInfo, message: dict[str, Any], kind: str) -> None:
    """The chair opens the hearing or mediation: its recording starts (``session_started``)."""
    if CHAIRS.get(kind) != me.role:
        raise ProtocolError("only the presiding judge or the mediator starts the session")
    event(log, "room.start", session=me.session_id, peer=me.peer_id, by=me.participant_id)
    session_started.send(me.session_id, participant_id=me.participant_id)


def end(room: Room, me: PeerInfo, message: dict[str, Any], kind: str) -> None:
    room.record(me, "ended", {})
    room.broadcast({"type": "ended", "by": me.peer_id})
    room.close(1000, "the session has ended", "ended")


def move(room: Room, me: PeerInfo, message: dict[str, Any], kind: str) -> None:
    """Mediation caucus (背对背): move a peer to a sub-room or back to ``main``."""
    if kind != "mediation":
        raise ProtocolError("sub-rooms exist only in mediation")
    subroom = message.get("subroom")
    if not isinstance(subroom, str) or not SUBROOM.match(subroom):
        raise ProtocolError("subroom must be 1–32 of a-z, 0-9 and -")
    target = _target(room, message)
    if target.state != "admitted" or target.subroom == subroom:
        return
    old = room.admitted_beside(target)
    target.subroom = subroom
    room.store(target)
    roster = room.roster()
    new = room.admitted_beside(target, roster=roster)
    room.send_to([p.peer_id for p in old],
                 {"type": "peer-left", "peer_id": target.peer_id})  # fmt: skip
    room.send_to([p.peer_id for p in new],
                 {"type": "peer-joined", "peer": target.public()})  # fmt: skip
    room.send_to(
        [target.peer_id],
        {"type": "moved", "subroom": subroom, "peers": [p.public() for p in new]},
    )
    room.tell_subrooms(roster, changed=True)
    room.record(target, "moved", {"to": subroom, "by": me.peer_id})


#: The moderator's frames and what acts on each.
ACTIONS = {"admit": admit, "dismiss": dismiss, "mute": mute, "unmute": unmute,
           "remove": remove, "start": start, "end": end, "move": move}  # fmt: skip
