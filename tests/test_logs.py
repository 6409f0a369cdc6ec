"""Structured logs: a JSON line per request and per signaling event, never a token or an
ID number (whoever logged it)."""

from __future__ import annotations

import io
import json
import logging
import urllib.request
from collections.abc import Iterator

import pytest

from hearings.logs import JsonFormatter, ScrubFilter, scrub
from tests.fixtures.witness import valid_id


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """Everything logged during the test, through the production handler (JSON, scrubbed)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ScrubFilter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def test_scrub_hides_tokens_and_id_numbers():
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"
    assert scrub(f"GET /join/{token}?x=1") == "GET /join/…?x=1"
    assert scrub(f"token={token}") == "token=[token]"
    assert scrub("身份证 41030219900307123X, 电话 13800000001") == (
        "身份证 [id-number], 电话 13800000001"
    )
    assert scrub("case 2026-0001, session 42") == "case 2026-0001, session 42"


def test_a_library_logging_a_secret_is_scrubbed(log_output):
    logging.getLogger("some.library").warning("bad frame %s from %s", "eyJa1b2.eyJc3d4.e5f6",
                                              valid_id())  # fmt: skip
    line = json.loads(log_output.getvalue())
    assert line["event"] == "bad frame [token] from [id-number]"
    assert line["level"] == "warning" and line["logger"] == "some.library"


def test_requests_and_room_events_logged_safely(witness, join, live_server, log_output):
    session, tokens = witness["session"], witness["session"]["tokens"]
    with urllib.request.urlopen(f"http://{live_server}/join/{tokens['principal']}") as page:
        assert page.status == 200
    officer = join(session["id"], tokens["clerk"])
    principal = join(session["id"], tokens["principal"])
    officer.expect("waiting")
    officer.send({"type": "admit", "peer_id": principal.peer_id})
    principal.expect("admitted")
    principal.send({"type": "offer", "to": officer.peer_id, "sdp": {"type": "offer", "sdp": "v"}})
    officer.expect("offer")
    checked = witness["call"](
        "POST", f"/sessions/{session['id']}/identity-checks",
        json={"participant_id": witness["principal"]["id"], "name": "赵六",
              "id_number": valid_id(), "method": "visual"},
    )  # fmt: skip
    assert checked.status_code == 201
    principal.send({"type": "leave"})
    assert principal.close_code() == 1000
    officer.expect("peer-left")

    text = log_output.getvalue()
    for token in tokens.values():
        assert token not in text
    assert valid_id() not in text and valid_id()[:17] not in text
    lines = [json.loads(line) for line in text.splitlines()]
    requests = [line for line in lines if line["event"] == "request"]
    assert {"method": "GET", "path": "/join/…", "status": 200}.items() <= requests[0].items()
    assert any(r["path"].endswith("/identity-checks") and r["status"] == 201 for r in requests)
    room = [line for line in lines if line["event"].startswith("room.")]
    events = [(line["event"], line.get("role")) for line in room if line["event"] != "room.relay"]
    assert ("room.joined", "clerk") in events and ("room.admitted", "principal") in events
    assert ("room.left", "principal") in events
    relay = next(line for line in room if line["event"] == "room.relay")
    assert relay == relay | {"session": session["id"], "peer": principal.peer_id,
                             "to": officer.peer_id, "frame": "offer", "level": "debug"}  # fmt: skip


def test_the_logged_address_is_never_one_the_client_wrote(client, log_output):
    client.get("/api/v1/courts", headers={"X-Forwarded-For": "203.0.113.66"})
    lines = [json.loads(line) for line in log_output.getvalue().splitlines()]
    logged = [line for line in lines if line["event"] == "request"]
    assert logged and logged[-1]["remote"] == "127.0.0.1"
