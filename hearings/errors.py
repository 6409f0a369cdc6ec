"""Refusals: domain errors with a stable code, the words each package registers for its codes,
and the one handler that renders them (problem+json, or a page).

A service refuses with a code and its parameters, never a sentence::

    raise Conflict("already-recording", session_id=session.id)

Each package says its codes in Chinese and English in a ``words.py`` of its own and registers
them from its ``init_app`` (``register_words``). The problem document carries the ``code``,
the parameters and, as its ``detail``, the English words; pages say the same words in the
visitor's language (``say``). No page ever reads a ``detail`` to find what to say.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, flash, jsonify, redirect, request
from werkzeug.exceptions import HTTPException

from hearings.i18n import current_language
from hearings.serving import redact

log = logging.getLogger(__name__)

PROBLEM_TYPE_BASE = "https://hearings.court/problems/"
#: A problem document's own fields: no parameter may take one of these names.
PROBLEM_FIELDS = frozenset({"type", "title", "status", "detail", "code"})

#: A sentence: a ``%(name)s`` template filled from the parameters, or a function of them.
Sentence = str | Callable[[Mapping[str, Any]], str]


@dataclass(frozen=True)
class Words:
    """What a refusal code says to people, in Chinese (``zh``) and English (``en``); the
    problem document's ``detail``, for developers, when it says more than ``en`` (a field's
    API name, the ids refused); ``title`` (zh, en) names the page a refusal fills."""

    zh: Sentence
    en: Sentence
    detail: Sentence | None = None
    title: tuple[str, str] | None = None

    def say(self, params: Mapping[str, Any], language: str) -> str:
        """The sentence in ``language`` (``zh`` or ``en``; ``detail`` for the API)."""
        match language:
            case "en":
                sentence = self.en
            case "detail":
                sentence = self.en if self.detail is None else self.detail
            case _:
                sentence = self.zh
        if callable(sentence):
            return sentence(params)
        return sentence % _Filled(params)


class _Filled(dict[str, Any]):
    """Parameters for a template: one that is missing reads as empty, never a KeyError."""

    def __missing__(self, key: str) -> str:
        return ""


#: Every registered code's words (the packages register theirs from ``init_app``).
_CATALOGUE: dict[str, Words] = {}


def register_words(words: Mapping[str, Words]) -> None:
    """Add a package's codes to the catalogue; a code may be said by one package only."""
    for code, said in words.items():
        known = _CATALOGUE.setdefault(code, said)
        if known is not said:
            raise ValueError(f"refusal code {code!r} is registered twice")


def catalogue() -> Mapping[str, Words]:
    """The codes registered so far and their words."""
    return _CATALOGUE


def say(code: str, params: Mapping[str, Any] | None = None, language: str | None = None) -> str:
    """What the refusal ``code`` says in ``language`` (the visitor's by default; ``detail``:
    the problem document's words for developers). An unknown
    code says the plain words of its ``status`` parameter (a bug the catalogue test finds)."""
    language = language or current_language()
    params = params or {}
    words = _CATALOGUE.get(code) or status_words(int(params.get("status") or 400))
    return words.say(params, language)


def page_title(code: str | None, language: str | None = None) -> str | None:
    """The page title a refusal code gives the page it fills, if it names one."""
    words = _CATALOGUE.get(code or "")
    if words is None or words.title is None:
        return None
    return words.title[1] if (language or current_language()) == "en" else words.title[0]


class HearingsError(Exception):
    """A refusal the user can act on: its HTTP status, a stable ``code`` and the parameters
    its words need (they also go into the problem document)."""

    status = 400
    title = "Bad request"
    type = "bad-request"

    def __init__(self, code: str, /, *, title: str | None = None, **params: Any) -> None:
        clash = PROBLEM_FIELDS & params.keys()
        if clash:
            raise TypeError(f"a refusal parameter may not be named {sorted(clash)}")
        self.code = code
        self.params = params
        #: How the page that was asked for shows this refusal (``shown_by``), if it does.
        self.show: RefusalShower | None = None
        if title is not None:
            self.title = title
        super().__init__(code)

    @property
    def detail(self) -> str:
        """The refusal in English, for developers and logs."""
        return say(self.code, {"status": self.status, **self.params}, "detail")

    def __str__(self) -> str:
        return self.detail

    def words(self, language: str | None = None) -> list[str]:
        """What a page says of this refusal, in the visitor's language."""
        return refusal(self.to_problem(), language)

    def to_problem(self) -> dict[str, Any]:
        """The RFC 9457 problem document for this error."""
        return {
            "type": PROBLEM_TYPE_BASE + self.type,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
            **self.params,
        }


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

    def __init__(self, code: str, /, *, retry_after: int, **params: Any) -> None:
        super().__init__(code, retry_after=retry_after, **params)


def refusal(problem: Mapping[str, Any], language: str | None = None) -> list[str]:
    """Every sentence a page shows for a problem document: one per rule it breaks
    (``problems``), else its code's words."""
    parts = problem.get("problems")
    if isinstance(parts, list) and parts:
        return [say(str(p.get("code")), {"status": 422, **p}, language) for p in parts]
    return [say(str(problem.get("code")), problem, language)]


