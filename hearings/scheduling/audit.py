"""The audit trail: every change and every refusal, appended, never edited."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from hearings.courts.models import Staff
from hearings.extensions import db
from hearings.scheduling.models import AuditEvent, Session
from hearings.timekeeping import utcnow


def record(action: str, actor: Staff | None, session: Session | None = None, **detail: Any) -> None:
    """Append one event to the trail, in the request's transaction (one plain INSERT: the
    trail is written, never read back, by the change that causes it)."""
    db.session.execute(
        sa.insert(AuditEvent),
        [
            {
                "at": utcnow(),
                "actor_id": actor.id if actor is not None else None,
                "session_id": session.id if session is not None else None,
                "action": action,
                "detail": detail,
            }
        ],
    )


def record_refusal(actor: Staff | None, what: str, session_id: int | None = None) -> None:
    """Keep a refused access in the trail even though the request itself fails."""
    db.session.rollback()
    db.session.add(
        AuditEvent(
            at=utcnow(),
            actor_id=actor.id if actor is not None else None,
            session_id=session_id,
            action="access.denied",
            detail={"what": what},
        )
    )
    db.session.commit()
