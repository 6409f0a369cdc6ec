"""The rooms' pages: a participant's join page, and the rooms' part of the staff's session
page (join links with QR codes, attendance)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import segno
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup
from werkzeug.wrappers import Response

from hearings.courts.models import Staff
from hearings.courts.services import list_courts
from hearings.errors import flashed_back_to, say, shown_by
from hearings.extensions import db
from hearings.i18n import gettext as _
from hearings.rooms import services
from hearings.rooms.ice import ice_servers
from hearings.rooms.panels import render_room_panels, room_state
from hearings.rooms.tokens import RoomRefusal, verify_room_token
from hearings.scheduling.access import load_session
from hearings.scheduling.labels import ROLES
from hearings.scheduling.models import Session
from hearings.scheduling.pages import session_page_asked
from hearings.timekeeping import isoformat, utcnow

#: The join page (and the signaling socket, ``rooms.signaling``), under the name "rooms".
pages = Blueprint("rooms", __name__)
staff_pages = Blueprint("room_pages", __name__)


def session_panel(session: Session, staff: Staff) -> Markup:
    """Enter the room, hand out links, and see who attended."""
    return Markup(
        render_template(
            "rooms_panel.html",
            session=session,
            attendance=services.attendance(staff, session),
            takes_part=any(p.staff_id == staff.id for p in session.active_participants),
            links_seen=services.latest_link_id(session.id),
        )
    )


def _links_page(session: Session, issued: list[dict[str, Any]], **extra: Any) -> str:
    for link in issued:
        link["qr"] = Markup(segno.make(link["url"], error="m").svg_inline(scale=3))
    return render_template(
        "rooms_links.html",
        session=session,
        links=issued,
        people=services.link_states(current_user, session),
        links_seen=services.latest_link_id(session.id),
        **extra,
    )


def _sent_again(session_id: int) -> bool:
    """Whether the form was sent from a page older than the session's newest link (a refresh
    or a second tab): then nothing is issued again."""
    seen = request.form.get("links_seen", "")
    # 0 when the page was shown before any link; never int() on other digits or on 5,000.
    if not (seen.isascii() and seen.isdigit() and len(seen) <= 10):
        return False
    return int(seen) != services.latest_link_id(session_id)


@staff_pages.get("/sessions/<id:session_id>/links")
@login_required
def links_overview(session_id: int) -> str:
    """Who has a join link that still works, with buttons to issue or re-issue."""
    session = load_session(session_id)
    return _links_page(session, [])


def _issue(session_id: int, issue: Callable[[Session], Any]) -> tuple[Session, Any]:
    """Issue links with ``issue(session)`` and commit; if the page was out of date, nothing
    is issued and the answer is where to go instead (a redirect). A refusal is said on the
    session's page (``refused_on_session_page``)."""
    session = load_session(session_id)
    if _sent_again(session_id):
        flash(_("页面已过期：此后已有链接签发，本次未再签发。"), "ok")
        return session, redirect(url_for("room_pages.links_overview", session_id=session_id))
    issued = issue(session)
    db.session.commit()
    return session, issued


#: A refused issue or entry is said on the session's page.
refused_on_session_page = shown_by(flashed_back_to(session_page_asked))


@staff_pages.post("/sessions/<id:session_id>/links")
@refused_on_session_page
@login_required
def links_page(session_id: int) -> str | Response:
    """Issue each participant's personal link: copy it or show its QR code (shown this once:
    the page turns into the overview if it is reloaded)."""
    session, links = _issue(session_id, lambda s: services.issue_links(current_user, s))
    if isinstance(links, Response):
        return links
    return _links_page(session, links)


@staff_pages.post("/sessions/<id:session_id>/participants/<id:participant_id>/link")
@refused_on_session_page
@login_required
def reissue_link(session_id: int, participant_id: int) -> str | Response:
    """Replace one person's link (old ones stop working; they are sent the new one)."""
    session, link = _issue(
        session_id, lambda s: services.reissue_link(current_user, s, participant_id)
    )
    if isinstance(link, Response):
        return link
    services.close_replaced(session_id, participant_id)
    flash(_("已重新签发链接：旧链接已失效，新链接已通过邮件发送。"), "ok")
    return _links_page(session, [link], reissued=True)


@staff_pages.post("/sessions/<id:session_id>/enter")
@refused_on_session_page
@login_required
def enter(session_id: int) -> Response:
    """Go into the room as oneself (the judge, clerk or mediator of the session)."""
    session = load_session(session_id)
    token = services.own_token(current_user, session)
    db.session.commit()
    # A path on this site, whichever address the staff member reached it by.
    return redirect(url_for("rooms.join", token=token))


@pages.get("/join/<token>")
def join(token: str):
    """The join page of one participant (the token is theirs alone)."""
    try:
        admission = verify_room_token(token, enforce_window=False)
        if admission.participant is None:
            raise RoomRefusal(4403, "this token is not a join link")
    except RoomRefusal as refusal:
        # Whose link it was may not be readable: both courts' contacts, then.
        return render_template(
            "join_refused.html", reason=say(refusal.why), courts=list_courts()
        ), 403
    if not admission.in_window and utcnow() >= admission.opens:
        # Past the window's end (the session's time is over): the link has expired.
        return render_template(
            "join_refused.html", reason=say("link-expired"), courts=list_courts()
        ), 403
    session, participant = admission.session, admission.participant
    return render_template(
        "join.html",
        session=session,
        participant=participant,
        in_window=admission.in_window,
        opens_at=isoformat(admission.opens),
        court=session.host_court,
        # This participant's own (minted) TURN credentials, for the pre-join network check.
        ice_servers=ice_servers(f"p{participant.id}"),
        panels=render_room_panels(session, participant) if admission.in_window else [],
        state=room_state(session),
        role_names={role: _(name) for role, name in ROLES.items()},
    )
