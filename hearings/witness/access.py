"""Who may run a witnessing or a session's recording and who may see a recording; refusals
are kept as evidence."""

from __future__ import annotations

import sqlalchemy as sa

from hearings.courts.models import Staff
from hearings.errors import Forbidden
from hearings.extensions import db
from hearings.rooms.tokens import RECORDING_ROLES
from hearings.scheduling.audit import record_refusal
from hearings.scheduling.models import Participant, Session
from hearings.scheduling.vocabulary import Kind, ParticipantRole
from hearings.witness import custody
from hearings.witness.models import Recording

JUDGE_ROLES = frozenset({ParticipantRole.PRESIDING_JUDGE, ParticipantRole.JUDGE})

#: Who drives the recording of each kind of session that is recorded: the witnessing
#: officer (a clerk or judge); a hearing's presiding judge, and its clerk, who keeps the
#: hearing's record (笔录) and so runs its recording beside the judge; a mediation's
#: mediator. A liaison meeting is not recorded.
RECORDERS: dict[str, frozenset[str]] = {
    Kind.WITNESS: RECORDING_ROLES,
    Kind.HEARING: frozenset({ParticipantRole.PRESIDING_JUDGE, ParticipantRole.CLERK}),
    Kind.MEDIATION: frozenset({ParticipantRole.MEDIATOR}),
}


def is_officer(staff: Staff, session: Session) -> bool:
    """The one who drives the session's recording (``RECORDERS``), taking part in it."""
    roles = RECORDERS.get(session.kind, frozenset())
    return any(p.staff_id == staff.id and p.role in roles for p in session.active_participants)


def involved_courts(session: Session) -> set[str]:
    """The host court and every court a participant attends from."""
    courts = {session.host_court_id}
    courts.update(p.court_id for p in session.participants if p.court_id)
    courts.update(p.staff.court_id for p in session.participants if p.staff is not None)
    return courts


def is_judge_of_case(staff: Staff, session: Session) -> bool:
    """A judge taking part in this session or in another session of the same case."""
    if staff.role != "judge":
        return False
    if any(p.staff_id == staff.id and p.role in JUDGE_ROLES for p in session.active_participants):
        return True
    if not session.case_number:
        return False
    found = db.session.scalar(
        sa.select(Participant.id)
        .join(Session, Session.id == Participant.session_id)
        .where(
            Session.case_number == session.case_number,
            Participant.staff_id == staff.id,
            Participant.role.in_(JUDGE_ROLES),
            Participant.removed_at.is_(None),
        )
        .limit(1)
    )
    return found is not None


def may_see_recordings(staff: Staff, session: Session) -> bool:
    """The officer, the judges of the case, and admins of the involved courts."""
    if staff.is_admin:
        return staff.court_id in involved_courts(session)
    return is_officer(staff, session) or is_judge_of_case(staff, session)


def refuse(
    what: str,
    session: Session,
    recording: Recording | None,
    *,
    staff: Staff | None = None,
    participant: Participant | None = None,
) -> Forbidden:
    """Keep the refusal in the audit trail (and, for someone of the recording's own session,
    in its custody log: nobody outside a session can write to its evidence); the 403."""
    record_refusal(staff, what, session.id)
    if recording is not None and _of_recorded_session(recording, staff, participant):
        who: dict[str, object] = {"staff_id": staff.id} if staff else {}
        if participant is not None:
            who = {"participant_id": participant.id, "role": participant.role}
        custody.append(recording, "access_denied", staff.id if staff else None, what=what, **who)
        db.session.commit()
    return Forbidden("may-not-see-recording", what=what)


def _of_recorded_session(
    recording: Recording, staff: Staff | None, participant: Participant | None
) -> bool:
    if participant is not None:
        return participant.session_id == recording.session_id
    if staff is None:
        return False
    return (
        db.session.scalar(
            sa.select(Participant.id)
            .where(
                Participant.session_id == recording.session_id,
                Participant.staff_id == staff.id,
                Participant.removed_at.is_(None),
            )
            .limit(1)
        )
        is not None
    )


def require_officer(staff: Staff, session: Session, what: str) -> None:
    """Only the session's officer (``RECORDERS``) may drive its recording (403, audited)."""
    if not is_officer(staff, session):
        raise refuse(what, session, None, staff=staff)


def require_recording_access(staff: Staff, recording: Recording, what: str) -> Session:
    """Refuse (403, audited, logged in custody) anyone but those who may see it."""
    session = db.session.get(Session, recording.session_id)
    assert session is not None
    if not may_see_recordings(staff, session):
        raise refuse(what, session, recording, staff=staff)
    return session
