"""iCalendar invites (RFC 5545/5546): one per participant, and the staff's calendar feed."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from email.utils import parseaddr
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, g
from icalendar import Alarm, Calendar, Event, Timezone, vCalAddress, vText

from hearings.courts.calendar import load_calendars
from hearings.rooms.tokens import issue_room_token
from hearings.rooms.tokens import join_url as room_join_url
from hearings.scheduling.models import Participant, Session
from hearings.scheduling.vocabulary import Kind
from hearings.scheduling.vocabulary import ParticipantRole as R
from hearings.timekeeping import local
from hearings.tokens import issue_token

PRODID = "-//Luoyang and Luohe Intermediate People's Courts//hearings//ZH"
PROGRESS_AUDIENCE = "hearings-progress"
#: How long after a session its progress link keeps working.
PROGRESS_LINK_DAYS = 180

#: Notices are bilingual whatever the reader's language: (Chinese, English) of each word.
KIND_NAMES: dict[str, tuple[str, str]] = {
    Kind.MEDIATION: ("视频调解", "video mediation"),
    Kind.HEARING: ("网上开庭", "online hearing"),
    Kind.WITNESS: ("委托代理视频见证", "power-of-attorney video witnessing"),
    Kind.LIAISON: ("联络视频会议", "liaison video meeting"),
}
ROLE_NAMES: dict[str, tuple[str, str]] = {
    R.PRESIDING_JUDGE: ("审判长", "presiding judge"),
    R.JUDGE: ("法官", "judge"),
    R.CLERK: ("书记员", "clerk"),
    R.MEDIATOR: ("调解员", "mediator"),
    R.LIAISON: ("联络员", "liaison officer"),
    R.PARTY: ("当事人", "party"),
    R.ATTORNEY: ("代理律师", "attorney"),
    R.WITNESS: ("证人", "witness"),
    R.INTERPRETER: ("翻译", "interpreter"),
    R.PRINCIPAL: ("委托人", "principal"),
    R.AGENT: ("受托代理人", "agent"),
    R.OBSERVER: ("旁听", "observer"),
}
#: Who chairs the session (the invite's ORGANIZER-like role: chair).
CHAIR_ROLES = frozenset({R.PRESIDING_JUDGE, R.MEDIATOR})


@lru_cache(maxsize=1)
def court_timezone() -> Timezone:
    """The VTIMEZONE of Asia/Shanghai, generated once (it takes tens of milliseconds)."""
    return Timezone.from_tzid("Asia/Shanghai")


def progress_url(participant: Participant) -> str:
    """The participant's private progress page (a signed link; the default invite URL)."""
    session = participant.session
    token = issue_token(
        PROGRESS_AUDIENCE,
        str(participant.id),
        {"session": session.id},
        expires=session.ends_at + timedelta(days=PROGRESS_LINK_DAYS),
    )
    return site_url(f"/progress/{token}")


def join_url(participant: Participant) -> str:
    """A fresh personal join link for the participant (the room checks it when used): each
    invite carries its participant's own room token."""
    token, _ = issue_room_token(participant, None)
    return room_join_url(token)


def site_url(path: str) -> str:
    """An absolute URL on the public site."""
    return current_app.config["SITE_URL"].rstrip("/") + path


def session_uid(session: Session) -> str:
    """The UID of a session's event: stable for its whole life (one per occurrence)."""
    host = urlsplit(current_app.config["SITE_URL"]).hostname or "hearings"
    return f"hearings-session-{session.id}@{host}"


def participant_email(participant: Participant) -> str | None:
    """Where the person's mail goes: a staff member's directory address, else the given one."""
    if participant.staff is not None:
        return participant.staff.email or None
    return participant.email or None


def organizer_address() -> str:
    """The bare address of ``MAIL_FROM``."""
    return parseaddr(current_app.config["MAIL_FROM"])[1] or "hearings@localhost"


