"""The emails to participants, written from a session as it is when they are sent.

A change stores only what to say (``OutboxMessage.draft``); the outbox worker writes the
message just before sending it: the request that booked or changed a session does not spend
its time on MIME and iCalendar, and a link in the email is minted for the session's time as
it then stands.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app

from hearings.notify.invites import (
    KIND_NAMES,
    build_invite,
    join_url,
    location_text,
    participant_email,
    preparation,
    progress_url,
    working_hours_text,
)
from hearings.notify.mail import compose
from hearings.scheduling.models import Participant, Session
from hearings.timekeeping import local

#: Email kinds: (Chinese label, English label, headline in Chinese, headline in English).
EMAIL_TEXTS = {
    "invite": (
        "邀请",
        "Invitation",
        "您被邀请参加以下{kind_zh}。",
        "You are invited to this {kind_en}.",
    ),
    "update": (
        "变更",
        "Updated",
        "以下{kind_zh}的安排已变更，请以本邮件为准。",
        "This {kind_en} has changed; this message replaces earlier ones.",
    ),
    "relink": (
        "新链接",
        "New link",
        "您参加以下{kind_zh}的链接已重新签发，旧链接已失效，请使用本邮件中的新链接。",
        "Your link to this {kind_en} was replaced: the old one no longer works; use this one.",
    ),
    "cancel": ("取消", "Cancelled", "以下{kind_zh}已取消。", "This {kind_en} is cancelled."),
    "removed": (
        "取消",
        "Cancelled",
        "您已不再参加以下{kind_zh}。",
        "You no longer take part in this {kind_en}.",
    ),
    "reminder": (
        "提醒",
        "Reminder",
        "提醒：以下{kind_zh}将于 {start} 开始。",
        "Reminder: this {kind_en} starts at {start} (Beijing time).",
    ),
    "started": ("已开始", "Started", "以下{kind_zh}已开始。", "This {kind_en} has started."),
    "ended": ("已结束", "Ended", "以下{kind_zh}已结束。", "This {kind_en} has ended."),
}


def when_text(session: Session) -> str:
    """The session's date and time span, Beijing time."""
    return f"{local(session.starts_at):%Y-%m-%d %H:%M}–{local(session.ends_at):%H:%M}"


def render_mail(template: str, context: dict[str, Any]) -> str:
    """Render an email body. Not ``render_template``: mail is also written by scheduler jobs,
    outside any request, so the pages' context processors (language cookie…) don't apply."""
    return current_app.jinja_env.get_template(template).render(**context)


def subject_of(session: Session, text: str) -> str:
    """The subject line of one kind of email about a session."""
    label_zh, label_en, _, _ = EMAIL_TEXTS[text]
    kind_zh, _ = KIND_NAMES[session.kind]
    return (
        f"【{kind_zh}】{session.title} · {local(session.starts_at):%m-%d %H:%M} · "
        f"{label_zh} {label_en}"
    )


def write_email(
    session: Session,
    participant: Participant,
    draft: dict[str, Any],
    *,
    sequence: int,
    now: datetime,
) -> str:
    """The whole message (MIME, with the invite when the draft has a ``method``) for one
    participant, from a draft ``{text, method, reason}``; the invite carries ``sequence``."""
    text, method, reason = draft["text"], draft.get("method"), draft.get("reason")
    _, _, head_zh, head_en = EMAIL_TEXTS[text]
    kind_zh, kind_en = KIND_NAMES[session.kind]
    start = f"{local(session.starts_at):%Y-%m-%d %H:%M}"
    subject = subject_of(session, text)
    url = join_url(participant)
    ics = (
        build_invite(session, participant, method, now, sequence=sequence, url=url)
        if method
        else None
    )
    prepare_zh, prepare_en = preparation(session, participant)
    context: dict[str, Any] = {
        "subject": subject,
        "name": participant.display_name,
        "headline_zh": head_zh.format(kind_zh=kind_zh, start=start),
        "headline_en": head_en.format(kind_en=kind_en, start=start),
        "session": session,
        "kind_zh": kind_zh,
        "kind_en": kind_en,
        "when": when_text(session),
        "location": location_text(session),
        "url": url,
        "progress": progress_url(participant),
        "prepare_zh": prepare_zh,
        "prepare_en": prepare_en,
        "court": session.host_court,
        "hours": working_hours_text(session),
        "reason": reason,
        "cancelled": text in ("cancel", "removed"),
        "ics": ics is not None,
    }
    message = compose(
        sender=current_app.config["MAIL_FROM"],
        to_name=participant.display_name,
        to_address=participant_email(participant) or "",
        subject=subject,
        text=render_mail("notify_mail.txt", context),
        html=render_mail("notify_mail.html", context),
        now=now,
        ics=ics,
        method=method,
    )
    return message.as_string()
