"""Fixtures: the app on SQLite (and PostgreSQL when HEARINGS_TEST_DATABASE_URL is set),
clients, and factories for staff, rooms, tokens and bookings."""

from __future__ import annotations

import base64
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from flask_migrate import upgrade

from hearings import create_app
from hearings.courts.auth import issue_api_token
from hearings.courts.models import Room, Staff
from hearings.courts.seed import ensure_courts
from hearings.csrf import SAFE_METHODS
from hearings.extensions import db
from hearings.witness.identity import derive_key

#: Fixtures more than one package's tests use, as plugins: a conftest never imports another.
pytest_plugins = [
    "tests.fixtures.smtp",
    "tests.fixtures.rooms",
    "tests.fixtures.witness",
    "tests.fixtures.janus",
    "tests.fixtures.sfu",
]

PG_URL = os.environ.get("HEARINGS_TEST_DATABASE_URL")
#: Tests run as if it were this moment: a Tuesday in Luoyang's summer timetable.
FROZEN_NOW = "2026-09-01T09:00:00+08:00"
TEST_KEY = "test-signing-key-0123456789abcdef-0123456789"
#: The keys every process a test starts (``hearings serve``, ``scheduler``, ``recorder``,
#: gunicorn) is given: outside tests and the demo the service refuses to start without them.
#: The ID-number and manifest keys are those the test apps derive from TEST_KEY, so a
#: subprocess and the test's own app read each other's ID numbers and manifests.
TEST_KEYS_ENV = {
    "HEARINGS_SECRET_KEY": TEST_KEY,
    "HEARINGS_WITNESS_ID_KEY": base64.b64encode(
        derive_key(TEST_KEY, b"witness id numbers")
    ).decode(),
    "HEARINGS_MANIFEST_SIGNING_KEY": base64.b64encode(
        derive_key(TEST_KEY, b"manifest signing")
    ).decode(),
}


#: Every test staff member's password.
PASSWORD = "secret-password"


