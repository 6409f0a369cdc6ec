"""Sign-in throttling (contract: 10 wrong passwords for one username within 15 minutes, then
429 until the window passes), the limit per address, equal timing for unknown usernames, and
the audit trail of sign-ins."""

from __future__ import annotations

import html
import os
import re
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from hearings import create_app
from hearings.courts.models import Staff
from hearings.courts.services import dummy_password_hash
from hearings.extensions import db
from hearings.scheduling.models import AuditEvent
from tests.conftest import PASSWORD, PageClient, base_config

REDIS_URL = os.environ.get("HEARINGS_TEST_REDIS_URL")
TOKEN = "/api/v1/auth/token"


@pytest.fixture
def make_app(database_url: str, tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """Another app on this test's database: ``make_app(SETTING=value, ...)``."""
    made: list[Flask] = []

    def make(**settings: Any) -> Flask:
        app = create_app({**base_config(database_url, tmp_path), **settings})
        app.test_client_class = PageClient
        made.append(app)
        return app

    yield make
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def wrong(client, username: str, **kw: Any):
    """One API sign-in with a wrong password."""
    return client.post(TOKEN, json={"username": username, "password": "not-it"}, **kw)


def right(client, username: str, **kw: Any):
    """One API sign-in with the right password."""
    return client.post(TOKEN, json={"username": username, "password": PASSWORD}, **kw)


def alerts(page) -> list[str]:
    """The refusals a page shows."""
    return [html.unescape(t) for t in re.findall(r'role="alert">([^<]*)<', page.text)]


def test_the_eleventh_wrong_password_is_429_and_then_the_right_one_is_refused_too(
    client, make_staff
):
    judge = make_staff(username="luoyang-judge1")
    for _ in range(10):
        assert wrong(client, "luoyang-judge1").status_code == 401
    refused = wrong(client, "luoyang-judge1")
    assert refused.status_code == 429
    assert refused.mimetype == "application/problem+json"
    assert refused.json["type"].endswith("/sign-in-throttled")
    assert refused.json["code"] == "sign-in-throttled"
    wait = int(refused.headers["Retry-After"])
    assert 0 < wait <= 15 * 60 and refused.json["retry_after"] == wait
    # Guessing can't go on: the right password is refused as well, as is the same username
    # spelled with other case and spaces.
    assert right(client, judge.username).status_code == 429
    assert right(client, " Luoyang-Judge1 ").status_code == 429
    # Another username is not affected.
    other = make_staff(username="luoyang-clerk1")
    assert right(client, other.username).status_code == 200


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("zh", "登录失败次数过多，为保护账号安全，暂停登录。请15分钟后再试。"),
        ("en", "Too many failed sign-ins: signing in is paused to protect the account. "
               "Please try again in 15 minutes."),
    ],
)  # fmt: skip
def test_the_login_page_says_how_long_to_wait(client, make_staff, lang, expected):
    judge = make_staff(username="luohe-judge7")
    client.get(f"/lang/{lang}")
    for _ in range(10):
        page = client.post("/login", data={"username": judge.username, "password": "nope"})
        assert page.status_code == 401
    page = client.post("/login", data={"username": judge.username, "password": PASSWORD})
    assert page.status_code == 429
    assert 0 < int(page.headers["Retry-After"]) <= 15 * 60
    assert alerts(page) == [expected]
    # The form comes back empty: the typed username is not echoed into the page.
    assert judge.username not in page.text


def test_a_refused_sign_in_computes_no_hash(client, make_staff, monkeypatch):
    from hearings.courts import services

    judge = make_staff()
    for _ in range(10):
        wrong(client, judge.username)
    hashed: list[str] = []
    real = services.check_password_hash
    monkeypatch.setattr(
        services, "check_password_hash", lambda h, p: hashed.append(p) or real(h, p)
    )
    assert right(client, judge.username).status_code == 429
    assert hashed == []


