"""Rooms through a restart and a Redis outage: peers told to reconnect (1012) on shutdown;
signaling waits out Redis being away and the rooms work again when it is back."""

from __future__ import annotations

import json
import socket
import time
import uuid

import pytest
import redis
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, Request, TextMessage

from hearings.rooms.hub import Hub
from hearings.rooms.redis_bus import RedisBus
from hearings.rooms.services import record_attendance
from tests.fixtures.rooms import Peer
from tests.servers import redis_server, wait_until


def test_shutdown_tells_every_peer_to_reconnect(app, now_session, join, open_ws, client, auth,
                                                court_staff):  # fmt: skip
    s = now_session("mediation")
    mediator = join(s["id"], s["tokens"]["mediator"])
    applicant = join(s["id"], s["tokens"]["applicant"])
    mediator.expect("waiting")
    mediator.send({"type": "admit", "peer_id": applicant.peer_id})
    applicant.expect("admitted")

    assert app.extensions["hearings.hub"].shutdown(wait=5) == 2
    assert mediator.close_code() == 1012 and applicant.close_code() == 1012
    # Both were recorded as dropped (they come back), not as having left.
    events = client.get(f"/api/v1/sessions/{s['id']}/attendance",
                        headers=auth(court_staff["luoyang-admin"])).json["items"]  # fmt: skip
    assert sorted(e["role"] for e in events if e["event"] == "dropped") == ["mediator", "party"]
    # Whoever still reaches the stopping process is sent on as well.
    late = open_ws(s["id"])
    late.send(json.dumps({"type": "join", "token": s["tokens"]["applicant"]}))
    assert Peer(late, {}).close_code() == 1012


def silent_peer(server: str, session_id: int, token: str) -> socket.socket:
    """A client that joins and then never reads again: it answers no ping."""
    host, port = server.split(":")
    sock = socket.create_connection((host, int(port)), timeout=5)
    ws = WSConnection(ConnectionType.CLIENT)
    sock.sendall(ws.send(Request(host=server, target=f"/ws/rooms/{session_id}")))
    while not any(isinstance(e, AcceptConnection) for e in ws.events()):
        ws.receive_data(sock.recv(4096))
    sock.sendall(ws.send(TextMessage(data=json.dumps({"type": "join", "token": token}))))
    return sock


def test_a_peer_that_answers_no_ping_is_dropped(app, now_session, join, live_server, client,
                                                 auth, court_staff):  # fmt: skip
    app.extensions["hearings.hub"].ping_interval = 0.5  # a pong has 0.5 s (a loaded CI)
    s = now_session("mediation")
    mediator = join(s["id"], s["tokens"]["mediator"])  # its client answers pings
    with silent_peer(live_server, s["id"], s["tokens"]["applicant"]):
        silent = mediator.expect("waiting")["peer"]["peer_id"]
        assert mediator.expect("peer-left", timeout=10)["peer_id"] == silent
    mediator.send({"type": "ping"})
    assert mediator.expect("pong") == {"type": "pong"}
    # The dropped socket's handler records the drop just after the room hears peer-left.
    deadline = time.monotonic() + 10
    while True:
        events = client.get(f"/api/v1/sessions/{s['id']}/attendance",
                            headers=auth(court_staff["luoyang-admin"])).json["items"]  # fmt: skip
        seen = [e["event"] for e in events if e["peer_id"] == silent]
        if seen != ["joined"] or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert seen == ["joined", "dropped"]


@pytest.fixture
def own_redis(tmp_path):
    """A redis-server of this test's own, which it may stop and start."""
    with redis_server(tmp_path / "redis") as server:
        yield server


@pytest.mark.slow
def test_rooms_recover_after_a_redis_outage(app, own_redis, now_session, join, client):
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    app.config.update(REDIS_URL=own_redis.url, ROOM_BUS_PREFIX=prefix)
    bus = RedisBus(own_redis.url, prefix)
    app.extensions["hearings.hub"] = Hub(bus, record_attendance, app.app_context)
    s = now_session("mediation")
    mediator = join(s["id"], s["tokens"]["mediator"])
    applicant = join(s["id"], s["tokens"]["applicant"])
    mediator.expect("waiting")
    mediator.send({"type": "admit", "peer_id": applicant.peer_id})
    applicant.expect("admitted")
    offer = {"type": "offer", "to": mediator.peer_id, "sdp": {"type": "offer", "sdp": "v=0"}}

    own_redis.stop()
    assert client.get("/readyz").json["checks"]["redis"].startswith("failed")
    # Signaling says it is reconnecting; the socket (and the call's media) stay.
    applicant.send(offer)
    assert "reconnecting" in applicant.expect("error")["error"]
    wait_until(lambda: bus.lost, 10, "the bus to notice Redis is away")

    own_redis.start()  # empty: the rosters were only in the old server's memory
    probe = redis.Redis.from_url(own_redis.url)
    wait_until(lambda: not bus.lost and len(bus.peers(s["id"])) == 2, 15, "rosters restored")
    wait_until(lambda: probe.pubsub_numsub(bus.channel)[0][1] >= 1, 15, "listener back")
    probe.close()
    assert client.get("/readyz").status_code == 200
    applicant.send(offer)
    assert mediator.expect("offer")["from"] == applicant.peer_id
    # A newcomer gets in, and the mediator hears of it.
    respondent = join(s["id"], s["tokens"]["respondent"])
    assert mediator.expect("waiting")["peer"]["peer_id"] == respondent.peer_id
    bus.stop()
