"""Liveness and readiness for load balancers and operators: /healthz and /readyz (and the
browsers' /favicon.ico, answered without a 404)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Flask, current_app

from hearings.errors import HearingsError, problem_response
from hearings.extensions import db

bp = Blueprint("health", __name__)


class NotReady(HearingsError):
    """A dependency (the database, Redis) does not answer."""

    status = 503
    title = "Not ready"
    type = "not-ready"


@bp.get("/favicon.ico")
def favicon() -> tuple[str, int, dict[str, str]]:
    """No icon, said once a week instead of a 404 in every browser's log."""
    return "", 204, {"Cache-Control": "public, max-age=604800"}


@bp.get("/healthz")
def healthz() -> dict[str, str]:
    """The process answers (nothing else is checked)."""
    return {"status": "ok"}


def _check_database() -> str:
    db.session.execute(sa.text("SELECT 1"))
    return "ok"


def _check_redis() -> str:
    url = current_app.config["REDIS_URL"]
    if not url:
        return "not configured"
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    finally:
        client.close()
    return "ok"


@bp.get("/readyz")
def readyz() -> Any:
    """Ready to serve: the database and (when configured) Redis answer."""
    checks: dict[str, str] = {}
    failed = False
    for name, check in (("database", _check_database), ("redis", _check_redis)):
        try:
            checks[name] = check()
        except Exception as error:  # any failure of a dependency means "not ready", said
            checks[name] = f"failed: {type(error).__name__}"
            failed = True
    if failed:
        # Always problem+json: load balancers and operators read it, never a browser.
        return problem_response(NotReady("not-ready", checks=checks).to_problem())
    return {"status": "ready", "checks": checks}


def init_app(app: Flask) -> None:
    """Serve /healthz, /readyz and /favicon.ico."""
    app.register_blueprint(bp)
