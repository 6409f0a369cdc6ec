"""The pages' languages: Chinese (the source text) first, English from a catalogue.

Templates write ``{{ _(…Chinese text…) }}``; ``hearings/translations/en.po`` holds the English
(read with Babel, no compile step). The choice is a cookie, set by ``/lang/<code>``.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po
from flask import Blueprint, Flask, current_app, has_request_context, redirect, request
from werkzeug.wrappers import Response

LANGUAGES = {"zh": "中文", "en": "English"}
DEFAULT = "zh"
COOKIE = "lang"
CATALOGUES = Path(__file__).parent / "translations"

bp = Blueprint("i18n", __name__)


@cache
def catalogue(language: str) -> dict[str, str]:
    """Source text → translation for a language (empty for the source language)."""
    path = CATALOGUES / f"{language}.po"
    if language == DEFAULT or not path.exists():
        return {}
    with path.open("rb") as handle:
        messages = read_po(handle)
    return {
        m.id: m.string
        for m in messages
        if isinstance(m.id, str) and isinstance(m.string, str) and m.string and not m.fuzzy
    }


def current_language() -> str:
    """The visitor's language: their cookie, else Chinese (also outside a request)."""
    if not has_request_context():
        return DEFAULT
    chosen = request.cookies.get(COOKIE, DEFAULT)
    return chosen if chosen in LANGUAGES else DEFAULT


def gettext(text: str, **values: Any) -> str:
    """Translate a page text into the visitor's language; ``%(name)s`` placeholders filled."""
    return translate(text, current_language(), **values)


def translate(text: str, language: str, **values: Any) -> str:
    """Translate a page text into ``language``; ``%(name)s`` placeholders filled."""
    translated = catalogue(language).get(text, text)
    return translated % values if values else translated


#: Monday first, as ``date.weekday()`` counts.
WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


def weekday_name(day: date) -> str:
    """The day's weekday in the visitor's language (周一 …; Mon … in English)."""
    return gettext(WEEKDAYS[day.weekday()])


@bp.get("/lang/<code>")
def switch(code: str) -> Response:
    """Remember a language choice and go back to the page (a local path only)."""
    target = request.args.get("next", "/")
    if not target.startswith("/") or target.startswith("//"):
        target = "/"
    response = redirect(target)
    if code in LANGUAGES:
        response.set_cookie(
            COOKIE,
            code,
            max_age=365 * 24 * 3600,
            samesite="Lax",
            secure=current_app.config["SESSION_COOKIE_SECURE"],
        )
    return response


def init_app(app: Flask) -> None:
    """Make ``_`` and the language available to every template."""
    app.register_blueprint(bp)
    app.jinja_env.globals["_"] = gettext
    app.jinja_env.globals["LANGUAGES"] = LANGUAGES

    @app.context_processor
    def _language() -> dict[str, Any]:
        return {"lang": current_language()}
