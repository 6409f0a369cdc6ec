"""The audit trail: every change and every refusal, appended, never edited."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from hearings.courts import signals as courts_signals
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


def _record_sign_in(action: str, actor: Staff | None, **detail: Any) -> None:
    # Committed at once: a refused sign-in's request fails, and its rollback must not take
    # the entry with it (a sign-in writes nothing else).
    record(action, actor, **detail)
    db.session.commit()


def on_sign_in_succeeded(staff: Staff, *, username: str, address: str, **_: Any) -> None:
    """A staff member signed in."""
    _record_sign_in("sign_in.succeeded", staff, username=username[:64], address=address)


def on_sign_in_failed(
    staff: Staff | None, *, username: str, address: str, reason: str, **_: Any
) -> None:
    """A sign-in was refused: unknown username, wrong password or an inactive account (the
    actor is the username's staff member, None when unknown)."""
    _record_sign_in("sign_in.failed", staff, username=username[:64], address=address, reason=reason)


def on_sign_in_throttled(
    _sender: None, *, username: str, address: str, limit: str, retry_after: int, **_: Any
) -> None:
    """A sign-in was refused unchecked: too many recent failures for the username or the
    address (``limit``)."""
    _record_sign_in(
        "sign_in.throttled", None, username=username[:64], address=address, limit=limit,
        retry_after=retry_after,
    )  # fmt: skip


def subscribe() -> None:
    """Write the courts' sign-in signals to the trail (connecting twice is harmless)."""
    courts_signals.sign_in_succeeded.connect(on_sign_in_succeeded)
    courts_signals.sign_in_failed.connect(on_sign_in_failed)
    courts_signals.sign_in_throttled.connect(on_sign_in_throttled)
