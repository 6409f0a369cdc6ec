"""The API's request and response shapes (pydantic), which also feed the OpenAPI document."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from hearings.courts.schemas import CourtId
from hearings.fields import Strict, Time, one_of
from hearings.inputs import CONTROLS, ONE_LINE, ONE_LINE_PATTERN, DbId
from hearings.scheduling import vocabulary

Kind = Annotated[vocabulary.Kind, one_of(vocabulary.Kind)]
Role = Annotated[vocabulary.ParticipantRole, one_of(vocabulary.ParticipantRole)]
Side = Annotated[vocabulary.Side, one_of(vocabulary.Side)]
Status = Annotated[vocabulary.Status, one_of(vocabulary.Status)]

#: What Python's ``str.strip()`` removes, and U+FEFF: a required text needs one character
#: outside these (said as a pattern, so the document refuses a blank text as the API does).
_BLANK = r"\t\n\v\f\r \x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
#: One line, not blank: no control characters, and one character that is not blank.
NOT_BLANK = rf"^[^{CONTROLS}]*[^{CONTROLS}{_BLANK}][^{CONTROLS}]*$"


def _text(max_length: int) -> StringConstraints:
    return StringConstraints(
        strip_whitespace=True, min_length=1, max_length=max_length, pattern=NOT_BLANK
    )


# Every text a request brings is one line (it ends up in mail headers, iCalendar lines and
# SMS) unless it is free text: no CR, LF or other control characters (422, ``control-
# characters``).
Text = Annotated[str, _text(200), ONE_LINE]
Reason = Annotated[str, _text(500), ONE_LINE]
Name = Annotated[str, _text(100), ONE_LINE]
#: An address mail can go to: ASCII (RFC 5321 without SMTPUTF8, which the courts' mail servers
#: are not known to take; a non-ASCII local part could be stored but never sent), a dot-atom
#: local part and a domain of letters, digits and hyphens with at least one dot.
EMAIL_PATTERN = (
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=254, pattern=EMAIL_PATTERN),
    ONE_LINE,
]
Phone = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=32, pattern=r"^\+?[0-9 ()-]{3,32}$"),
    ONE_LINE,
]
CaseNumber = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=64, pattern=ONE_LINE_PATTERN), ONE_LINE
]
RepeatRule = Annotated[str, StringConstraints(max_length=500, pattern=ONE_LINE_PATTERN), ONE_LINE]
SearchText = Annotated[str, StringConstraints(max_length=100, pattern=ONE_LINE_PATTERN), ONE_LINE]
#: Comma-separated lists in a query (``staff_ids=3,7``; ``courts=luoyang,luohe``).
IdList = Annotated[
    str, StringConstraints(max_length=500, pattern=r"^([1-9][0-9]{0,9}(,[1-9][0-9]{0,9})*)?$")
]
CourtIds = Annotated[
    str,
    StringConstraints(
        max_length=200, pattern=r"^([a-z][a-z0-9_-]{0,31}(,[a-z][a-z0-9_-]{0,31})*)?$"
    ),
]
#: A database id (hearings.inputs: 1 … 2³¹−1).
Id = DbId

#: A booking's rooms: each once (the booking refuses a room listed twice, 422).
RoomIds = Annotated[list[Id], Field(max_length=10, json_schema_extra={"uniqueItems": True})]


class ParticipantIn(Strict):
    role: Role
    staff_id: DbId | None = None
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
    room_ids: RoomIds = []  # noqa: RUF012 (a pydantic model: each instance gets a copy)
    participants: Annotated[list[ParticipantIn], Field(min_length=1, max_length=50)]
    rrule: (
        Annotated[str, StringConstraints(max_length=500, pattern=ONE_LINE_PATTERN), ONE_LINE] | None
    ) = None
    outside_hours_reason: Reason | None = None
    short_notice_reason: Reason | None = None


class SessionPatch(Strict):
    """What changes: a field left out, or null, stays as it is (a null case number or reason
    clears it)."""

    title: Text | None = None
    case_number: CaseNumber | None = None
    starts_at: Time | None = None
    ends_at: Time | None = None
    room_ids: RoomIds | None = None
    outside_hours_reason: Reason | None = None
    short_notice_reason: Reason | None = None


class CancelIn(Strict):
    reason: Reason
    scope: Literal["occurrence", "series"] = "occurrence"


class SessionQuery(BaseModel):
    court: CourtId | None = None
    kind: Kind | None = None
    status: Status | None = None
    staff_id: DbId | None = None
    # "from" is a Python keyword: the query parameter is read through its alias.
    from_: Time | None = Field(default=None, alias="from")
    to: Time | None = None


class AvailabilityQuery(BaseModel):
    staff_ids: IdList = ""
    room_ids: IdList = ""
    courts: CourtIds = ""
    duration_minutes: Annotated[int, Field(ge=15, le=600)]
    from_: Time | None = Field(default=None, alias="from")
    to: Time | None = None
    limit: Annotated[int, Field(ge=1, le=200)] | None = None


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
