"""The request fields every package's schemas share, parsed at the edge: ``Strict`` models,
enum fields (``one_of``), and ``Time`` and ``Date``, the one parser of the times requests
bring (to aware UTC datetimes and dates): services take and return values, never text."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    GetCoreSchemaHandler,
    GetPydanticSchema,
    StringConstraints,
    WithJsonSchema,
)
from pydantic_core import core_schema

from hearings.inputs import ONE_LINE
from hearings.timekeeping import isoformat, parse_api_time, served_time

# --- requests --------------------------------------------------------------------------


class Strict(BaseModel):
    """Unknown fields are an error, and types are not coerced (``"1"`` is not an id)."""

    model_config = ConfigDict(extra="forbid", strict=True)


def one_of(values: type[StrEnum]) -> GetPydanticSchema:
    """``Annotated[Role, one_of(Role)]``: a field that takes one of an enum's values (as
    text, in ``Strict`` models too) and reads as the enum's member. Validated, refused and
    documented as the ``Literal`` of the values (an enum of its own would become a ``$ref``
    in the document and want the member itself in strict mode)."""
    literal: Any = Literal.__getitem__(tuple(v.value for v in values))
    return GetPydanticSchema(
        lambda _source, handler: core_schema.no_info_after_validator_function(
            values, handler.generate_schema(literal)
        )
    )


# --- times and dates ---------------------------------------------------------------------

#: ISO 8601: a date and a time, the offset optional (without one it is Asia/Shanghai, as the
#: contract says); a date alone (its midnight) is still taken, as it always was.
TIME_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"([Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?([Zz]|[+-][0-9]{2}:[0-9]{2})?)?$"
)


def _real_time(text: str) -> str:
    """A time that fits the pattern must also exist (no 13th month, no 25th hour)."""
    text = text[:-1] + "Z" if text.endswith("z") else text
    datetime.fromisoformat(text)  # ValueError: pydantic reports it (422)
    return text


#: The text of a time as the API takes it (pattern, length, one line, a real time).
_TimeText = Annotated[
    str,
    StringConstraints(max_length=40, pattern=TIME_PATTERN),
    ONE_LINE,
    AfterValidator(_real_time),
]


def _field(info: core_schema.ValidationInfo) -> str:
    # A field named for a Python keyword (``from_``) is sent as its alias (``from``).
    return (info.field_name or "time").rstrip("_")


def _time_schema(source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
    """Text (or, from a page or the demo, a datetime) → an aware UTC datetime."""
    text = handler.generate_schema(_TimeText)

    def parse(value: Any, check: Any, info: core_schema.ValidationInfo) -> datetime:
        if isinstance(value, datetime):
            return served_time(value, _field(info))
        return parse_api_time(check(value), _field(info))

    def dump(value: Any, info: core_schema.SerializationInfo) -> Any:
        return isoformat(value) if info.mode_is_json() else value

    return core_schema.with_info_wrap_validator_function(
        parse,
        text,
        serialization=core_schema.plain_serializer_function_ser_schema(dump, info_arg=True),
    )


#: A time the API takes: ISO 8601, a date and a time, the offset optional (without one it is
#: Asia/Shanghai); parsed here into an aware datetime in UTC, so no service sees the text. A
#: year outside ``timekeeping.YEARS`` answers 422 naming the field.
Time = Annotated[
    datetime,
    GetPydanticSchema(_time_schema),
    WithJsonSchema(
        {"type": "string", "format": "date-time", "maxLength": 40, "pattern": TIME_PATTERN}
    ),
]

#: A calendar day the API takes (``YYYY-MM-DD``, a real one), parsed into a ``date``.
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
Date = Annotated[
    date,
    GetPydanticSchema(
        lambda _source, handler: core_schema.no_info_after_validator_function(
            date.fromisoformat,  # ValueError (Feb 30th): pydantic reports it (422)
            handler.generate_schema(
                Annotated[str, StringConstraints(max_length=10, pattern=DATE_PATTERN)]
            ),
            serialization=core_schema.to_string_ser_schema(when_used="json"),
        )
    ),
    WithJsonSchema({"type": "string", "format": "date", "pattern": DATE_PATTERN}),
]
