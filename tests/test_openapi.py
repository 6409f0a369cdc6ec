"""The OpenAPI document is generated from the code and covers the contract's calls."""

from __future__ import annotations

import re

CONTRACT_PATHS = {
    ("/api/v1/auth/token", "post"),
    ("/api/v1/courts", "get"),
    ("/api/v1/courts/{court_id}/hours", "get"),
    ("/api/v1/directory", "get"),
    ("/api/v1/rooms", "get"),
    ("/api/v1/sessions", "post"),
    ("/api/v1/sessions", "get"),
    ("/api/v1/sessions/{session_id}", "get"),
    ("/api/v1/sessions/{session_id}", "patch"),
    ("/api/v1/sessions/{session_id}/cancel", "post"),
    ("/api/v1/sessions/{session_id}/participants", "post"),
    ("/api/v1/sessions/{session_id}/participants/{participant_id}", "delete"),
    ("/api/v1/availability", "get"),
}


def test_openapi_lists_the_contract(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json
    assert document["openapi"].startswith("3.")
    found = {(path, method) for path, ops in document["paths"].items() for method in ops}
    assert found >= CONTRACT_PATHS, CONTRACT_PATHS - found
    booking = document["paths"]["/api/v1/sessions"]["post"]
    assert {"201", "409", "422"} <= set(booking["responses"])
    schema_name = booking["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert schema_name.split("/")[-1].startswith("SessionIn")
    assert "bearer" in document["components"]["securitySchemes"]


def _operations(document):
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            yield path, method, operation


def test_every_error_is_documented_as_problem_json(client):
    document = client.get("/api/v1/openapi.json").json
    for path, method, operation in _operations(document):
        for code, response in operation["responses"].items():
            if int(code) >= 400:
                assert set(response.get("content", {})) == {"application/problem+json"}, (
                    method,
                    path,
                    code,
                )


def test_refusals_that_every_operation_of_its_kind_can_give_are_documented(client):
    document = client.get("/api/v1/openapi.json").json
    for path, method, operation in _operations(document):
        codes = set(operation["responses"])
        if method in ("post", "put", "patch"):
            assert "400" in codes, (method, path)
        if operation.get("security") != []:
            assert "401" in codes, (method, path)
            assert "WWW-Authenticate" in operation["responses"]["401"]["headers"]
        if "{" in path:
            assert "404" in codes, (method, path)


def test_path_ids_are_bounded_as_the_database_holds_them(client):
    document = client.get("/api/v1/openapi.json").json
    ids = [
        parameter["schema"]
        for _, _, operation in _operations(document)
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "path" and parameter["name"] != "court_id"
    ]
    assert ids
    for schema in ids:
        assert schema == {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}


def test_an_undeclared_method_is_405_with_allow(client):
    for method in ("TRACE", "PUT"):
        response = client.open("/api/v1/courts", method=method)
        assert response.status_code == 405
        assert response.mimetype == "application/problem+json"
        assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "HEAD"}


def test_every_api_route_is_documented_with_its_success_response(app, client):
    document = client.get("/api/v1/openapi.json").json
    routes = [
        rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.") and rule.endpoint != "api.openapi_document"
    ]
    assert len(routes) > 30
    for rule in routes:
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            operation = document["paths"][path][method.lower()]
            success = [code for code in operation["responses"] if code.startswith("2")]
            assert success, (method, path)
            assert operation["responses"][success[0]].get("content"), (method, path)


def test_bodies_that_are_not_json_are_documented_as_what_they_are(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    invite = paths["/api/v1/sessions/{session_id}/participants/{participant_id}/invite.ics"]
    assert set(invite["get"]["responses"]["200"]["content"]) == {"text/calendar"}
    segment = paths["/api/v1/recordings/{recording_id}/segments/{n}"]["get"]
    assert set(segment["responses"]["200"]["content"]) == {"video/mp4"}
    links = paths["/api/v1/sessions/{session_id}/links"]["post"]
    assert "application/json" in links["responses"]["201"]["content"]


def test_throttled_sign_in_is_documented_with_retry_after(client):
    token = client.get("/api/v1/openapi.json").json["paths"]["/api/v1/auth/token"]["post"]
    assert "Retry-After" in token["responses"]["429"]["headers"]
    assert "application/problem+json" in token["responses"]["429"]["content"]


def _schema(document, name):
    return next(v for k, v in document["components"]["schemas"].items() if k.startswith(name))


def matches(pattern: str, text: str) -> bool:
    """A JSON Schema (ECMA-262) pattern's match: its ``$`` is the very end (Python's ``$``
    also matches before a final line break)."""
    return re.search(pattern[:-1] + r"\Z" if pattern.endswith("$") else pattern, text) is not None


def test_the_schema_refuses_what_the_api_refuses(client):
    document = client.get("/api/v1/openapi.json").json
    booking = _schema(document, "SessionIn")["properties"]
    assert not re.search(booking["host_court"]["pattern"], "")
    assert re.search(booking["host_court"]["pattern"], "luoyang")
    assert booking["starts_at"]["format"] == "date-time"
    title = booking["title"]
    assert title["minLength"] == 1
    for blank in ("   ", "\t\n", "\u3000"):
        assert not re.search(title["pattern"], blank)
    assert re.search(title["pattern"], " 调解 ")
    # One line: what the door refuses as control-characters, the document refuses too.
    for text in ("调解\n", "调\r解", "调\x9a解", "调\u2028解", "调\x00解"):
        assert not matches(title["pattern"], text), repr(text)
    for field in ("case_number", "rrule", "outside_hours_reason"):
        pattern = (
            booking[field]["anyOf"][0]["pattern"]
            if "anyOf" in booking[field]
            else (booking[field]["pattern"])
        )
        assert not matches(pattern, "a\nb") and matches(pattern, "a b"), field
    person = _schema(document, "ParticipantIn")["properties"]
    email = person["email"]["anyOf"][0]["pattern"]
    assert matches(email, "lisi@example.com")
    assert not matches(email, "li\x01si@example.com")
    assert booking["room_ids"]["uniqueItems"] is True


def test_an_empty_time_in_a_query_is_refused(client, auth, court_staff):
    response = client.get("/api/v1/sessions?to=", headers=auth(court_staff["luoyang-admin"]))
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"


def test_there_is_one_document(client):
    # spectree's raw copy (errors as application/json, ids unbounded) is not served.
    assert client.get("/api/docs/openapi.json").status_code == 404
