"""Signaling relay latency and server memory with many peers: the app against a bare relay.

Books ``--rooms`` mediations happening now (a mediator and parties each) in a fresh SQLite
database, starts ``hearings serve`` as its own process, joins ``--peers`` WebSocket peers
(each mediator admits its parties), then relays ``--rate`` candidate frames a second between
peers of a room for ``--seconds`` (after one unmeasured warm-up frame per peer); the same
clients and load then run against a bare ``websockets`` relay process. The clients are one
asyncio loop in this process on CPU 0, each server runs on CPU 1 (``--no-pin``: anywhere).
Run: ``.venv/bin/python bench/signaling.py [--peers 1000] [--rooms 250] [--rate 2000]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import random
import resource
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory

NOW = "2026-09-01T09:00:00+08:00"
KEY = "bench-signing-key-0123456789abcdef-0123456789"
#: The keys a service refuses to start without (hearings/keys.py), as settings and as env.
KEYS = {
    "SECRET_KEY": KEY,
    "WITNESS_ID_KEY": "YmVuY2gtd2l0bmVzcy1pZC1rZXktMDEyMzQ1Njc4OWE=",
    "MANIFEST_SIGNING_KEY": "YmVuY2gtbWFuaWZlc3Qtc2VlZC0wMTIzNDU2Nzg5YWI=",
}
KEYS_ENV = {f"HEARINGS_{name}": value for name, value in KEYS.items()}
CANDIDATE: dict[str, Any] = {
    "candidate": "candidate:1 1 udp 2122260223 192.168.1.10 50000 typ host"
}
CANDIDATE |= {"sdpMid": "0", "sdpMLineIndex": 0}
CLK_TCK = os.sysconf("SC_CLK_TCK")


def prepare(folder: str, rooms: int, per_room: int) -> list[tuple[int, list[str]]]:
    """Migrate a fresh database, book ``rooms`` mediations now: (session id, tokens) each."""
    from flask_migrate import upgrade

    from hearings import create_app
    from hearings.courts.models import Staff
    from hearings.courts.seed import ensure_courts
    from hearings.courts.services import hash_password
    from hearings.extensions import db
    from hearings.rooms.tokens import issue_room_token
    from hearings.scheduling.schemas import SessionIn
    from hearings.scheduling.services import book_session

    config = {"DATABASE_URL": f"sqlite:///{folder}/bench.sqlite3", "INSTANCE_PATH": folder}
    config |= {"NOW": NOW, **KEYS, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"}
    booked = []
    with create_app(config).app_context():
        upgrade()
        ensure_courts()
        who = {"court_id": "luoyang", "password_hash": hash_password("bench-password")}
        admin = Staff(role="admin", username="bench-admin", name="管理员", **who)
        staff = [
            Staff(role="mediator", username=f"m{i}", name=f"调解员{i}", **who) for i in range(rooms)
        ]
        db.session.add_all([admin, *staff])
        db.session.commit()
        for i, mediator in enumerate(staff):
            people = [{"role": "mediator", "staff_id": mediator.id}]
            people += [{"role": "party", "name": f"当事人{j}"} for j in range(1, per_room)]
            payload: dict[str, Any] = {
                "kind": "mediation",
                "title": f"基准调解{i}",
                "host_court": "luoyang",
            }
            payload |= {"starts_at": "2026-09-01T09:15", "ends_at": "2026-09-01T10:15"}
            payload |= {"participants": people, "short_notice_reason": "基准测试"}
            session = book_session(admin, SessionIn.model_validate(payload))
            db.session.flush()
            ordered = sorted(session.active_participants, key=lambda p: p.role != "mediator")
            booked.append((session.id, [issue_room_token(p, None)[0] for p in ordered]))
            db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return booked


def proc_status(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (MB), Threads, and CPU seconds used, of a process."""
    found: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM", "Threads"):
            found[name] = int(value.split()[0]) / (1024 if name != "Threads" else 1)
    ticks = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[11:13]
    return found | {"cpu": sum(map(int, ticks)) / CLK_TCK}


@dataclass
class Peer:
    """One client socket; frames other than relayed candidates wait in ``inbox``."""

    ws: ClientConnection
    room: int
    peer_id: str = ""
    state: str = ""
    inbox: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)


