"""Invite latency: from a booking's POST to its invites accepted by the SMTP server.

Books ``--bookings`` liaison meetings (two staff, one per court, each with an email address)
one after the other through the API, each once the previous one's invites arrived, and times
from sending the POST until an aiosmtpd server in this process has accepted both invites.
Twice: (a) ``hearings serve`` on SQLite (the scheduler in-process, woken at commit);
(b) the production topology on PostgreSQL: a gunicorn instance (``deploy/gunicorn.conf.py``)
that runs no scheduler, and a ``hearings scheduler`` process, woken by ``NOTIFY``. The sweep
interval stays at its default (60 s), so what is measured is the wake-up, not the sweep.
Prints p50, p99 and max against the target (p99 ≤ 5 s), and the machine's load.
Run: ``.venv/bin/python bench/invites.py [--bookings 50] [--database-url URL]``; the
PostgreSQL database (``h_c`` by default) has its schema ``public`` dropped.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
NOW = "2026-09-01T09:00:00+08:00"
PASSWORD = "bench-password"
TARGET_P99 = 5.0
#: The longest one booking's invites may take before the run is called off (the sweep: 60 s).
GIVE_UP = 90.0


def keys() -> dict[str, str]:
    """Real keys of the three kinds the service insists on (never the shipped defaults)."""
    return {
        "SECRET_KEY": secrets.token_urlsafe(48),
        "WITNESS_ID_KEY": base64.b64encode(os.urandom(32)).decode(),
        "MANIFEST_SIGNING_KEY": base64.b64encode(os.urandom(32)).decode(),  # an Ed25519 seed
    }


def free_port() -> int:
    """A TCP port nothing listens on now, on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Inbox:
    """The aiosmtpd handler: when each subject's messages were accepted (perf_counter)."""

    def __init__(self) -> None:
        self.arrived: dict[str, list[float]] = {}
        self.changed = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        at = time.perf_counter()
        message = BytesParser(policy=policy.SMTP).parsebytes(envelope.original_content)
        with self.changed:
            self.arrived.setdefault(str(message["Subject"]), []).append(at)
            self.changed.notify_all()
        return "250 OK"

    def wait(self, title: str, count: int, timeout: float) -> float | None:
        """When the last of ``count`` messages whose subject names ``title`` arrived."""

        def times() -> list[float]:
            return [t for s, ts in self.arrived.items() if title in s for t in ts]

        with self.changed:
            if not self.changed.wait_for(lambda: len(times()) >= count, timeout):
                return None
            return max(times())


def environment(database_url: str, folder: str, smtp_port: int, secret: dict[str, str]) -> dict:
    """The service's settings, as the systemd units' environment file would give them."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEARINGS_")}
    env |= {f"HEARINGS_{name}": value for name, value in secret.items()}
    env |= {
        "HEARINGS_DATABASE_URL": database_url,
        "HEARINGS_INSTANCE_PATH": f"{folder}/instance",
        "HEARINGS_NOW": NOW,
        "HEARINGS_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
        "HEARINGS_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "HEARINGS_LOG_LEVEL": "WARNING",  # a line per request is not what is timed
    }
    return env


def prepare(env: dict[str, str], bookings: int) -> dict[str, int]:
    """Migrate (``hearings migrate``), add an admin and a liaison pair per booking; their ids
    by username."""
    done = subprocess.run(
        [str(BIN / "hearings"), "migrate"], env=env, capture_output=True, text=True, timeout=300
    )
    if done.returncode:
        raise SystemExit(f"hearings migrate failed:\n{done.stdout}{done.stderr}")
    from hearings import create_app
    from hearings.courts.models import Staff
    from hearings.courts.services import hash_password
    from hearings.extensions import db

    config = {k.removeprefix("HEARINGS_"): v for k, v in env.items() if k.startswith("HEARINGS_")}
    app = create_app(config)
    with app.app_context():
        digest = hash_password(PASSWORD)
        people = [
            Staff(
                court_id="luoyang",
                role="admin",
                username="bench-admin",
                name="管理员",
                password_hash=digest,
            )
        ]
        for n in range(bookings):
            for court in ("luoyang", "luohe"):
                people.append(
                    Staff(
                        court_id=court,
                        role="liaison",
                        username=f"{court}-liaison-{n}",
                        name=f"联络员{n}",
                        email=f"liaison{n}@{court}.example",
                        password_hash=digest,
                    )
                )
        db.session.add_all(people)
        db.session.commit()
        ids = {staff.username: staff.id for staff in people}
        db.session.remove()
        db.engine.dispose()
    return ids


def call(base: str, path: str, body: dict[str, Any], token: str | None = None) -> Any:
    """POST JSON; the decoded answer."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(
        base + path, data=json.dumps(body).encode(), headers=headers, method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def measure(base: str, inbox: Inbox, bookings: int, ids: dict[str, int], token: str) -> list:
    """Book one after another; seconds from each POST to its second invite accepted."""
    latencies = []
    for n in range(bookings):
        title = f"邀请基准 {base.rsplit(':', 1)[1]}-{n}"
        body = {
            "kind": "liaison",
            "title": title,
            "host_court": "luoyang",
            "starts_at": "2026-09-10T09:00:00",
            "ends_at": "2026-09-10T10:00:00",
            "participants": [
                {"role": "liaison", "staff_id": ids[f"luoyang-liaison-{n}"]},
                {"role": "liaison", "staff_id": ids[f"luohe-liaison-{n}"]},
            ],
        }
        sent = time.perf_counter()
        call(base, "/api/v1/sessions", body, token)
        arrived = inbox.wait(title, 2, GIVE_UP)
        if arrived is None:
            raise SystemExit(f"booking {n}: its invites did not arrive within {GIVE_UP:g} s")
        latencies.append(arrived - sent)
    return latencies


