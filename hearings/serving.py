"""Serving on one machine (werkzeug), with request logs that never show a join token."""

from __future__ import annotations

import contextlib
import re
import socket
from typing import Any

from werkzeug.serving import WSGIRequestHandler, run_simple

#: A join link's token is a bearer credential: logs show ``/join/…`` instead.
_JOIN_TOKEN = re.compile(r"(/join/)[^\s?#/]+")


def redact(text: str) -> str:
    """Hide join tokens in a logged path or request line."""
    return _JOIN_TOKEN.sub(r"\1…", text)


class RedactingRequestHandler(WSGIRequestHandler):
    """werkzeug's request handler: join tokens hidden in logs, small frames sent at once."""

    def setup(self) -> None:
        """Turn off Nagle's algorithm: a signaling frame must not wait for the next one."""
        super().setup()
        with contextlib.suppress(OSError):  # not a TCP socket (tests may use others)
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Log the request with the token cut out of its path."""
        saved = {
            name: getattr(self, name) for name in ("path", "requestline") if hasattr(self, name)
        }
        for name, value in saved.items():
            setattr(self, name, redact(value))
        try:
            super().log_request(code, size)
        finally:
            for name, value in saved.items():
                setattr(self, name, value)


def serve(app: Any, host: str, port: int) -> None:
    """Run the threaded werkzeug server (one thread per request or WebSocket)."""
    run_simple(
        host, port, app, threaded=True, use_reloader=False, request_handler=RedactingRequestHandler
    )
