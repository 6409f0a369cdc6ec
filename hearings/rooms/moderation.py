"""The moderator's controls of a room: admit, send back to wait, mute, remove, end, and the
caucus sub-rooms of a mediation (背对背); ``Hub.handle`` calls them by frame type."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from hearings.logs import event
from hearings.rooms.bus import PeerInfo

if TYPE_CHECKING:
    from hearings.rooms.hub import Hub

log = logging.getLogger("hearings.rooms.hub")  # the hub's log, as before

SUBROOM = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")


class ProtocolError(Exception):
    """A frame the hub can't act on; the peer gets an ``error`` frame and stays."""


def admit(hub: Hub, me: PeerInfo, message: dict[str, Any], kind: str) -> None:
    target = hub._target(me, message)
    if target.state != "waiting":
        raise ProtocolError("that peer is not waiting")
    # Into the main room, even when the moderator admitting is in a caucus: a caucus is
    # private to the side the mediator talks to there.
    target.state, target.subroom = "admitted", "main"
    hub._store(target)
    hub._remember(target, True)
    hub._record(target, "admitted", {"by": me.peer_id})
    roster = hub.bus.peers(me.session_id)
    others = hub._admitted(target, roster=roster)
    # peer-joined first: the admitted peer's offers follow its name (see ``join``).
    hub.send_to(me.session_id, [p.peer_id for p in others],
                 {"type": "peer-joined", "peer": target.public()})  # fmt: skip
    hub.send_to(me.session_id, [target.peer_id],
                 {"type": "admitted", "peers": [p.public() for p in others]})  # fmt: skip
    if kind == "mediation":
        hub._tell_subrooms(me.session_id, roster)


def dismiss(hub: Hub, me: PeerInfo, message: dict[str, Any], kind: str) -> None:
    """Send an admitted peer back to the waiting room (a witness who has testified)."""
    target = hub._target(me, message)
    if target.state != "admitted" or target.moderates:
        raise ProtocolError("only an admitted party can be sent back to wait")
    others = hub._admitted(target)
    target.state = "waiting"
    hub._store(target)
    hub._remember(target, False)
    hub.send_to(me.session_id, [target.peer_id], {"type": "dismissed"})
    hub.send_to(me.session_id, [p.peer_id for p in others],
                 {"type": "peer-left", "peer_id": target.peer_id})  # fmt: skip
    roster = hub.bus.peers(me.session_id)
    hub.send_to(me.session_id, [m.peer_id for m in hub._moderators(me.session_id, roster)],
                 hub._waiting_frame(target, kind))  # fmt: skip
    hub._tell_subrooms(me.session_id, roster, changed=target.subroom != "main")
    hub._record(target, "moved", {"to": "waiting", "by": me.peer_id})


def mute(hub: Hub, me: PeerInfo, message: dict[str, Any], kind: str) -> None:
    target = hub._target(me, message)
    media = message.get("media", "audio")
    if media not in ("audio", "video"):
        raise ProtocolError("media is audio or video")
    hub.send_to(me.session_id, [target.peer_id],
                 {"type": "mute", "media": media, "by": me.peer_id})  # fmt: skip
    event(log, "room.mute", session=me.session_id, peer=target.peer_id, by=me.peer_id,
          media=media)  # fmt: skip


def remove(hub: Hub, me: PeerInfo, message: dict[str, Any], kind: str) -> None:
    target = hub._target(me, message)
    hub._remember(target, False)
    event(log, "room.remove", session=me.session_id, peer=target.peer_id, by=me.peer_id)
    hub.bus.publish(
        me.session_id,
        {"kind": "close", "peer_ids": [target.peer_id], "code": 4403,
         "reason": "removed by the court", "departure": "removed"},
    )  # fmt: skip


def end(hub: Hub, me: PeerInfo, message: dict[str, Any], kind: str) -> None:
    hub._record(me, "ended", {})
    hub.broadcast(me.session_id, {"type": "ended", "by": me.peer_id})
    hub.close_room(me.session_id, 1000, "the session has ended", "ended")


def move(hub: Hub, me: PeerInfo, message: dict[str, Any], kind: str) -> None:
    """Mediation caucus (背对背): move a peer to a sub-room or back to ``main``."""
    if kind != "mediation":
        raise ProtocolError("sub-rooms exist only in mediation")
    subroom = message.get("subroom")
    if not isinstance(subroom, str) or not SUBROOM.match(subroom):
        raise ProtocolError("subroom must be 1–32 of a-z, 0-9 and -")
    target = hub._target(me, message)
    if target.state != "admitted" or target.subroom == subroom:
        return
    old = hub._admitted(target)
    target.subroom = subroom
    hub._store(target)
    roster = hub.bus.peers(me.session_id)
    new = hub._admitted(target, roster=roster)
    hub.send_to(me.session_id, [p.peer_id for p in old],
                 {"type": "peer-left", "peer_id": target.peer_id})  # fmt: skip
    hub.send_to(me.session_id, [p.peer_id for p in new],
                 {"type": "peer-joined", "peer": target.public()})  # fmt: skip
    hub.send_to(
        me.session_id,
        [target.peer_id],
        {"type": "moved", "subroom": subroom, "peers": [p.public() for p in new]},
    )
    hub._tell_subrooms(me.session_id, roster, changed=True)
    hub._record(target, "moved", {"to": subroom, "by": me.peer_id})


#: The moderator's frames and what acts on each.
ACTIONS = {"admit": admit, "dismiss": dismiss, "mute": mute, "remove": remove, "end": end,
           "move": move}  # fmt: skip
