"""Soak: many rooms across two app processes for minutes; errors, memory, every frame relayed.

Books ``--rooms`` mediations happening now in a fresh SQLite database, starts its own
redis-server and two gunicorn app instances (``deploy/gunicorn.conf.py``, gevent) sharing
rooms through it, and joins ``--peers`` signaling peers, each room's peers spread over both
instances (so most frames cross Redis). Then every peer sends candidate frames to a random
roommate, ``--rate`` frames a second in all, for ``--minutes``. Signaling only, no media.

Printed: join failures, error frames and unexpected closes; each instance's memory (RSS)
after a warm-up minute's start and at the end, and its growth (target ≤ 10 %); frames sent
against frames relayed (each to the right peer, once; target: all), and relay latency.
Run: ``.venv/bin/python bench/soak.py [--minutes 5] [--peers 200] [--rooms 50]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from signaling import CANDIDATE, KEYS_ENV, NOW, Peer, expect, prepare, proc_status, serving_pid
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


class Soak:
    """The clients and what they saw."""

    def __init__(self, bases: list[str]) -> None:
        self.bases = bases
        self.peers: list[Peer] = []
        self.failures: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.closes: Counter[str] = Counter()
        self.sent = 0
        #: Frame number -> (sender, addressee) of every frame sent; received ones removed.
        self.pending: dict[int, tuple[str, str]] = {}
        self.received = 0
        self.duplicates = 0
        self.misdelivered = 0
        self.latencies: list[int] = []
        #: Frames relayed in over 250 ms, by the second (perf_counter) they were sent in.
        self.slow: Counter[int] = Counter()
        self.stopping = False

    async def read(self, peer: Peer) -> None:
        """Check each relayed frame (right addressee, once); queue the rest."""
        with contextlib.suppress(ConnectionClosed):
            async for raw in peer.ws:
                frame = json.loads(raw)
                if frame["type"] == "candidate":
                    n = frame["candidate"]["n"]
                    expected = self.pending.pop(n, None)
                    if expected is None:
                        self.duplicates += 1
                    elif expected != (frame["from"], peer.peer_id):
                        self.misdelivered += 1
                    else:
                        self.received += 1
                        sent_at = frame["candidate"]["t"]
                        late = time.perf_counter_ns() - sent_at
                        self.latencies.append(late)
                        if late > 250_000_000:  # over 250 ms: when (for the report)
                            self.slow[int(sent_at / 1e9)] += 1
                elif frame["type"] == "error":
                    self.errors[frame["error"]] += 1
                else:
                    peer.inbox.put_nowait(frame)
        if not self.stopping:
            self.closes[f"closed {peer.ws.close_code}"] += 1
        peer.inbox.put_nowait({"type": "closed", "code": peer.ws.close_code})

    async def join(self, base: str, room: int, token: str) -> Peer:
        """Connect (no compression offered, as the server declines it), join, welcome."""
        ws = await connect(f"{base}/ws/rooms/{room}", open_timeout=30, ping_interval=None,
                           compression=None)  # fmt: skip
        peer = Peer(ws, room)
        asyncio.create_task(self.read(peer))  # noqa: RUF006 (ends with its socket)
        await ws.send(json.dumps({"type": "join", "token": token}))
        welcome = await expect(peer, "welcome")
        peer.peer_id, peer.state = welcome["peer_id"], welcome["state"]
        return peer

    async def enter(self, n: int, room: int, tokens: list[str], gate: asyncio.Semaphore) -> None:
        """The mediator on one instance, the parties alternating; the mediator admits."""
        async with gate:
            try:
                bases = [self.bases[(n + i) % len(self.bases)] for i in range(len(tokens))]
                mediator = await self.join(bases[0], room, tokens[0])
                self.peers.append(mediator)
                for base, token in zip(bases[1:], tokens[1:], strict=True):
                    party = await self.join(base, room, token)
                    if party.state == "waiting":
                        while (await expect(mediator, "waiting"))["peer"]["peer_id"] != (
                            party.peer_id
                        ):
                            pass
                        await mediator.ws.send(
                            json.dumps({"type": "admit", "peer_id": party.peer_id})
                        )
                        await expect(party, "admitted")
                    self.peers.append(party)
            except Exception as error:
                self.failures[f"{type(error).__name__}: {error}"[:70]] += 1

    async def load(self, rate: float, seconds: float) -> None:
        """Send ``rate`` candidates a second, each peer to a random roommate."""
        rooms: dict[int, list[str]] = {}
        for peer in self.peers:
            rooms.setdefault(peer.room, []).append(peer.peer_id)
        senders = [p for p in self.peers if len(rooms[p.room]) > 1]
        rng, start, sent = random.Random(3), time.perf_counter(), 0
        while senders and (elapsed := time.perf_counter() - start) < seconds:
            for _ in range(int(elapsed * rate) - sent):
                peer = rng.choice(senders)
                to = rng.choice([q for q in rooms[peer.room] if q != peer.peer_id])
                self.sent += 1
                sent += 1
                self.pending[self.sent] = (peer.peer_id, to)
                candidate = CANDIDATE | {"n": self.sent, "t": time.perf_counter_ns()}
                with contextlib.suppress(ConnectionClosed):
                    await peer.ws.send(
                        json.dumps({"type": "candidate", "to": to, "candidate": candidate})
                    )
            await asyncio.sleep(0.005)

    async def settle(self, quiet: float = 5.0) -> None:
        """Wait until every frame sent arrived, or none arrived for ``quiet`` seconds."""
        last, still = len(self.pending), time.monotonic()
        while self.pending and time.monotonic() - still < quiet:
            await asyncio.sleep(0.05)
            if len(self.pending) != last:
                last, still = len(self.pending), time.monotonic()


def start_instances(env: dict[str, str], folder: Path, count: int) -> list[tuple[Any, int]]:
    """``count`` gunicorn instances as systemd's hearings-web@PORT runs them."""
    import socket

    started = []
    for i in range(count):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        with (folder / f"app-{i}.log").open("wb") as out:
            args = [str(BIN / "gunicorn"), "-c", str(ROOT / "deploy" / "gunicorn.conf.py")]
            proc = subprocess.Popen(args, env=env | {"HEARINGS_BIND": f"127.0.0.1:{port}"},
                                    stdout=out, stderr=subprocess.STDOUT)  # fmt: skip
        started.append((proc, port))
    for proc, port in started:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"instance on {port} did not start; see {folder}")
            time.sleep(0.1)
    return started


