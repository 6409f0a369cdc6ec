"""The staff's pages: the week desk, the booking form with the slot finder, a session."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from pydantic import BaseModel, ValidationError
from werkzeug.wrappers import Response

from hearings.courts.calendar import load_calendars
from hearings.courts.models import Room, Staff
from hearings.courts.services import list_courts, list_rooms, search_directory
from hearings.errors import HearingsError, flashed_back_to, shown_by
from hearings.extensions import db
from hearings.i18n import current_language
from hearings.i18n import gettext as _
from hearings.inputs import TEXT_CODES, DbId, checks_own_form, form_faults, form_id, text_fault
from hearings.scheduling import labels, rules, services
from hearings.scheduling.access import (
    load_session,
    require_session_access,
    visible_sessions_clause,
)
from hearings.scheduling.availability import find_free_slots
from hearings.scheduling.conflicts import room_resource, staff_resource
from hearings.scheduling.history import describe_history
from hearings.scheduling.models import AuditEvent, Session
from hearings.scheduling.panels import render_panels
from hearings.scheduling.schemas import SessionIn, SessionPatch
from hearings.scheduling.vocabulary import Kind
from hearings.timekeeping import COURT_TZ, YEARS, isoformat, local, utcnow
from hearings.words import fault_sentence, form_problems, text_problems

pages = Blueprint("scheduling", __name__)

STAFF_ROWS, OUTSIDE_ROWS = 5, 4
DURATIONS = (30, 45, 60, 90, 120, 180, 240)


@pages.app_context_processor
def _labels() -> dict[str, Any]:
    return {"labels": labels}


@pages.get("/")
@login_required
def desk() -> str:
    """The staff desk: a week of sessions of my court and of those I take part in."""
    today = local(utcnow()).date()
    try:
        anchor = (
            date.fromisoformat(request.args.get("week", "")) if request.args.get("week") else today
        )
    except ValueError:
        anchor = today
    if anchor.year not in YEARS:
        anchor = today
    monday = anchor - timedelta(days=anchor.weekday())
    start = datetime.combine(monday, datetime.min.time(), tzinfo=COURT_TZ)
    sessions = db.session.scalars(
        sa.select(Session)
        .where(
            visible_sessions_clause(current_user),
            Session.starts_at >= start,
            Session.starts_at < start + timedelta(days=7),
        )
        .order_by(Session.starts_at)
    ).all()
    days = [monday + timedelta(days=n) for n in range(7)]
    by_day: dict[date, list[Session]] = {d: [] for d in days}
    for s in sessions:
        by_day[local(s.starts_at).date()].append(s)
    calendars = load_calendars(["luoyang", "luohe"])
    closed = {d: {c: cal.closed_reason(d) for c, cal in calendars.items()} for d in days}
    return render_template(
        "desk.html",
        staff=current_user,
        days=days,
        by_day=by_day,
        closed=closed,
        today=today,
        previous=(monday - timedelta(days=7)).isoformat(),
        following=(monday + timedelta(days=7)).isoformat(),
    )


def _form_people(form: Any) -> list[dict[str, Any]]:
    people: list[dict[str, Any]] = []
    for n in range(STAFF_ROWS):
        raw = form.get(f"staff_id_{n}", "").strip()
        if raw:  # (not an id in range: left to the booking's check, which names the field)
            staff_id = form_id(raw)
            people.append(
                {"role": form.get(f"staff_role_{n}", "judge"), "staff_id": staff_id or raw}
            )
    for n in range(OUTSIDE_ROWS):
        name = form.get(f"out_name_{n}", "").strip()
        if not name:
            continue
        person: dict[str, Any] = {"role": form.get(f"out_role_{n}", "party"), "name": name}
        for field in ("side", "phone", "email", "court"):
            value = form.get(f"out_{field}_{n}", "").strip()
            if value:
                person[field] = value
        people.append(person)
    return people


def _room_ids(form: Any) -> list[int | str]:
    # An id out of range is passed on as posted, for the booking's check to refuse by name
    # (never dropped: the booking would go on without that room).
    return [form_id(raw) or raw for raw in form.getlist("room_ids") if raw.strip()]


def _booking_request(form: Any, starts: datetime, minutes: int) -> SessionIn:
    data: dict[str, Any] = {
        "kind": form.get("kind", ""),
        "title": form.get("title", ""),
        "case_number": form.get("case_number") or None,
        "host_court": form.get("host_court", ""),
        "starts_at": starts,
        "ends_at": starts + timedelta(minutes=minutes),
        "room_ids": _room_ids(form),
        "participants": _form_people(form),
        "outside_hours_reason": form.get("outside_hours_reason") or None,
        "short_notice_reason": form.get("short_notice_reason") or None,
    }
    return SessionIn.model_validate(data)


def earliest_bookable(form: Any, now: datetime) -> datetime:
    """The earliest start the booking rules allow for the form: never in the past; for a
    hearing without a short-notice reason, the 3 days' notice (民诉法 Art. 139)."""
    if form.get("kind") == Kind.HEARING and not form.get("short_notice_reason", "").strip():
        return now + rules.HEARING_NOTICE
    return now


