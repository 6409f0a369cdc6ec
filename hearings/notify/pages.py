"""The notices' pages: a participant's progress page, the staff's delivery page and session
panel, and the staff's calendar feed."""

from __future__ import annotations

from flask import Blueprint, Response, render_template
from flask_login import current_user, login_required
from markupsafe import Markup

from hearings.courts.models import Staff
from hearings.errors import NotFound
from hearings.extensions import db
from hearings.notify import feeds, outbox
from hearings.notify.invites import PROGRESS_AUDIENCE, build_feed
from hearings.notify.progress import progress_history
from hearings.notify.views import ICS_TYPE
from hearings.notify.words import delivery_note, delivery_state, notice_kind
from hearings.scheduling.access import load_session
from hearings.scheduling.models import Participant, Session
from hearings.scheduling.services import ensure_staff_may_see
from hearings.timekeeping import utcnow
from hearings.tokens import TokenError, decode_token

pages = Blueprint("notify", __name__)


@pages.get("/calendar/<token>.ics")
def calendar_feed(token: str):
    """A staff member's calendar subscription (Outlook, Google and Apple can add it)."""
    staff = feeds.staff_for_feed(token)
    now = utcnow()
    body = build_feed(staff.name, feeds.feed_entries(staff, now), now)
    response = Response(body, content_type=ICS_TYPE)
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


@pages.get("/progress/<token>")
def progress(token: str):
    """A participant's progress page: the session's history and the court's contact."""
    try:
        claims = decode_token(token, PROGRESS_AUDIENCE, ("session",))
    except TokenError:
        raise NotFound("progress-link-invalid") from None
    participant = (
        db.session.get(Participant, int(claims["sub"])) if str(claims["sub"]).isdigit() else None
    )
    if participant is None or participant.session_id != claims["session"]:
        raise NotFound("progress-link-invalid")
    if participant.removed_at is not None:
        raise NotFound("no-longer-taking-part")
    return render_template("notify_progress.html", **progress_history(participant))


@pages.get("/sessions/<id:session_id>/deliveries")
@login_required
def delivery_page(session_id: int):
    """Staff: who has been told, who could not be reached."""
    session = load_session(session_id)
    ensure_staff_may_see(current_user, session)
    report = outbox.delivery_report(session)
    # Whom to call instead: the person's phone (their staff record's, for staff).
    phones = {p.id: p.staff.phone if p.staff is not None else p.phone for p in session.participants}
    return render_template(
        "notify_deliveries.html", session=session, report=report, notice_kind=notice_kind,
        delivery_state=delivery_state, delivery_note=delivery_note, phones=phones,
    )  # fmt: skip


def session_panel(session: Session, staff: Staff) -> Markup:
    """The session page's panel: each participant's invite delivery state."""
    return Markup(
        render_template(
            "notify_panel.html", session=session, report=outbox.delivery_report(session)
        )
    )
