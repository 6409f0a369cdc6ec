"""Join links for a session, attendance as evidence, and the room's effect on the session."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import current_app

from hearings.courts.models import Staff
from hearings.errors import Conflict, NotFound
from hearings.extensions import db
from hearings.rooms.bus import PeerInfo
from hearings.rooms.models import AttendanceEvent, JoinLink
from hearings.rooms.tokens import RECORDER_ROLE, issue_room_token, join_url, revoke_links
from hearings.scheduling import audit, signals
from hearings.scheduling.access import require_session_access
from hearings.scheduling.models import Participant, Session
from hearings.scheduling.planning import OPEN_STATUSES
from hearings.scheduling.services import advance_status
from hearings.timekeeping import isoformat, utcnow


def issue_links(actor: Staff, session: Session) -> list[dict[str, Any]]:
    """A personal join link for every active participant of the session."""
    require_session_access(actor, session, "issue join links for")
    if session.status not in OPEN_STATUSES:
        raise Conflict("links-closed", session_id=session.id, state=session.status)
    links = []
    for participant in session.active_participants:
        token, link = issue_room_token(participant, actor)
        links.append(
            {
                "participant_id": participant.id,
                "name": participant.display_name,
                "role": participant.role,
                "url": join_url(token),
                "expires_at": isoformat(link.expires_at),
            }
        )
    return links


def link_states(actor: Staff, session: Session) -> list[dict[str, Any]]:
    """Each active participant and until when their latest working join link is valid (None:
    no link that still works). The links' tokens are not kept, so they can't be shown again."""
    require_session_access(actor, session, "see the join links of")
    now = utcnow()
    live = dict(
        db.session.execute(
            sa.select(JoinLink.participant_id, sa.func.max(JoinLink.expires_at))
            .where(
                JoinLink.session_id == session.id,
                JoinLink.revoked_at.is_(None),
                JoinLink.expires_at > now,
            )
            .group_by(JoinLink.participant_id)
        ).all()
    )
    return [
        {
            "participant_id": p.id,
            "name": p.display_name,
            "role": p.role,
            "live_until": isoformat(live[p.id]) if p.id in live else None,
        }
        for p in session.active_participants
    ]


def latest_link_id(session_id: int) -> int:
    """The newest join link of the session (0 for none): a page remembers it, so that sending
    its form again (a refresh) after links were issued issues none."""
    newest = db.session.scalar(
        sa.select(sa.func.max(JoinLink.id)).where(JoinLink.session_id == session_id)
    )
    return int(newest or 0)


def reissue_link(actor: Staff, session: Session, participant_id: int) -> dict[str, Any]:
    """Replace one participant's join link: the earlier ones stop working and the person gets
    an updated invite with the new link. For a link that was forwarded, lost or seen by
    someone it was not meant for. Once committed, ``close_replaced`` ends open connections."""
    require_session_access(actor, session, "re-issue join links for")
    if session.status not in OPEN_STATUSES:
        raise Conflict("links-closed", session_id=session.id, state=session.status)
    participant = next((p for p in session.active_participants if p.id == participant_id), None)
    if participant is None:
        raise NotFound("no-such-participant", session_id=session.id, participant_id=participant_id)
    revoked = revoke_links(session.id, participant.id)
    token, link = issue_room_token(participant, actor)
    session.sequence += 1
    session.updated_at = utcnow()
    audit.record(
        "link.reissued", actor, session, participant_id=participant.id, links_revoked=revoked
    )
    signals.session_changed.send(session, changes={"link_reissued": participant.id})
    return {
        "participant_id": participant.id,
        "name": participant.display_name,
        "role": participant.role,
        "url": join_url(token),
        "expires_at": isoformat(link.expires_at),
    }


def close_replaced(session_id: int, participant_id: int) -> None:
    """Close (4403) the participant's open connections, made with a link now replaced (after
    the commit, so a reconnection finds the old link revoked)."""
    hub = current_app.extensions["hearings.hub"]
    hub.close_participant(session_id, participant_id, "the join link was replaced")


def record_attendance(info: PeerInfo, event: str, detail: dict[str, Any]) -> None:
    """Keep one attendance event and let the session follow its room; commits at once.

    Runs on a WebSocket's thread: committing straight away keeps no transaction (and on
    SQLite no write lock) open while the socket waits for its next frame.
    """
    db.session.add(
        AttendanceEvent(
            session_id=info.session_id,
            participant_id=info.participant_id,
            peer_id=info.peer_id,
            name=info.name,
            role=info.role,
            event=event,
            at=utcnow(),
            detail=detail,
        )
    )
    session = db.session.get(Session, info.session_id)
    if session is not None and info.role != RECORDER_ROLE:
        actor = _staff_of(info)
        if event == "admitted" and info.moderates:
            advance_status(session, "open", actor)
        elif event == "admitted":
            advance_status(session, "in_progress", actor)
        elif event == "ended":
            advance_status(session, "completed", actor)
    db.session.commit()


def _staff_of(info: PeerInfo) -> Staff | None:
    participant = db.session.get(Participant, info.participant_id) if info.participant_id else None
    return participant.staff if participant is not None else None


def attendance(actor: Staff, session: Session) -> list[dict[str, Any]]:
    """Who joined, was admitted, left, was removed or dropped, and when."""
    require_session_access(actor, session, "read the attendance of")
    events = db.session.scalars(
        sa.select(AttendanceEvent)
        .where(AttendanceEvent.session_id == session.id)
        .order_by(AttendanceEvent.at, AttendanceEvent.id)
    )
    return [
        {
            "participant_id": e.participant_id,
            "peer_id": e.peer_id,
            "name": e.name,
            "role": e.role,
            "event": e.event,
            "at": isoformat(e.at),
            "detail": e.detail,
        }
        for e in events
    ]


def own_token(actor: Staff, session: Session) -> str:
    """A room token for the staff member's own place in the session (to enter the room)."""
    require_session_access(actor, session, "enter")
    mine = next((p for p in session.active_participants if p.staff_id == actor.id), None)
    if mine is None:
        raise Conflict("not-a-participant")
    if session.status not in OPEN_STATUSES:
        raise Conflict("session-not-open", session_id=session.id, state=session.status)
    token, _ = issue_room_token(mine, actor)
    return token
