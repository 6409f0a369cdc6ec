"""Structured logs: one JSON line per request and per signaling event, secrets scrubbed.

Every record passes a filter that cuts out what must never reach a log file, whoever
logged it (the app, a library, gunicorn): join-link and room tokens (JWTs) and resident ID
numbers. Events carry their fields as ``extra={"fields": {...}}``; :func:`event` does that.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from datetime import UTC, datetime
from typing import Any

from flask import Flask, g, request

#: A JWT (three base64url parts, the first two JSON objects): ``eyJ…``.
_JWT = re.compile(r"eyJ[\w-]{4,}\.eyJ[\w-]{4,}\.[\w-]+")
#: A join link's token in a path, whatever it looks like.
_JOIN_PATH = re.compile(r"(/join/)[^\s?#/\"']+")
#: A resident ID number (GB 11643): 17 digits and a check digit or X, standing alone.
_ID_NUMBER = re.compile(r"(?<![\dA-Za-z])\d{17}[\dXx](?![\dA-Za-z])")

request_log = logging.getLogger("hearings.request")


def scrub(text: str) -> str:
    """Hide tokens and ID numbers in a log line."""
    text = _JOIN_PATH.sub(r"\1…", text)
    text = _JWT.sub("[token]", text)
    return _ID_NUMBER.sub("[id-number]", text)


class ScrubFilter(logging.Filter):
    """Rewrites each record's message (and fields) with tokens and ID numbers cut out."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = scrub(message)
        if clean != message or record.args:
            record.msg, record.args = clean, None
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            record.fields = {k: scrub(v) if isinstance(v, str) else v for k, v in fields.items()}
        if record.exc_info and not record.exc_text:
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, event (the message), its fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["error"] = scrub(record.exc_text)
        return json.dumps(line, ensure_ascii=False, default=str)


class KeyValueFormatter(logging.Formatter):
    """``time level logger event key=value …``: the same events for a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "fields", None) or {}
        pairs = " ".join(f"{k}={json.dumps(v, ensure_ascii=False, default=str)}"
                         for k, v in fields.items())  # fmt: skip
        head = f"{self.formatTime(record)} {record.levelname} {record.name} {record.getMessage()}"
        text = f"{head} {pairs}" if pairs else head
        if record.exc_info:
            text += "\n" + (record.exc_text or self.formatException(record.exc_info))
        return text


def configure(fmt: str = "json", level: str = "INFO") -> None:
    """Send every log record to stderr, scrubbed, as JSON lines or key=value lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else KeyValueFormatter())
    handler.addFilter(ScrubFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())


def event(logger: logging.Logger, name: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log one structured event."""
    if logger.isEnabledFor(level):
        logger.log(level, name, extra={"fields": fields})


def init_app(app: Flask) -> None:
    """Log one ``request`` event per request (a WebSocket's when it closes)."""

    @app.before_request
    def _start_clock() -> None:
        g.request_started = time.perf_counter()

    @app.after_request
    def _log_request(response: Any) -> Any:
        started = g.get("request_started")
        event(
            request_log,
            "request",
            method=request.method,
            path=scrub(request.path),
            status=response.status_code,
            ms=round((time.perf_counter() - started) * 1000, 1) if started else None,
            # The peer, or what trusted proxies said (HEARINGS_TRUSTED_PROXIES, ProxyFix):
            # never the first X-Forwarded-For entry, which the client writes itself.
            remote=request.remote_addr,
        )
        return response
