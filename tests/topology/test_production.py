"""The production topology on this machine: nginx (TLS) → two gunicorn app instances
(gevent) → PostgreSQL and Redis; one scheduler; coturn relaying all media.

Why this runs outside a network namespace: it needs the machine's PostgreSQL, which a
namespace of its own can't reach. The media path is still loopback only, and checked:
every peer is relay-only (``iceTransportPolicy`` relay), so aioice gathers no host or
server-reflexive candidate on any interface; its one socket is a UDP socket connected to
coturn's address (aioice's ``remote_addr``), so the kernel exchanges its packets with
127.0.0.1 alone; coturn listens and relays on 127.0.0.1 only (``listening-ip``,
``relay-ip``, with the test-only ``allow-loopback-peers``). The test asserts that every
candidate in every SDP is a relay candidate on 127.0.0.1 and that coturn's log shows the
allocations made with the app's credentials.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa

from tests.notify.conftest import SmtpServer
from tests.servers import free_port, wait_until
from tests.topology.peers import CallPeer, until
from tests.topology.stack import BIN, Stack

PG_URL = os.environ.get("HEARINGS_TEST_DATABASE_URL")
MISSING = [
    name
    for name, found in (
        ("nginx", shutil.which("nginx")),
        ("turnserver", shutil.which("turnserver")),
        ("redis-server", shutil.which("redis-server")),
        ("gunicorn (pip install -e '.[test]')", (BIN / "gunicorn").exists()),
    )
    if not found
]
pytestmark = [
    pytest.mark.topology,
    pytest.mark.slow,
    pytest.mark.skipif(not PG_URL, reason="HEARINGS_TEST_DATABASE_URL is not set"),
    pytest.mark.skipif(bool(MISSING), reason=f"not installed: {', '.join(MISSING)}"),
]
PASSWORD = "topology-password"


def reset_database(url: str) -> None:
    """An empty public schema (the test database only)."""
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


def add_staff(stack: Stack) -> None:
    """An administrator and a mediator of Luoyang who log in with a password."""
    from hearings import create_app
    from hearings.config import from_environment
    from hearings.courts.models import Staff
    from hearings.courts.services import hash_password
    from hearings.extensions import db

    settings = {"DATABASE_URL": PG_URL, "INSTANCE_PATH": str(stack.folder / "seed")}
    settings |= from_environment(stack.env)  # its keys: no default key starts an app
    settings |= {"PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"}
    with create_app(settings).app_context():
        digest = hash_password(PASSWORD)
        db.session.add_all([
            Staff(court_id="luoyang", role="admin", username="topo-admin", name="管理员",
                  password_hash=digest, email="admin@luoyang.example"),
            Staff(court_id="luoyang", role="mediator", username="topo-mediator", name="调解员",
                  password_hash=digest, email="mediator@luoyang.example"),
        ])  # fmt: skip
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def stack(tmp_path: Path):
    """Everything started from deploy/, stopped at the end."""
    assert PG_URL is not None
    smtp = SmtpServer(free_port())
    smtp.start()
    stack = Stack(tmp_path, PG_URL, smtp.url)
    stack.smtp = smtp  # type: ignore[attr-defined]
    try:
        reset_database(PG_URL)
        stack.redis.start()
        stack.migrate()
        add_staff(stack)
        stack.start_turn()
        for port in stack.app_ports:
            stack.start_app(port)
        stack.start_scheduler()
        stack.start_nginx()
        yield stack
    finally:
        stack.close()
        smtp.stop()


def book(stack: Stack, title: str, starts: datetime) -> dict:
    """Log in and book a mediation through nginx; its join tokens by role or side."""
    status, login = stack.call("POST", "/api/v1/auth/token",
                               {"username": "topo-admin", "password": PASSWORD})  # fmt: skip
    assert status == 200, login
    token = login["access_token"]
    status, mediator = stack.call(
        "GET", "/api/v1/directory?court=luoyang&role=mediator", token=token
    )
    mediator_id = next(s["id"] for s in mediator["items"] if s["role"] == "mediator")
    payload = {
        "kind": "mediation", "title": title, "host_court": "luoyang",
        "starts_at": starts.isoformat(), "ends_at": (starts + timedelta(minutes=30)).isoformat(),
        "outside_hours_reason": "夜间调解（测试）",
        "participants": [
            {"role": "mediator", "staff_id": mediator_id},
            {"role": "party", "name": "张三", "side": "applicant", "email": "zhang@example.com"},
            {"role": "party", "name": "李四", "side": "respondent", "email": "li@example.com"},
        ],
    }  # fmt: skip
    status, session = stack.call("POST", "/api/v1/sessions", payload, token=token)
    assert status == 201, session
    status, links = stack.call("POST", f"/api/v1/sessions/{session['id']}/links", token=token)
    assert status == 201, links
    by_participant = {i["participant_id"]: i["url"].rsplit("/", 1)[1] for i in links["items"]}
    session["tokens"] = {
        p.get("side") or p["role"]: by_participant[p["id"]] for p in session["participants"]
    }
    return session


def ports_of(stack: Stack, session_id: int) -> dict[str, int]:
    """Which app instance holds each peer of the room (from the roster in Redis)."""
    workers = {stack.worker_pid(port): port for port in stack.apps}
    client = redis.Redis.from_url(stack.redis.url, decode_responses=True)
    try:
        roster = client.hgetall(f"topology:room:{session_id}:peers")
    finally:
        client.close()
    found = {}
    for peer_id, raw in roster.items():
        pid = int(json.loads(raw)["node"].split(":")[1])
        found[peer_id] = workers.get(pid, -pid)  # a negative pid: a process not running
    return found


def assert_relay_only_on_loopback(peers: list[CallPeer]) -> None:
    """Every ICE candidate every peer offered is a TURN relay candidate on 127.0.0.1."""
    candidates = [
        line.split()
        for peer in peers
        for sdp in peer.sdps
        for line in sdp.splitlines()
        if line.startswith("a=candidate:")
    ]
    assert candidates
    for fields in candidates:
        assert fields[7] == "relay", fields
        assert fields[4] == "127.0.0.1", fields  # the relayed address coturn handed out
        if "raddr" in fields:  # relay-only hides the related address (0.0.0.0 port 9)
            assert fields[fields.index("raddr") + 1] in ("0.0.0.0", "127.0.0.1"), fields


def count_mail(stack: Stack, title: str, label: str) -> dict[str, int]:
    """Messages about a session whose subject carries ``label``, by recipient."""
    counts: dict[str, int] = {}
    for _, recipients, message in list(stack.smtp.mailbox.messages):  # type: ignore[attr-defined]
        if title in str(message["Subject"]) and label in str(message["Subject"]):
            for address in recipients:
                counts[address] = counts.get(address, 0) + 1
    return counts


def sweeps(stack: Stack) -> int:
    """Outbox and reminder sweeps the scheduler has finished."""
    return sum(
        1
        for line in stack.log("scheduler").splitlines()
        if "run_sweep" in line and "executed successfully" in line
    )


def test_production_topology(stack: Stack):
    # A session whose reminder (60 min before) falls due 40 s from now, and one happening
    # now for the call (a session in progress gets no reminder).
    book(stack, "拓扑测试提醒", datetime.now(UTC) + timedelta(minutes=60, seconds=40))
    session = book(stack, "拓扑测试调解", datetime.now(UTC) + timedelta(minutes=5))
    sid, tokens = session["id"], session["tokens"]
    # Outbox: the invites are stored; the scheduler stops (SIGTERM) and a new one starts
    # while they go out: each arrives once, none is lost.
    assert stack.terminate_scheduler() == 0
    stack.start_scheduler()
    # nginx: pages and files over TLS, join tokens kept out of its access log, a size limit.
    with urllib.request.urlopen(f"{stack.base}/join/{tokens['applicant']}",
                                context=stack.tls) as page:  # fmt: skip
        assert page.status == 200 and page.headers["Strict-Transport-Security"]
        # The app's own headers pass nginx untouched; the page's script comes from the app.
        assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
        assert page.headers["Cache-Control"] == "no-store"
        script = re.search(r'src="(/static/room\.js\?v=\w+)"', page.read().decode()).group(1)
    with urllib.request.urlopen(f"{stack.base}/static/robots.txt", context=stack.tls) as f:
        assert f.read().startswith(b"User-agent")
    with urllib.request.urlopen(f"{stack.base}{script}", context=stack.tls) as f:
        # The room's entry module (it imports the others: signaling, media …).
        assert b"./room-media.js" in f.read() and "immutable" in f.headers["Cache-Control"]
    status, problem = stack.call("POST", "/api/v1/auth/token", "x" * (2 << 20))
    assert status == 413 and problem["status"] == 413

    asyncio.run(call_scenario(stack, sid, tokens))

    # One reminder each, however many sweeps ran since; one invite each.
    people = ("mediator@luoyang.example", "zhang@example.com", "li@example.com")
    reminded = "拓扑测试提醒"
    wait_until(lambda: all(count_mail(stack, reminded, "提醒 Reminder").get(p) for p in people), 90,
               "reminders")  # fmt: skip
    done = sweeps(stack)
    wait_until(lambda: sweeps(stack) >= done + 2, 30, "two more sweeps")
    assert count_mail(stack, reminded, "提醒 Reminder") == dict.fromkeys(people, 1)
    for title in (reminded, "拓扑测试调解"):
        assert count_mail(stack, title, "邀请 Invitation") == dict.fromkeys(people, 1)
    assert count_mail(stack, "拓扑测试调解", "提醒 Reminder") == {}
    # No token in any log: the apps', the scheduler's, nginx's.
    logs = {name: stack.log(name) for name in ("scheduler", "nginx")}
    logs |= {f"app-{p}": stack.log(f"app-{p}") for p in stack.app_ports}
    logs["nginx-access"] = (stack.folder / "nginx-hearings.access.log").read_text()
    for name, text in logs.items():
        for token in tokens.values():
            assert token not in text, f"a join token in the {name} log"
    assert '"GET /join/[token]"' in logs["nginx-access"]
    events = [json.loads(line) for p in stack.app_ports
              for line in stack.log(f"app-{p}").splitlines() if line.startswith("{")]  # fmt: skip
    assert {"request", "room.joined", "room.admitted", "room.shutdown"} <= {
        e["event"] for e in events
    }


async def call_scenario(stack: Stack, sid: int, tokens: dict[str, str]) -> None:
    """The call: two peers on two instances, a crash, a restart, a Redis outage."""
    url = f"wss://127.0.0.1:{stack.nginx_port}/ws/rooms/{sid}"
    mediator = CallPeer(url, tokens["mediator"], stack.tls, moderator=True)
    applicant = CallPeer(url, tokens["applicant"], stack.tls)
    respondent = CallPeer(url, tokens["respondent"], stack.tls)
    try:
        t0 = time.monotonic()
        mediator.start()
        await until(lambda: mediator.peer_ids, 20, "the mediator's welcome")
        applicant.start()
        await until(lambda: mediator.receiving(t0) and applicant.receiving(t0), 30, "the call")
        # Two instances, one peer each (nginx sends a new socket to the least busy one).
        where = await asyncio.to_thread(ports_of, stack, sid)
        assert sorted(where.values()) == sorted(stack.app_ports), where
        assert_relay_only_on_loopback([mediator, applicant])
        # coturn allocated a relay for each, with the credentials the app minted, and
        # bound channels between the two relays.
        turn_log = stack.turn_log()
        allocated = set(re.findall(r"user <(\d+:p\d+)>: incoming packet ALLOCATE processed, "
                                   r"success", turn_log))  # fmt: skip
        assert len(allocated) == 2, turn_log[-2000:]
        assert "CHANNEL_BIND processed, success" in turn_log, turn_log[-2000:]

        # The applicant's instance dies: the applicant comes back through the other one,
        # is let in again at once, and the call resumes.
        crashed, other = where[applicant.peer_ids[-1]], where[mediator.peer_ids[-1]]
        old_peer = applicant.peer_ids[-1]
        t1 = time.monotonic()
        await asyncio.to_thread(stack.kill_app, crashed)
        await until(lambda: mediator.receiving(t1) and applicant.receiving(t1), 30,
                    "the call to resume after the crash")  # fmt: skip
        assert applicant.closes[-1] == 1006 and len(applicant.peer_ids) == 2
        where = await asyncio.to_thread(ports_of, stack, sid)
        assert where[applicant.peer_ids[-1]] == other
        # The dead instance's peer is taken off the roster; the room hears it left.
        await until(lambda: old_peer in mediator.left, 30, "the crashed peer to be reaped")
        where = await asyncio.to_thread(ports_of, stack, sid)
        assert set(where) == {mediator.peer_ids[-1], applicant.peer_ids[-1]}

        # Restart the crashed instance; stop the other as systemd does (SIGTERM): both
        # peers are told to reconnect (1012), move over, and the call resumes again.
        await asyncio.to_thread(stack.start_app, crashed)
        t2, closes = time.monotonic(), (len(mediator.closes), len(applicant.closes))
        assert await asyncio.to_thread(stack.terminate_app, other) == 0
        assert time.monotonic() - t2 < 10  # rooms closed at once, not the 20 s drain
        # The first close each saw: 1012 (later tries may be refused while it stops).
        assert mediator.closes[closes[0]] == 1012 and applicant.closes[closes[1]] == 1012
        both = f"the call to resume after a restart: {mediator} {applicant}"
        await until(lambda: mediator.receiving(t2) and applicant.receiving(t2), 30, both)
        await asyncio.to_thread(stack.start_app, other)

        # Redis away for 10 s: /readyz says so, nothing crashes, media goes on.
        frames = applicant.frame_count()
        stack.redis.stop()
        status, body = await asyncio.to_thread(stack.call, "GET", "/readyz")
        assert status == 503 and body["checks"]["redis"].startswith("failed"), body
        await asyncio.sleep(10)  # the outage itself
        assert all(stack.alive().values()), stack.alive()
        assert applicant.frame_count() > frames + 50  # peer to peer (via TURN): unaffected
        stack.redis.start()
        # The rooms recover: rosters restored, listeners back; a newcomer gets in.
        probe = redis.Redis.from_url(stack.redis.url, decode_responses=True)
        await until(lambda: probe.hlen(f"topology:room:{sid}:peers") == 2, 20, "the rosters")
        # (The instance holding both peers listens; the other starts its bus on first use.)
        await until(lambda: probe.pubsub_numsub("topology:rooms")[0][1] >= 1, 20, "listener")
        probe.close()
        t3 = time.monotonic()
        respondent.start()
        await until(lambda: respondent.receiving(t3, remotes=2), 30, "the newcomer's call")
        await until(lambda: mediator.receiving(t3) and applicant.receiving(t3), 30,
                    "the others to receive the newcomer")  # fmt: skip
        assert (await asyncio.to_thread(stack.call, "GET", "/readyz"))[0] == 200
        assert all(stack.alive().values()), stack.alive()
        assert_relay_only_on_loopback([mediator, applicant, respondent])
        assert mediator.errors == applicant.errors == respondent.errors == []
    finally:
        for peer in (respondent, applicant, mediator):
            await peer.stop()
