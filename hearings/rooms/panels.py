"""What later packages add to the room page: the witnessing officer's controls, and the
room's state when the page opens (is it being recorded?).

The join page lives here, in rooms, but witnessing belongs to a later package: it answers
the signals below as the page is drawn, so imports still run one way (as
``scheduling.panels`` does for the session page).
"""

from __future__ import annotations

from typing import Any

from blinker import Namespace
from markupsafe import Markup

from hearings.scheduling.models import Participant, Session

_signals = Namespace()

#: Sent with ``session`` and ``participant`` as the room page is drawn; a receiver answers
#: with the HTML it shows this participant under the call, or None.
room_page_drawn = _signals.signal("room-page-drawn")
#: Sent with ``session`` as the room page is drawn; a receiver answers with the values the
#: page starts from (``{"recording": "paused"}`` …).
room_state_asked = _signals.signal("room-state-asked")


def render_room_panels(session: Session, participant: Participant) -> list[Markup]:
    """Every package's panel for this participant."""
    return [html for _, html in room_page_drawn.send(session, participant=participant) if html]


def room_state(session: Session) -> dict[str, Any]:
    """The room page's starting state, from every package that has some."""
    state: dict[str, Any] = {}
    for _, values in room_state_asked.send(session):
        state.update(values)
    return state
