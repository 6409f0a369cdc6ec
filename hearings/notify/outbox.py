"""The outbox: every message is stored first, then sent once, retried with backoff on failure."""

from __future__ import annotations

import functools
import logging
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite

from hearings.extensions import db
from hearings.notify import wecom
from hearings.notify.letters import write_email
from hearings.notify.mail import DeliveryError, Mailer
from hearings.notify.models import OutboxMessage
from hearings.notify.words import INTERRUPTED
from hearings.scheduling.models import Participant, Session
from hearings.timekeeping import isoformat, utcnow

log = logging.getLogger(__name__)

#: A claim older than this was cut short (the worker died mid-send).
STALE_CLAIM = timedelta(minutes=15)
#: The longest wait between two tries.
MAX_BACKOFF = timedelta(hours=6)
#: The PostgreSQL channel a transaction that stores messages notifies (``sender.py``).
CHANNEL = "hearings_outbox"
#: Set in the DB session's info when the sender should be woken after the commit.
WAKE_AFTER_COMMIT = "hearings.notify.wake_after_commit"


def dedupe_key(session: Session, whom: str, kind: str) -> str:
    """One message per (session, participant or court, sequence, kind)."""
    return f"{session.id}:{whom}:{session.sequence}:{kind}"


def message_row(
    session: Session,
    participant: Participant | None,
    *,
    channel: str,
    kind: str,
    recipient: str,
    subject: str,
    body: str,
    state: str = "pending",
    error: str | None = None,
    whom: str | None = None,
    draft: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The outbox row of one message, keyed by its dedupe key, for ``store_rows``."""
    key = dedupe_key(session, whom or f"p{participant.id if participant else 0}", kind)
    now = utcnow()
    return {
        "dedupe_key": key,
        "session_id": session.id,
        "participant_id": participant.id if participant is not None else None,
        "channel": channel,
        "kind": kind,
        "sequence": session.sequence,
        "recipient": recipient,
        "subject": subject[:300],
        "body": body,
        "draft": draft,
        "state": state,
        "attempts": 0,
        "next_attempt_at": now,
        "last_error": error,
        "created_at": now,
    }


def store_rows(rows: list[dict[str, Any]]) -> int:
    """Store messages in the caller's transaction; how many were new.

    One ``INSERT … ON CONFLICT DO NOTHING`` on the dedupe key for all of them: a message
    another worker stored a moment ago goes out once, from there, and this transaction
    carries on.
    """
    if not rows:
        return 0
    connection = db.session.connection()
    # Counted by the ids the database returns: an executemany's rowcount is -1 ("unknown")
    # on psycopg.
    stored = len(connection.execute(_store_statement(connection.dialect.name), rows).all())
    if stored:
        wake_after_commit(connection)
    return stored


def wake_after_commit(connection: sa.Connection) -> None:
    """Have the sender woken once this transaction commits (``sender.py``): this process's
    own through the session's ``after_commit``, any other through PostgreSQL's ``NOTIFY``,
    which is delivered at commit, and never for a rollback."""
    db.session.info[WAKE_AFTER_COMMIT] = True
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"NOTIFY {CHANNEL}")


@functools.cache
def _store_statement(dialect: str) -> Any:
    # Built once: a fresh ON CONFLICT clause costs more to build and key than to run.
    insert = dialect_insert(dialect, OutboxMessage.__table__)
    return insert.on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(
        OutboxMessage.__table__.c.id
    )


def store(session: Session, participant: Participant | None, **fields: Any) -> bool:
    """Store one message (fields as ``message_row`` takes them); False if it exists already."""
    return store_rows([message_row(session, participant, **fields)]) == 1


def dialect_insert(dialect: str, table: Any) -> Any:
    """The ``INSERT`` of the dialect named, which takes ``ON CONFLICT`` clauses (SQLite,
    PostgreSQL)."""
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def backoff(attempts: int) -> timedelta:
    """The wait before try ``attempts + 1``: the base interval, doubled each time, capped."""
    base = timedelta(seconds=int(current_app.config["OUTBOX_RETRY_SECONDS"]))
    return min(base * 2 ** max(attempts - 1, 0), MAX_BACKOFF)


def _fail_stale_claims(now: datetime) -> None:
    # At most once: a message whose sender died mid-send may have gone out, so it is not
    # sent again; it is reported as failed for staff to check.
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.state == "sending", OutboxMessage.claimed_at < now - STALE_CLAIM)
        .values(
            state="failed",
            last_error=INTERRUPTED,
        )
    )
    db.session.commit()


def _claim(message_id: int, now: datetime) -> OutboxMessage | None:
    result = db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.state == "pending")
        .values(state="sending", attempts=OutboxMessage.attempts + 1, claimed_at=now)
    )
    db.session.commit()
    if not result.rowcount:  # type: ignore[attr-defined]
        return None  # another worker has it
    return db.session.get(OutboxMessage, message_id)


def _send(message: OutboxMessage, mailer: Mailer, hooks: dict[str, str], now: datetime) -> None:
    if message.channel == "email":
        if message.draft is not None and not message.body:
            message.body = _write(message, now)
            db.session.commit()  # what goes out is kept before it goes
        mailer.send(message.id, message.body, message.recipient)
        return
    url = wecom.webhook_for(hooks, message.recipient)
    if url is None:
        raise DeliveryError(f"no WeChat Work robot set for {message.recipient}", permanent=True)
    wecom.post(url, message.body)


def deliver_outbox(now: datetime | None = None, limit: int = 200) -> dict[str, int]:
    """Send what is due: claim each message, send it, record the outcome. Returns counts."""
    now = now or utcnow()
    _fail_stale_claims(now)
    due = db.session.scalars(
        sa.select(OutboxMessage.id)
        .where(OutboxMessage.state == "pending", OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    db.session.commit()
    counts = {"sent": 0, "retry": 0, "failed": 0}
    max_attempts = int(current_app.config["OUTBOX_MAX_ATTEMPTS"])
    mailer = Mailer.from_app()
    hooks = wecom.parse_webhooks(current_app.config["WECOM_WEBHOOK_URL"])
    try:
        for message_id in due:
            message = _claim(message_id, now)
            if message is None:
                continue
            try:
                _send(message, mailer, hooks, now)
            except DeliveryError as error:
                message.last_error = str(error)[:1000]
                if error.permanent or message.attempts >= max_attempts:
                    message.state = "failed"
                    counts["failed"] += 1
                    log.warning("message %s to %s failed: %s", message.id, message.recipient, error)
                else:
                    message.state = "pending"
                    message.next_attempt_at = now + backoff(message.attempts)
                    counts["retry"] += 1
                    log.info("message %s will be retried: %s", message.id, error)
            else:
                message.state = "sent"
                message.sent_at = now
                message.last_error = None
                counts["sent"] += 1
            db.session.commit()
    finally:
        mailer.close()
    return counts


def _write(message: OutboxMessage, now: datetime) -> str:
    """Write a drafted email from its session as it now stands."""
    session = db.session.get(Session, message.session_id)
    participant = db.session.get(Participant, message.participant_id)
    if session is None or participant is None or message.draft is None:
        raise DeliveryError("its session or participant is gone", permanent=True)
    try:
        return write_email(session, participant, message.draft, sequence=message.sequence, now=now)
    except Exception as error:  # a bug in writing must not stop the other messages
        log.exception("message %s could not be written", message.id)
        raise DeliveryError(f"could not be written: {error}", permanent=True) from error


def _dump(message: OutboxMessage) -> dict[str, Any]:
    return {
        "id": message.id,
        "channel": message.channel,
        "kind": message.kind,
        "sequence": message.sequence,
        "recipient": message.recipient,
        "state": message.state,
        "attempts": message.attempts,
        "last_error": message.last_error,
        "next_attempt_at": isoformat(message.next_attempt_at)
        if message.state == "pending"
        else None,
        "sent_at": isoformat(message.sent_at),
    }


def delivery_report(session: Session) -> dict[str, Any]:
    """Delivery state per participant (their latest message first) and the court notices."""
    messages = db.session.scalars(
        sa.select(OutboxMessage)
        .where(OutboxMessage.session_id == session.id)
        .order_by(OutboxMessage.id.desc())
    ).all()
    items = []
    for participant in session.participants:
        own = [m for m in messages if m.participant_id == participant.id]
        latest = own[0] if own else None
        items.append(
            {
                "participant_id": participant.id,
                "name": participant.display_name,
                "role": participant.role,
                "removed": participant.removed_at is not None,
                "state": latest.state if latest else None,
                "last_error": latest.last_error if latest else None,
                "messages": [_dump(m) for m in own],
            }
        )
    notices = [_dump(m) for m in messages if m.participant_id is None]
    problems = [
        item for item in items if item["state"] in ("failed", "no_address") and not item["removed"]
    ]
    return {"items": items, "notices": notices, "problems": len(problems)}
