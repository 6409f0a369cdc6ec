"""The witness API's request shapes (pydantic; they also feed the OpenAPI document)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from hearings.inputs import ONE_LINE, ONE_LINE_PATTERN, SEVERAL_LINES, SEVERAL_LINES_PATTERN, DbId
from hearings.scheduling.schemas import Name, Reason, Strict

Power = Literal[
    "general", "admit_claims", "waive_claims", "change_claims", "settle", "counterclaim", "appeal"
]
Step = Literal["undertaking", "power", "agent_accepts", "attestation"]


class IdentityCheckIn(Strict):
    participant_id: DbId
    name: Name
    id_number: Annotated[
        str,
        StringConstraints(strip_whitespace=True, max_length=32, pattern=ONE_LINE_PATTERN),
        ONE_LINE,
    ]
    #: ``visual``: the ID card shown on camera; or another method the court uses.
    method: Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,32}$")]
    #: The officer confirms the face on camera matches the card.
    face_confirmed: bool = True


class RecordingIn(Strict):
    #: A witnessing's: ``["general"]`` (when left out) or the special authorities granted
    #: (民诉法 Art. 62). A hearing or mediation takes none.
    powers: Annotated[list[Power], Field(min_length=1, max_length=7)] | None = None


class StepIn(Strict):
    step: Step
    power: Power | None = None
    #: Free text: several lines may be kept.
    note: (
        Annotated[
            str,
            StringConstraints(
                strip_whitespace=True, min_length=1, max_length=500, pattern=SEVERAL_LINES_PATTERN
            ),
            SEVERAL_LINES,
        ]
        | None
    ) = None


class ReasonIn(Strict):
    reason: Reason


class StopIn(Strict):
    #: Required when the script is not complete.
    reason: Reason | None = None


class IdentityCheckOut(BaseModel):
    """An identity check as the API shows it (never the number itself)."""

    id: int
    participant_id: int
    name: str
    masked_id_number: str
    method: str
    face_confirmed: bool
    checked_by: int | None
    checked_at: str | None


class IdentityCheckList(BaseModel):
    items: list[IdentityCheckOut]


class MarkOut(BaseModel):
    """A script mark with its place in the recording."""

    model_config = ConfigDict(extra="allow")
    step: Step
    power: Power | None
    at: str | None


class RecordingOut(BaseModel):
    """A recording; read alone it also carries its manifest, signature and custody log."""

    model_config = ConfigDict(extra="allow")
    id: int
    session_id: int
    status: str
    powers: list[Power]
    segments: list[dict[str, Any]]
    script: list[MarkOut]


class RecordingList(BaseModel):
    items: list[RecordingOut]


class StartedOut(BaseModel):
    """A started session: its state and the recording that runs from now."""

    session_id: int
    state: str
    recording: RecordingOut | None


class ScriptOut(BaseModel):
    powers: list[Power]
    done: list[MarkOut]
    next: dict[str, Any] | None


class VerifyOut(BaseModel):
    """The re-hash and chain check of a recording."""

    model_config = ConfigDict(extra="allow")
    ok: bool
    faults: list[dict[str, Any]]
