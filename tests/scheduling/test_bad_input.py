"""Bad input gets a clear 400/422 problem and changes nothing."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from hearings.extensions import db
from hearings.scheduling.models import AuditEvent, Participant, Reservation, Session
from tests.conftest import session_payload


def nothing_stored() -> bool:
    return all(
        db.session.scalar(sa.select(sa.func.count()).select_from(model)) == 0
        for model in (Session, Participant, Reservation, AuditEvent)
    )


def with_(base: dict, **changes) -> str:
    return json.dumps({**base, **changes})


@pytest.fixture
def post(client, auth, court_staff):
    headers = {**auth(court_staff["luoyang-admin"]), "Content-Type": "application/json"}

    def send(body: str | bytes):
        return client.post("/api/v1/sessions", data=body, headers=headers)

    return send


@pytest.fixture
def good(court_staff) -> dict:
    return session_payload("mediation", court_staff)


def test_malformed_bodies_are_400(post):
    for body in ('{"kind": "hearing",', "[1, 2]", '"text"', b"\xff\xfe"):
        response = post(body)
        assert response.status_code == 400, body
        assert response.mimetype == "application/problem+json"
        assert set(response.json) >= {"type", "title", "status", "detail"}
    assert nothing_stored()


def test_rule_breaking_bodies_are_422(post, good, court_staff):
    cases = {
        "unknown kind": with_(good, kind="trial"),
        "end before start": with_(good, ends_at="2026-09-10T08:00:00"),
        "unknown staff": with_(good, participants=[{"role": "mediator", "staff_id": 999999}]),
        "unknown room": with_(good, room_ids=[424242]),
        "unknown court": with_(good, host_court="kaifeng"),
        "long title": with_(good, title="长" * 10_000),
        "long name": with_(good, participants=[{"role": "party", "name": "x" * 10_000}]),
        "string id": with_(good, participants=[{"role": "mediator", "staff_id": "1"}]),
        "number title": with_(good, title=12),
        "list time": with_(good, starts_at=["2026"]),
        "bad time": with_(good, starts_at="next tuesday"),
        "unknown field": with_(good, colour="red"),
        "no participants": with_(good, participants=[]),
        "bad email": with_(
            good,
            participants=[*good["participants"], {"role": "party", "name": "a", "email": "no-at"}],
        ),
        # Mail can't go to a non-ASCII address (no SMTPUTF8): refused here, never stored
        # to fail when the invite is written.
        "non-ascii email": with_(
            good,
            participants=[
                *good["participants"],
                {"role": "party", "name": "a", "email": "\U0001f3fb@x.cn"},
            ],
        ),
        "missing fields": "{}",
        "null kind": with_(good, kind=None),
        "huge id": with_(good, room_ids=[2**63]),
    }
    for name, body in cases.items():
        response = post(body)
        assert response.status_code in (400, 422), name
        assert response.mimetype == "application/problem+json", name
        assert response.json["detail"], name
    assert nothing_stored()


def test_bad_query_parameters(client, auth, court_staff):
    headers = auth(court_staff["luoyang-admin"])
    for query in (
        "duration_minutes=abc",
        "duration_minutes=5&courts=luoyang",
        "duration_minutes=60&staff_ids=a,b",
        "duration_minutes=60",
        "duration_minutes=60&courts=luoyang&from=yesterday",
        "duration_minutes=60&courts=luoyang&from=2026-09-02&to=2027-09-02",
        "duration_minutes=60&courts=kaifeng",
        "duration_minutes=60&staff_ids=999",
    ):
        response = client.get(f"/api/v1/availability?{query}", headers=headers)
        assert response.status_code in (400, 422), query
        assert response.mimetype == "application/problem+json", query


def test_unknown_paths_and_methods_are_problems(client):
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.mimetype == "application/problem+json"
    wrong = client.delete("/api/v1/courts")
    assert wrong.status_code == 405
    assert wrong.mimetype == "application/problem+json"
