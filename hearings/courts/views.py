"""Courts, hours, directory and rooms (API), the token endpoint, and the login page."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_user, logout_user

from hearings.courts import services
from hearings.courts.auth import issue_api_token, staff_required
from hearings.courts.calendar import load_calendars
from hearings.courts.models import Court, Room, Staff
from hearings.courts.schemas import (
    CourtList,
    DirectoryQuery,
    HoursOut,
    HoursQuery,
    RoomList,
    RoomsQuery,
    StaffDirectory,
    TokenIn,
    TokenOut,
)
from hearings.courts.vocabulary import StaffRole
from hearings.errors import HearingsError, shown_by
from hearings.extensions import spec
from hearings.openapi import Problem, Responses
from hearings.timekeeping import utcnow

api = Blueprint("courts_api", __name__)
pages = Blueprint("courts", __name__)


def dump_court(court: Court) -> dict:
    """A court as the API shows it."""
    return {
        "id": court.id,
        "name_zh": court.name_zh,
        "name_en": court.name_en,
        "case_prefix": court.case_prefix,
        "phone": court.phone,
        "address": court.address,
    }


def dump_staff(staff: Staff) -> dict:
    """A directory entry."""
    return {
        "id": staff.id,
        "name": staff.name,
        "role": staff.role,
        "court": staff.court_id,
        "department": staff.department,
        "phone": staff.phone,
        "email": staff.email,
    }


def dump_room(room: Room) -> dict:
    """A bookable room."""
    return {"id": room.id, "court": room.court_id, "name": room.name, "kind": room.kind}


@api.post("/auth/token")
@spec.validate(
    json=TokenIn,
    # 429: too many wrong passwords for the username lately (Retry-After says how long).
    resp=Responses(HTTP_200=TokenOut, HTTP_401=Problem, retry_after=("HTTP_429",)),
    security={},
)
def create_token(json: TokenIn):
    """Exchange a staff username and password for an API token."""
    staff = services.authenticate(json.username, json.password, request.remote_addr or "")
    token, ttl = issue_api_token(staff)
    return {"access_token": token, "token_type": "Bearer", "expires_in": ttl}


@api.get("/courts")
@spec.validate(resp=Responses(HTTP_200=CourtList), security={})
def list_courts():
    """The courts of the agreement."""
    return {"items": [dump_court(c) for c in services.list_courts()]}


@api.get("/courts/<court_id>/hours")
@spec.validate(query=HoursQuery, resp=Responses(HTTP_200=HoursOut, HTTP_404=Problem), security={})
def court_hours(court_id: str, query: HoursQuery):
    """A court's working hours on a day, whether it is open now, and its next opening."""
    court = services.get_court(court_id)
    now = utcnow()
    day = query.date or services.local_today(now)
    return services.hours_notice(court, day, now)


@api.get("/directory")
@spec.validate(query=DirectoryQuery, resp=Responses(HTTP_200=StaffDirectory), security={})
def directory(query: DirectoryQuery):
    """The contact directory of both courts' staff (跨域立案法官通讯录)."""
    found = services.search_directory(query.court, query.q, query.role)
    return {"items": [dump_staff(s) for s in found]}


@api.get("/rooms")
@staff_required
@spec.validate(query=RoomsQuery, resp=Responses(HTTP_200=RoomList, HTTP_401=Problem))
def rooms(query: RoomsQuery):
    """Bookable rooms of one court or both."""
    return {"items": [dump_room(r) for r in services.list_rooms(query.court)]}


def _login_refused(error: HearingsError) -> tuple[str, int, dict[str, str]]:
    """A refused sign-in: the page again, empty (it never echoes what was typed)."""
    for sentence in error.words():
        flash(sentence, "error")
    wait = error.params.get("retry_after")
    headers = {"Retry-After": str(wait)} if wait is not None else {}
    return render_template("login.html"), error.status, headers


@pages.route("/login", methods=["GET", "POST"])
@shown_by(_login_refused)
def login():
    """The staff sign-in page."""
    if request.method == "POST":
        staff = services.authenticate(
            request.form.get("username", "")[:64],
            request.form.get("password", "")[:200],
            request.remote_addr or "",
        )
        login_user(staff)
        target = request.args.get("next", "")
        # Only local paths: never an open redirect to another site.
        if not target.startswith("/") or target.startswith("//"):
            target = url_for("scheduling.desk")
        return redirect(target)
    return render_template("login.html")


@pages.get("/directory")
def directory_page():
    """The judges' contact directory and both courts' working hours (法院工作时间提示)."""
    q = request.args.get("q", "")[:100].strip() or None
    court = request.args.get("court") or None
    role = request.args.get("role") or None
    if role not in tuple(StaffRole):
        role = None
    now = utcnow()
    today = services.local_today(now)
    courts = services.list_courts()
    week = services.week_of(today)
    calendars = load_calendars([c.id for c in courts])
    hours = {
        c.id: [services.hours_notice(c, day, now, calendars[c.id]) for day in week] for c in courts
    }
    return render_template(
        "directory.html",
        people=services.search_directory(court, q, role),
        courts=courts,
        hours=hours,
        today=today.isoformat(),
        query={"q": q or "", "court": court or "", "role": role or ""},
    )


@pages.post("/logout")
def logout():
    """Sign out."""
    logout_user()
    return redirect(url_for("courts.login"))
