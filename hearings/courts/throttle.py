"""Sign-in throttling: wrong passwords counted per username and per client address.

The counts live in Redis when ``HEARINGS_REDIS_URL`` is set, so every instance of the app
sees the same ones; in the process's memory otherwise. Only failures are counted (a
successful sign-in costs nothing), in a moving window: a username is refused until its oldest
counted failure is older than the window, never for good. The counting is Flask-Limiter's
engine, ``limits``, called from the sign-in service rather than from a route decorator: the
rule is the service's (it must refuse before the password hash is computed, and count only
what the service found wrong), and its refusal is a ``HearingsError`` like any other.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import TypeVar, cast

from flask import Flask, current_app
from limits import RateLimitItem, RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.errors import StorageError
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from hearings.errors import HearingsError

log = logging.getLogger(__name__)

_EXTENSION = "hearings.sign_in_throttle"
#: After Redis failed, counting stays in memory this long before Redis is tried again.
_RECHECK_SECONDS = 30.0
#: A refusal goes to the audit trail once a minute per count and key: an attack shows there
#: while it lasts, but a flood of refused attempts can't fill the trail.
_AUDITED_REFUSALS = RateLimitItemPerMinute(1)
#: Redis must answer quickly: a sign-in never waits long on its throttle.
_REDIS_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 1}

T = TypeVar("T")


class SignInThrottled(HearingsError):
    """Too many failed sign-ins for this username or from this address: wait and retry."""

    status = 429
    title = "Too many failed sign-ins"
    type = "sign-in-throttled"

    def __init__(self, *, retry_after: int) -> None:
        minutes = math.ceil(retry_after / 60)
        super().__init__("sign-in-throttled", retry_after=retry_after, minutes=minutes)


def normalise_username(username: str) -> str:
    """The username as counted: ``" Judge1"`` and ``"judge1"`` share one count."""
    return username.strip().casefold()[:200]


class SignInThrottle:
    """Counts failed sign-ins per username and per address, and says when to refuse."""

    def __init__(
        self,
        storage_uri: str | None,
        *,
        per_user: int,
        per_address: int,
        window: int,
        prefix: str = "hearings",
    ) -> None:
        storage = (
            cast(Storage, storage_from_string(storage_uri, wrap_exceptions=True, **_REDIS_OPTIONS))
            if storage_uri is not None
            else MemoryStorage()
        )
        #: Whether every instance sees the same counts (Redis).
        self.shared = storage_uri is not None
        self._main = MovingWindowRateLimiter(storage)
        # Where failures are counted while Redis is down: this process only, but counted.
        self._fallback = MovingWindowRateLimiter(MemoryStorage())
        self._down_since: float | None = None
        self._prefix = prefix
        self.limits: dict[str, RateLimitItem] = {
            "username": RateLimitItemPerSecond(per_user, window),
            "address": RateLimitItemPerSecond(per_address, window),
        }

    def _keys(self, username: str, address: str) -> dict[str, str]:
        return {"username": normalise_username(username), "address": address or "unknown"}

    def _strategy(self) -> MovingWindowRateLimiter:
        if self._down_since is None:
            return self._main
        if time.monotonic() - self._down_since >= _RECHECK_SECONDS:
            if self._main.storage.check():
                log.warning("sign-in throttle: Redis answers again; counting there")
                self._down_since = None
                return self._main
            self._down_since = time.monotonic()
        return self._fallback

    def _run(self, step: Callable[[MovingWindowRateLimiter], T]) -> T:
        strategy = self._strategy()
        try:
            return step(strategy)
        except StorageError as error:
            log.warning(
                "sign-in throttle: Redis unreachable (%s); counting failures in this "
                "process's memory for now",
                error.storage_error,
            )
            self._down_since = time.monotonic()
            return step(self._fallback)

    def _identity(self, which: str, key: str) -> tuple[str, ...]:
        return (self._prefix, "sign-in", which, key)

    def _full(self, which: str, key: str) -> int | None:
        """Seconds until the count ``which`` of ``key`` has room again; None if it has."""
        item, identity = self.limits[which], self._identity(which, key)
        if self._run(lambda s: s.test(item, *identity)):
            return None
        stats = self._run(lambda s: s.get_window_stats(item, *identity))
        return max(1, math.ceil(stats.reset_time - time.time()))

    def _hit(self, which: str, key: str) -> None:
        item, identity = self.limits[which], self._identity(which, key)
        self._run(lambda s: s.hit(item, *identity))

    def refusal(self, username: str, address: str) -> tuple[str, int] | None:
        """Which count refuses a sign-in now (``username`` or ``address``) and the seconds
        until it stops; None while neither is full."""
        for which, key in self._keys(username, address).items():
            wait = self._full(which, key)
            if wait is not None:
                return which, wait
        return None

    def refusal_to_audit(self, which: str, username: str, address: str) -> bool:
        """Whether this refusal by the count ``which`` is the first within the minute for its
        key (then it is audited; the ones after it within the minute are not)."""
        key = self._keys(username, address)[which]
        identity = (*self._identity(which, key), "audited")
        return bool(self._run(lambda s: s.hit(_AUDITED_REFUSALS, *identity)))

    def count_failure(self, username: str, address: str) -> None:
        """Count one failed sign-in against the username and against the address."""
        for which, key in self._keys(username, address).items():
            self._hit(which, key)

    def reset(self) -> None:
        """Forget every count (an administrator's way out; also the tests')."""
        self._fallback.storage.reset()
        self._run(lambda s: s.storage.reset())


def current_throttle() -> SignInThrottle:
    """The app's sign-in throttle."""
    throttle: SignInThrottle = current_app.extensions[_EXTENSION]
    return throttle


def storage_uri(redis_url: str | None) -> str | None:
    """The ``limits`` storage of a Redis URL as redis-py takes it (``unix://`` is spelled
    ``redis+unix://`` there); None for memory."""
    if not redis_url:
        return None
    if redis_url.startswith("unix://"):
        return "redis+" + redis_url
    return redis_url


def init_app(app: Flask) -> None:
    """Give the app its throttle: Redis (shared by every instance) when set, memory else."""
    app.extensions[_EXTENSION] = SignInThrottle(
        storage_uri(app.config["REDIS_URL"]),
        per_user=int(app.config["LOGIN_FAILURES_PER_USER"]),
        per_address=int(app.config["LOGIN_FAILURES_PER_ADDRESS"]),
        window=int(app.config["LOGIN_FAILURE_WINDOW"]),
        prefix=str(app.config["ROOM_BUS_PREFIX"]),
    )
