"""The command line: demo seeding, migrations, and `hearings serve --demo` for real."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa

from hearings.cli import main
from hearings.courts.models import Room, Staff
from hearings.extensions import db
from hearings.scheduling.models import Session


def test_demo_seeds_both_courts(runner):
    result = runner.invoke(main, ["demo"])
    assert result.exit_code == 0, result.output
    assert "seeded" in result.output
    for court in ("luoyang", "luohe"):
        roles = db.session.scalars(sa.select(Staff.role).where(Staff.court_id == court)).all()
        assert roles.count("judge") >= 3 and roles.count("clerk") >= 2
        assert {"mediator", "liaison", "admin"} <= set(roles)
        kinds = db.session.scalars(sa.select(Room.kind).where(Room.court_id == court)).all()
        assert sorted(kinds) == ["courtroom", "courtroom", "mediation_room", "service_window"]
    assert db.session.scalar(sa.select(Staff).where(Staff.username == "luoyang-judge1"))
    kinds = set(db.session.scalars(sa.select(Session.kind)))
    assert kinds == {"mediation", "hearing", "witness", "liaison"}
    db.session.commit()  # end this test's transaction: SQLite has one writer at a time
    again = runner.invoke(main, ["demo"])
    assert "nothing seeded" in again.output


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_serve_demo_runs_the_service(tmp_path: Path):
    """The README's first command: a fresh instance folder, migrations, demo, HTTP."""
    port = free_port()
    env = {
        **os.environ,
        "HEARINGS_INSTANCE_PATH": str(tmp_path),
        "HEARINGS_DEMO_PASSWORD": "demo-password",
    }
    env.pop("HEARINGS_DATABASE_URL", None)
    env.pop("HEARINGS_SITE_URL", None)
    hearings = Path(sys.executable).with_name("hearings")
    process = subprocess.Popen(
        [str(hearings), "serve", "--demo", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            lines.append(line)
            if "Running on" in line or process.poll() is not None:
                break
        output = "".join(lines)
        assert "luoyang-judge1" in output and "demo-password" in output, output
        assert re.search(r"/login", output)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/courts", timeout=10) as r:
            assert b"luoyang" in r.read()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/auth/token",
            data=b'{"username": "luohe-clerk1", "password": "demo-password"}',
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as r:
            token = json.loads(r.read())["access_token"]
        assert (tmp_path / "hearings.sqlite3").exists()
        # Join links name the port served (no HEARINGS_SITE_URL given), not a default one.
        auth = {"Authorization": f"Bearer {token}"}
        listed = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/sessions?court=luohe&status=scheduled", headers=auth
        )
        with urllib.request.urlopen(listed, timeout=10) as r:
            session = json.loads(r.read())["items"][0]
        issue = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/sessions/{session['id']}/links",
            data=b"{}",
            headers={**auth, "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(issue, timeout=10) as r:
            links = json.loads(r.read())["items"]
        assert links and all(
            link["url"].startswith(f"http://127.0.0.1:{port}/join/") for link in links
        ), links
    finally:
        process.terminate()
        code = process.wait(timeout=10)
        process.stdout.close()
    assert code == 0  # SIGTERM shuts down cleanly: rooms told to reconnect, scheduler stopped


def test_court_calendar_commands(runner):
    from datetime import date, time

    from hearings.courts.calendar import load_calendars

    hours = runner.invoke(
        main,
        ["court", "hours", "luohe", "winter", "--from", "10-08",
         "--morning", "09:00-12:00", "--afternoon", "14:00-17:00"],
    )  # fmt: skip
    assert hours.exit_code == 0, hours.output
    closed = runner.invoke(main, ["court", "close", "luohe", "2026-12-02", "院庆"])
    assert closed.exit_code == 0, closed.output
    calendar = load_calendars(["luohe"])["luohe"]
    assert calendar.timetable(date(2026, 10, 8)).periods == (
        (time(9), time(12)),
        (time(14), time(17)),
    )
    assert calendar.timetable(date(2026, 10, 7)).season == "summer"
    assert "院庆" in calendar.closed_reason(date(2026, 12, 2))
    db.session.commit()
    reopened = runner.invoke(main, ["court", "reopen", "luohe", "2026-12-02"])
    assert "reopened" in reopened.output
    assert load_calendars(["luohe"])["luohe"].closed_reason(date(2026, 12, 2)) is None
    bad = runner.invoke(
        main,
        ["court", "hours", "luohe", "winter", "--from", "02-30",
         "--morning", "09:00-12:00", "--afternoon", "11:00-17:00"],
    )  # fmt: skip
    assert bad.exit_code == 1
    assert "Error: 02-30 is not a day of the year" in bad.output
    unknown = runner.invoke(main, ["court", "close", "kaifeng", "2026-12-02", "x"])
    assert "There is no court 'kaifeng'" in unknown.output
