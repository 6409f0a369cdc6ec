"""A live server for WebSocket tests, a session happening now, and signaling peers."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect
from werkzeug.serving import make_server

from hearings.extensions import db
from hearings.serving import RedactingRequestHandler


@pytest.fixture
def live_server(app) -> Iterator[str]:
    """The app on a real threaded HTTP server on 127.0.0.1 (WebSockets need one)."""
    server = make_server(
        "127.0.0.1", 0, app, threaded=True, request_handler=RedactingRequestHandler
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    app.extensions["hearings.hub"].stop()


@pytest.fixture
def now_session(make_session, client, auth, court_staff) -> Callable[..., dict[str, Any]]:
    """Book a session starting 15 minutes from the frozen now; return it with join links.

    ``links`` maps each participant's role (and ``side`` for parties) to their token.
    """

    def make(kind: str = "mediation", **overrides: Any) -> dict[str, Any]:
        times = {"starts_at": "2026-09-01T09:15", "ends_at": "2026-09-01T10:15"}
        session = make_session(kind, short_notice_reason="急", **{**times, **overrides})
        links = client.post(
            f"/api/v1/sessions/{session['id']}/links", headers=auth(court_staff["luoyang-admin"])
        )
        assert links.status_code == 201, links.json
        by_participant = {
            item["participant_id"]: item["url"].rsplit("/", 1)[1] for item in links.json["items"]
        }
        session["tokens"] = {
            p.get("side") or p["role"]: by_participant[p["id"]] for p in session["participants"]
        }
        db.session.commit()
        return session

    return make


class Peer:
    """A signaling client speaking the contract's protocol over a real WebSocket."""

    def __init__(self, ws: ClientConnection, welcome: dict[str, Any]) -> None:
        self.ws = ws
        self.welcome = welcome
        self.peer_id = welcome.get("peer_id")

    @classmethod
    def joined(cls, ws: ClientConnection, token: str) -> Peer:
        """Send ``join`` on an open socket and wait for the welcome."""
        ws.send(json.dumps({"type": "join", "token": token}))
        peer = cls(ws, {})
        peer.welcome = peer.expect("welcome")
        peer.peer_id = peer.welcome["peer_id"]
        return peer

    def send(self, frame: dict[str, Any] | str | bytes) -> None:
        self.ws.send(frame if isinstance(frame, str | bytes) else json.dumps(frame))

    def recv(self, timeout: float = 5) -> dict[str, Any]:
        return json.loads(self.ws.recv(timeout=timeout))

    def expect(self, type_: str, timeout: float = 5) -> dict[str, Any]:
        """The next frame of that type (pongs and others on the way are skipped)."""
        while True:
            frame = self.recv(timeout)
            if frame["type"] == type_:
                return frame

    def close_code(self, timeout: float = 5) -> int:
        """Wait until the server closes the socket; its close code."""
        from websockets.exceptions import ConnectionClosed

        try:
            while True:
                self.ws.recv(timeout=timeout)
        except ConnectionClosed as closed:
            assert closed.rcvd is not None, "closed without a close frame"
            return closed.rcvd.code


@pytest.fixture
def open_ws(live_server) -> Iterator[Callable[..., ClientConnection]]:
    """Open raw WebSockets to a room; all closed at the end."""
    with contextlib.ExitStack() as sockets:

        def opener(session_id: int, **kwargs: Any) -> ClientConnection:
            url = f"ws://{live_server}/ws/rooms/{session_id}"
            return sockets.enter_context(connect(url, open_timeout=5, **kwargs))

        yield opener


@pytest.fixture
def join(open_ws) -> Callable[..., Peer]:
    """Connect and send ``join`` with a token; returns the peer with its welcome."""

    def joiner(session_id: int, token: str) -> Peer:
        return Peer.joined(open_ws(session_id), token)

    return joiner


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