@dataclass
class Run:
    """One server's run: its sockets and what the clients saw."""

    base: str
    compression: str
    opened: list[Peer] = field(default_factory=list)
    held: list[Peer] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    latencies: list[int] = field(default_factory=list)
    #: Candidates sent before this (perf_counter ns) are warm-up: counted, not timed.
    since: int = 2**63
    warm: int = 0

    async def read(self, peer: Peer) -> None:
        """Time relayed candidates, count errors, queue the rest; a close queues a sentinel."""
        with contextlib.suppress(ConnectionClosed):
            async for raw in peer.ws:
                frame = json.loads(raw)
                if frame["type"] == "candidate":
                    sent_at = frame["candidate"]["t"]
                    if sent_at >= self.since:
                        self.latencies.append(time.perf_counter_ns() - sent_at)
                    else:
                        self.warm += 1
                elif frame["type"] == "error":
                    self.errors[frame["error"]] += 1
                else:
                    peer.inbox.put_nowait(frame)
        peer.inbox.put_nowait({"type": "closed", "code": peer.ws.close_code})

    async def join(self, room: int, token: str) -> Peer:
        """Connect, send ``join``, wait for ``welcome``."""
        offer = [ClientPerMessageDeflateFactory()] if self.compression == "browser" else None
        compression = None if self.compression == "none" else "deflate"
        url = f"{self.base}/ws/rooms/{room}"
        ws = await connect(url, open_timeout=30, ping_interval=None, compression=compression,
                           extensions=offer)  # fmt: skip
        peer = Peer(ws, room)
        self.opened.append(peer)
        asyncio.create_task(self.read(peer))  # noqa: RUF006 (ends with its socket)
        await ws.send(json.dumps({"type": "join", "token": token}))
        welcome = await expect(peer, "welcome")
        peer.peer_id, peer.state = welcome["peer_id"], welcome["state"]
        return peer

    async def enter(self, room: int, tokens: list[str], gate: asyncio.Semaphore) -> None:
        """Join the mediator, then the parties; the mediator admits each party that waits."""
        async with gate:
            try:
                mediator = await self.join(room, tokens[0])
                self.held.append(mediator)
                joins = [self.join(room, token) for token in tokens[1:]]
                parties = await asyncio.gather(*joins, return_exceptions=True)
                for failed in [p for p in parties if not isinstance(p, Peer)]:
                    self.failures[f"{type(failed).__name__}: {failed}"[:60]] += 1
                joined = [p for p in parties if isinstance(p, Peer)]
                self.held += [p for p in joined if p.state == "admitted"]
                waiting = [p for p in joined if p.state == "waiting"]
                pending = {p.peer_id for p in waiting}
                while pending:
                    peer_id = (await expect(mediator, "waiting"))["peer"]["peer_id"]
                    if peer_id in pending:
                        pending.discard(peer_id)
                        await mediator.ws.send(json.dumps({"type": "admit", "peer_id": peer_id}))
                for party in waiting:
                    await expect(party, "admitted")
                    self.held.append(party)
            except Exception as error:
                self.failures[f"{type(error).__name__}: {error}"[:60]] += 1


async def expect(peer: Peer, kind: str, timeout: float = 30) -> dict[str, Any]:
    """The next queued frame of that type; raise if the socket closes first."""
    async with asyncio.timeout(timeout):
        while (frame := await peer.inbox.get())["type"] != kind:
            if frame["type"] == "closed":
                raise ConnectionError(f"closed with code {frame['code']}")
        return frame


