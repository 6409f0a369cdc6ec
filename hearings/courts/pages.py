"""The courts' pages: staff sign-in and sign-out, the contact directory with both courts' hours."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_user, logout_user

from hearings.courts import services
from hearings.courts.calendar import load_calendars
from hearings.courts.vocabulary import StaffRole
from hearings.errors import HearingsError, shown_by
from hearings.timekeeping import utcnow

pages = Blueprint("courts", __name__)


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
