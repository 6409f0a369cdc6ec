"""ICE servers for browsers: STUN as configured, TURN with per-participant credentials.

TURN uses coturn's REST scheme (``use-auth-secret``): the username is
``<expiry unix time>:<participant>`` and the password ``base64(HMAC-SHA1(secret, username))``,
so no long-lived TURN password ever reaches a browser.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

from flask import current_app

from hearings.timekeeping import utcnow


def _urls(text: str) -> list[str]:
    return [url.strip() for url in text.split(",") if url.strip()]


def turn_credentials(secret: str, who: str, ttl: int) -> tuple[str, str]:
    """coturn REST credentials for ``who``, valid for ``ttl`` seconds."""
    username = f"{int(utcnow().timestamp()) + ttl}:{who}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


def ice_servers(who: str) -> list[dict[str, Any]]:
    """The ``iceServers`` list a peer gets in ``welcome``."""
    config = current_app.config
    servers: list[dict[str, Any]] = []
    stun = _urls(config["STUN_URLS"])
    if stun:
        servers.append({"urls": stun})
    turn = _urls(config["TURN_URLS"])
    if turn and config["TURN_SECRET"]:
        username, credential = turn_credentials(config["TURN_SECRET"], who, config["TURN_TTL"])
        servers.append({"urls": turn, "username": username, "credential": credential})
    return servers
