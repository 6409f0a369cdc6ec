"""What a participant may see of their session's progress (自动反馈办理进展): its history."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from hearings.extensions import db
from hearings.notify.invites import (
    KIND_NAMES,
    ROLE_NAMES,
    join_url,
    location_text,
    preparation,
    working_hours_text,
)
from hearings.scheduling.models import AuditEvent, Participant
from hearings.scheduling.vocabulary import Status
from hearings.timekeeping import local

STATUS_NAMES: dict[str, tuple[str, str]] = {
    Status.SCHEDULED: ("已排期", "scheduled"),
    Status.OPEN: ("可入会", "open to join"),
    Status.IN_PROGRESS: ("进行中", "in progress"),
    Status.COMPLETED: ("已结束", "held"),
    Status.CANCELLED: ("已取消", "cancelled"),
    Status.ADJOURNED: ("已休庭", "adjourned"),
}


def _short(value: str | None) -> str:
    return value[:16].replace("T", " ") if value else "—"


def _entry(event: AuditEvent, participant: Participant) -> tuple[str, str, str] | None:
    """One audit event as the participant reads it, or None if it is not theirs to see."""
    detail = event.detail or {}
    action = event.action
    if action == "session.booked":
        return ("已预约", "Booked", f"{_short(detail.get('starts_at'))}")
    if action == "session.rescheduled":
        was, now = (detail.get("changes", {}).get("starts_at") or [None, None])[:2]
        return ("已改期", "Moved", f"{_short(was)} → {_short(now)}")
    if action == "session.updated":
        return ("信息更新", "Details updated", "")
    if action == "session.cancelled":
        return ("已取消", "Cancelled", detail.get("reason") or "")
    if action in ("participant.added", "participant.removed"):
        if detail.get("participant_id") != participant.id:
            return None  # other people's comings and goings are not theirs to see
        if action == "participant.added":
            return ("您被加入", "You were added", "")
        return ("您被移出", "You were removed", "")
    if action == "session.status":
        after = str(detail.get("after"))
        moved: dict[str, tuple[str, str, str]] = {
            Status.OPEN: ("可入会", "Open to join", ""),
            Status.IN_PROGRESS: ("已开始", "Started", ""),
            Status.COMPLETED: ("已结束", "Held", ""),
        }
        return moved.get(after)
    if action == "session.adjourned":
        return ("已休庭", "Adjourned", detail.get("reason") or "")
    return None


def progress_history(participant: Participant) -> dict[str, Any]:
    """What the progress page shows one participant."""
    session = participant.session
    events = db.session.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.session_id == session.id)
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    history = []
    for event in events:
        entry = _entry(event, participant)
        if entry is not None:
            history.append(
                {"at": local(event.at), "zh": entry[0], "en": entry[1], "detail": entry[2]}
            )
    prepare_zh, prepare_en = preparation(session, participant)
    return {
        "session": session,
        "participant": participant,
        "role": ROLE_NAMES[participant.role],
        "kind": KIND_NAMES[session.kind],
        "status": STATUS_NAMES[session.status],
        "location": location_text(session),
        "join_url": join_url(participant) if session.status != "cancelled" else None,
        "prepare": (prepare_zh, prepare_en),
        "court": session.host_court,
        "hours": working_hours_text(session),
        "history": history,
    }
