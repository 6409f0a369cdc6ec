"""Who hears what, when a session is booked, changed, cancelled, started or ended."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import current_app

from hearings.notify import outbox, wecom
from hearings.notify.invites import (
    KIND_NAMES,
    ROLE_NAMES,
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
from hearings.timekeeping import local, utcnow

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
#: Court group notices: event → (Chinese, English).
NOTICE_EVENTS = {
    "booked": ("已预约", "booked"),
    "changed": ("已变更", "changed"),
    "cancelled": ("已取消", "cancelled"),
    "started": ("已开始", "started"),
    "ended": ("已结束", "ended"),
}


def _when(session: Session) -> str:
    return f"{local(session.starts_at):%Y-%m-%d %H:%M}–{local(session.ends_at):%H:%M}"


def render_mail(template: str, context: dict[str, Any]) -> str:
    """Render an email body. Not ``render_template``: mail is also written by scheduler jobs,
    outside any request, so the pages' context processors (language cookie…) don't apply."""
    return current_app.jinja_env.get_template(template).render(**context)


def no_address_reason(participant: Participant) -> str:
    """Why a person could not be reached by email, and how else to reach them."""
    phone = participant.staff.phone if participant.staff is not None else participant.phone
    if phone:
        return f"没有电子邮箱，请电话通知 {phone} · no email address: call {phone}"
    return "没有任何联系方式 · no email address and no phone: tell them another way"


def queue_email(
    session: Session,
    participant: Participant,
    kind: str,
    *,
    text: str,
    method: str | None = None,
    reason: str | None = None,
) -> bool:
    """Store one email to one participant (with the invite when ``method`` is given);
    False if it was stored already."""
    label_zh, label_en, head_zh, head_en = EMAIL_TEXTS[text]
    kind_zh, kind_en = KIND_NAMES[session.kind]
    start = f"{local(session.starts_at):%Y-%m-%d %H:%M}"
    subject = (
        f"【{kind_zh}】{session.title} · {local(session.starts_at):%m-%d %H:%M} · "
        f"{label_zh} {label_en}"
    )
    address = participant_email(participant)
    if not address:
        return outbox.store(
            session,
            participant,
            channel="email",
            kind=kind,
            recipient="",
            subject=subject,
            body="",
            state="no_address",
            error=no_address_reason(participant),
        )
    now = utcnow()
    ics = build_invite(session, participant, method, now) if method else None
    prepare_zh, prepare_en = preparation(session, participant)
    context: dict[str, Any] = {
        "subject": subject,
        "name": participant.display_name,
        "headline_zh": head_zh.format(kind_zh=kind_zh, start=start),
        "headline_en": head_en.format(kind_en=kind_en, start=start),
        "session": session,
        "kind_zh": kind_zh,
        "kind_en": kind_en,
        "when": _when(session),
        "location": location_text(session),
        "url": join_url(participant),
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
        to_address=address,
        subject=subject,
        text=render_mail("notify_mail.txt", context),
        html=render_mail("notify_mail.html", context),
        now=now,
        ics=ics,
        method=method,
    )
    return outbox.store(
        session,
        participant,
        channel="email",
        kind=kind,
        recipient=address,
        subject=subject,
        body=message.as_string(),
    )


def involved_courts(session: Session) -> list[str]:
    """The host court and every court a participant attends from."""
    courts = {session.host_court_id}
    courts.update(p.court_id for p in session.active_participants if p.court_id)
    courts.update(p.staff.court_id for p in session.active_participants if p.staff is not None)
    return sorted(courts)


def notice_text(session: Session, event: str, detail: str | None = None) -> str:
    """The markdown a court group reads: what happened, to which session, who takes part."""
    event_zh, event_en = NOTICE_EVENTS[event]
    kind_zh, kind_en = KIND_NAMES[session.kind]
    staff = [
        f"{ROLE_NAMES[p.role][0]} {p.display_name}"
        for p in session.active_participants
        if p.staff is not None
    ]
    outsiders = sum(1 for p in session.active_participants if p.staff is None)
    lines = [
        f"**{session.host_court.name_zh} · {kind_zh}{event_zh}** ({kind_en} {event_en})",
        f"> 标题 Title：{session.title}",
    ]
    if session.case_number:
        lines.append(f"> 案号 Case：{session.case_number}")
    lines.append(f"> 时间 Time：{_when(session)}")
    lines.append(f"> 地点 Place：{location_text(session)}")
    people = "、".join(staff)
    if outsiders:
        people += f"；当事人等 {outsiders} 人 ({outsiders} outside participants)"
    lines.append(f"> 参加 Participants：{people}")
    if detail:
        lines.append(f"> {detail}")
    return "\n".join(lines)


def queue_court_notices(session: Session, event: str, detail: str | None = None) -> None:
    """Store the group notice for every involved court that has a WeChat Work robot."""
    hooks = wecom.parse_webhooks(current_app.config["WECOM_WEBHOOK_URL"])
    if not hooks:
        return
    body = wecom.markdown_payload(notice_text(session, event, detail))
    event_zh, event_en = NOTICE_EVENTS[event]
    for court in involved_courts(session):
        if wecom.webhook_for(hooks, court) is None:
            continue
        outbox.store(
            session,
            None,
            channel="wecom",
            kind=f"notice-{event}",
            recipient=court,
            subject=f"{session.title} {event_zh} {event_en}",
            body=body,
            whom=f"court-{court}",
        )


def notify_booked(occurrences: Iterable[Session]) -> None:
    """Invite every participant of every occurrence; tell the courts' groups once."""
    sessions = list(occurrences)
    for session in sessions:
        for participant in session.active_participants:
            queue_email(session, participant, "invite", text="invite", method="REQUEST")
    if sessions:
        detail = (
            f"共 {len(sessions)} 次 · {len(sessions)} occurrences" if len(sessions) > 1 else None
        )
        queue_court_notices(sessions[0], "booked", detail)