def sign_in(client: FlaskClient, staff: Staff, lang: str | None = None) -> FlaskClient:
    """Sign in on the login page (in ``lang``, if given); the client, signed in."""
    if lang is not None:
        client.get(f"/lang/{lang}")
    response = client.post("/login", data={"username": staff.username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def base_config(database_url: str, instance: Path) -> dict[str, Any]:
    """Settings every test app shares."""
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": TEST_KEY,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "NOW": FROZEN_NOW,
        "INSTANCE_PATH": str(instance),
    }


def migrate_database(url: str, instance: Path) -> None:
    """Run the real migrations (exclusion constraint, triggers) and load the courts."""
    app = create_app(base_config(url, instance))
    with app.app_context():
        upgrade()
        ensure_courts()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file each test copies (migrating once is much faster)."""
    folder = tmp_path_factory.mktemp("template")
    path = folder / "template.sqlite3"
    migrate_database(f"sqlite:///{path}", folder)
    return path


@pytest.fixture(scope="session")
def postgres_ready(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A freshly migrated PostgreSQL schema (the real server), or a skip."""
    if not PG_URL:
        pytest.skip("HEARINGS_TEST_DATABASE_URL is not set: PostgreSQL tests skipped")
    engine = sa.create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()
    migrate_database(PG_URL, tmp_path_factory.mktemp("pg"))
    return PG_URL


#: Reference data loaded once by the migration step; every other table is emptied per test.
KEPT_TABLES = {"courts", "working_hours", "alembic_version"}


def _truncate_postgres(url: str) -> None:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        tables = [n for n in sa.inspect(conn).get_table_names() if n not in KEPT_TABLES]
        conn.exec_driver_sql(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """The database of one test: a copy of the SQLite template, or the PostgreSQL schema."""
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_ready")
        _truncate_postgres(url)
        return url
    path = tmp_path / "hearings.sqlite3"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


class PageClient(FlaskClient):
    """A test client that posts to the pages like a browser on them: with the CSRF token the
    page was rendered with (``hearings/csrf.py``). ``csrf=False`` posts without it."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        send_token = kwargs.pop("csrf", True)
        path = args[0] if args and isinstance(args[0], str) else ""
        method = str(kwargs.get("method", "GET")).upper()
        if send_token and method not in SAFE_METHODS and not path.startswith("/api/"):
            with self.session_transaction() as browser_session:
                token = browser_session.setdefault("csrf", secrets.token_urlsafe(32))
            kwargs["headers"] = {**dict(kwargs.get("headers") or {}), "X-CSRF-Token": token}
        return super().open(*args, **kwargs)


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The app, bound to this test's database, inside an app context."""
    app = create_app(base_config(database_url, tmp_path))
    app.test_client_class = PageClient
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """An HTTP client."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    """A CLI runner."""
    return app.test_cli_runner()


@pytest.fixture
def make_staff(app: Flask) -> Callable[..., Staff]:
    """Create a staff member: ``make_staff(court="luoyang", role="judge", **fields)``."""
    from hearings.courts.services import hash_password

    counter = {"n": 0}
    password_hash = hash_password(PASSWORD)

    def make(court: str = "luoyang", role: str = "judge", **fields: Any) -> Staff:
        counter["n"] += 1
        staff = Staff(
            court_id=court,
            role=role,
            username=fields.pop("username", f"{court}-{role}-t{counter['n']}"),
            password_hash=password_hash,
            name=fields.pop("name", f"{role.title()} {counter['n']}"),
            email=fields.pop("email", f"{role}{counter['n']}@{court}.example"),
            phone=fields.pop("phone", "0379-6000000"),
            **fields,
        )
        db.session.add(staff)
        db.session.commit()
        return staff

    return make


@pytest.fixture
def make_room(app: Flask) -> Callable[..., Room]:
    """Create a room: ``make_room(court="luoyang", kind="courtroom")``."""

    def make(court: str = "luoyang", kind: str = "courtroom", name: str = "第一法庭") -> Room:
        room = Room(court_id=court, kind=kind, name=name)
        db.session.add(room)
        db.session.commit()
        return room

    return make


@pytest.fixture
def auth(app: Flask) -> Callable[[Staff], dict[str, str]]:
    """Headers carrying a staff member's API token."""

    def headers(staff: Staff) -> dict[str, str]:
        token, _ = issue_api_token(staff)
        return {"Authorization": f"Bearer {token}"}

    return headers


@pytest.fixture
def court_staff(make_staff: Callable[..., Staff]) -> dict[str, Staff]:
    """A small cast for both courts: judges, clerks, mediators, liaison officers, admins."""
    cast = {}
    for court in ("luoyang", "luohe"):
        for role, count in (("judge", 2), ("clerk", 1), ("mediator", 1), ("liaison", 1)):
            for n in range(1, count + 1):
                cast[f"{court}-{role}{n}"] = make_staff(court, role)
        cast[f"{court}-admin"] = make_staff(court, "admin")
    return cast


def session_payload(kind: str, cast: dict[str, Staff], **overrides: Any) -> dict[str, Any]:
    """A valid booking of ``kind`` on Thursday 2026-09-10, 09:00–10:00 Beijing time."""
    people: dict[str, list[dict[str, Any]]] = {
        "mediation": [
            {"role": "mediator", "staff_id": cast["luoyang-mediator1"].id},
            {"role": "party", "name": "张三", "side": "applicant", "phone": "13800000001"},
            {"role": "party", "name": "李四", "side": "respondent", "court": "luohe",
             "email": "lisi@example.com"},
        ],
        "hearing": [
            {"role": "presiding_judge", "staff_id": cast["luoyang-judge1"].id},
            {"role": "clerk", "staff_id": cast["luoyang-clerk1"].id},
            {"role": "party", "name": "王五", "side": "plaintiff", "phone": "13800000002"},
        ],
        "witness": [
            {"role": "clerk", "staff_id": cast["luoyang-clerk1"].id},
            {"role": "principal", "name": "赵六", "phone": "13800000003"},
            {"role": "agent", "name": "钱律师", "email": "qian@lawfirm.example"},
        ],
        "liaison": [
            {"role": "liaison", "staff_id": cast["luoyang-liaison1"].id},
            {"role": "liaison", "staff_id": cast["luohe-liaison1"].id},
        ],
    }  # fmt: skip
    payload = {
        "kind": kind,
        "title": f"测试 {kind}",
        "case_number": "(2026)豫03民初1号",
        "host_court": "luoyang",
        "starts_at": "2026-09-10T09:00:00",
        "ends_at": "2026-09-10T10:00:00",
        "participants": people[kind],
    }
    payload.update(overrides)
    return payload


@pytest.fixture
def book(
    client: FlaskClient, court_staff: dict[str, Staff], auth: Callable[[Staff], dict[str, str]]
) -> Callable[..., Any]:
    """POST a booking: ``book(kind, as_=staff, **overrides)`` → the response."""

    def post(kind: str = "hearing", as_: Staff | None = None, **overrides: Any) -> Any:
        actor = as_ or court_staff["luoyang-admin"]
        return client.post(
            "/api/v1/sessions",
            json=session_payload(kind, court_staff, **overrides),
            headers=auth(actor),
        )

    return post


@pytest.fixture
def make_session(app: Flask, court_staff: dict[str, Staff]) -> Callable[..., dict[str, Any]]:
    """Book through the service, as the API does, and commit: ``make_session(kind, as_=staff,
    **overrides)`` → the session as the API shows it (``book``'s JSON, without the HTTP).

    The same request as ``book``'s, parsed by the API's schema and written by
    ``book_session``: its rules, audit trail and ``session_booked`` (invites, reminders) run
    as in a request. Tests of the booking API itself keep ``book``.
    """
    from hearings.scheduling.schemas import SessionIn
    from hearings.scheduling.services import book_session
    from hearings.scheduling.views import dump_session

    def make(kind: str = "hearing", as_: Staff | None = None, **overrides: Any) -> dict[str, Any]:
        actor = as_ or court_staff["luoyang-admin"]
        request = SessionIn.model_validate(session_payload(kind, court_staff, **overrides))
        session = book_session(actor, request)
        db.session.commit()
        return dump_session(session)

    return make
