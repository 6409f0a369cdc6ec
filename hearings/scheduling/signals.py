"""Signals later packages subscribe to (invites, rooms) so imports run one way."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: Sent with ``session`` (the first occurrence) and ``occurrences`` after a booking.
session_booked = _signals.signal("session-booked")
#: Sent with ``session`` and ``changes`` after a reschedule, an edit or a participant change.
session_changed = _signals.signal("session-changed")
#: Sent with ``session`` and ``reason`` after a cancellation.
session_cancelled = _signals.signal("session-cancelled")
#: Sent with ``session``, ``before`` and ``after`` when the room moves a session's status.
session_progressed = _signals.signal("session-progressed")
#: Sent with ``session`` and ``staff`` as the staff's session page is drawn; each receiver
#: answers with a ``panels.Panel`` (what that later package shows there).
session_page_drawn = _signals.signal("session-page-drawn")
