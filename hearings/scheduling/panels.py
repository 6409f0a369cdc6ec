"""Panels that later packages add to the staff's session page (links, deliveries, recording).

The session page lives here, in scheduling, but what it shows of rooms, invites and
recordings belongs to those packages: they answer the signal ``session_page_drawn`` (sent
as the page is drawn) with a ``Panel``, so imports still run one way.
"""

from __future__ import annotations

from typing import NamedTuple

from markupsafe import Markup

from hearings.courts.models import Staff
from hearings.scheduling.models import Session
from hearings.scheduling.signals import session_page_drawn


class Panel(NamedTuple):
    """What a receiver of ``session_page_drawn`` answers: its HTML (None: nothing to show
    this viewer) and where it goes (lower ``order`` first)."""

    order: int
    html: Markup | None


def render_panels(session: Session, staff: Staff) -> list[Markup]:
    """Every package's panel for this session and viewer, in order."""
    answers = [panel for _, panel in session_page_drawn.send(session, staff=staff)]
    return [panel.html for panel in sorted(answers, key=lambda p: p.order) if panel.html]
