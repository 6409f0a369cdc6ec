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