class _Picked(BaseModel):
    staff_id: DbId


class _SearchIds(BaseModel):
    """The ids a slot search posts: refused by name when they are not ids (never dropped)."""

    participants: list[_Picked]
    room_ids: list[DbId]


def _slots(form: Any, minutes: int) -> list[tuple[datetime, datetime]]:
    picked = [p for p in _form_people(form) if "staff_id" in p]
    ids = _SearchIds.model_validate({"participants": picked, "room_ids": _room_ids(form)})
    staff_ids = [p.staff_id for p in ids.participants]
    room_ids = ids.room_ids
    staff = db.session.scalars(sa.select(Staff).where(Staff.id.in_(staff_ids))).all()
    rooms = db.session.scalars(sa.select(Room).where(Room.id.in_(room_ids))).all()
    courts = (
        {form.get("host_court", "")} | {s.court_id for s in staff} | {r.court_id for r in rooms}
    )
    calendars = [c for c in load_calendars(courts - {""}).values() if c.timetables]
    start = earliest_bookable(form, utcnow())
    try:
        day = date.fromisoformat(form.get("search_from", ""))
        if day.year not in YEARS:
            raise ValueError("out of range")
        start = max(start, datetime.combine(day, datetime.min.time(), tzinfo=COURT_TZ))
    except ValueError:
        pass
    resources = [staff_resource(i) for i in staff_ids] + [room_resource(i) for i in room_ids]
    # The earliest free time of each morning and afternoon: real choices over several days,
    # not eight quarter-hours of one morning.
    return find_free_slots(calendars, resources, timedelta(minutes=minutes), start,
                           start + timedelta(days=30), 8, one_per_period=True)  # fmt: skip


def _minutes(form: Any) -> int:
    """The form's duration in minutes (a choice of the list; anything else is an hour)."""
    text = form.get("duration", "60")
    return int(text) if text.isascii() and text.isdigit() and 15 <= int(text) <= 600 else 60


def _form_time(text: str, local_only: bool = False) -> datetime:
    """A time from a form, as Beijing time unless it says otherwise (``local_only``: it is
    Beijing time whatever it says); ValueError if it is none or out of the years served."""
    value = datetime.fromisoformat(text)
    if value.year not in YEARS:
        raise ValueError(f"{value.year} is out of range")
    if local_only or value.tzinfo is None:
        value = value.replace(tzinfo=COURT_TZ)
    return value


def _form_context(form: Any) -> dict[str, Any]:
    staff = search_directory(None, None, None)
    rooms = list_rooms(None)
    courts = list_courts()
    return {
        "form": form, "staff": staff, "rooms": rooms, "courts": courts,
        "staff_rows": STAFF_ROWS, "outside_rows": OUTSIDE_ROWS, "durations": DURATIONS,
        "today": local(utcnow()).date().isoformat(),
    }  # fmt: skip


def _booking_refused(error: HearingsError) -> tuple[str, int]:
    """A refused booking: the form again as filled in, with what was wrong (conflicts are
    named in the sentence: who, when, which session)."""
    context = _form_context(request.form)
    context["problems"] = error.words()
    return render_template("booking.html", **context), error.status


@pages.route("/sessions/new", methods=["GET", "POST"])
@shown_by(_booking_refused)
@checks_own_form
@login_required
def new_session() -> str | Response | tuple[str, int]:
    """The booking form: pick people and a duration, find the earliest free slots, book one."""
    form = request.form if request.method == "POST" else request.args
    context = _form_context(form)
    if request.method == "GET":
        return render_template("booking.html", **context)
    if faults := form_faults(form):
        # Shown on the form as typed; nothing of it reaches a search or the database.
        context["problems"] = text_problems(faults)
        return render_template("booking.html", **context), 422
    minutes = _minutes(form)
    action = form.get("action", "find")
    try:
        if action == "find":
            context["slots"] = _slots(form, minutes)
            context["notice_from"] = (
                earliest_bookable(form, utcnow()) if form.get("kind") == Kind.HEARING else None
            )
            if not context["slots"]:
                context["problems"] = [_("三十天内没有共同的空闲时间。")]
            return render_template("booking.html", **context)
        starts = _form_time(form.get("slot") or form.get("starts_at", ""))
        session = services.book_session(current_user, _booking_request(form, starts, minutes))
        db.session.commit()
    except ValidationError as error:
        context["problems"] = form_problems(error)
        return render_template("booking.html", **context), 422
    except ValueError:
        context["problems"] = [_("请选择一个时间。")]
        return render_template("booking.html", **context), 422
    flash(_("已预约。"), "ok")
    return redirect(url_for("scheduling.session_page", session_id=session.id))


