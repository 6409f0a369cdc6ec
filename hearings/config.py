"""Configuration: defaults here, overrides from ``HEARINGS_*`` environment variables."""

from __future__ import annotations

import json
import os
from typing import Any, ClassVar


class Config:
    """Defaults for a one-process deployment with an embedded SQLite database."""

    #: Signs login cookies; also the default room/API token key when no key ring is set.
    #: No default: the service refuses to start without one (hearings/keys.py), except
    #: ``serve --demo``, which keeps a random one in its instance folder.
    SECRET_KEY: str | None = None
    #: Folder for the embedded database and the mail outbox; unset means ./instance.
    INSTANCE_PATH: str | None = None
    #: SQLAlchemy URL; unset means ``sqlite:///<instance>/hearings.sqlite3``.
    DATABASE_URL: str | None = None
    #: Redis URL for the signaling bus between app processes (rooms issue).
    REDIS_URL: str | None = None
    #: SMTP URL for invites (notify issue); unset writes .eml files to the outbox folder.
    SMTP_URL: str | None = None
    #: Sender of every email, and the ORGANIZER address of invites.
    MAIL_FROM: str = "洛阳·漯河跨域诉讼服务 <hearings@localhost>"
    #: WeChat Work group robot for progress notices: one URL, or ``court=url,court=url``.
    WECOM_WEBHOOK_URL: str | None = None
    #: Minutes before a session that reminders go out (comma-separated).
    REMINDER_MINUTES: str = "1440,30"
    #: Outbox: first retry after this many seconds, doubling each time; tries at most.
    OUTBOX_RETRY_SECONDS: int = 60
    OUTBOX_MAX_ATTEMPTS: int = 8
    #: The scheduler's sweep (outbox, late reminders) runs this often, seconds.
    SCHEDULER_SWEEP_SECONDS: int = 60
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
    #: Sign-in throttling: after this many wrong passwords for one username within the
    #: window, sign-in with that username answers 429 until the window passes (contract) ...
    LOGIN_FAILURES_PER_USER: int = 10
    #: ... and after this many from one client address, across usernames.
    LOGIN_FAILURES_PER_ADDRESS: int = 50
    #: The window both count failures in, seconds (a moving window: each failure ages out).
    LOGIN_FAILURE_WINDOW: int = 15 * 60
    #: Proxies in front of the app that append the client's address to X-Forwarded-For
    #: (nginx in production: 1). 0 trusts no such header: the address is the socket's peer.
    TRUSTED_PROXIES: int = 0
    #: Earliest free slots returned by default, and at most.
    AVAILABILITY_DEFAULT_LIMIT: int = 10
    AVAILABILITY_MAX_LIMIT: int = 200
    #: Longest span one availability query may cover, in days.
    AVAILABILITY_MAX_DAYS: int = 92
    #: Log lines: ``json`` (one object a line, for a log collector) or ``text`` (key=value).
    LOG_FORMAT: str = "json"
    #: Least level logged: DEBUG (adds every relayed signaling frame), INFO, WARNING …
    LOG_LEVEL: str = "INFO"
    #: Frozen "now" (ISO 8601) for demos and tests; unset means the real clock.
    NOW: str | None = None

    #: Prefix of the signaling bus's Redis keys and channel.
    ROOM_BUS_PREFIX: str = "hearings"
    #: A room token works from this many minutes before the start ...
    ROOM_EARLY_MINUTES: int = 30
    #: ... until this many minutes after the end.
    ROOM_LATE_MINUTES: int = 120
    #: STUN and TURN server URLs handed to browsers in ``welcome`` (comma-separated).
    STUN_URLS: str = ""
    TURN_URLS: str = ""
    #: coturn's ``static-auth-secret``: TURN credentials are minted per participant from it.
    TURN_SECRET: str | None = None
    #: Lifetime of minted TURN credentials, seconds.
    TURN_TTL: int = 6 * 3600
    #: Frames a peer may send per second (sustained) and in a burst, before 4429.
    ROOM_FRAME_RATE: float = 50.0
    ROOM_FRAME_BURST: int = 200
    #: How long a client has to send its ``join`` frame, seconds.
    ROOM_JOIN_TIMEOUT: float = 5.0
    #: WebSocket ping interval, seconds (a peer that stops answering counts as dropped).
    ROOM_PING_INTERVAL: float = 20.0

    #: Witness recordings: folder of segment files; unset means ``<instance>/recordings``.
    RECORDINGS_PATH: str | None = None
    #: Whether starting a recording starts the server's recorder peer (off in API-only tests).
    RECORDER_ENABLED: bool = True
    #: ``embedded``: the app records in a loop thread of its own; ``external``: the app starts
    #: no recorder (nor imports aiortc) and a ``hearings recorder`` process picks recordings
    #: up from the database.
    RECORDER_MODE: str = "embedded"
    #: How often ``hearings recorder`` looks at the database for work, seconds.
    RECORDER_POLL_SECONDS: float = 1.0
    #: A recorder renews its hold on its recordings this often; a hold not renewed for
    #: ``RECORDER_LEASE_SECONDS`` (or whose process on this host is gone) is swept.
    RECORDER_HEARTBEAT_SECONDS: float = 5.0
    RECORDER_LEASE_SECONDS: float = 20.0
    #: How long ``stop`` waits for the recorder (this process's or another's) to close the
    #: last segment; past it, this process's recorder answers 503 (it carries on closing and
    #: the repeated stop seals), another process's open segment is salvaged.
    RECORDER_STOP_TIMEOUT: float = 30.0
    #: WebSocket base the recorder joins rooms through; unset derives it from ``SITE_URL``.
    RECORDER_SIGNALING_URL: str | None = None
    #: Janus's HTTP API (e.g. ``http://127.0.0.1:8088/janus``), or a comma-separated list of
    #: them (sessions are spread over them, each always on the same one). Unset: no SFU,
    #: rooms are a browser mesh. Never sent to browsers.
    JANUS_URL: str | None = None
    #: Janus's ``api_secret``, sent with every request to it.
    JANUS_API_SECRET: str | None = None
    #: Where Janus writes its recordings (``.mjr``) before they become segments: a folder
    #: Janus may write and this service read, at the same path for both (one host, or a
    #: shared mount). Unset: ``<instance>/janus-recordings``.
    JANUS_RECORDINGS_PATH: str | None = None
    #: Length of one recording segment, seconds (a crash loses at most the open one).
    SEGMENT_SECONDS: float = 180.0
    #: Key encrypting resident ID numbers at rest: 32 bytes, base64. Unset: derived from
    #: ``SECRET_KEY`` in the demo and tests; anywhere else the service refuses to start.
    WITNESS_ID_KEY: str | None = None
    #: Ed25519 key signing recording manifests: ``kid:seed`` (the 32-byte private seed,
    #: base64; without ``kid:`` the key id is derived from the public key). Unset: derived
    #: from ``SECRET_KEY`` in the demo and tests; anywhere else the service refuses to start.
    MANIFEST_SIGNING_KEY: str | None = None
    #: Retired manifest keys that still verify: ``kid:public,kid:public`` (raw 32-byte
    #: Ed25519 public keys, base64).
    MANIFEST_VERIFY_KEYS: str | None = None
    #: A TTF/TTC font with Chinese glyphs to embed in the witness record's PDF; unset uses
    #: the PDF's built-in STSong-Light (the reader supplies the glyphs).
    RECORD_PDF_FONT: str | None = None
    #: An RFC 3161 time-stamping authority: each sealed manifest is timestamped (optional);
    #: its CA certificates (PEM) to trust when verifying.
    TSA_URL: str | None = None
    TSA_CA_FILE: str | None = None
    #: Years a recording is kept: one number, or ``court=years,court=years`` (default 30).
    RETENTION_YEARS: str = "30"

    #: The login cookie is not sent on cross-site posts (the pages' forms also carry a
    #: CSRF token: hearings/csrf.py).
    SESSION_COOKIE_SAMESITE: str = "Lax"

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
    "MAIL_FROM": str,
    "WECOM_WEBHOOK_URL": str,
    "REMINDER_MINUTES": str,
    "OUTBOX_RETRY_SECONDS": int,
    "OUTBOX_MAX_ATTEMPTS": int,
    "SCHEDULER_SWEEP_SECONDS": int,
    "SITE_URL": str,
    "SIGNING_KEYS": str,
    "API_TOKEN_TTL": int,
    "DEMO_PASSWORD": str,
    "PASSWORD_HASH_METHOD": str,
    "LOGIN_FAILURES_PER_USER": int,
    "LOGIN_FAILURES_PER_ADDRESS": int,
    "LOGIN_FAILURE_WINDOW": int,
    "TRUSTED_PROXIES": int,
    "LOG_FORMAT": str,
    "LOG_LEVEL": str,
    "NOW": str,
    "ROOM_BUS_PREFIX": str,
    "ROOM_EARLY_MINUTES": int,
    "ROOM_LATE_MINUTES": int,
    "STUN_URLS": str,
    "TURN_URLS": str,
    "TURN_SECRET": str,
    "TURN_TTL": int,
    "ROOM_FRAME_RATE": float,
    "ROOM_FRAME_BURST": int,
    "ROOM_JOIN_TIMEOUT": float,
    "ROOM_PING_INTERVAL": float,
    "RECORDINGS_PATH": str,
    "RECORDER_ENABLED": bool,
    "RECORDER_SIGNALING_URL": str,
    "RECORDER_MODE": str,
    "RECORDER_POLL_SECONDS": float,
    "RECORDER_HEARTBEAT_SECONDS": float,
    "RECORDER_LEASE_SECONDS": float,
    "RECORDER_STOP_TIMEOUT": float,
    "SEGMENT_SECONDS": float,
    "WITNESS_ID_KEY": str,
    "MANIFEST_SIGNING_KEY": str,
    "MANIFEST_VERIFY_KEYS": str,
    "RECORD_PDF_FONT": str,
    "TSA_URL": str,
    "TSA_CA_FILE": str,
    "RETENTION_YEARS": str,
    "JANUS_URL": str,
    "JANUS_API_SECRET": str,
    "JANUS_RECORDINGS_PATH": str,
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
