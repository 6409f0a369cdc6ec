"""What notify says: its refusals, in Chinese and English, by code; and on the deliveries
page, the kinds of notices, their states and why one was not delivered."""

from __future__ import annotations

from hearings.errors import Words
from hearings.i18n import gettext as _

WORDS = {
    "no-such-feed": Words(
        "没有这个日历订阅（可能已被撤销）。", "There is no such calendar feed (it may have been revoked).",
    ),
    "progress-link-invalid": Words(
        "此链接无效或已失效。", "This link is not valid (any more).",
    ),
    "no-longer-taking-part": Words(
        "您已不再参加该会议。", "You no longer take part in this session.",
        detail="您已不再参加该会议。 You no longer take part in this session.",
    ),
}  # fmt: skip


#: What the outbox notes of a message whose sender died mid-send (it may have gone out).
INTERRUPTED = "interrupted while sending; it may or may not have arrived"

#: The kinds of notices the deliveries page lists.
NOTICE_KINDS = {"invite": "邀请", "update": "变更", "cancel": "取消", "reminder": "提醒"}
#: The states of one message.
DELIVERY_STATES = {
    "pending": "待发送",
    "sending": "发送中",
    "sent": "已送达",
    "failed": "发送失败",
    "no_address": "无联系地址",
}


def notice_kind(kind: str) -> str:
    """A notice's kind (invite, update, …) in the visitor's language."""
    if kind.startswith("notice-"):
        return _("进展通知")
    return _(NOTICE_KINDS[kind]) if kind in NOTICE_KINDS else kind


def delivery_state(state: str | None) -> str:
    """A message's delivery state in the visitor's language."""
    if state is None:
        return "—"
    return _(DELIVERY_STATES[state]) if state in DELIVERY_STATES else state


def delivery_note(state: str | None, error: str | None, phone: str | None = None) -> str:
    """Why a notice was not delivered, in the visitor's language: from the message's state
    and the person's phone (never from the note the outbox keeps for the API)."""
    if state == "no_address":
        if phone:
            return _("没有电子邮箱，请电话通知 %(phone)s", phone=phone)
        return _("没有任何联系方式，请以其他方式通知")
    if state != "failed" or not error:
        return ""
    if error == INTERRUPTED:
        return _("发送中断，对方可能未收到")
    return _("邮件服务器未接收：%(error)s", error=error)