def wait_ready(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Wait until the instance answers /readyz."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(base + "/readyz", timeout=2) as response:
                if response.status == 200:
                    return
        except (OSError, urllib.error.HTTPError):
            pass
        time.sleep(0.2)
    raise SystemExit(f"the server never became ready:\n{log.read_text(errors='replace')[-3000:]}")


def wait_logged(log: Path, text: str, process: subprocess.Popen[bytes]) -> None:
    """Wait until a process wrote ``text`` to its log."""
    deadline = time.monotonic() + 120
    while text not in log.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"no {text!r}:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.2)


def spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start a server process, its output to ``log``."""
    with log.open("ab") as out:
        return subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, as systemd stops it; SIGKILL if it lingers."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run(setup: str, database_url: str, bookings: int, inbox: Inbox, smtp_port: int) -> list:
    """One set-up, from an empty database: the latencies of ``bookings`` bookings."""
    with tempfile.TemporaryDirectory() as folder:
        env = environment(database_url, folder, smtp_port, keys())
        ids = prepare(env, bookings)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        processes = []
        try:
            if setup == "serve":
                log = Path(folder) / "serve.log"
                processes.append(
                    spawn([str(BIN / "hearings"), "serve", "--port", str(port)], env, log)
                )
                wait_ready(base, processes[0], log)
            else:
                log = Path(folder) / "gunicorn.log"
                conf = ROOT / "deploy" / "gunicorn.conf.py"
                processes.append(
                    spawn(
                        [str(BIN / "gunicorn"), "-c", str(conf)],
                        env | {"HEARINGS_BIND": f"127.0.0.1:{port}"},
                        log,
                    )
                )
                wait_ready(base, processes[0], log)
                scheduler_log = Path(folder) / "scheduler.log"
                processes.append(spawn([str(BIN / "hearings"), "scheduler"], env, scheduler_log))
                wait_logged(scheduler_log, "Scheduler running", processes[1])
            token = call(
                base, "/api/v1/auth/token", {"username": "bench-admin", "password": PASSWORD}
            )["access_token"]
            return measure(base, inbox, bookings, ids, token)
        finally:
            for process in processes:
                stop(process)


def figures(samples: list[float]) -> tuple[float, float, float]:
    """p50, p99 and max, seconds."""
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return cuts[49], cuts[98], max(samples)


def reset_postgres(url: str) -> None:
    """Drop and recreate schema ``public`` of the bench's database."""
    import sqlalchemy as sa

    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


def main() -> None:
    """Run both set-ups and print the table."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--bookings", type=int, default=50)
    parser.add_argument(
        "--database-url",
        default="postgresql://postgres@127.0.0.1:5432/h_c",
        help="PostgreSQL for the gunicorn + scheduler set-up",
    )
    parser.add_argument("--only", choices=("serve", "topology"))
    args = parser.parse_args()
    inbox = Inbox()
    smtp_port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    load_before = os.getloadavg()
    results = {}
    try:
        if args.only in (None, "serve"):
            with tempfile.TemporaryDirectory() as folder:
                url = f"sqlite:///{folder}/bench.sqlite3"
                results["hearings serve (SQLite)"] = run(
                    "serve", url, args.bookings, inbox, smtp_port
                )
        if args.only in (None, "topology"):
            reset_postgres(args.database_url)
            results["gunicorn + scheduler (PostgreSQL)"] = run(
                "topology", args.database_url, args.bookings, inbox, smtp_port
            )
    finally:
        controller.stop()
    load_after = os.getloadavg()
    print(f"\n{'set-up':<36}{'p50':>9}{'p99':>9}{'max':>9}   target    result")
    for name, samples in results.items():
        p50, p99, top = figures(samples)
        verdict = "PASS" if p99 <= TARGET_P99 else "MISS"
        print(f"{name:<36}{p50:>8.2f}s{p99:>8.2f}s{top:>8.2f}s   p99 ≤ {TARGET_P99:g} s  {verdict}")
    print(
        f"({args.bookings} bookings each, booking POST → both invites accepted by SMTP; "
        f"sweep interval 60 s; {os.cpu_count()} cores; load average "
        f"{load_before[0]:.1f} before, {load_after[0]:.1f} after; "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})"
    )


if __name__ == "__main__":
    main()