async def relay_load(peers: list[Peer], rate: float, seconds: float) -> int:
    """Send ``rate`` candidates a second, round-robin over the peers, each to a roommate."""
    rooms: dict[int, list[str]] = {}
    for peer in peers:
        rooms.setdefault(peer.room, []).append(peer.peer_id)
    mates = {p.peer_id: [q for q in rooms[p.room] if q != p.peer_id] for p in peers}
    senders = [p for p in peers if mates[p.peer_id]]
    random.Random(7).shuffle(senders)
    rng, sent, start = random.Random(11), 0, time.perf_counter()
    while senders and (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(int(elapsed * rate) - sent):
            peer = senders[sent % len(senders)]
            frame: dict[str, Any] = {"type": "candidate", "to": rng.choice(mates[peer.peer_id])}
            frame["candidate"] = CANDIDATE | {"t": time.perf_counter_ns()}
            sent += 1
            with contextlib.suppress(ConnectionClosed):
                await peer.ws.send(json.dumps(frame))
        await asyncio.sleep(0.002)
    return sent


async def settle(count: Any, target: int, quiet: float = 3.0) -> None:
    """Wait until ``count()`` reaches ``target`` or stops moving for ``quiet`` seconds."""
    last, still = count(), time.monotonic()
    while count() < target and time.monotonic() - still < quiet:
        await asyncio.sleep(0.05)
        if count() != last:
            last, still = count(), time.monotonic()


async def drive(run: Run, booked: list[tuple[int, list[str]]], args: Any, pid: int) -> Any:
    """Join everyone, read the server's memory, warm up, time the load; the figures."""
    gate, t0 = asyncio.Semaphore(args.join_rooms), time.perf_counter()
    await asyncio.gather(*(run.enter(room, tokens, gate) for room, tokens in booked))
    out: dict[str, Any] = {"held": len(run.held), "join_s": time.perf_counter() - t0}
    gc.collect()
    gc.freeze()  # the client's collector stays out of the timed part
    await asyncio.sleep(1)
    out["joined"] = proc_status(pid)
    warm = await relay_load(run.held, args.rate, len(run.held) / args.rate)  # one frame each
    await settle(lambda: run.warm, warm, quiet=10)
    run.since, before, cpu = time.perf_counter_ns(), proc_status(pid), time.process_time()
    out["sent"] = await relay_load(run.held, args.rate, args.seconds)
    wall, after = (time.perf_counter_ns() - run.since) / 1e9, proc_status(pid)
    out["server_cpu"] = (after["cpu"] - before["cpu"]) / wall * 100  # while sending
    out["client_cpu"] = (time.process_time() - cpu) / wall * 100
    await settle(lambda: len(run.latencies), out["sent"])
    out["loaded"] = proc_status(pid)
    for peer in run.opened:
        peer.ws.transport.abort()
    lat = sorted(run.latencies) or [0]
    out |= {f"p{round(q * 100)}": lat[int(q * (len(lat) - 1))] / 1e6 for q in (0.5, 0.99, 1)}
    return out | {"received": len(run.latencies), "failures": run.failures, "errors": run.errors}


def run_server(
    command: Callable[[int], list[str]], env: dict[str, str], log: Path, booked: Any, args: Any
) -> Any:
    """Start one server process on a free port, drive the clients against it, stop it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cmd = command(port)
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        if args.pin:
            os.sched_setaffinity(proc.pid, {1})
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            time.sleep(0.1)
        else:
            raise SystemExit(f"{cmd[0]} did not listen on {port}; see {log.read_text()[-2000:]}")
        run = Run(f"ws://127.0.0.1:{port}", args.compression)
        return asyncio.run(drive(run, booked, args, serving_pid(proc.pid)))
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def serving_pid(pid: int) -> int:
    """The process holding the sockets: gunicorn's one worker (its master's only child)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        children = Path(f"/proc/{pid}/task/{pid}/children")
        found = children.read_text().split() if children.exists() else []
        if found:
            return int(found[0])
        if "gunicorn" not in Path(f"/proc/{pid}/cmdline").read_text():
            return pid
        time.sleep(0.1)
    raise SystemExit("gunicorn started no worker")


async def bare_server(port: int) -> None:
    """A bare relay: the first frame joins (any token), later ones go to ``to``."""
    from websockets.asyncio.server import ServerConnection, serve

    peers: dict[str, ServerConnection] = {}

    async def handler(ws: ServerConnection) -> None:
        json.loads(await ws.recv())
        peer_id = secrets.token_urlsafe(9)
        peers[peer_id] = ws
        try:
            await ws.send(json.dumps({"type": "welcome", "peer_id": peer_id, "state": "admitted"}))
            async for raw in ws:
                frame = json.loads(raw)
                if (target := peers.get(frame.get("to"))) is not None:
                    frame["from"] = peer_id
                    with contextlib.suppress(ConnectionClosed):
                        await target.send(json.dumps(frame, ensure_ascii=False))
        finally:
            del peers[peer_id]

    async with serve(handler, "127.0.0.1", port, max_size=1 << 20, ping_interval=20):
        await asyncio.get_running_loop().create_future()


