"""Input at the edges of what the databases and encoders take: ids out of range, JSON nested
too deep, unpaired surrogates and NUL. Each is a clear 4xx, never a 500 or a traceback."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from werkzeug.routing import IntegerConverter

from hearings import create_app
from hearings.extensions import db
from hearings.inputs import JSON_MAX_DEPTH, IdConverter, json_too_deep
from hearings.scheduling.models import Participant, Session
from tests.conftest import base_config, session_payload

#: Past SQLite's integer (2⁶³) and past PostgreSQL's (2³¹).
OUT_OF_RANGE = (2**63, 2**31)


def _id_rules() -> list[tuple[str, str]]:
    """(rule, method) of every route with a database id in its path."""
    app = create_app(base_config("sqlite://", Path(tempfile.mkdtemp())))
    found = []
    for rule in app.url_map.iter_rules():
        if any(isinstance(c, IdConverter) for c in rule._converters.values()):
            methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
            found.append((rule.rule, methods[0]))
    return sorted(found)


ID_RULES = _id_rules()


def _path(rule: str, value: int) -> str:
    """The rule with ``value`` for each id and a plain word for any other part."""
    path = rule
    while "<" in path:
        start, end = path.index("<"), path.index(">")
        part = path[start + 1 : end]
        path = path[:start] + (str(value) if part.startswith("id:") else "x") + path[end + 1 :]
    return path


def test_every_id_in_a_path_is_a_bounded_id(app):
    plain = [
        rule.rule
        for rule in app.url_map.iter_rules()
        if any(type(c) is IntegerConverter for c in rule._converters.values())
    ]
    assert plain == []
    assert len(ID_RULES) >= 40


@pytest.mark.parametrize(("rule", "method"), ID_RULES)
def test_an_id_out_of_range_is_not_found(client, rule, method):
    for value in OUT_OF_RANGE:
        response = client.open(
            _path(rule, value), method=method, json={} if method != "GET" else None
        )
        assert response.status_code == 404, (rule, value, response.data[:200])
        if rule.startswith("/api/"):
            assert response.mimetype == "application/problem+json"


def test_ids_out_of_range_in_bodies_and_queries_are_422(client, auth, court_staff):
    headers = auth(court_staff["luoyang-admin"])
    good = session_payload("hearing", court_staff)
    for value in (*OUT_OF_RANGE, 0):
        people = [*good["participants"], {"role": "judge", "staff_id": value}]
        for body in ({**good, "room_ids": [value]}, {**good, "participants": people}):
            response = client.post("/api/v1/sessions", json=body, headers=headers)
            assert response.status_code == 422, body
        for query in (f"staff_id={value}",):
            response = client.get(f"/api/v1/sessions?{query}", headers=headers)
            assert response.status_code == 422, query
        for query in (f"staff_ids={value}", f"room_ids=1,{value}"):
            response = client.get(
                f"/api/v1/availability?duration_minutes=60&courts=luoyang&{query}",
                headers=headers,
            )
            assert response.status_code == 422, query
            assert response.mimetype == "application/problem+json"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Session)) == 0


def nested(depth: int, kind: str) -> str:
    if kind == "array":
        return "[" * depth + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


@pytest.mark.parametrize("kind", ["array", "object"])
@pytest.mark.parametrize("depth", [JSON_MAX_DEPTH + 1, 1_000, 20_000])
def test_json_nested_too_deep_is_400_before_parsing(client, kind, depth):
    response = client.post(
        "/api/v1/auth/token", data=nested(depth, kind), content_type="application/json"
    )
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert response.json["code"] == "json-too-deep"
    assert response.json["max_depth"] == JSON_MAX_DEPTH


def test_json_up_to_the_depth_bound_is_read_as_usual(client):
    inner = nested(JSON_MAX_DEPTH - 1, "array")
    response = client.post(
        "/api/v1/auth/token",
        data=f'{{"username": {inner}, "password": "x"}}',
        content_type="application/json",
    )
    assert response.status_code == 422  # the username is no string: the schema says so
    # Brackets inside strings are text, not nesting.
    response = client.post(
        "/api/v1/auth/token",
        json={"username": "[{" * 1000, "password": "]}" * 50},
    )
    assert response.status_code in (401, 422)
    assert not json_too_deep('{"a": "[[[[\\"[[[["}')
    assert json_too_deep("[" * 65)


def test_a_json_body_too_large_is_413(client):
    body = json.dumps({"username": "a" * (1024 * 1024), "password": "x"})
    response = client.post("/api/v1/auth/token", data=body, content_type="application/json")
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"


@pytest.fixture
def post_raw(client, auth, court_staff):
    headers = {**auth(court_staff["luoyang-admin"]), "Content-Type": "application/json"}

    def send(body: bytes | str, path: str = "/api/v1/sessions"):
        return client.post(path, data=body, headers=headers)

    return send


def nothing_stored() -> bool:
    return all(
        db.session.scalar(sa.select(sa.func.count()).select_from(model)) == 0
        for model in (Session, Participant)
    )


@pytest.mark.parametrize(
    "body",
    [
        b'{"title":"\\ud800"}',
        b'{"title":"\\udfff tail"}',
        b'{"title":"\xed\xa0\x80"}',  # the surrogate itself, UTF-8-encoded (not valid UTF-8)
        b'{"kind":"hearing","\\ud800":1}',
    ],
)
def test_an_unpaired_surrogate_is_422_without_echoing_it(post_raw, body):
    response = post_raw(body)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    problem = json.loads(response.get_data(as_text=True))
    assert problem["problems"][0]["code"] == "unpaired-surrogate"
    assert problem["field"] in ("title", "?")
    assert "\\ud" not in response.get_data(as_text=True).lower()
    assert nothing_stored()


def test_a_nul_in_a_title_or_a_name_is_422_naming_the_field(post_raw, court_staff):
    good = session_payload("mediation", court_staff)
    people = [{**good["participants"][0]}, {**good["participants"][1], "name": "张\x00三"}]
    cases = {
        "title": {**good, "title": "调解\x00"},
        "participants.1.name": {**good, "participants": people},
        "case_number": {**good, "case_number": "\x00"},
    }
    for field, body in cases.items():
        response = post_raw(json.dumps(body))
        assert response.status_code == 422, field
        assert response.mimetype == "application/problem+json"
        assert response.json["field"] == field
        assert response.json["problems"][0]["code"] == "control-characters"
    assert nothing_stored()


def test_a_nul_in_a_query_or_a_path_is_refused(client, auth, court_staff):
    headers = auth(court_staff["luoyang-admin"])
    response = client.get("/api/v1/directory?q=%00")
    assert response.status_code == 422
    assert response.json["field"] == "q"
    response = client.get("/api/v1/sessions?court=luo%00yang", headers=headers)
    assert response.status_code == 422
    response = client.get("/api/v1/courts/%00/hours")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    page = client.get("/directory?q=%00", headers={"Accept": "text/html"})
    assert page.status_code == 422
    assert page.mimetype == "text/html"