# The words of the codes every package shares: HTTP's own refusals and the last resort.
#: Plain words for each status, when a code has none of its own.
STATUS_WORDS = {
    400: Words("请求无法处理，请返回上一页重试。",
                 "The request couldn't be handled; go back and try again."),
    401: Words("请先登录。", "Please sign in first."),
    403: Words("您无权进行此操作。", "You may not do this."),
    404: Words("找不到该内容。", "That couldn't be found."),
    405: Words("无法这样打开此页面。", "This page can't be opened this way."),
    409: Words("操作与当前状态冲突，请刷新页面后重试。",
                 "That clashes with the current state; reload the page and try again."),
    413: Words("发送的内容太大。", "What was sent is too large."),
    422: Words("填写的内容不符合要求，请检查后重试。",
                 "Something entered isn't acceptable; please check and try again."),
    429: Words("操作过于频繁，请稍后再试。", "Too many attempts; please try again later."),
    500: Words("系统出错，本次操作没有保存。错误已记录。",
                 "The server failed; nothing was saved. The error has been logged."),
    503: Words("系统仍在处理，请稍后再试。", "Still working on it; please try again shortly."),
}  # fmt: skip
_ANY_STATUS = Words("操作未成功，请稍后再试。", "That didn't work; please try again later.")


def status_words(status: int) -> Words:
    """The plain words of a status."""
    return STATUS_WORDS.get(status, _ANY_STATUS)


#: HTTP's own refusals (the router, the request parser) by code, and the last resort.
WORDS = {
    "bad-request": STATUS_WORDS[400],
    "unauthorized": STATUS_WORDS[401],
    "forbidden": STATUS_WORDS[403],
    "not-found": STATUS_WORDS[404],
    "method-not-allowed": STATUS_WORDS[405],
    "request-entity-too-large": STATUS_WORDS[413],
    "unsupported-media-type": Words("发送的内容格式不受支持。",
                                      "That media type is not supported."),
    "too-many-requests": STATUS_WORDS[429],
    "internal-error": STATUS_WORDS[500],
}  # fmt: skip
register_words(WORDS)


def http_code(error: HTTPException) -> str:
    """The problem code of one of HTTP's own refusals (``Not Found`` → ``not-found``)."""
    return (error.name or "error").lower().replace(" ", "-").replace("'", "")


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


#: Renders a problem as a page: (problem) → (body, status); given by ``create_app``.
PageRenderer = Callable[[dict[str, Any]], Any]
#: Shows a refusal on the page that was asked for (its form again, or a flash and a redirect).
RefusalShower = Callable[[HearingsError], Any]


def shown_by(show: RefusalShower) -> Callable[[Any], Any]:
    """Mark a page view whose refusals are shown on its own page: a refusal its work raises
    carries ``show`` on to the one handler, which calls ``show(error)`` (after the rollback)
    instead of rendering the error page; ``show`` returns None to leave a refusal to the
    error page (a 404 of the page itself). Refusals at the door (an expired form, text that
    can't be stored) never reach the view, and get the error page."""

    def mark(view: Any) -> Any:
        @functools.wraps(view)
        def marked(*args: Any, **kwargs: Any) -> Any:
            try:
                return view(*args, **kwargs)
            except HearingsError as error:
                error.show = show
                raise

        return marked

    return mark


def flashed_back_to(target: Callable[[], str | None]) -> RefusalShower:
    """Show a refusal as flashed messages on the page at ``target()`` (a redirect); when
    there is no such page (``target()`` is None: the session is not there) the error page
    says so."""

    def show(error: HearingsError) -> Any:
        url = target()
        if url is None:
            return None
        for sentence in error.words():
            flash(sentence, "error")
        return redirect(url)

    return show


def answers_scripts(view: Any) -> Any:
    """Mark a view that answers a page's scripts: its refusals are problem+json, whatever was
    accepted, with ``message``, the refusal in the visitor's words, for the page to show."""
    view.answers_scripts = True
    return view


def register_error_handlers(
    app: Flask, render_page: PageRenderer, rollback: Callable[[], None]
) -> None:
    """Install the handlers: domain errors, HTTP errors, and the last resort for bugs. Pages
    get their error page from ``render_page``; ``rollback`` drops the failed request's work."""

    def render(problem: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
        headers = dict(headers or {})
        if "retry_after" in problem:
            headers["Retry-After"] = str(problem["retry_after"])
        if _wants_json():
            response = problem_response(problem)
            response.headers.update(headers)
            return response
        return render_page(problem), problem["status"], headers

    @app.errorhandler(HearingsError)
    def handle_hearings_error(error: HearingsError):  # type: ignore[no-untyped-def]
        rollback()
        view = app.view_functions.get(request.endpoint or "")
        if getattr(view, "answers_scripts", False):
            return problem_response({**error.to_problem(), "message": " ".join(error.words())})
        show = error.show
        shown = show(error) if show is not None and not _wants_json() else None
        return shown if shown is not None else render(error.to_problem())

    @app.errorhandler(HTTPException)
    def handle_http_exception(error: HTTPException):  # type: ignore[no-untyped-def]
        code = http_code(error)
        problem = {
            "type": PROBLEM_TYPE_BASE + code,
            "title": error.name,
            "status": error.code or 500,
            "detail": error.description,
            "code": code,
        }
        # The exception's own headers stay (a 405's Allow); the body is ours.
        headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
        return render(problem, headers)

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):  # type: ignore[no-untyped-def]
        rollback()
        log.exception("unhandled error on %s %s", request.method, redact(request.path))
        problem = {
            "type": PROBLEM_TYPE_BASE + "internal-error",
            "title": "Internal error",
            "status": 500,
            "detail": say("internal-error", language="detail"),
            "code": "internal-error",
        }
        return render(problem)
