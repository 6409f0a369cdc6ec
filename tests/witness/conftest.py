"""Fixtures for witnessing: a witness session happening now, its officer, a recording."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from hearings.rooms.bus import PeerInfo
from hearings.witness.identity import check_character
from tests.rooms.conftest import join, live_server, now_session, open_ws  # noqa: F401

#: Media tests cut segments this often, seconds.
SEGMENT_SECONDS = 4.0


def valid_id(first17: str = "41030219900307123") -> str:
    """A resident ID number with the right GB 11643 check digit."""
    return first17 + check_character(first17)


@pytest.fixture
def witness(app, now_session, client, auth, court_staff) -> dict[str, Any]:  # noqa: F811
    """A witness session starting at 09:15 (now 09:00), with helpers bound to it.

    The recorder peer is off here (API tests); media tests turn it on.
    """
    app.config["RECORDER_ENABLED"] = False
    session = now_session("witness")
    officer = court_staff["luoyang-clerk1"]
    by_role = {p["role"]: p for p in session["participants"]}

    def call(method: str, path: str, as_=None, **kwargs: Any):
        return client.open(f"/api/v1{path}", method=method, headers=auth(as_ or officer), **kwargs)

    bus = app.extensions["hearings.hub"].bus

    def enter(role: str) -> None:
        """Put the principal or agent in the room, let in, as the hub does when they join
        and are admitted (the tests of presence itself join real peers)."""
        person = by_role[role]
        bus.add(PeerInfo(peer_id=f"test-{role}", session_id=session["id"], can=[],
                         participant_id=person["id"], name=person["name"], role=role,
                         state="admitted"))  # fmt: skip

    def leave(role: str) -> None:
        bus.remove(session["id"], f"test-{role}")

    for role in ("principal", "agent"):
        enter(role)
    return {
        "session": session, "id": session["id"], "officer": officer, "call": call,
        "principal": by_role["principal"], "agent": by_role["agent"],
        "enter": enter, "leave": leave,
    }  # fmt: skip


@pytest.fixture
def media_app(app, live_server):  # noqa: F811
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
