"""ICE servers in ``welcome``: STUN as configured, TURN with coturn REST credentials."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime

from tests.conftest import FROZEN_NOW


def test_welcome_hands_out_minted_turn_credentials(app, now_session, join):
    app.config.update(
        STUN_URLS="stun:stun.court.example:3478",
        TURN_URLS="turn:turn.court.example:3478?transport=udp,turns:turn.court.example:5349",
        TURN_SECRET="coturn-static-auth-secret-0123456789",
        TURN_TTL=3600,
    )
    s = now_session("mediation")
    peer = join(s["id"], s["tokens"]["applicant"])
    stun, turn = peer.welcome["ice_servers"]
    assert stun == {"urls": ["stun:stun.court.example:3478"]}
    assert turn["urls"] == [
        "turn:turn.court.example:3478?transport=udp",
        "turns:turn.court.example:5349",
    ]
    expiry, who = turn["username"].split(":")
    assert int(expiry) == int(datetime.fromisoformat(FROZEN_NOW).timestamp()) + 3600
    assert who == f"p{s['participants'][1]['id']}"
    expected = hmac.new(
        b"coturn-static-auth-secret-0123456789", turn["username"].encode(), hashlib.sha1
    ).digest()
    assert base64.b64decode(turn["credential"]) == expected
    # The shared secret itself never reaches the browser.
    assert "coturn-static-auth-secret" not in str(peer.welcome)


def test_no_turn_without_a_secret(app, now_session, join):
    app.config.update(TURN_URLS="turn:turn.court.example:3478", TURN_SECRET=None)
    s = now_session("mediation")
    assert join(s["id"], s["tokens"]["mediator"]).welcome["ice_servers"] == []
