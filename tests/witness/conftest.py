"""Fixtures for witnessing media and recordings (the witness session itself and
``valid_id`` are shared: ``tests/fixtures/witness.py``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.fixtures.witness import valid_id

#: Media tests cut segments this often, seconds.
SEGMENT_SECONDS = 4.0


@pytest.fixture
def media_app(app, live_server):
    """The app with its recorder on, joining rooms through the live server (media tests)."""
    app.config.update(
        RECORDER_ENABLED=True,
        RECORDER_SIGNALING_URL=f"ws://{live_server}",
        SEGMENT_SECONDS=SEGMENT_SECONDS,
    )
    yield app
    app.extensions["hearings.recorders"].shutdown()


@pytest.fixture
def recording(witness) -> Callable[..., dict[str, Any]]:
    """Check the principal's identity and start a recording: ``recording(powers=[...])``."""

    def start(powers: list[str] | None = None) -> dict[str, Any]:
        call = witness["call"]
        check = call("POST", f"/sessions/{witness['id']}/identity-checks", json={
            "participant_id": witness["principal"]["id"], "name": "赵六",
            "id_number": valid_id(), "method": "visual",
        })  # fmt: skip
        assert check.status_code == 201, check.json
        body = {"powers": powers} if powers else {}
        started = call("POST", f"/sessions/{witness['id']}/recordings", json=body)
        assert started.status_code == 201, started.json
        return started.json

    return start
