"""Who hears what, when a session is booked, changed, cancelled, started or ended."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import current_app

from hearings.notify import outbox, wecom
from hearings.notify.invites import KIND_NAMES, ROLE_NAMES, location_text, participant_email
from hearings.notify.letters import subject_of, when_text
from hearings.scheduling.models import Participant, Session

#: Court group notices: event → (Chinese, English).
NOTICE_EVENTS = {
    "booked": ("已预约", "booked"),
    "changed": ("已变更", "changed"),
    "cancelled": ("已取消", "cancelled"),
    "started": ("已开始", "started"),
    "ended": ("已结束", "ended"),
}


def no_address_reason(participant: Participant) -> str:
    """Why a person could not be reached by email, and how else to reach them."""
    phone = participant.staff.phone if participant.staff is not None else participant.phone
    if phone:
        return f"没有电子邮箱，请电话通知 {phone} · no email address: call {phone}"
    return "没有任何联系方式 · no email address and no phone: tell them another way"


def email_row(
    session: Session,
    participant: Participant,
    kind: str,
    *,
    text: str,
    method: str | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    """The outbox row of one email to one participant (with the invite when ``method`` is
    given), to be written when it is sent (``letters.write_email``)."""
    subject = subject_of(session, text)
    address = participant_email(participant)
    if not address:
        return outbox.message_row(
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
    return outbox.message_row(
        session,
        participant,
        channel="email",
        kind=kind,
        recipient=address,
        subject=subject,
        body="",
        draft={"text": text, "method": method, "reason": reason},
    )


def queue_email(session: Session, participant: Participant, kind: str, **fields: Any) -> bool:
    """Store one email (as ``email_row`` writes it); False if it was stored already."""
    return outbox.store_rows([email_row(session, participant, kind, **fields)]) == 1


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
    lines.append(f"> 时间 Time：{when_text(session)}")
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
    outbox.store_rows(
        [
            email_row(session, participant, "invite", text="invite", method="REQUEST")
            for session in sessions
            for participant in session.active_participants
        ]
    )
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
    rows = []
    for participant in session.participants:
        if participant.id == added:
            rows.append(email_row(session, participant, "invite", text="invite", method="REQUEST"))
        elif participant.id == removed:
            rows.append(email_row(session, participant, "cancel", text="removed", method="CANCEL"))
        elif participant.removed_at is None and (participant.staff is not None or not concerned):
            rows.append(email_row(session, participant, "update", text="update", method="REQUEST"))
    outbox.store_rows(rows)
    if "starts_at" in changes:
        detail = f"原定 Was：{changes['starts_at'][0]}"
    elif concerned:
        detail = "参加人员变更 · participants changed"
    else:
        detail = "信息变更 · details changed"
    queue_court_notices(session, "changed", detail)


def notify_cancelled(session: Session, reason: str | None) -> None:
    """CANCEL to every participant (same UID, higher SEQUENCE); the courts' groups hear it."""
    outbox.store_rows(
        [
            email_row(session, p, "cancel", text="cancel", method="CANCEL", reason=reason)
            for p in session.active_participants
        ]
    )
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
    outbox.store_rows(
        [
            email_row(session, p, f"reminder-{minutes}", text="reminder")
            for p in session.active_participants
        ]
    )
