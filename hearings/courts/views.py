"""Courts, hours, directory and rooms (API), and the token endpoint."""

from __future__ import annotations

from flask import Blueprint, request

from hearings.courts import services
from hearings.courts.auth import issue_api_token, staff_required
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
from hearings.extensions import spec
from hearings.openapi import Problem, Responses
from hearings.timekeeping import utcnow

api = Blueprint("courts_api", __name__)


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
