"""Cross-site request forgery protection for the cookie-authenticated pages.

The staff pages sign in with a cookie (Flask-Login), so a form on another site could post to
them in a signed-in clerk's name. Every unsafe request outside the API carries a token the
page was rendered with: a hidden ``csrf_token`` field in forms, or an ``X-CSRF-Token`` header
from scripts (the room's witnessing controls). The API takes bearer tokens only, never the
cookie, so it needs no such token. An ``Origin`` check alone would not do: the site sends
``Referrer-Policy: no-referrer``, under which browsers send ``Origin: null`` on same-site posts.
"""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, request, session
from markupsafe import Markup

from hearings.errors import HearingsError

FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
_KEY = "csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class FormExpired(HearingsError):
    status = 400
    title = "The form has expired"
    type = "csrf"


def csrf_token() -> str:
    """This browser session's token (made on first use)."""
    token = session.get(_KEY)
    if not isinstance(token, str):
        token = session[_KEY] = secrets.token_urlsafe(32)
    return token


def csrf_field() -> Markup:
    """The hidden form field carrying the token."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(FIELD, csrf_token())


def _check() -> None:
    if request.method in SAFE_METHODS or request.path.startswith(("/api/", "/ws/")):
        return
    expected = session.get(_KEY)
    sent = request.headers.get(HEADER) or request.form.get(FIELD)
    if not (isinstance(expected, str) and sent and hmac.compare_digest(expected, sent)):
        raise FormExpired("form-expired")


def init_app(app: Flask) -> None:
    """Check every unsafe page request; give templates ``csrf_field()`` and ``csrf_token()``."""
    app.before_request(_check)
    app.jinja_env.globals.update(csrf_field=csrf_field, csrf_token=csrf_token)
