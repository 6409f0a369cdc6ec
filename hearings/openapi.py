"""What the OpenAPI document says beyond spectree: errors as problem+json, bodies that are not
JSON, response headers, and the rules every operation shares (ids' bounds, who is refused)."""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel, ConfigDict
from spectree import Response
from spectree.utils import get_model_key

PROBLEM = "application/problem+json"
#: Database ids: positive, and within PostgreSQL's ``integer``.
ID_BOUNDS = {"minimum": 1, "maximum": 2**31 - 1}
_BODY_METHODS = {"post", "put", "patch"}
_RETRY_AFTER = {
    "description": "Seconds to wait before asking again.",
    "schema": {"type": "integer", "minimum": 0},
}


class Problem(BaseModel):
    """RFC 9457 problem details; rule and conflict problems add ``problems``/``conflicts``."""

    model_config = ConfigDict(extra="allow")
    type: str
    title: str
    status: int
    detail: str
    #: The refusal's stable code (``already-recording``); its parameters are fields beside it.
    code: str


class Responses(Response):
    """spectree's ``Response`` as this API answers: every error is ``application/problem+json``
    (a ``Problem``); ``media`` names a success body that is not JSON
    (``media={"HTTP_200": "text/calendar"}``); ``retry_after`` codes send ``Retry-After``."""

    def __init__(self, *codes: str, **code_models: Any) -> None:
        # Read from the keywords (not named parameters): views spread dicts of codes in.
        self.media: dict[str, str] = code_models.pop("media", None) or {}
        self.retry_after: tuple[str, ...] = code_models.pop("retry_after", ())
        for code in self.media:
            code_models.setdefault(code, None)
        for code in self.retry_after:
            code_models.setdefault(code, Problem)
        super().__init__(*codes, **code_models)

    def generate_spec(self, naming_strategy: Any = get_model_key) -> dict[str, Any]:
        """The responses object, with the media types and headers this API sends."""
        responses = super().generate_spec(naming_strategy)
        for code, response in responses.items():
            content = response.get("content", {})
            if int(code) >= 400 and "application/json" in content:
                content[PROBLEM] = content.pop("application/json")
            media = self.media.get(f"HTTP_{code}")
            if media is not None:
                binary = not media.startswith("text/")
                schema = {"type": "string", **({"format": "binary"} if binary else {})}
                response["content"] = {media: {"schema": schema}}
            if f"HTTP_{code}" in self.retry_after:
                response.setdefault("headers", {})["Retry-After"] = _RETRY_AFTER
        return responses


def _problem(description: str, problem_ref: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM: {"schema": {"$ref": problem_ref}}}}


def finished_document(generated: dict[str, Any]) -> dict[str, Any]:
    """The generated document with the refusals every operation of its kind can give:
    400 for a body that is not a JSON object, 401 without a staff token, 404 for an unknown
    id in the path, 422 for parameters or a body that break the schema; ids bounded."""
    document = copy.deepcopy(generated)
    schemas = document["components"]["schemas"]
    problem_ref = "#/components/schemas/" + next(k for k in schemas if k.startswith("Problem"))
    for operations in document["paths"].values():
        for method, operation in operations.items():
            responses = operation["responses"]
            parameters = operation.get("parameters", [])
            for parameter in parameters:
                if parameter["in"] == "path" and parameter["schema"].get("type") == "integer":
                    parameter["schema"].update(ID_BOUNDS)
                    parameter["schema"].pop("format", None)
            needed = {}
            if method in _BODY_METHODS:
                needed["400"] = "The body is not a JSON object."
            if operation.get("security") != []:
                needed["401"] = "No staff token, or a bad one."
            if any(p["in"] == "path" for p in parameters):
                needed["404"] = "Nothing with that id (or not visible to the caller)."
            if operation.get("requestBody") or any(p["in"] == "query" for p in parameters):
                needed["422"] = "The parameters or the body break the schema or a rule."
            for code, description in needed.items():
                responses.setdefault(code, _problem(description, problem_ref))
            if "401" in responses:
                responses["401"].setdefault("headers", {})["WWW-Authenticate"] = {
                    "description": "The scheme to authenticate with (Bearer).",
                    "schema": {"type": "string"},
                }
    return document
