"""Rooms across two app processes sharing Redis: peers meet, and rooms stay apart."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis

from hearings.extensions import db
from hearings.rooms.hub import Hub
from hearings.rooms.redis_bus import RedisBus
from hearings.rooms.services import record_attendance
from tests.conftest import FROZEN_NOW, TEST_KEYS_ENV

REDIS_URL = os.environ.get("HEARINGS_TEST_REDIS_URL")
pytestmark = pytest.mark.skipif(
    not REDIS_URL, reason="HEARINGS_TEST_REDIS_URL is not set: Redis bus tests skipped"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def two_processes(request, app, database_url, tmp_path: Path):
    """This test's app (process A) and ``hearings serve`` (process B), one Redis bus."""
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    app.config.update(REDIS_URL=REDIS_URL, ROOM_BUS_PREFIX=prefix)
    app.extensions["hearings.hub"] = Hub(
        RedisBus(REDIS_URL, prefix), record_attendance, app.app_context
    )
    server_a = request.getfixturevalue("live_server")
    port = free_port()
    env = {
        **os.environ,
        "HEARINGS_DATABASE_URL": database_url,
        "HEARINGS_REDIS_URL": REDIS_URL,
        "HEARINGS_ROOM_BUS_PREFIX": prefix,
        "HEARINGS_NOW": FROZEN_NOW,
        **TEST_KEYS_ENV,
        "HEARINGS_INSTANCE_PATH": str(tmp_path / "b"),
    }
    hearings = Path(sys.executable).with_name("hearings")
    db.session.commit()  # SQLite: let process B migrate-check the file
    process = subprocess.Popen(
        [str(hearings), "serve", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)  # polling a port that is coming up; nothing to wait on
    else:
        process.kill()
        pytest.fail("process B did not start")
    yield server_a, f"127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)
    client.close()


def test_peers_on_different_processes_meet(two_processes, now_session, join_at):
    a, b = two_processes
    s = now_session("mediation")
    mediator = join_at(a, s["id"], s["tokens"]["mediator"])
    applicant = join_at(b, s["id"], s["tokens"]["applicant"])
    assert mediator.expect("waiting")["peer"]["peer_id"] == applicant.peer_id
    mediator.send({"type": "admit", "peer_id": applicant.peer_id})
    assert applicant.expect("admitted")["peers"][0]["peer_id"] == mediator.peer_id
    applicant.send({"type": "offer", "to": mediator.peer_id, "sdp": {"type": "offer", "sdp": "x"}})
    assert mediator.expect("offer")["from"] == applicant.peer_id
    mediator.send({"type": "remove", "peer_id": applicant.peer_id})
    assert applicant.close_code() == 4403


@pytest.mark.slow
def test_twenty_rooms_of_four_stay_apart(two_processes, now_session, make_staff, join_at):
    a, b = two_processes
    rooms = []
    for n in range(20):
        mediator = make_staff("luoyang", "mediator")
        people = [
            {"role": "mediator", "staff_id": mediator.id},
            {"role": "party", "name": f"甲{n}", "side": "applicant"},
            {"role": "party", "name": f"乙{n}", "side": "respondent"},
            {"role": "party", "name": f"丙{n}", "side": "third_party"},
        ]
        rooms.append(now_session("mediation", participants=people))
    peers: dict[int, list] = {}
    for n, s in enumerate(rooms):
        servers = (a, b) if n % 2 else (b, a)
        moderator = join_at(servers[0], s["id"], s["tokens"]["mediator"])
        members = [moderator]
        for k, side in enumerate(("applicant", "respondent", "third_party")):
            party = join_at(servers[k % 2], s["id"], s["tokens"][side])
            moderator.expect("waiting")
            moderator.send({"type": "admit", "peer_id": party.peer_id})
            party.expect("admitted")
            members.append(party)
        peers[s["id"]] = members
    everyone = [(sid, p) for sid, members in peers.items() for p in members]
    # Each peer offers to everyone in its room, and tries a peer of the next room.
    for index, (sid, p) in enumerate(everyone):
        for q in peers[sid]:
            if q is not p:
                p.send(
                    {"type": "offer", "to": q.peer_id, "sdp": {"type": "offer", "sdp": f"{sid}"}}
                )
        stranger = everyone[(index + 4) % len(everyone)][1]
        p.send({"type": "offer", "to": stranger.peer_id, "sdp": {"type": "offer", "sdp": "leak"}})
        for q in peers[sid]:
            if q is not p:
                p.send({"type": "candidate", "to": q.peer_id, "candidate": {"end": sid}})
    for sid, p in everyone:
        offers, ends, errors = [], 0, 0
        while ends < 3 or errors < 1:
            frame = p.recv(timeout=10)
            if frame["type"] == "offer":
                offers.append(frame["sdp"]["sdp"])
            elif frame["type"] == "candidate":
                assert frame["candidate"] == {"end": sid}
                ends += 1
            elif frame["type"] == "error":
                errors += 1
        assert offers == [str(sid)] * 3, (sid, offers)
