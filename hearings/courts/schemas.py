"""The courts' API shapes (pydantic): sign-in, courts, hours, the directory and rooms."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

from hearings.courts.vocabulary import StaffRole
from hearings.fields import Date, Strict, one_of
from hearings.inputs import ONE_LINE, ONE_LINE_PATTERN

#: Court ids: a short lowercase word (``luoyang``, ``luohe``).
COURT_ID_PATTERN = r"^[a-z][a-z0-9_-]{0,31}$"
CourtId = Annotated[str, StringConstraints(max_length=32, pattern=COURT_ID_PATTERN), ONE_LINE]


class TokenIn(Strict):
    username: Annotated[
        str, StringConstraints(min_length=1, max_length=64, pattern=ONE_LINE_PATTERN), ONE_LINE
    ]
    password: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int


class DirectoryQuery(BaseModel):
    court: CourtId | None = None
    q: (
        Annotated[str, StringConstraints(max_length=100, pattern=ONE_LINE_PATTERN), ONE_LINE] | None
    ) = None
    role: Annotated[StaffRole, one_of(StaffRole)] | None = None


class HoursQuery(BaseModel):
    date: Date | None = None


class RoomsQuery(BaseModel):
    court: CourtId | None = None


class CourtOut(BaseModel):
    id: str
    name_zh: str
    name_en: str
    case_prefix: str
    phone: str | None
    address: str | None


class CourtList(BaseModel):
    items: list[CourtOut]


class Period(BaseModel):
    opens: str
    closes: str


class HoursOut(BaseModel):
    """A court's day: its hours, whether it is open now, and its next opening."""

    model_config = ConfigDict(extra="allow")
    court: str
    date: str
    working_day: bool
    closed_reason: str | None
    holiday: str | None
    adjusted_working_day: bool
    season: str | None
    periods: list[Period]
    open_now: bool
    next_opening: str | None


class StaffEntry(BaseModel):
    id: int
    name: str
    role: str
    court: str
    department: str | None
    phone: str | None
    email: str | None


class StaffDirectory(BaseModel):
    items: list[StaffEntry]


class RoomOut(BaseModel):
    id: int
    court: str
    name: str
    kind: str


class RoomList(BaseModel):
    items: list[RoomOut]
