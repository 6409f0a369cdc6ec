"""The OpenAPI document is generated from the code and covers the contract's calls."""

from __future__ import annotations

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
