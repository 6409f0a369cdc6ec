"""Input at the edges of what the databases and encoders take: ids out of range, JSON nested
too deep, unpaired surrogates and NUL, line breaks in single-line text (it ends up in mail
headers and calendar lines). Each is a clear 4xx, never a 500 or a traceback."""

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
from tests.conftest import base_config, session_payload, sign_in
from tests.forms import alerts, hearing_form

#: Past SQLite's integer (2⁶³) and past PostgreSQL's (2³¹).
OUT_OF_RANGE = (2**63, 2**31)
#: No id in a path: those, below the first id, and one written with a leading zero (404,
#: never 405 because another method's route matched the path).
NO_PATH_IDS = (*OUT_OF_RANGE, 0, "007")


def _id_rules() -> list[tuple[str, str]]:
    """(rule, method) of every route with a database id in its path."""
    app = create_app(base_config("sqlite://", Path(tempfile.mkdtemp())))
    found = []
    for rule in app.url_map.iter_rules():
        if any(isinstance(c, IdConverter) for c in rule._converters.values()):
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                found.append((rule.rule, method))
    return sorted(found)


ID_RULES = _id_rules()


def _path(rule: str, value: int | str) -> str:
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
    for value in NO_PATH_IDS:
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


@pytest.mark.parametrize(
    "text",
    ['"\\' * 300_000, '"' + 'a\\"' * 300_000, 'x"' * 400_000, "[" + "[]," * 300_000 + "[]]"],
)
def test_the_depth_count_is_linear_on_any_text(client, text):
    # Quadratic, these took minutes: the scan started again at every quote of a string
    # that never ends.
    assert not json_too_deep(text.encode())
    response = client.post("/api/v1/auth/token", data=text, content_type="application/json")
    assert response.status_code == 400


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


# --- item 7: single-line text refused at the door --------------------------------------


def text_refused(response, field: str, code: str = "control-characters") -> bool:
    """A 422 problem naming the field with the code (never echoing the text)."""
    problem = response.json
    return (
        response.status_code == 422
        and response.mimetype == "application/problem+json"
        and problem["field"] == field
        and problem["problems"][0]["code"] == code
        and "\r" not in problem["detail"]
        and "\n" not in problem["detail"]
    )


@pytest.mark.parametrize("breaker", ["\r\n", "\n", "\r", "\t", "\x1b", "\u2028", "\x85"])
def test_single_line_text_with_line_breaks_or_controls_is_422(post_raw, court_staff, breaker):
    good = session_payload("mediation", court_staff)
    people = good["participants"]
    renamed = [people[0], {**people[1], "name": f"张三{breaker}Bcc: x@example.com"}, people[2]]
    cases = {
        "title": {**good, "title": f"调解{breaker}Bcc: x@example.com"},
        "participants.1.name": {**good, "participants": renamed},
        "case_number": {**good, "case_number": f"(2026)豫03{breaker}民初1号"},
        "short_notice_reason": {**good, "short_notice_reason": f"急{breaker}需"},
        "outside_hours_reason": {**good, "outside_hours_reason": f"夜{breaker}间"},
        "host_court": {**good, "host_court": f"luo{breaker}yang"},
    }
    for field, body in cases.items():
        response = post_raw(json.dumps(body))
        assert text_refused(response, field), (field, response.json)
    assert nothing_stored()


def test_an_email_or_a_repeat_rule_with_a_line_break_is_422(post_raw, court_staff):
    good = session_payload("liaison", court_staff)
    response = post_raw(json.dumps({**good, "rrule": "FREQ=WEEKLY;COUNT=2\r\nATTENDEE:x"}))
    assert text_refused(response, "rrule")
    mediation = session_payload("mediation", court_staff)
    lisi = {**mediation["participants"][2], "email": "lisi@example.com\r\nBcc: x@y.cn"}
    people = [*mediation["participants"][:2], lisi]
    response = post_raw(json.dumps({**mediation, "participants": people}))
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == "participants.2.email"
    assert nothing_stored()


def test_edits_added_people_and_cancel_reasons_are_single_line(
    make_session, client, auth, court_staff
):
    session = make_session("mediation")
    headers = auth(court_staff["luoyang-admin"])
    base = f"/api/v1/sessions/{session['id']}"
    response = client.patch(base, json={"title": "新\n标题"}, headers=headers)
    assert text_refused(response, "title")
    response = client.post(
        f"{base}/participants", json={"role": "party", "name": "王\r\n五"}, headers=headers
    )
    assert text_refused(response, "name")
    # A line break at the end too (the document's pattern says so; spaces are trimmed).
    response = client.post(f"{base}/cancel", json={"reason": "撤诉\n"}, headers=headers)
    assert text_refused(response, "reason")
    response = client.post(f"{base}/cancel", json={"reason": " 撤诉 "}, headers=headers)
    assert response.status_code == 200
    assert response.json["cancel_reason"] == "撤诉"
    other = make_session("mediation", starts_at="2026-09-11T09:00", ends_at="2026-09-11T10:00")
    response = client.post(
        f"/api/v1/sessions/{other['id']}/cancel", json={"reason": "撤\r\n诉"}, headers=headers
    )
    assert text_refused(response, "reason")
    db.session.expire_all()
    assert db.session.get(Session, other["id"]).status == "scheduled"
    assert db.session.get(Session, session["id"]).title == session["title"]


