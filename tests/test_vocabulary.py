"""One definition per vocabulary: every list of roles, statuses, kinds or sides derives from
its enum (``scheduling/vocabulary.py``, ``courts/vocabulary.py``), never a second spelling."""

from __future__ import annotations

import ast
from enum import StrEnum
from pathlib import Path

import pytest

import hearings
from hearings.courts.vocabulary import RoomKind, StaffRole
from hearings.notify.invites import KIND_NAMES, ROLE_NAMES
from hearings.notify.progress import STATUS_NAMES
from hearings.rooms.tokens import MODERATOR_ROLES
from hearings.scheduling import labels, rules
from hearings.scheduling.vocabulary import (
    STAFF_ONLY_ROLES,
    Kind,
    ParticipantRole,
    Side,
    Status,
)

PACKAGE = Path(hearings.__file__).parent
VOCABULARIES: tuple[type[StrEnum], ...] = (
    Kind, Status, ParticipantRole, Side, StaffRole, RoomKind
)  # fmt: skip
#: Where the vocabularies are defined; the migrations are history and keep their own text.
DEFINED = {PACKAGE / "scheduling" / "vocabulary.py", PACKAGE / "courts" / "vocabulary.py"}


def _spelled_out(node: ast.AST) -> list[str] | None:
    """The strings of a tuple, list or set literal, or a dict literal's keys, if every one of
    them is a string constant (else None)."""
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        items = node.elts
    elif isinstance(node, ast.Dict):
        items = [k for k in node.keys if k is not None]
    else:
        return None
    if len(items) < 2 or not all(
        isinstance(i, ast.Constant) and isinstance(i.value, str) for i in items
    ):
        return None
    return [i.value for i in items]  # type: ignore[attr-defined]


def second_spellings(source: str) -> list[tuple[int, str, list[str]]]:
    """Collections in a module that spell out two or more values of one vocabulary."""
    found = []
    for node in ast.walk(ast.parse(source)):
        words = _spelled_out(node)
        if words is None:
            continue
        for vocabulary in VOCABULARIES:
            values = {v.value for v in vocabulary}
            if set(words) <= values:
                found.append((node.lineno, vocabulary.__name__, words))  # type: ignore[attr-defined]
                break
    return found


def test_the_check_finds_a_second_spelling():
    source = 'A = ("scheduled", "open")\nB = {"judge": 1, "clerk": 2}\nC = ("open", "closed")'
    assert [(line, name) for line, name, _ in second_spellings(source)] == [
        (1, "Status"),
        (2, "ParticipantRole"),
    ]


def test_no_vocabulary_is_spelled_out_twice():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path in DEFINED or "migrations" in path.parts:
            continue
        for line, name, words in second_spellings(path.read_text(encoding="utf-8")):
            offenders.append(f"{path.relative_to(PACKAGE)}:{line} {name} {words}")
    assert not offenders, offenders


@pytest.mark.parametrize(
    ("table", "vocabulary"),
    [
        (labels.KINDS, Kind),
        (labels.STATUSES, Status),
        (labels.SIDES, Side),
        (KIND_NAMES, Kind),
        (ROLE_NAMES, ParticipantRole),
        (STATUS_NAMES, Status),
        (rules.REQUIRED_ROLES, Kind),
    ],
)
def test_every_word_table_covers_its_vocabulary(table, vocabulary):
    assert list(table) == list(vocabulary)


def test_labels_name_every_role_a_page_shows():
    assert set(ParticipantRole) | set(StaffRole) <= set(labels.ROLES)


def test_staff_roles_and_who_moderates_derive_from_one_list():
    """Two meanings, two names: the roles only staff hold (who may hold each: ``rules.
    ELIGIBLE_STAFF``; they moderate the room) and the roles a staff member may take in a
    session (``labels.STAFF_PARTICIPANT_ROLES``: those, and observer)."""
    assert tuple(rules.ELIGIBLE_STAFF) == STAFF_ONLY_ROLES
    assert frozenset(STAFF_ONLY_ROLES) == MODERATOR_ROLES
    assert (*STAFF_ONLY_ROLES, ParticipantRole.OBSERVER) == labels.STAFF_PARTICIPANT_ROLES
    assert set(labels.OUTSIDE_ROLES) == set(ParticipantRole) - set(STAFF_ONLY_ROLES)
