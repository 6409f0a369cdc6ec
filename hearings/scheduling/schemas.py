"""The API's request and response shapes (pydantic), which also feed the OpenAPI document."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from hearings.openapi import Problem  # noqa: F401 (the views' error model, named here too)

Kind = Literal["mediation", "hearing", "witness", "liaison"]
Role = Literal[
    "presiding_judge", "judge", "clerk", "mediator", "liaison", "party", "attorney",
    "witness", "interpreter", "principal", "agent", "observer",
]  # fmt: skip
Side = Literal["plaintiff", "defendant", "applicant", "respondent", "third_party"]
Status = Literal["scheduled", "open", "in_progress", "completed", "cancelled", "adjourned"]

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
]
Phone = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=32, pattern=r"^\+?[0-9 ()-]{3,32}$")
]
CaseNumber = Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)]
Time = Annotated[str, StringConstraints(max_length=40)]
CourtId = Annotated[str, StringConstraints(max_length=32)]
Id = Annotated[int, Field(ge=1, le=2**31 - 1)]


class Strict(BaseModel):
    """Unknown fields are an error, and types are not coerced (``"1"`` is not an id)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class ParticipantIn(Strict):
    role: Role
    staff_id: Id | None = None
    name: Name | None = None
    email: Email | None = None
    phone: Phone | None = None
    side: Side | None = None
    court: CourtId | None = None


class SessionIn(Strict):
    kind: Kind
    title: Text
    case_number: CaseNumber | None = None
    host_court: CourtId
    starts_at: Time
    ends_at: Time
    room_ids: Annotated[list[Id], Field(max_length=10)] = []
    participants: Annotated[list[ParticipantIn], Field(min_length=1, max_length=50)]
    rrule: Annotated[str, StringConstraints(max_length=500)] | None = None
    outside_hours_reason: Reason | None = None
    short_notice_reason: Reason | None = None


class SessionPatch(Strict):
    title: Text | None = None
    case_number: CaseNumber | None = None
    starts_at: Time | None = None
    ends_at: Time | None = None
    room_ids: Annotated[list[Id], Field(max_length=10)] | None = None
    outside_hours_reason: Reason | None = None
    short_notice_reason: Reason | None = None


class CancelIn(Strict):
    reason: Reason
    scope: Literal["occurrence", "series"] = "occurrence"


class TokenIn(Strict):
    username: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class SessionQuery(BaseModel):
    court: CourtId | None = None
    kind: Kind | None = None
    status: Status | None = None
    staff_id: Id | None = None
    # "from" is a Python keyword: the query parameter is read through its alias.
    from_: Time | None = Field(default=None, alias="from")
    to: Time | None = None


class AvailabilityQuery(BaseModel):
    staff_ids: Annotated[str, StringConstraints(max_length=500)] = ""
    room_ids: Annotated[str, StringConstraints(max_length=500)] = ""
    courts: Annotated[str, StringConstraints(max_length=200)] = ""
    duration_minutes: Annotated[int, Field(ge=15, le=600)]
    from_: Time | None = Field(default=None, alias="from")
    to: Time | None = None
    limit: Annotated[int, Field(ge=1, le=200)] | None = None


class DirectoryQuery(BaseModel):
    court: CourtId | None = None
    q: Annotated[str, StringConstraints(max_length=100)] | None = None
    role: Literal["judge", "clerk", "mediator", "liaison", "admin"] | None = None


class HoursQuery(BaseModel):
    date: Annotated[str, StringConstraints(max_length=10)] | None = None


class RoomsQuery(BaseModel):
    court: CourtId | None = None


class ParticipantOut(BaseModel):
    id: int
    role: Role
    staff_id: int | None
    name: str
    email: str | None
    phone: str | None
    side: Side | None
    court: str | None
    removed_at: str | None


class SessionOut(BaseModel):
    id: int
    kind: Kind
    title: str
    case_number: str | None
    host_court: str
    starts_at: str
    ends_at: str
    status: Status
    rrule: str | None
    series_id: int | None
    outside_hours_reason: str | None
    short_notice_reason: str | None
    cancel_reason: str | None
    sequence: int
    room_ids: list[int]
    participants: list[ParticipantOut]


class SessionList(BaseModel):
    items: list[SessionOut]


class Slot(BaseModel):
    starts_at: str
    ends_at: str


class SlotList(BaseModel):
    items: list[Slot]


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int
