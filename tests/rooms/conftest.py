"""Room test fixtures: a session's status read through the API, peers on several servers.

The live server, ``now_session`` and the peers are shared with other packages' tests:
``tests/fixtures/rooms.py``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import pytest
from websockets.sync.client import connect

from hearings.extensions import db
from tests.fixtures.rooms import Peer


@pytest.fixture
def status_of(client, auth, court_staff) -> Callable[[int], str]:
    """A session's status, read through the API (a test-thread read would hold SQLite's lock)."""

    def read(session_id: int) -> str:
        db.session.expire_all()  # the server's threads changed it, not this session
        response = client.get(
            f"/api/v1/sessions/{session_id}", headers=auth(court_staff["luoyang-admin"])
        )
        return response.json["status"]

    return read


@pytest.fixture
def join_at() -> Iterator[Callable[..., Peer]]:
    """Join a room on a given server (``host:port``): for several app processes."""
    with contextlib.ExitStack() as sockets:

        def joiner(server: str, session_id: int, token: str) -> Peer:
            ws = sockets.enter_context(connect(f"ws://{server}/ws/rooms/{session_id}"))
            return Peer.joined(ws, token)

        yield joiner
