"""The words scheduling owns: session kinds, statuses, participant roles and parties' sides.

Each concept is one ``StrEnum``: its members are the strings stored and sent (``"judge"``
in the database, in JSON and in tokens), and every other list of them derives from it: the
models' CHECK constraints, the API schemas, the labels table, the booking rules, the rooms'
moderation rule and the notices. ``tests/test_vocabulary.py`` finds any second spelling.
"""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    """What a session is (视频调解, 网上开庭, 委托代理视频见证, 联络视频会议)."""

    MEDIATION = "mediation"
    HEARING = "hearing"
    WITNESS = "witness"
    LIAISON = "liaison"


class Status(StrEnum):
    """Where a session stands: scheduled → open → in progress → completed; or cancelled,
    adjourned."""

    SCHEDULED = "scheduled"
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    ADJOURNED = "adjourned"


class ParticipantRole(StrEnum):
    """What a person does in a session (staff or an outsider)."""

    PRESIDING_JUDGE = "presiding_judge"
    JUDGE = "judge"
    CLERK = "clerk"
    MEDIATOR = "mediator"
    LIAISON = "liaison"
    PARTY = "party"
    ATTORNEY = "attorney"
    WITNESS = "witness"
    INTERPRETER = "interpreter"
    PRINCIPAL = "principal"
    AGENT = "agent"
    OBSERVER = "observer"


class Side(StrEnum):
    """The side a party (or their attorney) is on."""

    PLAINTIFF = "plaintiff"
    DEFENDANT = "defendant"
    APPLICANT = "applicant"
    RESPONDENT = "respondent"
    THIRD_PARTY = "third_party"


#: Roles only court staff hold in a session (and moderate its room in); every other role is
#: an outsider's, and an observer may be either.
STAFF_ONLY_ROLES = (
    ParticipantRole.PRESIDING_JUDGE,
    ParticipantRole.JUDGE,
    ParticipantRole.CLERK,
    ParticipantRole.MEDIATOR,
    ParticipantRole.LIAISON,
)
OUTSIDER_ROLES = tuple(r for r in ParticipantRole if r not in STAFF_ONLY_ROLES)

#: A session not over: it may still change, and its room and join links work.
OPEN_STATUSES = (Status.SCHEDULED, Status.OPEN, Status.IN_PROGRESS)
