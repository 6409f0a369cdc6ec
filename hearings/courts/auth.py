"""Staff sign-in: the login page (Flask-Login) and API tokens for scripts."""

from __future__ import annotations

from datetime import timedelta
from functools import wraps
from typing import Any

from flask import current_app, g, request

from hearings.courts.models import Staff
from hearings.errors import NotAuthenticated
from hearings.extensions import db, login_manager
from hearings.timekeeping import utcnow
from hearings.tokens import API_AUDIENCE, TokenError, decode_token, issue_token


@login_manager.user_loader
def load_staff(user_id: str) -> Staff | None:
    """Flask-Login: the signed-in staff member of a cookie session."""
    staff = db.session.get(Staff, int(user_id)) if user_id.isdigit() else None
    return staff if staff is not None and staff.active else None


def issue_api_token(staff: Staff) -> tuple[str, int]:
    """A staff API token and its lifetime in seconds."""
    ttl = int(current_app.config["API_TOKEN_TTL"])
    token = issue_token(
        API_AUDIENCE,
        str(staff.id),
        {"court": staff.court_id, "role": staff.role},
        expires=utcnow() + timedelta(seconds=ttl),
    )
    return token, ttl


def staff_from_bearer(header: str | None) -> Staff:
    """The staff member an ``Authorization: Bearer`` header speaks for, or 401."""
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("token-missing")
    try:
        claims = decode_token(token.strip(), API_AUDIENCE)
    except TokenError as error:
        raise NotAuthenticated("token-refused", reason=str(error)) from None
    subject = claims["sub"]
    staff = db.session.get(Staff, int(subject)) if str(subject).isdigit() else None
    if staff is None or not staff.active:
        raise NotAuthenticated("staff-inactive")
    return staff


def staff_required(view: Any) -> Any:
    """Require a staff API token (``Authorization: Bearer``); sets ``g.staff``."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.staff = staff_from_bearer(request.headers.get("Authorization"))
        return view(*args, **kwargs)

    return wrapper