@pytest.mark.parametrize(
    ("lang", "minutes", "expected"),
    [
        ("zh", 1, "登录失败次数过多，为保护账号安全，暂停登录。请一分钟后再试。"),
        ("en", 1, "Too many failed sign-ins: signing in is paused to protect the account. "
                  "Please try again in a minute."),
        ("en", 7, "Too many failed sign-ins: signing in is paused to protect the account. "
                  "Please try again in 7 minutes."),
    ],
)  # fmt: skip
def test_the_wait_is_said_in_minutes(app, lang, minutes, expected):
    from hearings.courts.throttle import SignInThrottled

    with app.test_request_context(headers={"Cookie": f"lang={lang}"}):
        assert SignInThrottled(retry_after=minutes * 60 - 5).words() == [expected]


def test_sign_in_works_again_once_the_window_has_passed(make_app):
    app = make_app(LOGIN_FAILURE_WINDOW=1)
    with app.app_context():
        add_staff("luoyang-judge2")
    client = app.test_client()
    for _ in range(10):
        assert wrong(client, "luoyang-judge2").status_code == 401
    assert right(client, "luoyang-judge2").status_code == 429
    # Each try while refused is cheap (no hash) and not counted: wait for the window to pass.
    deadline = time.monotonic() + 5
    while (answer := right(client, "luoyang-judge2")).status_code == 429:
        assert time.monotonic() < deadline, "still refused 5 s after a 1 s window"
        time.sleep(0.1)
    assert answer.status_code == 200


def test_successful_sign_ins_are_not_counted(client, make_staff):
    judge = make_staff()
    for _ in range(9):
        assert wrong(client, judge.username).status_code == 401
    for _ in range(3):
        assert right(client, judge.username).status_code == 200
    assert wrong(client, judge.username).status_code == 401  # the tenth failure
    assert right(client, judge.username).status_code == 429


def test_the_limit_per_address_spans_usernames(client, make_staff):
    judge = make_staff()
    # Fifty failures from one address, each for another (unknown) username ...
    for n in range(50):
        assert wrong(client, f"guess-{n}").status_code == 401
    # ... and that address is refused, even for a real user with the right password,
    assert right(client, judge.username).status_code == 429
    # while another address is not.
    elsewhere = {"environ_base": {"REMOTE_ADDR": "198.51.100.20"}}
    assert right(client, judge.username, **elsewhere).status_code == 200


def test_x_forwarded_for_is_believed_only_from_trusted_proxies(make_app):
    direct = make_app(LOGIN_FAILURES_PER_ADDRESS=3).test_client()
    for n in range(3):
        spoofed = {"X-Forwarded-For": f"203.0.113.{n}"}
        assert wrong(direct, f"guess-{n}", headers=spoofed).status_code == 401
    # The header changed each time, the address did not: it is full.
    assert wrong(direct, "guess-9", headers={"X-Forwarded-For": "203.0.113.99"}).status_code == 429

    proxied = make_app(LOGIN_FAILURES_PER_ADDRESS=3, TRUSTED_PROXIES=1).test_client()
    # Behind one proxy, the address it appended counts (not what the client wrote before it).
    for n in range(3):
        forwarded = {"X-Forwarded-For": f"10.9.9.{n}, 203.0.113.7"}
        assert wrong(proxied, f"guess-{n}", headers=forwarded).status_code == 401
    assert wrong(proxied, "x", headers={"X-Forwarded-For": "203.0.113.7"}).status_code == 429
    assert wrong(proxied, "x", headers={"X-Forwarded-For": "203.0.113.8"}).status_code == 401


@pytest.mark.skipif(not REDIS_URL, reason="HEARINGS_TEST_REDIS_URL is not set: shared counts")
def test_two_instances_share_the_counts_through_redis(make_app):
    # A prefix of this test's own: other runs on the same Redis keep their counts apart.
    settings = {"REDIS_URL": REDIS_URL, "ROOM_BUS_PREFIX": f"test-{secrets.token_hex(4)}"}
    first, second = make_app(**settings), make_app(**settings)
    with first.app_context():
        add_staff("luohe-clerk3")
    one, two = first.test_client(), second.test_client()
    for _ in range(5):
        assert wrong(one, "luohe-clerk3").status_code == 401
        assert wrong(two, "luohe-clerk3").status_code == 401
    assert right(one, "luohe-clerk3").status_code == 429
    assert right(two, "luohe-clerk3").status_code == 429