def working_hours_text(session: Session) -> str:
    """The host court's hours on the session's day, e.g. ``08:00–12:00, 15:00–18:00``."""
    # One booking writes several emails, each asking this twice: load the calendar once
    # per court and day within the app context (a request, or one scheduler job).
    key = (session.host_court_id, local(session.starts_at).date())
    cache: dict[Any, str] = g.setdefault("hearings_hours_text", {})
    if key not in cache:
        calendar = load_calendars([key[0]])[key[0]]
        timetable = calendar.timetable(key[1])
        periods = timetable.periods if timetable is not None else ()
        cache[key] = ", ".join(f"{o:%H:%M}–{c:%H:%M}" for o, c in periods)
    return cache[key]


def location_text(session: Session) -> str:
    """Rooms and their courts, or plain video."""
    if not session.rooms:
        return "视频会议（线上） · Video meeting (online)"
    rooms = "; ".join(f"{r.name}，{r.court.name_zh}" for r in session.rooms)
    return f"{rooms} · 视频连线 Video link"


def preparation(session: Session, participant: Participant) -> tuple[str, str]:
    """What the person should prepare, in Chinese and English."""
    if participant.staff is not None:
        return (
            "请通过法院视频终端或工作台按时入会。",
            "Join from a court video terminal or your desk.",
        )
    if session.kind == "witness" and participant.role == "principal":
        return (
            "请携带本人居民身份证原件，入会后按要求在镜头前出示，以便核验身份。",
            "Bring your resident ID card: you will show it on camera for the identity check.",
        )
    if session.kind == "witness":
        return (
            "请携带身份证件及执业证件（如为律师）。",
            "Bring your ID card, and your practising certificate if you are a lawyer.",
        )
    if session.kind == "hearing":
        return (
            "请携带身份证件，备好证据材料，提前15分钟在安静、光线充足处入会。",
            "Bring your ID card and your evidence; join 15 minutes early from a quiet, "
            "well-lit place.",
        )
    return (
        "请携带身份证件及与纠纷相关的材料，提前10分钟入会并检查摄像头和麦克风。",
        "Bring your ID card and the papers of the dispute; join 10 minutes early and check "
        "your camera and microphone.",
    )


def describe(session: Session, participant: Participant, url: str, progress: str) -> str:
    """The bilingual DESCRIPTION: kind, case, join link, progress page, preparation, contact."""
    kind_zh, kind_en = KIND_NAMES[session.kind]
    role_zh, role_en = ROLE_NAMES[participant.role]
    court = session.host_court
    when = f"{local(session.starts_at):%Y-%m-%d %H:%M}–{local(session.ends_at):%H:%M}"
    prepare_zh, prepare_en = preparation(session, participant)
    hours = working_hours_text(session)
    case_zh = f"案号：{session.case_number}\n" if session.case_number else ""
    case_en = f"Case number: {session.case_number}\n" if session.case_number else ""
    cancelled = session.status == "cancelled"
    status_zh = f"本次会议已取消。原因：{session.cancel_reason or '—'}\n" if cancelled else ""
    status_en = (
        f"This session is cancelled. Reason: {session.cancel_reason or '—'}\n" if cancelled else ""
    )
    return (
        f"{kind_zh}：{session.title}\n{case_zh}"
        f"时间（北京时间）：{when}\n"
        f"您的身份：{role_zh}\n{status_zh}"
        f"入会方式：打开链接 {url}\n"
        f"办理进展：{progress}\n"
        f"准备事项：{prepare_zh}\n"
        f"联系法院：{court.name_zh}，电话 {court.phone}"
        + (f"，工作时间 {hours}" if hours else "")
        + "\n\n"
        f"{kind_en.capitalize()}: {session.title}\n{case_en}"
        f"Time (Beijing): {when}\n"
        f"You take part as: {role_en}\n{status_en}"
        f"How to join: open {url}\n"
        f"Progress of your case: {progress}\n"
        f"Please prepare: {prepare_en}\n"
        f"Court contact: {court.name_en}, phone {court.phone}"
        + (f", working hours {hours}" if hours else "")
        + "\n"
    )


