"""gunicorn settings for one hearings app instance (``gunicorn -c gunicorn.conf.py``).

Each instance is one gevent worker: WebSockets are greenlets, not threads, so one process
holds thousands of room sockets. Several instances (one per core) sit behind nginx and
share rooms through Redis (``HEARINGS_REDIS_URL``). Bind with ``-b`` or ``HEARINGS_BIND``.
"""

from __future__ import annotations

import os
import signal
from typing import Any

wsgi_app = "hearings:create_app()"
bind = [os.environ.get("HEARINGS_BIND", "127.0.0.1:8001")]
#: One worker per instance: the room hub is per process and instances share rooms through
#: Redis; run more instances (systemd ``hearings-web@PORT``) rather than more workers.
workers = int(os.environ.get("HEARINGS_WORKERS", "1"))
worker_class = "gevent"
#: Open sockets (room WebSockets + HTTP) one worker holds.
worker_connections = 4000
#: On SIGTERM rooms are told to reconnect (1012) at once; this bounds the rest.
graceful_timeout = 20
timeout = 30
keepalive = 5
#: nginx in front terminates TLS and sets X-Forwarded-*: trust it from loopback only.
forwarded_allow_ips = "127.0.0.1"
#: The app logs each request itself (structured, tokens redacted): no gunicorn access log,
#: whose format would show a join link's token.
accesslog = None
errorlog = "-"
loglevel = "info"
#: The aiortc recorder can't run in a gevent-patched process: a `hearings recorder` process
#: (its own systemd unit) records instead. nginx is the one proxy in front: the app takes
#: the client's address from the X-Forwarded-For entry nginx appends (the sign-in limit per
#: address counts it); without this every client would be 127.0.0.1.
raw_env = ["HEARINGS_RECORDER_MODE=external", "HEARINGS_TRUSTED_PROXIES=1"]
limit_request_line = 8190
limit_request_field_size = 8190
proc_name = "hearings-web"


def on_starting(server: Any) -> None:
    """Refuse to start, in one line and with status 78, without keys nobody else knows."""
    import sys

    from hearings.keys import EX_CONFIG, environment_refusal

    refusal = environment_refusal()
    if refusal:
        print(refusal, file=sys.stderr, flush=True)
        # Before any socket is bound or worker forked; systemd does not restart on 78
        # (RestartPreventExitStatus), since starting again would fail the same way.
        sys.exit(EX_CONFIG)


def post_worker_init(worker: Any) -> None:
    """On SIGTERM, tell this worker's rooms to reconnect (1012) before draining."""
    import logging

    import gevent

    from hearings.logs import ScrubFilter, configure
    from hearings.rooms import shutdown_rooms

    app = worker.wsgi
    configure(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])
    for handler in logging.getLogger("gunicorn.error").handlers:
        handler.addFilter(ScrubFilter())  # its "Error handling request <path>" lines too
    stop = worker.handle_exit

    def on_term(sig: int, frame: Any) -> None:
        # Out of the signal handler: closing sockets may block on a slow peer.
        gevent.spawn(shutdown_rooms, app)
        stop(sig, frame)

    signal.signal(signal.SIGTERM, on_term)
