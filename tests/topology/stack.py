"""The production set-up on loopback, started from the files in ``deploy/``.

nginx (TLS, the WebSocket upgrade) in front of two gunicorn app instances (gevent workers),
one ``hearings scheduler``, coturn with the REST shared secret, the test's own redis-server
(which the test stops and starts) and PostgreSQL. Every server gets its own config, ports,
pid and log files in a temporary folder; nothing is installed as a system service.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tests.conftest import TEST_KEYS_ENV
from tests.servers import RedisServer, free_port, listening, stop, wait_until

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
BIN = Path(sys.executable).parent
TURN_SECRET = "topology-turn-secret-0123456789abcdef"


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key (the test trusts exactly this one)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def render(text: str, replacements: dict[str, str]) -> str:
    """The deploy file with the test's ports and paths; every replacement must apply."""
    for old, new in replacements.items():
        assert old in text, f"deploy file changed: {old!r} not found"
        text = text.replace(old, new)
    return text


class Stack:
    """Start, stop and look at the servers of the production set-up."""

    def __init__(self, folder: Path, database_url: str, smtp_url: str) -> None:
        self.folder = folder
        self.redis = RedisServer(folder / "redis")
        self.nginx_port, self.turn_port = free_port(), free_port()
        self.app_ports = [free_port(), free_port()]
        self.base = f"https://127.0.0.1:{self.nginx_port}"
        self.cert, self.key = self_signed(folder)
        self.tls = ssl.create_default_context(cafile=str(self.cert))
        self.apps: dict[int, subprocess.Popen[bytes]] = {}
        self.others: dict[str, subprocess.Popen[bytes]] = {}
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("HEARINGS_")}
        self.env |= {
            "HEARINGS_DATABASE_URL": database_url,
            "HEARINGS_REDIS_URL": self.redis.url,
            "HEARINGS_ROOM_BUS_PREFIX": "topology",
            **TEST_KEYS_ENV,
            "HEARINGS_SITE_URL": self.base,
            "HEARINGS_SMTP_URL": smtp_url,
            "HEARINGS_TURN_URLS": f"turn:127.0.0.1:{self.turn_port}",
            "HEARINGS_TURN_SECRET": TURN_SECRET,
            "HEARINGS_REMINDER_MINUTES": "60",
            "HEARINGS_SCHEDULER_SWEEP_SECONDS": "3",
            "HEARINGS_ROOM_EARLY_MINUTES": "120",
            "HEARINGS_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "HEARINGS_LOG_FORMAT": "json",
            "HEARINGS_INSTANCE_PATH": str(folder / "instance"),
        }

    # --- processes --------------------------------------------------------------------
    def _spawn(self, name: str, args: list[str], **env: str) -> subprocess.Popen[bytes]:
        with (self.folder / f"{name}.log").open("ab") as out:
            return subprocess.Popen(
                args, env={**self.env, **env}, stdout=out, stderr=subprocess.STDOUT
            )

    def log(self, name: str) -> str:
        """What a server wrote so far."""
        path = self.folder / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def migrate(self) -> None:
        """``hearings migrate``, as the oneshot unit runs it before the instances."""
        done = subprocess.run([str(BIN / "hearings"), "migrate"], env=self.env,
                              capture_output=True, text=True, timeout=120)  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr

    def start_app(self, port: int) -> None:
        """One app instance as ``hearings-web@PORT`` runs it: gunicorn, deploy's config."""
        args = [str(BIN / "gunicorn"), "-c", str(DEPLOY / "gunicorn.conf.py")]
        self.apps[port] = self._spawn(f"app-{port}", args, HEARINGS_BIND=f"127.0.0.1:{port}")
        wait_until(lambda: self._ready(port), 60, f"app instance on {port} to be ready")

    def _ready(self, port: int) -> bool:
        process = self.apps[port]
        assert process.poll() is None, f"app on {port} exited: {self.log(f'app-{port}')[-3000:]}"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
                return bool(r.status == 200)
        except (OSError, urllib.error.HTTPError):
            return False

    def worker_pid(self, port: int) -> int:
        """The pid of an instance's gevent worker (its master's only child)."""
        master = self.apps[port].pid

        def child() -> int | None:
            found = Path(f"/proc/{master}/task/{master}/children").read_text().split()
            return int(found[0]) if found else None

        return int(wait_until(child, 10, "gunicorn's worker"))

    def kill_app(self, port: int) -> None:
        """The instance dies at once (power cut, OOM kill): master and worker, SIGKILL."""
        worker = self.worker_pid(port)
        process = self.apps.pop(port)
        process.kill()  # the master first, so that nothing respawns the worker
        os.kill(worker, signal.SIGKILL)
        process.wait(10)

    def terminate_app(self, port: int) -> int:
        """Stop an instance as systemd does (SIGTERM); its exit code."""
        process = self.apps.pop(port)
        process.terminate()
        return process.wait(30)

    def start_scheduler(self) -> None:
        """``hearings scheduler``, the one per deployment."""
        self.others["scheduler"] = self._spawn("scheduler", [str(BIN / "hearings"), "scheduler"])
        wait_until(lambda: "Scheduler running" in self.log("scheduler"), 60, "the scheduler")

    def terminate_scheduler(self) -> int:
        """Stop the scheduler as systemd does (SIGTERM); its exit code."""
        process = self.others.pop("scheduler")
        process.terminate()
        return process.wait(60)

    def start_turn(self) -> None:
        """coturn from deploy's config, on loopback, relaying between loopback peers."""
        lines = (DEPLOY / "coturn" / "turnserver.conf").read_text().splitlines()
        # Test-only: loopback addresses, no TLS (the deploy config's certificate paths),
        # relaying to loopback peers (which production denies), a verbose log.
        dropped = ("listening-port=", "tls-listening-port=", "denied-peer-ip=", "cert=", "pkey=",
                   "log-file=", "static-auth-secret=", "min-port=", "max-port=")  # fmt: skip
        kept = [line for line in lines if not line.startswith(dropped)]
        relay = free_port(socket.SOCK_DGRAM)
        kept += [
            f"listening-port={self.turn_port}", "listening-ip=127.0.0.1", "relay-ip=127.0.0.1",
            f"static-auth-secret={TURN_SECRET}", "allow-loopback-peers", "no-tls", "no-dtls",
            f"min-port={relay}", f"max-port={relay + 40}", "verbose",
            f"log-file={self.folder / 'turn.log'}", f"pidfile={self.folder / 'turn.pid'}",
            "no-stdout-log",
        ]  # fmt: skip
        conf = self.folder / "turnserver.conf"
        conf.write_text("\n".join(kept) + "\n")
        self.others["turn"] = self._spawn("turnserver", ["turnserver", "-c", str(conf)])
        wait_until(lambda: listening(self.turn_port), 20, "coturn to listen")

    def turn_log(self) -> str:
        """coturn's verbose log (it adds the date to the file name)."""
        return "".join(p.read_text(errors="replace") for p in self.folder.glob("turn*.log"))

    def start_nginx(self) -> None:
        """nginx with deploy's site, our certificate and ports, in a folder of its own."""
        site = render(
            (DEPLOY / "nginx" / "hearings.conf").read_text(),
            {
                "server 127.0.0.1:8001 ": f"server 127.0.0.1:{self.app_ports[0]} ",
                "server 127.0.0.1:8002 ": f"server 127.0.0.1:{self.app_ports[1]} ",
                "    listen 80;\n    listen [::]:80;": f"    listen 127.0.0.1:{free_port()};",
                "    listen 443 ssl http2;\n    listen [::]:443 ssl http2;":
                    f"    listen 127.0.0.1:{self.nginx_port} ssl http2;",
                "/etc/hearings/tls/fullchain.pem": str(self.cert),
                "/etc/hearings/tls/privkey.pem": str(self.key),
                "/var/log/nginx/": f"{self.folder}/nginx-",
                "/opt/hearings/static/": f"{self.folder}/static/",
            },
        )  # fmt: skip
        (self.folder / "static").mkdir(exist_ok=True)
        (self.folder / "static" / "robots.txt").write_text("User-agent: *\nDisallow: /\n")
        (self.folder / "site.conf").write_text(site)
        temp = self.folder / "nginx-temp"
        temp.mkdir(exist_ok=True)
        main = f"""
            user root;
            worker_processes 1;
            daemon off;
            pid {self.folder}/nginx.pid;
            error_log {self.folder}/nginx-main.error.log warn;
            events {{ worker_connections 1024; }}
            http {{
                include /etc/nginx/mime.types;
                client_body_temp_path {temp}/body;
                proxy_temp_path {temp}/proxy;
                fastcgi_temp_path {temp}/fastcgi;
                uwsgi_temp_path {temp}/uwsgi;
                scgi_temp_path {temp}/scgi;
                include {self.folder}/site.conf;
            }}
        """
        (self.folder / "nginx.conf").write_text(main)
        self.others["nginx"] = self._spawn(
            "nginx", ["nginx", "-c", str(self.folder / "nginx.conf"), "-e", "stderr"]
        )
        wait_until(lambda: listening(self.nginx_port), 20, "nginx to listen")

    def alive(self) -> dict[str, bool]:
        """Which of the started processes still run."""
        found = {f"app-{port}": p.poll() is None for port, p in self.apps.items()}
        return found | {name: p.poll() is None for name, p in self.others.items()}

    def close(self) -> None:
        """Stop everything that was started."""
        for process in [*self.apps.values(), *self.others.values()]:
            stop(process)
        self.redis.stop()

    # --- HTTP through nginx ---------------------------------------------------------
    def call(self, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
        """A JSON request through nginx; (status, parsed body)."""
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data, headers, method=method)
        try:
            with urllib.request.urlopen(request, context=self.tls, timeout=20) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            with error:
                assert "json" in error.headers["Content-Type"], error.headers["Content-Type"]
                return error.code, json.loads(error.read() or b"null")
