"""The signaling WebSocket ``/ws/rooms/<id>`` (on the rooms' page blueprint): the join
handshake, then each frame read, bounded and handed to the hub until the socket closes."""

from __future__ import annotations

import json
import logging
import secrets
from typing import Any

from flask import current_app, request
from flask_sock import ConnectionClosed

from hearings.extensions import db, sock
from hearings.inputs import JSON_MAX_DEPTH, find_unstorable, json_too_deep
from hearings.logs import event
from hearings.rooms.bus import BusUnavailable, PeerInfo
from hearings.rooms.connection import Connection, finish, send_close
from hearings.rooms.hub import Hub, ProtocolError
from hearings.rooms.ice import ice_servers
from hearings.rooms.pages import pages
from hearings.rooms.tokens import RoomRefusal, verify_room_token
from hearings.security import same_site
from hearings.words import fault_detail

log = logging.getLogger("hearings.rooms.hub")

#: Frames larger than this close the socket with 4413.
MAX_FRAME = 64 * 1024


def hub() -> Hub:
    """This process's signaling hub."""
    return current_app.extensions["hearings.hub"]


def _origin_allowed() -> bool:
    """Browsers send Origin: it must be this site. Non-browser peers send none."""
    origin = request.headers.get("Origin")
    return origin is None or same_site(origin)


class UnreadableFrame(ProtocolError):
    """A frame the hub won't read; ``short`` says why in a close reason's few bytes."""

    def __init__(self, error: str, short: str) -> None:
        super().__init__(error)
        self.short = short


def read_frame(raw: str | bytes) -> Any:
    """A frame's JSON: ValueError if it is not JSON; UnreadableFrame if it nests deeper than
    the parser should go (checked before parsing) or holds text that can't be sent on (an
    unpaired surrogate would fail every socket it is relayed to) or stored (NUL)."""
    if json_too_deep(raw):
        deep = f"is nested more than {JSON_MAX_DEPTH} levels deep"
        raise UnreadableFrame(f"the frame {deep}", deep)
    message = json.loads(raw)
    found = find_unstorable(message)
    if found is not None:
        field, code = found
        raise UnreadableFrame(f"{field}: {fault_detail(code, 'text')}", "holds invalid text")
    return message


def _first_frame(ws: Any) -> dict[str, Any]:
    raw = ws.receive(timeout=current_app.config["ROOM_JOIN_TIMEOUT"])
    if raw is None:
        raise RoomRefusal(4401, "send a join frame first")
    if len(raw) > MAX_FRAME:
        raise RoomRefusal(4413, "frame too large")
    try:
        message = read_frame(raw)
    except ValueError:
        raise RoomRefusal(4401, "the join frame is not JSON") from None
    except UnreadableFrame as error:
        raise RoomRefusal(4401, f"the join frame {error.short}") from None
    if not isinstance(message, dict) or message.get("type") != "join":
        raise RoomRefusal(4401, "the first frame must be a join")
    return message


@sock.route("/ws/rooms/<id:session_id>", bp=pages)
def room_socket(ws: Any, session_id: int) -> None:
    """Signaling for one room: join handshake, then relay and moderation until close."""
    config = current_app.config
    try:
        if not _origin_allowed():
            raise RoomRefusal(4403, "cross-site connection refused")
        admission = verify_room_token(_first_frame(ws).get("token"), session_id)
    except RoomRefusal as refusal:
        db.session.rollback()
        event(log, "room.refused", session=session_id, code=refusal.code, reason=refusal.reason)
        send_close(ws, refusal.code, refusal.reason)
        finish(ws)
        return
    participant, kind = admission.participant, admission.session.kind
    info = PeerInfo(
        peer_id=secrets.token_urlsafe(9),
        session_id=session_id,
        participant_id=participant.id if participant is not None else None,
        name=admission.claims["name"],
        role=admission.claims["role"],
        can=list(admission.claims["can"]),
    )
    servers = ice_servers(f"p{info.participant_id}" if participant else "recorder")
    db.session.commit()  # end the read: nothing stays open while the socket waits
    conn = Connection(ws, info, config["ROOM_FRAME_RATE"], config["ROOM_FRAME_BURST"])
    room = hub()
    try:
        try:
            room.join(conn, kind, servers)
        except BusUnavailable:
            # Redis is away: the room can't be entered now; clients retry (1013).
            _close(conn, 1013, "try again later")
            return
        while not conn.closed.is_set():
            # The reader thread wakes this on every frame and on close; the timeout only
            # bounds how long a connection closed from elsewhere lingers.
            raw = ws.receive(timeout=5.0)
            if raw is None:
                continue
            if len(raw) > MAX_FRAME:
                _close(conn, 4413, "frame too large")
                break
            if not conn.allow_frame():
                _close(conn, 4429, "too many frames")
                break
            try:
                message = read_frame(raw)
                if not isinstance(message, dict):
                    raise ProtocolError("a frame is a JSON object")
                room.handle(conn, message, kind)
            except ValueError:
                _refuse_frame(conn, "malformed JSON")
            except ProtocolError as error:
                _refuse_frame(conn, str(error))
            except BusUnavailable:
                # The call's media goes on peer to peer; signaling waits for Redis.
                _refuse_frame(conn, "the room service is reconnecting; try again shortly")
    except ConnectionClosed:
        pass
    finally:
        room.depart(conn)
        finish(ws)


def _close(conn: Connection, code: int, reason: str) -> None:
    event(log, "room.closed", session=conn.info.session_id, peer=conn.info.peer_id, code=code,
          reason=reason)  # fmt: skip
    conn.close(code, reason)


def _refuse_frame(conn: Connection, error: str) -> None:
    event(log, "room.frame-refused", session=conn.info.session_id, peer=conn.info.peer_id,
          error=error)  # fmt: skip
    conn.send({"type": "error", "error": error})
