"""Invites and delivery state (API), the progress page, the calendar feed."""

from __future__ import annotations

from flask import Blueprint, Response, g, render_template
from flask_login import current_user, login_required
from markupsafe import Markup

from hearings.courts.auth import staff_required
from hearings.courts.models import Staff
from hearings.errors import NotFound
from hearings.extensions import db, spec, writes_on_read
from hearings.notify import feeds, outbox
from hearings.notify.invites import PROGRESS_AUDIENCE, build_feed, build_invite, site_url
from hearings.notify.progress import progress_history
from hearings.notify.schemas import DeliveryReport, FeedOut, FeedsRevoked
from hearings.notify.words import delivery_note, delivery_state, notice_kind
from hearings.openapi import Problem, Responses
from hearings.scheduling.access import load_session
from hearings.scheduling.models import Participant, Session
from hearings.scheduling.services import ensure_staff_may_see
from hearings.timekeeping import isoformat, utcnow
from hearings.tokens import TokenError, decode_token

api = Blueprint("notify_api", __name__)
pages = Blueprint("notify", __name__)

ERRORS = {"HTTP_401": Problem, "HTTP_403": Problem, "HTTP_404": Problem}
ICS_TYPE = "text/calendar; charset=utf-8"


def _participant_of(session_id: int, participant_id: int) -> Participant:
    session = load_session(session_id)
    ensure_staff_may_see(g.staff, session)
    participant = next((p for p in session.participants if p.id == participant_id), None)
    if participant is None:
        raise NotFound("no-such-participant", session_id=session_id, participant_id=participant_id)
    return participant


@api.get("/sessions/<id:session_id>/participants/<id:participant_id>/invite.ics")
@writes_on_read  # the invite carries a fresh join link, which is kept
@staff_required
@spec.validate(resp=Responses(media={"HTTP_200": "text/calendar"}, **ERRORS))
def invite(session_id: int, participant_id: int):
    """The participant's iCalendar invite as it stands (CANCEL once cancelled or removed)."""
    participant = _participant_of(session_id, participant_id)
    gone = participant.session.status == "cancelled" or participant.removed_at is not None
    ics = build_invite(participant.session, participant, "CANCEL" if gone else "REQUEST", utcnow())
    method = "CANCEL" if gone else "REQUEST"
    db.session.commit()
    return Response(
        ics,
        content_type=f"text/calendar; method={method}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="session-{session_id}.ics"'},
    )


@api.get("/sessions/<id:session_id>/deliveries")
@staff_required
@spec.validate(resp=Responses(HTTP_200=DeliveryReport, **ERRORS))
def deliveries(session_id: int):
    """Delivery state of the session's invites and notices, per participant."""
    session = load_session(session_id)
    ensure_staff_may_see(g.staff, session)
    return outbox.delivery_report(session)


@api.post("/calendar-feeds")
@staff_required
@spec.validate(resp=Responses(HTTP_201=FeedOut, **ERRORS))
def create_feed():
    """A new private calendar subscription URL for me; my earlier one stops working."""
    now = utcnow()
    token = feeds.issue_feed(g.staff, now)
    db.session.commit()
    return {"url": site_url(f"/calendar/{token}.ics"), "created_at": isoformat(now)}, 201


@api.delete("/calendar-feeds")
@staff_required
@spec.validate(resp=Responses(HTTP_200=FeedsRevoked, **ERRORS))
def revoke_feed():
    """Revoke my calendar subscription URLs."""
    revoked = feeds.revoke_feeds(g.staff, utcnow())
    db.session.commit()
    return {"revoked": revoked}


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