def notify_changed(session: Session, changes: dict[str, Any]) -> None:
    """A change: the person added or removed hears it; staff get the new attendee list;
    a new time, room or title reaches everyone with SEQUENCE + 1."""
    reissued = changes.get("link_reissued")
    if reissued is not None:
        # Only that person's link changed: they get it in an update; nobody else hears of it.
        for participant in session.active_participants:
            if participant.id == reissued:
                queue_email(session, participant, "update", text="relink", method="REQUEST")
        return
    added, removed = changes.get("participant_added"), changes.get("participant_removed")
    concerned = {pid for pid in (added, removed) if pid is not None}
    for participant in session.participants:
        if participant.id == added:
            queue_email(session, participant, "invite", text="invite", method="REQUEST")
        elif participant.id == removed:
            queue_email(session, participant, "cancel", text="removed", method="CANCEL")
        elif participant.removed_at is None and (participant.staff is not None or not concerned):
            queue_email(session, participant, "update", text="update", method="REQUEST")
    if "starts_at" in changes:
        detail = f"原定 Was：{changes['starts_at'][0]}"
    elif concerned:
        detail = "参加人员变更 · participants changed"
    else:
        detail = "信息变更 · details changed"
    queue_court_notices(session, "changed", detail)


def notify_cancelled(session: Session, reason: str | None) -> None:
    """CANCEL to every participant (same UID, higher SEQUENCE); the courts' groups hear it."""
    for participant in session.active_participants:
        queue_email(session, participant, "cancel", text="cancel", method="CANCEL", reason=reason)
    queue_court_notices(session, "cancelled", f"原因 Reason：{reason}" if reason else None)


def announce_progress(session: Session, event: str) -> None:
    """A session started or ended: the courts' groups and the outside participants hear it."""
    if event not in ("started", "ended"):
        raise ValueError(f"unknown progress event {event!r}")
    for participant in session.active_participants:
        if participant.staff is None:
            queue_email(session, participant, f"notice-{event}", text=event)
    queue_court_notices(session, event)


def send_reminder_emails(session: Session, minutes: int) -> None:
    """The reminder email to every participant (part of taking the sent-log row)."""
    for participant in session.active_participants:
        queue_email(session, participant, f"reminder-{minutes}", text="reminder")
