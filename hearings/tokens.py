"""Signed tokens (JWT): the one place that issues and decodes them.

Each kind of token has its own audience, so a staff API token is never accepted where a
room token is expected, nor the other way round. Keys carry a ``kid`` and rotate: the first
key of the ring signs, every key of the ring verifies until it is removed.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jwt
from flask import current_app

from hearings.timekeeping import utcnow

ALGORITHM = "HS256"
ISSUER = "hearings"
API_AUDIENCE = "hearings-api"
ROOM_AUDIENCE = "hearings-room"
MIN_KEY_BYTES = 32
#: Seconds of clock skew tolerated between the token's issuer and its reader.
LEEWAY = 5


class TokenError(Exception):
    """The token is missing, malformed, forged, expired or meant for something else."""

    def __init__(self, reason: str, *, not_yet_valid: bool = False, expired: bool = False):
        super().__init__(reason)
        self.not_yet_valid = not_yet_valid
        self.expired = expired


@dataclass(frozen=True)
class KeyRing:
    """Signing keys by ``kid``; ``current`` signs new tokens."""

    keys: dict[str, bytes]
    current: str

    @classmethod
    def parse(cls, spec: str | None, fallback: str) -> KeyRing:
        """Read ``kid:secret,kid:secret``; refuse any key shorter than 32 bytes."""
        pairs: list[tuple[str, bytes]] = []
        if spec:
            for item in spec.split(","):
                kid, sep, secret = item.strip().partition(":")
                if not sep or not kid or not secret:
                    raise ValueError("HEARINGS_SIGNING_KEYS must be 'kid:secret,kid:secret'")
                pairs.append((kid, secret.encode()))
        else:
            pairs.append(("k0", fallback.encode()))
        for kid, key in pairs:
            if len(key) < MIN_KEY_BYTES:
                raise ValueError(
                    f"signing key {kid!r} is {len(key)} bytes; at least {MIN_KEY_BYTES} needed"
                )
        return cls(keys=dict(pairs), current=pairs[0][0])


def key_ring() -> KeyRing:
    """The app's key ring (built and checked once, in ``create_app``)."""
    return current_app.extensions["hearings.keyring"]


def issue_token(
    audience: str,
    subject: str,
    claims: dict[str, Any] | None = None,
    *,
    not_before: datetime | None = None,
    expires: datetime,
) -> str:
    """Sign a token for ``audience`` about ``subject`` with the current key."""
    ring = key_ring()
    now = utcnow()
    payload: dict[str, Any] = {
        "iss": ISSUER,
        "aud": audience,
        "sub": subject,
        "iat": int(now.timestamp()),
        "nbf": int((not_before or now).timestamp()),
        "exp": int(expires.timestamp()),
        "jti": secrets.token_urlsafe(16),
    }
    payload.update(claims or {})
    return jwt.encode(
        payload, ring.keys[ring.current], algorithm=ALGORITHM, headers={"kid": ring.current}
    )


def decode_token(
    token: str, audience: str, extra_required: tuple[str, ...] = (), *, check_times: bool = True
) -> dict[str, Any]:
    """Verify a token's signature, algorithm, audience, issuer, times and required claims.

    ``check_times=False`` skips only ``nbf``/``exp`` (a page saying "come back at …").
    """
    ring = key_ring()
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise TokenError(f"malformed token: {error}") from None
    kid = header.get("kid")
    if not isinstance(kid, str) or kid not in ring.keys:
        raise TokenError("unknown signing key")
    try:
        claims = jwt.decode(
            token,
            ring.keys[kid],
            algorithms=[ALGORITHM],
            audience=audience,
            issuer=ISSUER,
            # Times are checked below against the app's clock, which demos and tests freeze.
            options={
                "require": ["iss", "aud", "sub", "iat", "nbf", "exp", "jti", *extra_required],
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
            },
        )
    except jwt.PyJWTError as error:
        raise TokenError(f"invalid token: {error}") from None
    for name in ("iat", "nbf", "exp"):
        if not isinstance(claims[name], int | float) or isinstance(claims[name], bool):
            raise TokenError(f"invalid token: {name} is not a number")
    if check_times:
        check_token_times(claims)
    return claims


def check_token_times(claims: dict[str, Any]) -> None:
    """Refuse a decoded token outside its ``nbf``–``exp`` window (by the app's clock)."""
    now = utcnow().timestamp()
    if claims["nbf"] > now + LEEWAY:
        raise TokenError("token not yet valid", not_yet_valid=True)
    if claims["exp"] <= now - LEEWAY:
        raise TokenError("token expired", expired=True)
