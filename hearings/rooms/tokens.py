"""Room tokens: who may enter which room, as whom, when; and the join links that carry them."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from hearings.courts.models import Staff
from hearings.extensions import db
from hearings.rooms.models import JoinLink
from hearings.scheduling.models import Participant, Session
from hearings.scheduling.vocabulary import OPEN_STATUSES, STAFF_ONLY_ROLES, Kind
from hearings.scheduling.vocabulary import ParticipantRole as R
from hearings.timekeeping import utcnow
from hearings.tokens import (
    ROOM_AUDIENCE,
    TokenError,
    check_token_times,
    decode_token,
    issue_token,
)

#: Participant roles that moderate a room (admitted at once; admit, mute, remove, end): the
#: roles only staff hold.
MODERATOR_ROLES = frozenset(STAFF_ONLY_ROLES)
#: Roles that may start and stop a recording (witnessing officers).
RECORDING_ROLES = frozenset({R.PRESIDING_JUDGE, R.JUDGE, R.CLERK})
ROOM_CLAIMS = ("room", "role", "name", "can")
#: A room works while its session is not over.
LIVE_STATUSES = OPEN_STATUSES


class RoomRefusal(Exception):
    """A connection that may not enter: ``code`` is the WebSocket close code and ``reason``
    its reason (for scripts); ``why`` is the refusal code the join page words
    (``rooms/words.py``)."""

    def __init__(self, code: int, reason: str, *, why: str = "link-invalid") -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.why = why


def capabilities(participant: Participant) -> list[str]:
    """What the participant may do in the room."""
    can = ["publish", "subscribe"]
    if participant.staff_id is not None and participant.role in MODERATOR_ROLES:
        can.append("moderate")
        if participant.role in RECORDING_ROLES and participant.session.kind == Kind.WITNESS:
            can.append("record")
    return can


def token_window(session: Session) -> tuple[datetime, datetime]:
    """When a room token for the session works: a set time before start and after end."""
    config = current_app.config
    return (
        session.starts_at - timedelta(minutes=config["ROOM_EARLY_MINUTES"]),
        session.ends_at + timedelta(minutes=config["ROOM_LATE_MINUTES"]),
    )


def issue_room_token(participant: Participant, issued_by: Staff | None) -> tuple[str, JoinLink]:
    """Sign a room token for one participant and remember it as a join link."""
    session = participant.session
    not_before, expires = token_window(session)
    jti = secrets.token_urlsafe(18)
    token = issue_token(
        ROOM_AUDIENCE,
        str(participant.id),
        {
            "room": session.id,
            "role": participant.role,
            "name": participant.display_name,
            "can": capabilities(participant),
            "jti": jti,
        },
        not_before=not_before,
        expires=expires,
    )
    link = JoinLink(
        session_id=session.id,
        participant_id=participant.id,
        jti=jti,
        issued_at=utcnow(),
        not_before=not_before,
        expires_at=expires,
        issued_by_id=issued_by.id if issued_by is not None else None,
    )
    db.session.add(link)
    return token, link


RECORDER_ROLE = "recorder"


def issue_recorder_token(session: Session) -> str:
    """A token for the server's own recording peer: it receives and records, nothing else.

    It belongs to no participant, so it has no join link; it works while the session is
    live and in its window, like any other.
    """
    not_before, expires = token_window(session)
    return issue_token(
        ROOM_AUDIENCE,
        f"{RECORDER_ROLE}:{session.id}",
        {"room": session.id, "role": RECORDER_ROLE, "name": "录像 Recorder",
         "can": ["subscribe", "record"]},
        not_before=not_before,
        expires=expires,
    )  # fmt: skip


def join_url(token: str) -> str:
    """The personal join link for a room token."""
    return f"{current_app.config['SITE_URL'].rstrip('/')}/join/{token}"


def move_link_windows(session: Session) -> None:
    """Keep the session's live links' recorded window in step with its current times."""
    not_before, expires = token_window(session)
    db.session.execute(
        sa.update(JoinLink)
        .where(JoinLink.session_id == session.id, JoinLink.revoked_at.is_(None))
        .values(not_before=not_before, expires_at=expires)
    )


def revoke_links(session_id: int, participant_id: int | None = None) -> int:
    """Revoke the join links of a session (or of one of its participants)."""
    query = sa.update(JoinLink).where(
        JoinLink.session_id == session_id, JoinLink.revoked_at.is_(None)
    )
    if participant_id is not None:
        query = query.where(JoinLink.participant_id == participant_id)
    result = db.session.execute(query.values(revoked_at=utcnow()))
    return int(result.rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Admission:
    """A verified room token, with the participant and session it speaks for."""

    claims: dict[str, Any]
    #: None for the server's recorder.
    participant: Participant | None
    session: Session
    #: When the room opens for this token, and whether it is open now.
    opens: datetime
    in_window: bool


def verify_room_token(
    token: Any, session_id: int | None = None, *, enforce_window: bool = True
) -> Admission:
    """Check a room token and that it still holds; raise RoomRefusal with the close code.

    The join page reads tokens outside their window too (to say when to come back):
    ``enforce_window=False`` lets those through, with ``in_window`` False.
    """
    if not isinstance(token, str) or not token or len(token) > 4096:
        raise RoomRefusal(4401, "no room token")
    try:
        claims = decode_token(token, ROOM_AUDIENCE, ROOM_CLAIMS, check_times=False)
    except TokenError as error:
        raise RoomRefusal(4401, str(error)) from None
    if not isinstance(claims["room"], int) or not isinstance(claims["can"], list):
        raise RoomRefusal(4401, "malformed room claims")
    # Another room's token is refused as such (4403), whatever its time window.
    if session_id is not None and claims["room"] != session_id:
        raise RoomRefusal(4403, "this token is for another room")
    # The window is the session's as it stands now (a reschedule moves it), never the times
    # signed into the token: the join page and the socket must agree. A participant's link
    # is checked against its row below (revoked, removed, session ended); a recorder token,
    # which has no row, is also held to its own signed times.
    if claims["role"] == RECORDER_ROLE:
        if enforce_window:
            try:
                check_token_times(claims)
            except TokenError as error:
                raise RoomRefusal(4408, str(error)) from None
        return _admit_recorder(claims, enforce_window)
    link = db.session.scalar(sa.select(JoinLink).where(JoinLink.jti == claims["jti"]))
    subject = str(claims["sub"])
    participant = db.session.get(Participant, int(subject)) if subject.isdigit() else None
    if link is None or participant is None or link.participant_id != participant.id:
        raise RoomRefusal(4401, "unknown room token")
    session = participant.session
    if session.id != claims["room"]:
        raise RoomRefusal(4403, "this token is for another room")
    # A cancelled or finished session revokes its links too: say why, which people can act on.
    if session.status not in LIVE_STATUSES:
        why = "session-cancelled" if session.status == "cancelled" else "session-ended"
        raise RoomRefusal(4403, f"the session is {session.status}", why=why)
    if link.revoked_at is not None or participant.removed_at is not None:
        raise RoomRefusal(4403, "this link was revoked", why="link-revoked")
    opens, closes = token_window(session)
    in_window = opens <= utcnow() < closes
    if enforce_window and not in_window:
        why = "link-not-yet-valid" if utcnow() < opens else "link-expired"
        raise RoomRefusal(4408, "outside the session's time window", why=why)
    return Admission(claims, participant, session, opens=opens, in_window=in_window)


def _admit_recorder(claims: dict[str, Any], enforce_window: bool) -> Admission:
    if claims["sub"] != f"{RECORDER_ROLE}:{claims['room']}" or claims["can"] != [
        "subscribe",
        "record",
    ]:
        raise RoomRefusal(4401, "malformed recorder token")
    session = db.session.get(Session, claims["room"])
    if session is None or session.status not in LIVE_STATUSES:
        raise RoomRefusal(4403, "the session is not live")
    opens, closes = token_window(session)
    in_window = opens <= utcnow() < closes
    if enforce_window and not in_window:
        raise RoomRefusal(4408, "outside the session's time window")
    return Admission(claims, None, session, opens=opens, in_window=in_window)
