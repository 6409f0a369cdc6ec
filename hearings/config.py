"""Configuration: defaults here, overrides from ``HEARINGS_*`` environment variables."""

from __future__ import annotations

import json
import os
from typing import Any, ClassVar


class Config:
    """Defaults for a one-process deployment with an embedded SQLite database."""

    #: Signs login cookies; also the default room/API token key when no key ring is set.
    SECRET_KEY: str = "dev-secret-key-change-me-0123456789abcdef"
    #: Folder for the embedded database and the mail outbox; unset means ./instance.
    INSTANCE_PATH: str | None = None
    #: SQLAlchemy URL; unset means ``sqlite:///<instance>/hearings.sqlite3``.
    DATABASE_URL: str | None = None
    #: Redis URL for the signaling bus between app processes (rooms issue).
    REDIS_URL: str | None = None
    #: SMTP URL for invites (notify issue); unset writes .eml files to the outbox folder.
    SMTP_URL: str | None = None
    #: The public base URL of the site, used in links sent out of the app.
    SITE_URL: str = "http://127.0.0.1:5000"
    #: Key ring for signed tokens: ``kid:secret,kid:secret``; the first signs, all verify.
    SIGNING_KEYS: str | None = None
    #: Lifetime of a staff API token in seconds.
    API_TOKEN_TTL: int = 8 * 3600
    #: Password given to demo staff by ``hearings serve --demo``.
    DEMO_PASSWORD: str = "demo"
    #: Password hashing method (werkzeug); tests use a cheaper one.
    PASSWORD_HASH_METHOD: str = "scrypt"
    #: Earliest free slots returned by default, and at most.
    AVAILABILITY_DEFAULT_LIMIT: int = 10
    AVAILABILITY_MAX_LIMIT: int = 200
    #: Longest span one availability query may cover, in days.
    AVAILABILITY_MAX_DAYS: int = 92
    #: Frozen "now" (ISO 8601) for demos and tests; unset means the real clock.
    NOW: str | None = None

    SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict[str, Any]] = {}
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    JSON_SORT_KEYS = False


#: Settings read from the environment and how to parse each.
_ENV_SETTINGS: dict[str, type] = {
    "INSTANCE_PATH": str,
    "SECRET_KEY": str,
    "DATABASE_URL": str,
    "REDIS_URL": str,
    "SMTP_URL": str,
    "SITE_URL": str,
    "SIGNING_KEYS": str,
    "API_TOKEN_TTL": int,
    "DEMO_PASSWORD": str,
    "PASSWORD_HASH_METHOD": str,
    "NOW": str,
}


def from_environment(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Return the settings given as ``HEARINGS_<NAME>`` environment variables."""
    environ = dict(os.environ if environ is None else environ)
    found: dict[str, Any] = {}
    for name, kind in _ENV_SETTINGS.items():
        raw = environ.get(f"HEARINGS_{name}")
        if raw is None or raw == "":
            continue
        found[name] = json.loads(raw) if kind is not str else raw
    return found
