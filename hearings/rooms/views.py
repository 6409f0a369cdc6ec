"""Join links and attendance (API)."""

from __future__ import annotations

from flask import Blueprint, g

from hearings.courts.auth import staff_required
from hearings.extensions import db, spec
from hearings.openapi import Problem, Responses
from hearings.rooms import services
from hearings.rooms.schemas import AttendanceList, LinkList, LinkOut
from hearings.scheduling.access import load_session

api = Blueprint("rooms_api", __name__)

ERRORS = {"HTTP_401": Problem, "HTTP_403": Problem, "HTTP_404": Problem, "HTTP_409": Problem}


@api.post("/sessions/<id:session_id>/links")
@staff_required
@spec.validate(resp=Responses(HTTP_201=LinkList, **ERRORS))
def create_links(session_id: int):
    """Personal join links for every participant of a session."""
    links = services.issue_links(g.staff, load_session(session_id))
    db.session.commit()
    return {"items": links}, 201


@api.post("/sessions/<id:session_id>/participants/<id:participant_id>/link")
@staff_required
@spec.validate(resp=Responses(HTTP_201=LinkOut, **ERRORS))
def reissue_link(session_id: int, participant_id: int):
    """Replace one participant's join link (the old ones stop working; they get an update)."""
    link = services.reissue_link(g.staff, load_session(session_id), participant_id)
    db.session.commit()
    services.close_replaced(session_id, participant_id)
    return link, 201


@api.get("/sessions/<id:session_id>/attendance")
@staff_required
@spec.validate(resp=Responses(HTTP_200=AttendanceList, **ERRORS))
def attendance(session_id: int):
    """Who joined and left the session's room, and when."""
    return {"items": services.attendance(g.staff, load_session(session_id))}
