"""The rooms API's response shapes (pydantic), which also feed the OpenAPI document."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class LinkOut(BaseModel):
    """A participant's personal join link (the token is the last segment of ``url``)."""

    model_config = ConfigDict(extra="allow")
    participant_id: int
    url: str
    expires_at: str | None


class LinkList(BaseModel):
    items: list[LinkOut]


class AttendanceEvent(BaseModel):
    model_config = ConfigDict(extra="allow")
    participant_id: int | None
    name: str | None
    role: str | None
    event: str
    at: str | None
    detail: Any = None


class AttendanceList(BaseModel):
    items: list[AttendanceEvent]
