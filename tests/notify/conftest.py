"""Real peers for notify tests: an aiosmtpd server on a free port, a WeChat Work robot
stand-in that records the JSON posted to it, and helpers to read what arrived."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask

from tests.fixtures.smtp import SMTP_ALLOWED

HOST = "127.0.0.1"
WAIT = 20  # seconds: the longest any test waits for a message before it fails


def free_port() -> int:
    """A TCP port nobody listens on (yet)."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Mailbox:
    """What the SMTP server received, with a way to wait for it."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], EmailMessage]] = []
        self.changed = threading.Condition()
        #: Addresses the server refuses for good (550).
        self.refuse: set[str] = set()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = BytesParser(policy=policy.SMTP).parsebytes(envelope.original_content)
        with self.changed:
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message))
            self.changed.notify_all()
        return "250 OK"

    def wait_for(
        self,
        count: int,
        match: Callable[[EmailMessage], bool] = lambda m: True,
        timeout: float = WAIT,
    ):
        """Wait until ``count`` matching messages arrived (at most ``timeout`` s); return them."""
        with self.changed:
            ok = self.changed.wait_for(lambda: len(self.matching(match)) >= count, timeout=timeout)
        found = self.matching(match)
        assert ok, f"{len(found)} of {count} messages arrived"
        return found

    def matching(self, match: Callable[[EmailMessage], bool]) -> list[EmailMessage]:
        return [m for _, _, m in list(self.messages) if match(m)]

    def to(self, address: str) -> list[EmailMessage]:
        return [m for _, rcpt, m in list(self.messages) if address in rcpt]


class SmtpServer:
    """An aiosmtpd server that can be started late (to play a server that was down)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.mailbox = Mailbox()
        self.controller: Controller | None = None
        self.url = f"smtp://{HOST}:{port}"
        SMTP_ALLOWED.add((HOST, port))

    def start(self) -> None:
        self.controller = Controller(self.mailbox, hostname=HOST, port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None
        SMTP_ALLOWED.discard((HOST, self.port))


@pytest.fixture
def smtp_down(app: Flask) -> Iterator[SmtpServer]:
    """The app's SMTP server, not yet running (``.start()`` it)."""
    server = SmtpServer(free_port())
    app.config["SMTP_URL"] = server.url
    yield server
    server.stop()


@pytest.fixture
def smtp(smtp_down: SmtpServer) -> SmtpServer:
    """The app's SMTP server, running."""
    smtp_down.start()
    return smtp_down


class Robot:
    """Records what is posted to it, as a WeChat Work group robot would receive it."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, dict[str, Any]]] = []
        self.answer: dict[str, Any] = {"errcode": 0, "errmsg": "ok"}
        self.changed = threading.Condition()
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with robot.changed:
                    robot.posts.append((self.path, json.loads(body)))
                    robot.changed.notify_all()
                data = json.dumps(robot.answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.base = f"http://{HOST}:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=WAIT)


@pytest.fixture
def robot(app: Flask) -> Iterator[Robot]:
    """A WeChat Work robot per court: ``/luoyang`` and ``/luohe`` on one local server."""
    robot = Robot()
    app.config["WECOM_WEBHOOK_URL"] = (
        f"luoyang={robot.base}/luoyang?key=a,luohe={robot.base}/luohe?key=b"
    )
    yield robot
    robot.close()


def ics_of(message: EmailMessage) -> tuple[str, bytes, bytes]:
    """The invite in a message: (method of the text/calendar part, its bytes, the attachment)."""
    calendar_part = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
    attachment = next(p for p in message.iter_attachments() if p.get_filename() == "invite.ics")
    return (
        calendar_part.get_param("method"),
        calendar_part.get_payload(decode=True),
        attachment.get_payload(decode=True),
    )
