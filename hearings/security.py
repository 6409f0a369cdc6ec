"""The site's own origin, as browsers name it (``Origin``), for the checks that need it."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, request


def same_site(origin: str) -> bool:
    """Whether an ``Origin`` value names this site (its public URL or the host asked for)."""
    site = urlsplit(current_app.config["SITE_URL"])
    allowed = {f"{site.scheme}://{site.netloc}", f"{request.scheme}://{request.host}"}
    return origin.rstrip("/") in allowed
