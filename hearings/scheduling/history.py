"""A session's audit trail as the staff read it: plain words, each event once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from hearings.i18n import gettext as _
from hearings.scheduling import labels
from hearings.scheduling.models import AuditEvent
from hearings.timekeeping import local


def _short(value: Any) -> str:
    return str(value)[:16].replace("T", " ") if value else "—"


def _what(event: AuditEvent) -> tuple[str, str]:
    """The event's headline and its detail, in the visitor's language."""
    detail = event.detail or {}
    action = event.action
    if action == "session.booked":
        ends = _short(detail.get("ends_at"))[11:]
        return _("已预约"), f"{_short(detail.get('starts_at'))}–{ends}"
    if action == "session.rescheduled":
        was, now = (detail.get("changes", {}).get("starts_at") or [None, None])[:2]
        return _("已改期"), f"{_short(was)} → {_short(now)}"
    if action == "session.updated":
        return _("信息已修改"), ""
    if action == "session.cancelled":
        return _("已取消"), str(detail.get("reason") or "")
    if action == "session.adjourned":
        return _("已休庭"), str(detail.get("reason") or "")
    if action == "session.status":
        after = str(detail.get("after"))
        status = _("状态：%(status)s", status=_(labels.STATUSES.get(after, after)))
        if detail.get("released_from"):  # ended early: the rest of the booked time is free
            return status, _("%(time)s 起的时段已释放", time=_short(detail["released_from"])[11:])
        return status, ""
    if action in ("participant.added", "participant.removed"):
        role = str(detail.get("role", ""))
        headline = _("加入参会人") if action == "participant.added" else _("移出参会人")
        return headline, _(labels.ROLES.get(role, role))
    if action == "link.reissued":
        return _("重新签发参会链接"), ""
    if action == "access.denied":
        return _("拒绝访问"), ""
    return action, ""


def describe_history(events: Sequence[AuditEvent]) -> list[dict[str, Any]]:
    """Each event as ``{at, what, detail}``; an event that reads as the one before it (e.g. a
    status change recorded by two connections) is shown once."""
    shown: list[dict[str, Any]] = []
    previous: tuple[str, str] | None = None
    for event in events:
        what, detail = _what(event)
        if (what, detail) == previous:
            continue
        previous = (what, detail)
        at: datetime = local(event.at)
        shown.append({"at": at, "what": what, "detail": detail})
    return shown
