"""One room WebSocket in this process: serialized sends, a token-bucket frame limit, and a
close that lets the peer read its close code."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from typing import Any

from wsproto.events import CloseConnection, Ping, TextMessage

from hearings.rooms.bus import PeerInfo


def send_close(ws: Any, code: int, reason: str) -> None:
    """Send a close frame but leave the socket to the reader thread.

    simple_websocket's own ``close`` shuts the socket at once; the peer's close reply then
    meets a closed socket, the kernel answers with a reset, and the peer may never read
    the close code (4403 …). Sending only the frame lets the reader thread finish the
    closing handshake; ``finish`` waits for it.
    """
    with contextlib.suppress(Exception):  # the other side may be gone already
        ws.sock.sendall(ws.ws.send(CloseConnection(code=code, reason=reason)))


def finish(ws: Any, timeout: float = 2.0) -> None:
    """Wait (briefly) for the closing handshake before the server lets go of the socket."""
    thread = getattr(ws, "thread", None)
    if thread is not None and thread is not threading.current_thread():
        thread.join(timeout)


class Connection:
    """One WebSocket in this process: sends are serialized, close happens once."""

    def __init__(self, ws: Any, info: PeerInfo, rate: float, burst: int) -> None:
        self.ws = ws
        self.info = info
        self.departure = "dropped"  # until the peer says goodbye or is sent away
        self.closed = threading.Event()
        self._lock = threading.Lock()
        self._rate, self._burst = rate, float(burst)
        self._tokens, self._last = float(burst), time.monotonic()

    def send(self, frame: dict[str, Any]) -> None:
        """Send a frame; a dead socket just marks the connection closed."""
        with self._lock:
            if self.closed.is_set():
                return
            try:
                # sendall, not simple_websocket's send: a large SDP on a full socket
                # buffer must not go out cut short.
                data = self.ws.ws.send(TextMessage(data=json.dumps(frame, ensure_ascii=False)))
                self.ws.sock.sendall(data)
            except Exception:  # the peer went away mid-send: the handler thread cleans up
                self.closed.set()

    def ping(self) -> bool:
        """Ping the peer; a peer that did not answer the last ping is closed (dropped)."""
        with self._lock:
            if self.closed.is_set():
                return True
            if not self.ws.pong_received:  # set by the reader on every pong
                self.closed.set()
                send_close(self.ws, 1011, "no answer to ping")
                return False
            self.ws.pong_received = False
            try:
                self.ws.sock.sendall(self.ws.ws.send(Ping()))
            except Exception:  # gone: the handler thread cleans up
                self.closed.set()
            return True

    def close(self, code: int, reason: str, departure: str | None = None) -> None:
        """Close with a WebSocket close code (4403, 4413 …), once."""
        with self._lock:
            if self.closed.is_set():
                return
            if departure:
                self.departure = departure
            self.closed.set()
            send_close(self.ws, code, reason)

    def allow_frame(self) -> bool:
        """Token bucket: sustained ``rate`` frames per second, bursts up to ``burst``."""
        now = time.monotonic()
        self._tokens = min(self._burst, self._tokens + (now - self._last) * self._rate)
        self._last = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True