def start_redis(folder: Path) -> tuple[Any, str]:
    """A redis-server of the soak's own."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", str(folder)]  # fmt: skip
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while True:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return proc, f"redis://127.0.0.1:{port}/0"
        if time.monotonic() > deadline:
            raise SystemExit("redis-server did not start")
        time.sleep(0.05)


async def soak(soak: Soak, booked: list[tuple[int, list[str]]], args: Any, pids: list[int]) -> Any:
    """Join, warm up, measure memory, load for the minutes, settle, measure again."""
    gate, t0 = asyncio.Semaphore(4), time.perf_counter()
    await asyncio.gather(*(soak.enter(n, room, tokens, gate)
                           for n, (room, tokens) in enumerate(booked)))  # fmt: skip
    joined = time.perf_counter() - t0
    warm = min(60.0, args.minutes * 60 / 5)
    await soak.load(args.rate, warm)
    await soak.settle()
    start = [proc_status(pid) for pid in pids]
    await soak.load(args.rate, args.minutes * 60)
    await soak.settle()
    end = [proc_status(pid) for pid in pids]
    soak.stopping = True
    for peer in soak.peers:
        peer.ws.transport.abort()
    return {"joined": joined, "warm": warm, "start": start, "end": end}


def report(soak: Soak, figures: Any, args: Any) -> bool:
    """Print the figures against the targets; whether all are met."""
    ok = True

    def line(name: str, value: str, good: bool | None = None) -> None:
        nonlocal ok
        verdict = "" if good is None else ("PASS" if good else "MISS")
        ok = ok and good is not False
        print(f"{name:<36}{value:>28}   {verdict}")

    load = os.getloadavg()[0]
    print(f"\nsoak: {len(soak.peers)}/{args.peers} peers in {args.rooms} rooms on "
          f"{len(figures['start'])} instances, {args.rate:g} frames/s for {args.minutes:g} min "
          f"(after {figures['warm']:.0f} s warm-up); load average {load:.1f}")  # fmt: skip
    line("peers held", f"{len(soak.peers)}/{args.peers}", len(soak.peers) == args.peers)
    line("join + admit, all peers", f"{figures['joined']:.1f} s")
    errors = sum(soak.failures.values()) + sum(soak.errors.values()) + sum(soak.closes.values())
    line("errors (join, error frames, closes)", str(errors), errors == 0)
    for i, (start, end) in enumerate(zip(figures["start"], figures["end"], strict=True)):
        growth = (end["VmRSS"] - start["VmRSS"]) / start["VmRSS"] * 100
        rss = f"{start['VmRSS']:.0f} → {end['VmRSS']:.0f} MB ({growth:+.1f} %)"
        line(f"instance {i + 1} RSS start → end", rss, growth <= 10)
    line("frames sent", str(soak.sent))
    line("frames relayed (right peer, once)", str(soak.received), soak.received == soak.sent)
    line("frames lost / duplicated / misdelivered",
         f"{len(soak.pending)} / {soak.duplicates} / {soak.misdelivered}",
         not soak.pending and not soak.duplicates and not soak.misdelivered)  # fmt: skip
    lat = sorted(soak.latencies) or [0]
    line(
        "relay latency p50 / p99 / max",
        " / ".join(f"{lat[int(q * (len(lat) - 1))] / 1e6:.1f}" for q in (0.5, 0.99, 1)) + " ms",
    )
    if soak.slow:
        first = min(soak.slow)
        seconds = ", ".join(f"{t - first}s: {n}" for t, n in sorted(soak.slow.items())[:12])
        print(f"  frames over 250 ms, by second sent (from the first such): {seconds}")
    for what, counter in (("join failure", soak.failures), ("error frame", soak.errors),
                          ("unexpected close", soak.closes)):  # fmt: skip
        for reason, n in counter.most_common(5):
            print(f"  {what}: {n} × {reason}")
    return ok


def main() -> None:
    """Prepare, start Redis and two instances, soak, print; exit 1 if a target is missed."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--peers", type=int, default=200)
    parser.add_argument("--rooms", type=int, default=50)
    parser.add_argument("--rate", type=float, default=200, help="frames a second, in all")
    parser.add_argument("--instances", type=int, default=2)
    args = parser.parse_args()
    per_room = args.peers // args.rooms
    if per_room < 2:
        raise SystemExit("--peers must be at least twice --rooms")
    args.peers = per_room * args.rooms
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        booked = prepare(name, args.rooms, per_room)
        redis, redis_url = start_redis(folder)
        env = {k: v for k, v in os.environ.items() if not k.startswith("HEARINGS_")}
        env |= {"HEARINGS_DATABASE_URL": f"sqlite:///{folder}/bench.sqlite3", "HEARINGS_NOW": NOW,
                **KEYS_ENV, "HEARINGS_INSTANCE_PATH": f"{folder}/instance",
                "HEARINGS_REDIS_URL": redis_url, "HEARINGS_LOG_LEVEL": "WARNING"}  # fmt: skip
        instances = start_instances(env, folder, args.instances)
        try:
            pids = [serving_pid(proc.pid) for proc, _ in instances]
            clients = Soak([f"ws://127.0.0.1:{port}" for _, port in instances])
            figures = asyncio.run(soak(clients, booked, args, pids))
        finally:
            for proc, _ in instances:
                proc.terminate()
            for proc, _ in instances:
                proc.wait(30)
            redis.terminate()
            redis.wait(10)
        ok = report(clients, figures, args)
        if not ok:
            for i in range(args.instances):
                tail = (folder / f"app-{i}.log").read_text(errors="replace").splitlines()[-8:]
                print(f"instance {i + 1} log, last lines:", *tail, sep="\n  ")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
