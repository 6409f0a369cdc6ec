"""Signals of sign-in, for the audit trail (``scheduling``), so imports run one way."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: Sent with the ``Staff`` signed in, ``username`` and ``address`` (the client's).
sign_in_succeeded = _signals.signal("sign-in-succeeded")
#: Sent with the ``Staff`` of the username (None when unknown), ``username``, ``address``
#: and ``reason`` (``unknown-username``, ``wrong-password``, ``inactive``).
sign_in_failed = _signals.signal("sign-in-failed")
#: Sent with None, ``username``, ``address``, ``limit`` (``username`` or ``address``: which
#: count refused) and ``retry_after`` (seconds), when a sign-in is refused unchecked.
sign_in_throttled = _signals.signal("sign-in-throttled")
