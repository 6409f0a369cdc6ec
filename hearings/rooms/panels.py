"""What later packages add to the room page: the witnessing officer's controls, and the
room's state when the page opens (is it being recorded?).

The join page lives here, in rooms, but witnessing belongs to a later package: it registers
its additions at start-up, so imports still run one way (as ``scheduling.panels`` does for
the session page).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from markupsafe import Markup

from hearings.scheduling.models import Participant, Session

#: ``panel(session, participant)``: HTML shown to this participant under the call, or None.
RoomPanel = Callable[[Session, Participant], Markup | None]
#: ``state(session)``: values the room page starts from (``{"recording": "paused"}`` …).
RoomState = Callable[[Session], dict[str, Any]]

_panels: dict[str, RoomPanel] = {}
_states: dict[str, RoomState] = {}


def register_room_panel(name: str, panel: RoomPanel) -> None:
    """Add (or replace) a named panel of the room page."""
    _panels[name] = panel


def register_room_state(name: str, state: RoomState) -> None:
    """Add (or replace) a named source of the room page's starting state."""
    _states[name] = state


def render_room_panels(session: Session, participant: Participant) -> list[Markup]:
    """Every registered panel's HTML for this participant."""
    rendered = (panel(session, participant) for panel in _panels.values())
    return [html for html in rendered if html]


def room_state(session: Session) -> dict[str, Any]:
    """The room page's starting state, from every registered source."""
    state: dict[str, Any] = {}
    for source in _states.values():
        state.update(source(session))
    return state
