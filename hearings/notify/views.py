"""Invites and delivery state (API)."""

from __future__ import annotations

from flask import Blueprint, Response, g

from hearings.courts.auth import staff_required
from hearings.errors import NotFound
from hearings.extensions import db, spec, writes_on_read
from hearings.notify import feeds, outbox
from hearings.notify.invites import build_invite, site_url
from hearings.notify.schemas import DeliveryReport, FeedOut, FeedsRevoked
from hearings.openapi import Problem, Responses
from hearings.scheduling.access import load_session
from hearings.scheduling.models import Participant
from hearings.scheduling.services import ensure_staff_may_see
from hearings.timekeeping import isoformat, utcnow

api = Blueprint("notify_api", __name__)

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