def _session_context(session: Session, form: Any = None) -> dict[str, Any]:
    """What the session page shows; ``form`` holds the clerk's reschedule input to keep."""
    history = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.session_id == session.id).order_by(AuditEvent.id)
    ).all()
    minutes = int((session.ends_at - session.starts_at).total_seconds() // 60)
    reschedule = {
        "starts_at": local(session.starts_at).strftime("%Y-%m-%dT%H:%M"),
        "duration": str(minutes),
        "outside_hours_reason": session.outside_hours_reason or "",
        "short_notice_reason": session.short_notice_reason or "",
    }
    if form is not None:
        reschedule.update({key: form.get(key, "") for key in reschedule})
    durations = DURATIONS if minutes in DURATIONS else tuple(sorted({*DURATIONS, minutes}))
    return {
        "session": session,
        "panels": render_panels(session, current_user),
        "history": describe_history(history),
        "durations": durations,
        "reschedule": reschedule,
        "isoformat": isoformat,
    }


@pages.get("/sessions/<id:session_id>")
@login_required
def session_page(session_id: int) -> str:
    """One session: who, when, where, its links, invites and history; reschedule or cancel."""
    session = load_session(session_id)
    require_session_access(current_user, session, "view")
    return render_template("session.html", **_session_context(session))


def _rescheduling_refused(error: HearingsError) -> tuple[str, int] | None:
    """A refused reschedule: the session page with the form as typed (None: no such
    session, or not one the clerk may see: the error page says so)."""
    session = db.session.get(Session, (request.view_args or {})["session_id"])
    if session is None or error.status in (403, 404):
        return None
    return _reschedule_refused(session.id, error.words(), [], error.status)


@pages.post("/sessions/<id:session_id>/reschedule")
@shown_by(_rescheduling_refused)
@checks_own_form
@login_required
def reschedule(session_id: int) -> Response | tuple[str, int]:
    """Move a session (same rules as a booking); a refusal shows the form again as typed."""
    session = load_session(session_id)
    form = request.form
    if faults := form_faults(form):
        return _reschedule_refused(session_id, text_problems(faults), [], 422)
    try:
        starts = _form_time(form.get("starts_at", ""), local_only=True)
        minutes = _minutes(form)
        patch = SessionPatch(
            starts_at=starts,
            ends_at=starts + timedelta(minutes=minutes),
            outside_hours_reason=form.get("outside_hours_reason", "").strip() or None,
            short_notice_reason=form.get("short_notice_reason", "").strip() or None,
        )
        edit = services.SessionEdit(**patch.model_dump(exclude_unset=True))
        services.update_session(current_user, session, edit)
        db.session.commit()
    except ValidationError as error:
        db.session.rollback()
        # A reason refused for what it holds is named; anything else here is the time.
        said = any(e["type"] in TEXT_CODES for e in error.errors())
        problems = form_problems(error) if said else [_("请填写有效的时间。")]
        return _reschedule_refused(session_id, problems, [], 422)
    except ValueError:
        db.session.rollback()
        return _reschedule_refused(session_id, [_("请填写有效的时间。")], [], 422)
    flash(_("已改期。"), "ok")
    return redirect(url_for("scheduling.session_page", session_id=session_id))


def _reschedule_refused(
    session_id: int, problems: list[str], conflicts: list[Any], status: int
) -> tuple[str, int]:
    # Rendered, not redirected: the time and reasons the clerk typed stay in the form.
    session = load_session(session_id)
    require_session_access(current_user, session, "view")
    context = _session_context(session, request.form)
    context.update(problems=problems, conflicts=conflicts)
    return render_template("session.html", **context), status


def session_page_asked() -> str | None:
    """The page of the session the request is about (its ``session_id``), where a refused
    action on it is said; None when there is no such session."""
    session_id = (request.view_args or {})["session_id"]
    if db.session.get(Session, session_id) is None:
        return None
    return url_for("scheduling.session_page", session_id=session_id)


@pages.post("/sessions/<id:session_id>/cancel")
@shown_by(flashed_back_to(session_page_asked))
@checks_own_form
@login_required
def cancel(session_id: int) -> Response:
    """Cancel a session with a reason."""
    session = load_session(session_id)
    reason = request.form.get("reason", "").strip()
    if not reason:
        flash(_("取消须填写理由。"))
    elif fault := text_fault(reason):
        flash(fault_sentence(fault, "reason", "single-line", current_language()))
    else:
        services.cancel_session(current_user, session, reason[:500], "occurrence")
        db.session.commit()
        flash(_("已取消。"), "ok")
    return redirect(url_for("scheduling.session_page", session_id=session_id))
