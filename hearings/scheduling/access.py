"""Who may act on which session: their own court's, those they take part in; admins all."""

from __future__ import annotations

import sqlalchemy as sa

from hearings.courts.models import Staff
from hearings.errors import Forbidden, NotFound
from hearings.extensions import db
from hearings.scheduling.audit import record_refusal
from hearings.scheduling.models import Participant, Session


def takes_part(staff: Staff, session: Session) -> bool:
    """Whether the staff member is an active participant of the session."""
    return any(p.staff_id == staff.id for p in session.active_participants)


def may_act_on(staff: Staff, session: Session) -> bool:
    """Admins act on all sessions; others on their court's and on those they take part in."""
    return staff.is_admin or staff.court_id == session.host_court_id or takes_part(staff, session)


def require_session_access(staff: Staff, session: Session, what: str) -> None:
    """Refuse (403, audited) unless the staff member may act on the session."""
    if not may_act_on(staff, session):
        record_refusal(staff, what, session.id)
        code = {
            "view": "may-not-view-session",
            "change": "may-not-change-session",
            "cancel": "may-not-change-session",
        }.get(what, "may-not-act-on-session")
        raise Forbidden(code, what=what, session_id=session.id)


def require_court_access(staff: Staff, court_id: str, what: str) -> None:
    """Refuse (403, audited) unless the staff member belongs to the court or is an admin."""
    if not (staff.is_admin or staff.court_id == court_id):
        record_refusal(staff, f"{what} for court {court_id}")
        raise Forbidden("may-not-act-for-court", what=what, court_id=court_id)


def visible_sessions_clause(staff: Staff) -> sa.ColumnElement[bool]:
    """A WHERE clause selecting the sessions the staff member may see."""
    if staff.is_admin:
        return sa.true()
    takes_part_in = sa.select(Participant.session_id).where(
        Participant.staff_id == staff.id, Participant.removed_at.is_(None)
    )
    return sa.or_(Session.host_court_id == staff.court_id, Session.id.in_(takes_part_in))


def load_session(session_id: int) -> Session:
    """The session with that id, or 404."""
    session = db.session.get(Session, session_id)
    if session is None:
        raise NotFound("no-such-session", session_id=session_id)
    return session
