"""Panels that later packages add to the staff's session page (links, deliveries, recording).

The session page lives here, in scheduling, but what it shows of rooms, invites and
recordings belongs to those packages: they register a panel at start-up, so imports still
run one way.
"""

from __future__ import annotations

from collections.abc import Callable

from markupsafe import Markup

from hearings.courts.models import Staff
from hearings.scheduling.models import Session

Panel = Callable[[Session, Staff], Markup | None]

_panels: list[tuple[int, str, Panel]] = []


def register_panel(order: int, name: str, panel: Panel) -> None:
    """Add (or replace) a named panel; lower ``order`` shows first."""
    global _panels
    _panels = sorted([p for p in _panels if p[1] != name] + [(order, name, panel)])


def render_panels(session: Session, staff: Staff) -> list[Markup]:
    """Every registered panel's HTML for this session and viewer."""
    rendered = (panel(session, staff) for _, _, panel in _panels)
    return [html for html in rendered if html]
