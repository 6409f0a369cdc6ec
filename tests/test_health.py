"""Liveness and readiness."""

from __future__ import annotations

import os

import pytest


def test_healthz(client):
    assert client.get("/healthz").json == {"status": "ok"}


def test_favicon_is_no_404(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 204
    assert "max-age" in response.headers["Cache-Control"]


def test_ready_without_redis(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["checks"] == {"database": "ok", "redis": "not configured"}


def test_not_ready_when_redis_does_not_answer(app, client):
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.json["checks"]["database"] == "ok"
    assert response.json["checks"]["redis"].startswith("failed")


@pytest.mark.skipif(
    not os.environ.get("HEARINGS_TEST_REDIS_URL"), reason="HEARINGS_TEST_REDIS_URL is not set"
)
def test_ready_with_redis(app, client):
    app.config["REDIS_URL"] = os.environ["HEARINGS_TEST_REDIS_URL"]
    assert client.get("/readyz").json["checks"] == {"database": "ok", "redis": "ok"}