def _attendee(participant: Participant, email: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    address.params["CN"] = vText(participant.display_name)
    address.params["CUTYPE"] = "INDIVIDUAL"
    if participant.role in CHAIR_ROLES:
        address.params["ROLE"] = "CHAIR"
    elif participant.role == "observer":
        address.params["ROLE"] = "OPT-PARTICIPANT"
    else:
        address.params["ROLE"] = "REQ-PARTICIPANT"
    address.params["PARTSTAT"] = "NEEDS-ACTION"
    address.params["RSVP"] = "TRUE"
    return address


def session_event(
    session: Session,
    viewer: Participant,
    attendees: Iterable[Participant],
    now: datetime,
    *,
    cancelled: bool,
    sequence: int | None = None,
    url: str | None = None,
) -> Event:
    """The VEVENT of a session as one participant sees it (``sequence``: the session's by
    default; ``url``: a join link of the viewer's, minted here by default)."""
    url = url or join_url(viewer)
    kind_zh, kind_en = KIND_NAMES[session.kind]
    event = Event()
    event.add("uid", session_uid(session))
    event.add("sequence", session.sequence if sequence is None else sequence)
    event.add("dtstamp", now)
    event.add("created", session.created_at)
    event.add("last-modified", session.updated_at)
    event.add("dtstart", local(session.starts_at))
    event.add("dtend", local(session.ends_at))
    event.add("summary", f"[{kind_zh} {kind_en}] {session.title}")
    event.add("location", location_text(session))
    event.add("url", url)
    event.add("description", describe(session, viewer, url, progress_url(viewer)))
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    event.add("class", "PRIVATE" if session.kind != "liaison" else "PUBLIC")
    organizer = vCalAddress(f"mailto:{organizer_address()}")
    organizer.params["CN"] = vText(session.host_court.name_zh)
    event.add("organizer", organizer)
    for person in attendees:
        email = participant_email(person)
        if email:
            event.add("attendee", _attendee(person, email))
    if not cancelled:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("trigger", timedelta(minutes=-30))
        alarm.add("description", f"{kind_zh} 30分钟后开始 · starts in 30 minutes")
        event.add_component(alarm)
    return event


def build_invite(
    session: Session,
    participant: Participant,
    method: str,
    now: datetime,
    *,
    sequence: int | None = None,
    url: str | None = None,
) -> bytes:
    """The participant's invite: ``REQUEST`` (new or changed) or ``CANCEL``, as .ics bytes.

    An outside person's invite names only the organizer and that person; staff see every
    attendee who has an address.
    """
    if method not in ("REQUEST", "CANCEL"):
        raise ValueError(f"unsupported iTIP method {method!r}")
    cancelled = method == "CANCEL"
    if participant.staff is None or participant.removed_at is not None:
        attendees: list[Participant] = [participant]
    else:
        attendees = list(session.active_participants)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    calendar.add_component(
        session_event(
            session, participant, attendees, now, cancelled=cancelled, sequence=sequence, url=url
        )
    )
    calendar.add_component(court_timezone())
    return calendar.to_ical()


def build_feed(name: str, entries: Iterable[tuple[Session, Participant]], now: datetime) -> bytes:
    """A staff member's subscription: every session they take part in (cancelled ones marked)."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"{name} · 视频庭审与调解")
    calendar.add("x-wr-timezone", "Asia/Shanghai")
    calendar.add("refresh-interval", timedelta(minutes=30), parameters={"VALUE": "DURATION"})
    for session, participant in entries:
        calendar.add_component(
            session_event(
                session,
                participant,
                session.active_participants,
                now,
                cancelled=session.status == "cancelled",
            )
        )
    calendar.add_component(court_timezone())
    return calendar.to_ical()
