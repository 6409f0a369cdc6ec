"""What the service takes in at its door, before any service sees it: database ids in range,
JSON no deeper than a bound, and text that can be stored and sent (no NUL, no unpaired
surrogates, and in single-line fields no line breaks or other control characters).

Every refusal here is cheap and never recursive, and never echoes the input: a problem
document must always encode, whatever was sent.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import deque
from collections.abc import Iterator
from typing import Annotated, Any

from flask import Flask, current_app, request
from pydantic import (
    BeforeValidator,
    Field,
)
from pydantic_core import PydanticCustomError
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import IntegerConverter, Map

from hearings.errors import MalformedRequest, NotFound, RuleViolation, register_words
from hearings.words import WORDS, fault_detail

#: The largest id every database of ours stores: PostgreSQL's ``integer`` (SQLite's is 2⁶³−1).
DB_ID_MAX = 2**31 - 1

#: A database id in a request body or query: 1 … DB_ID_MAX (else 422).
DbId = Annotated[int, Field(ge=1, le=DB_ID_MAX)]


def _numbers_up_to(limit: int) -> str:
    """A regular expression of the decimal numbers 1 … ``limit``, as written without leading
    zeros (ASCII digits only): ``0`` and ``007`` are no ids."""
    digits = str(limit)
    width = len(digits)
    parts = [f"[1-9][0-9]{{0,{width - 2}}}"] if width > 1 else []
    for i, digit in enumerate(int(d) for d in digits):
        lowest = 1 if i == 0 else 0
        if digit > lowest:
            parts.append(f"{digits[:i]}[{lowest}-{digit - 1}][0-9]{{{width - i - 1}}}")
    parts.append(digits)
    return "|".join(parts)


class IdConverter(IntegerConverter):
    """``<id:session_id>``: a database id in a path, 1 … DB_ID_MAX; anything else does not
    match the route (404), rather than reaching the database and failing there."""

    #: The bound is in the pattern itself (0 and leading zeros too): werkzeug answers 405
    #: rather than 404 when a path matches another method's route and only its conversion
    #: would fail. ASCII digits only (``\\d`` would take other scripts' digits).
    regex = f"(?:{_numbers_up_to(DB_ID_MAX)})"

    def __init__(self, map: Map) -> None:
        super().__init__(map, min=1, max=DB_ID_MAX)


def form_id(text: str | None) -> int | None:
    """An id typed or posted in a form field, or None when it is not one in range."""
    if text is None or not re.fullmatch(r"[0-9]{1,10}", text.strip()):
        return None
    value = int(text)
    return value if 1 <= value <= DB_ID_MAX else None


# --- JSON ---------------------------------------------------------------------------------

#: Deeper JSON than this is refused unparsed (Python's parser recurses, ours never needs to).
JSON_MAX_DEPTH = 64
#: A JSON string, possessive (no backtracking). Every match from a quote succeeds: an
#: unterminated string (or one ending in a lone backslash) runs to the end of the text, so
#: the scan never starts again inside it, which made it quadratic in the number of quotes.
_JSON_STRING = re.compile(r'"(?:[^"\\]++|\\.?)*+(?:"|\Z)', re.DOTALL)
_BRACKETS = re.compile(r"[^\[\]{}]+")


def json_too_deep(text: str | bytes, limit: int = JSON_MAX_DEPTH) -> bool:
    """Whether a JSON text nests arrays and objects deeper than ``limit`` (strings skipped,
    so brackets inside them don't count). A loop, not a parser: cheap on any input."""
    if isinstance(text, bytes):
        try:
            text = text.decode(json.detect_encoding(text), "surrogatepass")
        except (UnicodeDecodeError, LookupError):
            return False  # not JSON text at all: the parser says so
    depth = 0
    for char in _BRACKETS.sub("", _JSON_STRING.sub("", text)):
        if char in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def refuse_deep_json(text: str | bytes) -> None:
    """400 for JSON nested deeper than ``JSON_MAX_DEPTH``."""
    if json_too_deep(text):
        raise MalformedRequest("json-too-deep", max_depth=JSON_MAX_DEPTH)


# --- text ---------------------------------------------------------------------------------

#: Line and paragraph separators: some mail and calendar code breaks lines on them too.
_LINE_SEPARATORS = {"\u2028", "\u2029"}
#: What multi-line text may hold of the control characters.
_MULTILINE_CONTROLS = {"\t", "\n", "\r"}


def _encodes(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # only an unpaired surrogate can't be
        return False
    return True


def unstorable(value: str) -> str | None:
    """What no text may hold, wherever it goes: NUL (``control-characters``: PostgreSQL
    can't store it) or an unpaired surrogate (``unpaired-surrogate``: it can't be encoded)."""
    if not _encodes(value):
        return "unpaired-surrogate"
    return "control-characters" if "\x00" in value else None


def text_fault(value: str, *, single_line: bool = True) -> str | None:
    """What is wrong with a text for storing and sending, as a problem code, or None:
    ``unpaired-surrogate`` (it can't be encoded at all) or ``control-characters`` (NUL
    anywhere; in single-line text also CR, LF, TAB and the other control characters)."""
    if value.isprintable() and _encodes(value):
        return None  # the common case, in C
    fault = None
    for char in value:
        category = unicodedata.category(char)
        if category == "Cs":
            return "unpaired-surrogate"
        if (category == "Cc" and (single_line or char not in _MULTILINE_CONTROLS)) or (
            single_line and char in _LINE_SEPARATORS
        ):
            fault = "control-characters"
    return fault


def _checker(kind: str) -> Any:
    def check(value: Any) -> Any:
        if not isinstance(value, str):
            return value  # (anything else is left to the field's own type check)
        fault = text_fault(value, single_line=kind == "single-line")
        if fault is not None:
            raise PydanticCustomError(fault, fault_detail(fault, kind), {"text": kind})
        return value

    return check


#: The checks of single-line and multi-line text, as ``Annotated`` metadata. They run before
#: the field's own constraints, on the text as sent: a line break is refused as
#: ``control-characters`` (not as a pattern mismatch), at the ends of the text too.
ONE_LINE = BeforeValidator(_checker("single-line"))
SEVERAL_LINES = BeforeValidator(_checker("multi-line"))
#: The same rules as patterns, for the OpenAPI document (the checks above give the codes):
#: single-line text holds no control character nor line or paragraph separator ...
CONTROLS = r"\x00-\x1f\x7f-\x9f\u2028\u2029"
ONE_LINE_PATTERN = rf"^[^{CONTROLS}]*$"
#: ... multi-line text only TAB, LF and CR of them.
SEVERAL_LINES_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
#: Text of one line (titles, names, e-mail addresses, case numbers, reasons: what ends up in
#: mail headers, iCalendar lines and SMS): no line breaks, no control characters.
SingleLine = Annotated[str, ONE_LINE]
#: Free text of several lines (notes): line breaks and tabs, never NUL or other controls.
MultiLine = Annotated[str, SEVERAL_LINES]


#: The problem codes of text that can't be stored or sent.
TEXT_CODES = ("control-characters", "unpaired-surrogate")


def invalid_request(error: Any) -> RuleViolation:
    """A pydantic ``ValidationError`` as our 422: each error's ``field`` and ``message``
    (never its input); text faults also as ``problems`` with their ``code``, for pages."""
    errors: list[dict[str, Any]] = []
    problems: list[dict[str, Any]] = []
    for e in error.errors():
        field = field_name([str(part) for part in e["loc"]])
        errors.append({"field": field, "message": e["msg"]})
        if e["type"] in TEXT_CODES:
            errors[-1]["code"] = e["type"]
            kind = (e.get("ctx") or {}).get("text", "text")
            problems.append({"code": e["type"], "detail": f"{field}: {e['msg']}",
                             "field": field, "text": kind})  # fmt: skip
    extra: dict[str, Any] = {"errors": errors[:50]}
    if problems:
        extra.update(field=problems[0]["field"], problems=problems[:50])
    return RuleViolation("invalid-request", title="Invalid request", **extra)


def _strings(value: Any) -> Iterator[tuple[list[str], str]]:
    """Every string of a parsed JSON document (keys too), with its path; no recursion."""
    queue: deque[tuple[list[str], Any]] = deque([([], value)])
    while queue:
        path, node = queue.popleft()
        if isinstance(node, str):
            yield path, node
        elif isinstance(node, dict):
            for key, child in node.items():
                yield [*path, key], key
                queue.append(([*path, key], child))
        elif isinstance(node, list):
            queue.extend(([*path, str(n)], child) for n, child in enumerate(node))


def field_name(path: list[str]) -> str:
    """A field's path as problems name it (``participants.0.name``), safe to echo: a part
    that is not clean text itself is shown as ``?``."""
    return ".".join(p[:64] if text_fault(p) is None else "?" for p in path)[:200] or "body"


def text_problem(field: str, code: str, kind: str = "text") -> RuleViolation:
    """The 422 for a field whose text can't be stored or sent (``kind`` as ``fault_detail``)."""
    detail = f"{field}: {fault_detail(code, kind)}"
    return RuleViolation(
        "unstorable-text",
        title="Invalid request",
        field=field,
        problems=[{"code": code, "detail": detail, "field": field, "text": kind}],
    )


def find_unstorable(document: Any) -> tuple[str, str] | None:
    """The first string of a parsed JSON document (keys too) holding NUL or an unpaired
    surrogate, as (field name, problem code); None when there is none."""
    for path, value in _strings(document):
        fault = unstorable(value)
        if fault is not None:
            return field_name(path), fault
    return None


def refuse_bad_strings(document: Any) -> None:
    """422 for the first string of a JSON document holding NUL or an unpaired surrogate
    (the rest of what a field may hold is its schema's business)."""
    found = find_unstorable(document)
    if found is not None:
        raise text_problem(*found)


def form_faults(form: Any) -> list[tuple[str, str]]:
    """The fields of a form (or query) holding NUL or an unpaired surrogate, as (field
    name, problem code)."""
    found = []
    for key, value in form.items(multi=True):
        fault = unstorable(key) or unstorable(value)
        if fault is not None:
            found.append((field_name([key]), fault))
    return found


def check_json_text(text: str | bytes) -> Any:
    """A JSON text checked at the door: not too deep (400), parsed (ValueError if it is not
    JSON), every string storable (422); the parsed value."""
    refuse_deep_json(text)
    document = json.loads(text)
    refuse_bad_strings(document)
    return document


# --- the door -----------------------------------------------------------------------------

#: A JSON body larger than this is refused before it is read as JSON (413).
JSON_MAX_BYTES = 1024 * 1024
BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def checks_own_form(view: Any) -> Any:
    """Mark a page view that checks its own form's text (to show the form again, as typed,
    with the refusal on it) instead of the door's plain refusal."""
    view.checks_own_form = True
    return view


def _refuse_unstorable_input() -> None:
    """Before any view: NUL in a path is no page (404); NUL in a query parameter or a form
    field, JSON too deep (400), too large (413) or with NUL or an unpaired surrogate in any
    string (422) are refused here, so no view, schema or database ever meets them."""
    if "\x00" in request.path:
        raise NotFound("no-such-page")
    for field, fault in form_faults(request.args)[:1]:
        raise text_problem(field, fault)
    if request.method not in BODY_METHODS:
        return
    if request.is_json:
        # Read no more than this, whatever the headers say (413 past it).
        request.max_content_length = JSON_MAX_BYTES
        try:
            data = request.get_data(cache=True)
        except RequestEntityTooLarge:
            raise RequestEntityTooLarge(f"A JSON body is at most {JSON_MAX_BYTES} bytes.") from None
        try:
            check_json_text(data)
        except ValueError:
            return  # not JSON: the API says so in its own words (400)
        return
    view = current_app.view_functions.get(request.endpoint or "")
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data") and not (
        getattr(view, "checks_own_form", False)
    ):
        for field, fault in form_faults(request.form)[:1]:
            raise text_problem(field, fault)


def init_app(app: Flask) -> None:
    """The ``id`` path converter (before any route is added), the door's checks, and the
    core's words (``hearings.words``)."""
    register_words(WORDS)
    app.url_map.converters["id"] = IdConverter
    app.before_request(_refuse_unstorable_input)
