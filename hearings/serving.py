"""Serving on one machine (werkzeug), with request logs that never show a join token."""

from __future__ import annotations

import re
from typing import Any

from werkzeug.serving import WSGIRequestHandler, run_simple

#: A join link's token is a bearer credential: logs show ``/join/…`` instead.
_JOIN_TOKEN = re.compile(r"(/join/)[^\s?#/]+")


def redact(text: str) -> str:
    """Hide join tokens in a logged path or request line."""
    return _JOIN_TOKEN.sub(r"\1…", text)


class RedactingRequestHandler(WSGIRequestHandler):
    """werkzeug's request handler, logging request lines with join tokens hidden."""

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