def test_sign_in_goes_on_when_redis_is_unreachable(make_app, caplog):
    # Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    app = make_app(REDIS_URL="redis://127.0.0.1:9/0")
    with app.app_context():
        add_staff("luoyang-judge3")
    client = app.test_client()
    assert right(client, "luoyang-judge3").status_code == 200
    assert "Redis unreachable" in caplog.text
    # Failures are still counted, in this process's memory.
    for _ in range(10):
        assert wrong(client, "luoyang-judge3").status_code == 401
    assert right(client, "luoyang-judge3").status_code == 429


def test_a_redis_socket_url_is_understood(make_app):
    # The bus takes redis-py's URLs; the throttle's storage spells a socket differently.
    app = make_app(REDIS_URL="unix:///nonexistent/redis.sock")
    with app.app_context():
        add_staff("luoyang-judge6")
    assert right(app.test_client(), "luoyang-judge6").status_code == 200


def test_the_dummy_hash_uses_the_configured_method(app, make_app):
    assert dummy_password_hash().startswith("pbkdf2:sha256:1000$")
    with make_app(PASSWORD_HASH_METHOD="scrypt:4096:8:1").app_context():
        assert dummy_password_hash().startswith("scrypt:4096:8:1$")


def test_an_unknown_username_costs_what_a_wrong_password_costs(make_app):
    # A real (if cheaper) scrypt, as in production: a hash costs a few milliseconds.
    app = make_app(PASSWORD_HASH_METHOD="scrypt:8192:8:1")
    with app.app_context():
        add_staff("luoyang-judge4")
    client = app.test_client()

    def seconds(username: str) -> float:
        started = time.perf_counter()
        assert wrong(client, username).status_code == 401
        return time.perf_counter() - started

    known = sorted(seconds("luoyang-judge4") for _ in range(5))[2]
    unknown = sorted(seconds(f"nobody-{n}") for n in range(5))[2]
    assert 1 / 3 < unknown / known < 3, (unknown, known)


def test_sign_ins_go_to_the_audit_trail(client, make_staff, app):
    judge = make_staff(username="luohe-judge5")
    assert right(client, judge.username).status_code == 200
    assert wrong(client, judge.username).status_code == 401
    assert wrong(client, "nobody").status_code == 401
    page = client.post("/login", data={"username": judge.username, "password": PASSWORD})
    assert page.status_code == 302
    for _ in range(9):
        wrong(client, judge.username)
    for _ in range(20):  # a flood of refused attempts: the first of the minute is audited
        assert right(client, judge.username).status_code == 429

    events = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).all()
    trail = [
        (e.action, e.actor_id, e.detail.get("username"), e.detail.get("reason")) for e in events
    ]
    assert trail[:4] == [
        ("sign_in.succeeded", judge.id, "luohe-judge5", None),
        ("sign_in.failed", judge.id, "luohe-judge5", "wrong-password"),
        ("sign_in.failed", None, "nobody", "unknown-username"),
        ("sign_in.succeeded", judge.id, "luohe-judge5", None),
    ]
    assert [e.action for e in events[4:]] == ["sign_in.failed"] * 9 + ["sign_in.throttled"]
    throttled = events[-1]
    assert throttled.actor_id is None
    assert throttled.detail["limit"] == "username"
    assert throttled.detail["address"] == "127.0.0.1"
    assert 0 < throttled.detail["retry_after"] <= 15 * 60
    assert all(e.detail["address"] == "127.0.0.1" for e in events)


def add_staff(username: str) -> Staff:
    """A judge of Luoyang with the test password, hashed with the app's method."""
    from hearings.courts.services import hash_password

    staff = Staff(
        court_id="luoyang", role="judge", username=username, password_hash=hash_password(PASSWORD),
        name="法官", email=f"{username}@luoyang.example", phone="0379-6000000",
    )  # fmt: skip
    db.session.add(staff)
    db.session.commit()
    return staff
