"""Cross-site request refusal for the signed-in staff's forms, and the site's own origin.

Staff pages act on a session cookie, so a page of another site could make a signed-in
browser post a form here (CSRF). Two defences, both from the browser's side of the web's
rules rather than a token of our own in every form:

- the cookies are ``SameSite=Lax``: a cross-site POST carries none;
- every state-changing request is checked with Fetch Metadata (``Sec-Fetch-Site``, sent by
  every current browser): only ``same-origin`` (or ``none``, a user's own navigation) passes.
  Browsers without it are checked by ``Origin`` when they send a real one. The pages use
  ``Referrer-Policy: no-referrer``, under which browsers send ``Origin: null`` on a POST, so
  ``null`` alone neither passes nor fails a request.

The API is not concerned: it takes bearer tokens only, which no other site can make a
browser send. Nor is the WebSocket, which checks ``Origin`` itself (``same_site``).
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Flask, current_app, request

from hearings.errors import Forbidden

log = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Paths that take no cookie authentication (bearer tokens, room tokens in the first frame).
EXEMPT_PREFIXES = ("/api/", "/ws/")


def same_site(origin: str) -> bool:
    """Whether an ``Origin`` value names this site (its public URL or the host asked for)."""
    site = urlsplit(current_app.config["SITE_URL"])
    allowed = {f"{site.scheme}://{site.netloc}", f"{request.scheme}://{request.host}"}
    return origin.rstrip("/") in allowed


def cross_site_refusal() -> str | None:
    """Why this request looks cross-site, or None when it may go on."""
    if request.method in SAFE_METHODS or request.path.startswith(EXEMPT_PREFIXES):
        return None
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        if fetch_site in ("same-origin", "none"):
            return None
        return f"the browser says this request came from another site ({fetch_site})"
    origin = request.headers.get("Origin")
    if origin and origin != "null" and not same_site(origin):
        return f"the request came from another site ({origin})"
    return None


def init_app(app: Flask) -> None:
    """Lax cookies and the cross-site check before every request."""
    if app.config.get("SESSION_COOKIE_SAMESITE") is None:  # Flask's default sets none
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config.setdefault("REMEMBER_COOKIE_SAMESITE", "Lax")

    @app.before_request
    def _refuse_cross_site() -> None:
        reason = cross_site_refusal()
        if reason is not None:
            log.warning("cross-site %s %s refused: %s", request.method, request.path, reason)
            raise Forbidden(
                f"Refused: {reason}. Open the page on this site and try again.",
                title="Cross-site request refused",
            )
