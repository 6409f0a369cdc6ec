"""Signals the rooms send for later packages (recording), so imports run one way."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: Sent with the session's id and ``participant_id`` (the chair's) when the chair starts a
#: hearing or mediation in its room (the ``start`` frame), on the frame's thread, inside an
#: app context; a receiver (recording) moves the session on and records it. Receivers answer
#: nothing and raise nothing: what fails they log and tell the room themselves.
session_started = _signals.signal("session-started")