def report(args: Any, app: Any, bare: Any) -> None:
    """Print both servers' figures against the targets."""
    rss = max(app["joined"]["VmRSS"], app["loaded"]["VmRSS"])
    ratio = app["p99"] / bare["p99"] if bare["p99"] else float("inf")
    rows: list[tuple[str, Callable[[Any], str], str, bool | None]] = [
        ("peers held", lambda r: f"{r['held']}/{args.peers}", "", None),
        ("join + admit, all peers", lambda r: f"{r['join_s']:.1f} s", "", None),
        ("server RSS after join/load",
         lambda r: f"{r['joined']['VmRSS']:.0f}/{r['loaded']['VmRSS']:.0f} MB",
         "≤ 200 MB", rss <= 200),
        ("server threads", lambda r: f"{r['joined']['Threads']:.0f}", "", None),
        ("CPU in load, server/client", lambda r: f"{r['server_cpu']:.0f}/{r['client_cpu']:.0f} %",
         "", None),
        ("relay p50", lambda r: f"{r['p50']:.2f} ms", "", None),
        ("relay p99", lambda r: f"{r['p99']:.2f} ms", "≤ 10 ms", app["p99"] <= 10),
        ("relay max", lambda r: f"{r['p100']:.2f} ms", "", None),
        ("frames sent/received/lost",
         lambda r: f"{r['sent']}/{r['received']}/{r['sent'] - r['received']}", "", None),
    ]  # fmt: skip
    print(f"\n{'measure':<28}{'hearings':>16}{'bare relay':>16}   target    result")
    for name, form, target, ok in rows:
        verdict = "" if ok is None else ("PASS" if ok else "MISS")
        print(f"{name:<28}{form(app):>16}{form(bare):>16}   {target:<9} {verdict}")
    print(f"{'p99 hearings / p99 bare':<28}{ratio:>15.1f}×{'':>16}   {'≤ 2×':<9} "
          f"{'PASS' if ratio <= 2 else 'MISS'}")  # fmt: skip
    print(f"({args.rate:g} frames/s for {args.seconds:g} s; server: {args.server}; "
          f"deflate offer: {args.compression}; "
          f"load average now {os.getloadavg()[0]:.1f})")  # fmt: skip
    for name, r in (("hearings", app), ("bare", bare)):
        for what in ("failures", "errors"):
            for reason, n in r[what].most_common(5):
                print(f"{name} {what}: {n} × {reason}")


def main() -> None:
    """Prepare the rooms, measure the app and the bare relay, print the table."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--peers", type=int, default=1000)
    parser.add_argument("--rooms", type=int, default=250)
    parser.add_argument("--rate", type=float, default=2000, help="relayed frames a second")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--join-rooms", type=int, default=4, help="rooms joining at once")
    offers = ("browser", "websockets", "none")
    parser.add_argument("--compression", choices=offers, default="browser", help="deflate offer")
    parser.add_argument("--server", choices=("gunicorn", "werkzeug"), default="gunicorn",
                        help="gunicorn: the production worker (deploy/gunicorn.conf.py); "
                        "werkzeug: `hearings serve`")  # fmt: skip
    parser.add_argument("--no-pin", dest="pin", action="store_false", help="don't pin to CPUs")
    parser.add_argument("--bare-server", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_server:
        asyncio.run(bare_server(args.bare_server))
        return
    per_room = args.peers // args.rooms
    if per_room < 2:
        raise SystemExit("--peers must be at least twice --rooms (a mediator and a party)")
    args.peers, args.pin = per_room * args.rooms, args.pin and (os.cpu_count() or 1) >= 2
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the servers inherit it
    with tempfile.TemporaryDirectory() as folder:
        booked = prepare(folder, args.rooms, per_room)
        print(f"booked {args.rooms} mediations, {args.peers} room tokens", flush=True)
        if args.pin:
            os.sched_setaffinity(0, {0})
        env = {k: v for k, v in os.environ.items() if not k.startswith("HEARINGS_")}
        env |= {"HEARINGS_DATABASE_URL": f"sqlite:///{folder}/bench.sqlite3", "HEARINGS_NOW": NOW}
        env |= {**KEYS_ENV, "HEARINGS_INSTANCE_PATH": f"{folder}/instance"}
        env |= {"HEARINGS_ROOM_FRAME_RATE": "100000", "HEARINGS_ROOM_FRAME_BURST": "100000"}
        env |= {"HEARINGS_LOG_LEVEL": "WARNING"}  # a line per request is not what is timed
        bin_dir = Path(sys.executable).parent
        if args.server == "gunicorn":
            conf = Path(__file__).resolve().parent.parent / "deploy" / "gunicorn.conf.py"

            def serve(port: int) -> list[str]:
                return [str(bin_dir / "gunicorn"), "-c", str(conf), "-b", f"127.0.0.1:{port}"]
        else:

            def serve(port: int) -> list[str]:
                return [str(bin_dir / "hearings"), "serve", "--no-scheduler", "--port", str(port)]

        app = run_server(serve, env, Path(folder) / "hearings.log", booked, args)
        print(f"hearings: {app['held']} peers held, {app['sent']} frames timed", flush=True)
        if app["held"] < args.peers:
            tail = (Path(folder) / "hearings.log").read_text(errors="replace").splitlines()
            print("hearings server log, last lines:", *tail[-12:], sep="\n  ")

        def bare(port: int) -> list[str]:
            return [sys.executable, __file__, "--bare-server", str(port)]

        bare_figures = run_server(bare, env, Path(folder) / "bare.log", booked, args)
    report(args, app, bare_figures)


if __name__ == "__main__":
    main()
