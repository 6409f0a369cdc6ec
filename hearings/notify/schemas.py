"""The notify API's response shapes (pydantic), which also feed the OpenAPI document."""

from __future__ import annotations

from pydantic import BaseModel


class MessageOut(BaseModel):
    id: int
    channel: str
    kind: str
    sequence: int
    recipient: str
    state: str
    attempts: int
    last_error: str | None
    next_attempt_at: str | None
    sent_at: str | None


class ParticipantDelivery(BaseModel):
    participant_id: int
    name: str
    role: str
    removed: bool
    #: The state of their latest message: pending, sending, sent, failed or no_address.
    state: str | None
    last_error: str | None
    messages: list[MessageOut]


class DeliveryReport(BaseModel):
    items: list[ParticipantDelivery]
    notices: list[MessageOut]
    #: Participants whose latest message failed or had no address.
    problems: int


class FeedOut(BaseModel):
    url: str
    created_at: str


class FeedsRevoked(BaseModel):
    revoked: int
