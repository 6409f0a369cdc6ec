"""Domain errors and the one handler that renders them (problem+json or a page)."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from hearings.serving import redact

log = logging.getLogger(__name__)

PROBLEM_TYPE_BASE = "https://hearings.court/problems/"


class HearingsError(Exception):
    """A refusal the user can act on; carries its HTTP status and problem details."""

    status = 400
    title = "Bad request"
    type = "bad-request"

    def __init__(self, detail: str, *, title: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        if title is not None:
            self.title = title
        self.extra = extra

    def to_problem(self) -> dict[str, Any]:
        """The RFC 9457 problem document for this error."""
        problem: dict[str, Any] = {
            "type": PROBLEM_TYPE_BASE + self.type,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        problem.update(self.extra)
        return problem


class MalformedRequest(HearingsError):
    status = 400
    title = "Malformed request"
    type = "malformed-request"


class NotAuthenticated(HearingsError):
    status = 401
    title = "Not authenticated"
    type = "not-authenticated"


class Forbidden(HearingsError):
    status = 403
    title = "Not allowed"
    type = "forbidden"


class NotFound(HearingsError):
    status = 404
    title = "Not found"
    type = "not-found"


class Conflict(HearingsError):
    status = 409
    title = "Conflict"
    type = "conflict"


class RuleViolation(HearingsError):
    status = 422
    title = "The request breaks a rule"
    type = "rule-violation"


class StillWorking(HearingsError):
    """The server is still doing what was asked; the client asks again later
    (``retry_after`` seconds, sent as ``Retry-After``)."""

    status = 503
    title = "Still working"
    type = "still-working"

    def __init__(self, detail: str, *, retry_after: int, **extra: Any) -> None:
        super().__init__(detail, retry_after=retry_after, **extra)


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def problem_response(problem: dict[str, Any]) -> Response:
    """Render a problem document as ``application/problem+json``."""
    response = jsonify(problem)
    response.status_code = problem["status"]
    response.mimetype = "application/problem+json"
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="hearings"'
    if "retry_after" in problem:
        response.headers["Retry-After"] = str(problem["retry_after"])
    return response


def _render(
    problem: dict[str, Any], headers: dict[str, str] | None = None
) -> Response | tuple[Any, ...]:
    headers = dict(headers or {})
    if "retry_after" in problem:
        headers["Retry-After"] = str(problem["retry_after"])
    if _wants_json():
        response = problem_response(problem)
        response.headers.update(headers)
        return response
    # Imported here: the messages need timekeeping, which needs this module's errors.
    from hearings.page_errors import error_page

    page = render_template("error.html", problem=problem, page=error_page(problem))
    return page, problem["status"], headers


def register_error_handlers(app: Flask) -> None:
    """Install the handlers: domain errors, HTTP errors, and the last resort for bugs."""
    # Imported here: extensions.py needs this module's errors for its validation hook.
    from hearings.extensions import db

    @app.errorhandler(HearingsError)
    def handle_hearings_error(error: HearingsError):  # type: ignore[no-untyped-def]
        db.session.rollback()
        return _render(error.to_problem())

    @app.errorhandler(HTTPException)
    def handle_http_exception(error: HTTPException):  # type: ignore[no-untyped-def]
        problem = {
            "type": PROBLEM_TYPE_BASE + (error.name or "error").lower().replace(" ", "-"),
            "title": error.name,
            "status": error.code or 500,
            "detail": error.description,
        }
        # The exception's own headers stay (a 405's Allow); the body is ours.
        headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
        return _render(problem, headers)

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):  # type: ignore[no-untyped-def]
        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, redact(request.path))
        problem = {
            "type": PROBLEM_TYPE_BASE + "internal-error",
            "title": "Internal error",
            "status": 500,
            "detail": "The server failed; nothing was saved. The error has been logged.",
        }
        return _render(problem)
