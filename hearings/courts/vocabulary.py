"""The words courts own: what a staff member's account is for, and what a room is.

One ``StrEnum`` per concept (members are the stored strings); every other list of them
derives from it (``tests/test_vocabulary.py``).
"""

from __future__ import annotations

from enum import StrEnum


class StaffRole(StrEnum):
    """A court employee's role (their account's, not a role in a session)."""

    JUDGE = "judge"
    CLERK = "clerk"
    MEDIATOR = "mediator"
    LIAISON = "liaison"
    ADMIN = "admin"


class RoomKind(StrEnum):
    """A physical room with a video terminal."""

    COURTROOM = "courtroom"
    MEDIATION_ROOM = "mediation_room"
    SERVICE_WINDOW = "service_window"
