"""Calendar feeds: a private, revocable subscription URL per staff member."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa

from hearings.courts.models import Staff
from hearings.errors import NotFound
from hearings.extensions import db
from hearings.notify.models import CalendarFeed
from hearings.scheduling.models import Participant, Session

#: How far back a feed reaches; the future is always complete.
FEED_HISTORY = timedelta(days=90)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_feed(staff: Staff, now: datetime) -> str:
    """A new feed token for the staff member; any earlier URL of theirs stops working."""
    revoke_feeds(staff, now)
    token = secrets.token_urlsafe(32)
    db.session.add(CalendarFeed(staff_id=staff.id, token_hash=_hash(token), created_at=now))
    return token


def revoke_feeds(staff: Staff, now: datetime) -> int:
    """Revoke the staff member's feed URLs; returns how many were live."""
    result = db.session.execute(
        sa.update(CalendarFeed)
        .where(CalendarFeed.staff_id == staff.id, CalendarFeed.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def staff_for_feed(token: str) -> Staff:
    """The active staff member a live feed token belongs to, or 404."""
    feed = db.session.scalar(
        sa.select(CalendarFeed).where(
            CalendarFeed.token_hash == _hash(token), CalendarFeed.revoked_at.is_(None)
        )
    )
    staff = db.session.get(Staff, feed.staff_id) if feed is not None else None
    if staff is None or not staff.active:
        raise NotFound("no-such-feed")
    return staff


def feed_entries(staff: Staff, now: datetime) -> list[tuple[Session, Participant]]:
    """Every session the staff member takes part in, from three months back."""
    rows = db.session.execute(
        sa.select(Session, Participant)
        .join(Participant, Participant.session_id == Session.id)
        .where(
            Participant.staff_id == staff.id,
            Participant.removed_at.is_(None),
            Session.ends_at > now - FEED_HISTORY,
        )
        .order_by(Session.starts_at)
    ).all()
    return [(session, participant) for session, participant in rows]