def test_a_sign_in_name_with_nul_or_a_line_break_is_refused(client):
    for username in ("judge\n", "ju\ndge", "ju\x00dge"):
        response = client.post("/api/v1/auth/token", json={"username": username, "password": "x"})
        assert response.status_code in (401, 422), username
        assert response.mimetype == "application/problem+json"
    response = client.post("/login", data={"username": "ju\x00dge", "password": "x"})
    assert response.status_code == 422


# --- the pages' forms ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("zh", "“标题”只能填写一行文字，不能含换行符或其他控制字符。"),
        ("en", "“Title” must be a single line, without line breaks or other control characters."),
    ],
)
def test_the_booking_form_refuses_a_title_on_two_lines_as_typed(
    client, court_staff, lang, expected
):
    sign_in(client, court_staff["luoyang-judge1"], lang)
    response = client.post("/sessions/new", data=hearing_form(court_staff, title="买卖\r\n合同"))
    assert response.status_code == 422
    assert alerts(response) == [expected]
    assert 'value="买卖\r\n合同"' in response.text or 'value="买卖\n合同"' in response.text
    assert nothing_stored()


@pytest.mark.parametrize("action", ["book", "find"])
def test_the_booking_form_refuses_nul_and_ids_out_of_range(client, court_staff, action):
    sign_in(client, court_staff["luoyang-judge1"])
    form = hearing_form(
        court_staff, action=action, out_name_0="张\x00三", out_role_0="party",
        out_side_0="plaintiff", host_court="luo\x00yang",
    )  # fmt: skip
    response = client.post("/sessions/new", data=form)
    assert response.status_code == 422
    assert "“姓名”含有无法保存的控制字符（如 NUL），请删去后重试。" in alerts(response)
    assert 'value="买卖合同纠纷"' in response.text  # the rest of what was typed stays
    for value in (str(2**31), str(2**63), "٣", "abc"):
        for posted in ({"staff_id_2": value}, {"room_ids": value}):
            form = hearing_form(court_staff, action=action, **posted)
            response = client.post("/sessions/new", data=form)
            # Refused, never left out (the booking would go on without that person or room).
            assert response.status_code == 422, (value, posted)
            assert alerts(response), (value, posted)
            assert nothing_stored()


def test_reschedule_and_cancel_refuse_reasons_that_are_not_one_line(
    client, make_session, court_staff
):
    session = make_session("hearing")
    sign_in(client, court_staff["luoyang-clerk1"])
    page = f"/sessions/{session['id']}"
    for reason in ("羁押\r\n期限", "羁押\x00期限"):
        typed = {"starts_at": "2026-09-02T10:00", "duration": "60", "short_notice_reason": reason}
        response = client.post(f"{page}/reschedule", data=typed)
        assert response.status_code == 422
        [said] = alerts(response)
        assert said.startswith("“开庭不足三日的理由”")
        assert 'value="2026-09-02T10:00"' in response.text  # kept as typed
    response = client.post(f"{page}/cancel", data={"reason": "撤\r\n诉"})
    assert response.status_code == 302
    assert "“理由”只能填写一行文字" in client.get(page).text
    db.session.expire_all()
    moved = db.session.get(Session, session["id"])
    assert moved.status == "scheduled" and moved.short_notice_reason is None


# --- times and durations at datetime's own ends ------------------------------------------


def test_times_at_the_ends_of_the_calendar_are_422(client, auth, court_staff):
    headers = auth(court_staff["luoyang-admin"])
    good = session_payload("mediation", court_staff)
    for starts, ends in (
        ("0001-01-01T00:00:00", "0001-01-01T01:00:00"),
        ("9999-12-31T23:00:00+14:00", "9999-12-31T23:30:00-12:00"),
    ):
        response = client.post(
            "/api/v1/sessions", json={**good, "starts_at": starts, "ends_at": ends}, headers=headers
        )
        assert response.status_code == 422, starts
        assert response.json["field"] == "starts_at"
    for query in ("from=0001-01-01&to=0001-01-02", "from=9999-12-31T23:59:59-12:00"):
        for path in ("/api/v1/sessions", "/api/v1/availability?duration_minutes=60&courts=luoyang"):
            joiner = "&" if "?" in path else "?"
            response = client.get(f"{path}{joiner}{query}", headers=headers)
            assert response.status_code == 422, (path, query)
            assert response.mimetype == "application/problem+json"
    assert nothing_stored()


def test_pages_at_the_ends_of_the_calendar_are_no_error(client, make_session, court_staff):
    session = make_session("hearing")
    sign_in(client, court_staff["luoyang-clerk1"])
    for week in ("0001-01-01", "9999-12-31"):
        assert client.get(f"/?week={week}").status_code == 200
    huge = "9" * 18
    form = hearing_form(court_staff, action="find", duration=huge, search_from="9999-12-31")
    found = client.post("/sessions/new", data=form)
    assert found.status_code == 200
    for starts, duration in (("2026-09-10T09:00", huge), ("9999-12-31T23:59", "60")):
        form = hearing_form(court_staff, starts_at=starts, duration=duration)
        response = client.post("/sessions/new", data=form)
        assert response.status_code in (302, 409, 422), (starts, duration)
        moved = client.post(
            f"/sessions/{session['id']}/reschedule",
            data={"starts_at": starts, "duration": duration},
        )
        assert moved.status_code in (302, 409, 422), (starts, duration)
