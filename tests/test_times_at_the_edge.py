"""Times are parsed at the edge: no service or logic module takes a time as text.

The edge is where text comes in and goes out: the schemas, every module that declares a
blueprint (views, pages, the witness room's endpoints), the command line, the door in
``inputs.py``, the clock's own parser in ``timekeeping.py``, the demo (a client of the
services, as the API is) and the words for people in ``messages.py``. Everything else takes
and returns ``datetime``/``date`` values: a parameter whose name says time and whose
annotation is ``str`` is a time that crossed the edge unparsed, and so is a request schema's
time field that is not a ``datetime``/``date``.
"""

from __future__ import annotations

import ast
import importlib
import re
import types
import typing
from datetime import date, datetime
from pathlib import Path

import pytest
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

import hearings
from hearings.errors import RuleViolation
from hearings.fields import Date, Time
from hearings.timekeeping import isoformat

PACKAGE = Path(hearings.__file__).parent
#: Modules that turn text into values (or values into text, for people and the API).
EDGE = {
    "schemas.py", "views.py", "pages.py", "cli.py", "inputs.py", "fields.py", "timekeeping.py",
    "demo.py",
    # the refusals' words: they read a problem document's parameters, text already
    "words.py",
}  # fmt: skip
#: A name that says time: ``starts_at``, ``starts``, ``ends``, ``when``, ``day``, ``date``,
#: ``from_``, ``until``, ``since``, ``now``, ``deadline`` ...
TIME_NAME = re.compile(
    r"(^|_)(at|starts?|ends?|when|date|day|days|time|times|from|to|until|since|now|deadline)_?$"
)


def _text_annotation(annotation: ast.expr | None) -> bool:
    """Whether an annotation is ``str`` (alone or in a union: ``str | None``)."""
    if annotation is None:
        return False
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        annotation = ast.parse(annotation.value, mode="eval").body
    names = {n.id for n in ast.walk(annotation) if isinstance(n, ast.Name)}
    return "str" in names and not names & {"datetime", "date", "time", "timedelta"}


def test_the_edge_check_finds_a_time_taken_as_text():
    tree = ast.parse("def book(starts_at: str | None, title: str, when: datetime): ...")
    assert _time_text_parameters(tree) == ["book(starts_at)"]


def _time_text_parameters(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            arguments = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
            for argument in arguments:
                if TIME_NAME.search(argument.arg) and _text_annotation(argument.annotation):
                    found.append(f"{node.name}({argument.arg})")
    return found


def _inside() -> list[tuple[Path, ast.Module]]:
    """Every module behind the edge, parsed."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name in EDGE or "migrations" in path.parts:
            continue
        source = path.read_text(encoding="utf-8")
        if "Blueprint(" in source:
            continue  # declares routes: a view
        found.append((path, ast.parse(source)))
    assert len(found) > 40  # (the walk found the package)
    return found


def test_services_take_no_times_as_text():
    offenders = []
    for path, tree in _inside():
        offenders += [f"{path.relative_to(PACKAGE)}: {f}" for f in _time_text_parameters(tree)]
    assert not offenders, offenders


def test_services_do_not_parse_api_schemas_or_times():
    """A service never imports an API schema (its own typed arguments instead), nor parses a
    time from text (``parse_api_time``, ``fromisoformat``): the schemas did it at the edge."""
    offenders = []
    for path, tree in _inside():
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").endswith(".schemas"):
                offenders.append(f"{path.relative_to(PACKAGE)} imports {node.module}")
            if isinstance(node, ast.Attribute | ast.Name):
                name = node.attr if isinstance(node, ast.Attribute) else node.id
                if name in ("parse_api_time", "fromisoformat"):
                    offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {name}")
    assert not offenders, offenders


def _types(annotation: typing.Any) -> set[typing.Any]:
    """The types an annotation names (``datetime | None`` → {datetime, NoneType})."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return {t for part in typing.get_args(annotation) for t in _types(part)}
    if typing.get_origin(annotation) is typing.Annotated:
        return _types(typing.get_args(annotation)[0])
    return {annotation}


def test_request_schemas_parse_their_times():
    """Every time a request brings (a body's or a query's field named for a time) is a
    ``datetime`` or a ``date`` by the time the view reads it."""
    checked, offenders = [], []
    for path in sorted(PACKAGE.rglob("schemas.py")):
        module = importlib.import_module(
            ".".join(("hearings", *path.relative_to(PACKAGE).with_suffix("").parts))
        )
        for model in vars(module).values():
            if not (isinstance(model, type) and issubclass(model, BaseModel)):
                continue
            if model.__module__ != module.__name__ or not model.__name__.endswith(
                ("In", "Query", "Patch")
            ):
                continue
            for name, field in model.model_fields.items():
                if TIME_NAME.search(name):
                    checked.append(f"{model.__name__}.{name}")
                    if not _types(field.annotation) & {datetime, date}:
                        offenders.append(f"{model.__name__}.{name}: {field.annotation}")
    assert {"SessionIn.starts_at", "SessionQuery.from_", "HoursQuery.date"} <= set(checked)
    assert not offenders, offenders


@pytest.mark.parametrize(
    ("sent", "utc"),
    [
        ("2026-09-10T09:00", "2026-09-10T01:00:00+00:00"),  # no offset: Beijing time
        ("2026-09-10 09:00:30", "2026-09-10T01:00:30+00:00"),
        ("2026-09-10T09:00:00+08:00", "2026-09-10T01:00:00+00:00"),
        ("2026-09-10T01:00:00z", "2026-09-10T01:00:00+00:00"),
        ("2026-09-10", "2026-09-09T16:00:00+00:00"),  # a date alone: its midnight
        (datetime(2026, 9, 10, 9, 0), "2026-09-10T01:00:00+00:00"),  # from a page
    ],
)
def test_the_edge_gives_aware_utc_datetimes(sent, utc):
    value = TypeAdapter(Time).validate_python(sent)
    assert value.isoformat() == utc
    assert TypeAdapter(Time).dump_python(value, mode="json") == isoformat(value)


def test_the_edge_refuses_what_is_no_time_it_serves():
    adapter = TypeAdapter(Time)
    for text in ("2026-02-30T09:00", "tomorrow", "2026-09-10T09:00\n", 20260910):
        with pytest.raises(ValidationError):
            adapter.validate_python(text)

    class Query(BaseModel):
        from_: Time = Field(alias="from")

    with pytest.raises(RuleViolation) as refused:
        Query.model_validate({"from": "0001-01-01T00:00"})
    assert refused.value.status == 422 and refused.value.params["field"] == "from"
    assert TypeAdapter(Date).validate_python("2026-02-28") == date(2026, 2, 28)
    with pytest.raises(ValidationError):
        TypeAdapter(Date).validate_python("2026-02-30")
