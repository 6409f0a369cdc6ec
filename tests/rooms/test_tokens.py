"""Room tokens: claims, time window, key rotation, and the JWT attacks they must refuse."""

from __future__ import annotations

import base64
import json
from datetime import datetime

import jwt
import pytest
import sqlalchemy as sa

from hearings import create_app
from hearings.courts.auth import issue_api_token
from hearings.extensions import db
from hearings.rooms.models import JoinLink
from hearings.rooms.tokens import RoomRefusal, verify_room_token
from hearings.scheduling.models import Participant
from hearings.timekeeping import COURT_TZ
from hearings.tokens import KeyRing
from tests.conftest import TEST_KEY, base_config


def b64(data: dict | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def claims_of(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


@pytest.fixture
def issued(now_session):
    """A mediation happening now and the applicant's genuine token and claims."""
    s = now_session("mediation")
    token = s["tokens"]["applicant"]
    return s, token, claims_of(token)


def refusal(token, session_id=None) -> int:
    with pytest.raises(RoomRefusal) as caught:
        verify_room_token(token, session_id)
    return caught.value.code


def test_genuine_token_has_the_contract_claims(issued):
    s, token, claims = issued
    assert jwt.get_unverified_header(token)["kid"] == "k0"
    assert set(claims) == {
        "iss",
        "aud",
        "sub",
        "room",
        "role",
        "name",
        "can",
        "iat",
        "nbf",
        "exp",
        "jti",
    }
    assert claims["aud"] == "hearings-room"
    assert claims["room"] == s["id"]
    assert claims["role"] == "party" and claims["name"] == "张三"
    assert claims["can"] == ["publish", "subscribe"]
    # nbf 30 minutes before the 09:15 start, exp 2 hours after the 10:15 end.
    assert claims["nbf"] == int(datetime(2026, 9, 1, 8, 45, tzinfo=COURT_TZ).timestamp())
    assert claims["exp"] == int(datetime(2026, 9, 1, 12, 15, tzinfo=COURT_TZ).timestamp())
    mediator = claims_of(s["tokens"]["mediator"])
    assert mediator["can"] == ["publish", "subscribe", "moderate"]
    admission = verify_room_token(token, s["id"])
    assert admission.participant.id == int(claims["sub"])


def test_unsigned_tokens_are_refused(issued):
    s, _, claims = issued
    for alg in ("none", "NONE", "noNE"):
        forged = f"{b64({'alg': alg, 'kid': 'k0', 'typ': 'JWT'})}.{b64(claims)}."
        assert refusal(forged, s["id"]) == 4401, alg


def test_other_keys_and_tampering_are_refused(issued):
    s, token, claims = issued
    assert refusal(jwt.encode(claims, "another-key-" * 4, headers={"kid": "k0"}), s["id"]) == 4401
    header, _, signature = token.split(".")
    tampered = f"{header}.{b64({**claims, 'role': 'presiding_judge'})}.{signature}"
    assert refusal(tampered, s["id"]) == 4401
    for kid in ("../../etc/passwd", "k1", "", None):
        headers = {"kid": kid} if kid is not None else {}
        assert refusal(jwt.encode(claims, TEST_KEY, headers=headers), s["id"]) == 4401, kid
    assert refusal(token[:-4], s["id"]) == 4401
    assert refusal("", s["id"]) == 4401
    assert refusal(12345, s["id"]) == 4401


@pytest.mark.parametrize(
    "claim", ["iss", "aud", "sub", "iat", "nbf", "exp", "jti", "room", "role", "name", "can"]
)
def test_each_claim_is_required(issued, claim):
    s, _, claims = issued
    del claims[claim]
    assert refusal(jwt.encode(claims, TEST_KEY, headers={"kid": "k0"}), s["id"]) == 4401


def test_wrong_audience_issuer_and_expiry(issued, app):
    s, _, claims = issued

    def signed(**changes):
        return jwt.encode({**claims, **changes}, TEST_KEY, headers={"kid": "k0"})

    assert refusal(signed(aud="hearings-api"), s["id"]) == 4401
    assert refusal(signed(iss="someone-else"), s["id"]) == 4401
    assert refusal(signed(nbf="yesterday"), s["id"]) == 4401
    assert refusal(signed(room=s["id"] + 1), s["id"]) == 4403
    app.config["NOW"] = "2026-09-01T12:30:00+08:00"  # two hours after the end: expired
    assert refusal(signed(), s["id"]) == 4408


def test_api_tokens_and_room_tokens_are_not_interchangeable(issued, client, court_staff):
    s, room_token, _ = issued
    api_token, _ = issue_api_token(court_staff["luoyang-admin"])
    assert refusal(api_token, s["id"]) == 4401
    response = client.get("/api/v1/sessions", headers={"Authorization": f"Bearer {room_token}"})
    assert response.status_code == 401


def test_removed_participant_and_cancelled_session(issued, client, auth, court_staff):
    s, token, claims = issued
    admin = auth(court_staff["luoyang-admin"])
    client.delete(f"/api/v1/sessions/{s['id']}/participants/{claims['sub']}", headers=admin)
    assert refusal(token, s["id"]) == 4403
    client.post(f"/api/v1/sessions/{s['id']}/cancel", json={"reason": "撤回"}, headers=admin)
    assert refusal(s["tokens"]["mediator"], s["id"]) == 4403


def test_rescheduling_moves_the_window(issued, client, auth, court_staff):
    s, token, _ = issued
    moved = client.patch(
        f"/api/v1/sessions/{s['id']}",
        json={"starts_at": "2026-09-02T09:00", "ends_at": "2026-09-02T10:00"},
        headers=auth(court_staff["luoyang-admin"]),
    )
    assert moved.status_code == 200, moved.json
    assert refusal(token, s["id"]) == 4408
    # The links page's "valid until" follows the move: 2 hours after the new end.
    link = db.session.scalar(sa.select(JoinLink).where(JoinLink.jti == claims_of(token)["jti"]))
    assert link.expires_at == datetime(2026, 9, 2, 12, 0, tzinfo=COURT_TZ)


def test_key_rotation(issued, tmp_path, database_url):
    s, old_token, _ = issued
    rotated = create_app(
        {**base_config(database_url, tmp_path), "SIGNING_KEYS": f"k1:{'n' * 40},k0:{TEST_KEY}"}
    )
    with rotated.app_context():
        # The old key still verifies until it is removed ...
        assert verify_room_token(old_token, s["id"]).participant.id
        participant = db.session.get(Participant, s["participants"][0]["id"])
        from hearings.rooms.tokens import issue_room_token

        new_token, _ = issue_room_token(participant, None)
        db.session.commit()
        assert jwt.get_unverified_header(new_token)["kid"] == "k1"
        db.session.remove()
        db.engine.dispose()
    retired = create_app({**base_config(database_url, tmp_path), "SIGNING_KEYS": f"k1:{'n' * 40}"})
    with retired.app_context():
        assert refusal(old_token, s["id"]) == 4401
        assert verify_room_token(new_token, s["id"]).participant.id == participant.id
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize(
    "spec", ["k0:short", "k0:" + "x" * 31, "nokid", "k0:" + "x" * 40 + ",k1:tiny"]
)
def test_short_or_malformed_keys_refused_at_start(spec):
    with pytest.raises(ValueError):
        KeyRing.parse(spec, TEST_KEY)


def test_short_secret_key_refused_by_the_factory(tmp_path):
    with pytest.raises(ValueError, match="at least 32"):
        create_app({**base_config("sqlite://", tmp_path), "SECRET_KEY": "too-short"})
