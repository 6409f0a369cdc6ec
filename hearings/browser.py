"""What browsers are told to enforce: the content security policy, caching, framing and
cookies; and the URLs of the pages' static files (scripts, the stylesheet), with their
content hash.

Join pages carry a participant's token and TURN credentials, API answers personal data:
nothing but the static files may be kept by a browser or a proxy. The pages' scripts (ES
modules) and their one stylesheet are static files (``static/``), so the policy allows no
inline script or style at all: an injected ``<script>``, ``onclick=`` or ``style=`` does
nothing.
"""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request, url_for

#: A static file's URL names its content (``?v=``), so a browser may keep it for a year.
STATIC_MAX_AGE = 365 * 24 * 3600


def shipped_folder(name: str, marker: str) -> str:
    """A top-level folder of the checkout (``templates``, ``static``), or the package
    ``hearings.<name>`` it is shipped as inside an installed wheel (``marker``: a file that
    tells the two apart)."""
    try:
        packaged = resources.files(f"hearings.{name}")
        if packaged.joinpath(marker).is_file():
            return str(packaged)
    except ModuleNotFoundError:
        pass
    return str(Path(__file__).resolve().parent.parent / name)


def static_folder() -> str:
    """static/ at the top of a checkout; hearings/static inside an installed wheel."""
    return shipped_folder("static", "hearings.css")


def content_security_policy() -> str:
    """The policy of every response: scripts only from this site's files, never framed."""
    sockets = {"'self'"}
    for scheme, host in ((request.scheme, request.host), _site()):
        sockets.add(f"{'wss' if scheme == 'https' else 'ws'}://{host}")
    directives = {
        "default-src": "'self'",
        "script-src": "'self'",
        # static/hearings.css only: no <style>, no style="" (scripts may still set styles
        # through the CSSOM, element.style, which the policy does not govern).
        "style-src": "'self'",
        "img-src": "'self' data: blob:",
        "media-src": "'self' blob: mediastream:",
        # The room's signaling socket: this host as asked for, and the public SITE_URL.
        "connect-src": " ".join(sorted(sockets)),
        "frame-ancestors": "'none'",
        "base-uri": "'none'",
        "form-action": "'self'",
        "object-src": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def asset(name: str) -> str:
    """The URL of a static file, ``/static/<name>?v=<content hash>`` (cache busting).

    A page names only its entry module this way; the modules that one imports are asked for
    without ``?v=`` (an import's URL is relative, it can't carry their hash) and are
    therefore revalidated on every load (``no-cache``, below): never stale, at the cost of
    a 304 each."""
    versions: dict[str, str] = current_app.extensions.setdefault("hearings.assets", {})
    if name not in versions:
        path = Path(current_app.static_folder or static_folder()) / name
        versions[name] = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    return url_for("static", filename=name, v=versions[name])


def _site() -> tuple[str, str]:
    site = urlsplit(current_app.config["SITE_URL"])
    return site.scheme, site.netloc


def _browser_headers(response: Response) -> Response:
    headers = response.headers
    headers["Content-Security-Policy"] = content_security_policy()
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"  # a join link's token never leaves in Referer
    headers["X-Frame-Options"] = "DENY"  # frame-ancestors for browsers without CSP 2
    if request.endpoint == "static":
        response.cache_control.public = True
        if request.args.get("v"):
            response.cache_control.no_cache = None
            response.cache_control.max_age = STATIC_MAX_AGE
            response.cache_control.immutable = True
        else:
            # An import between modules, or a page from before a release: kept, but asked
            # about again each time (its ETag answers 304 while it is unchanged).
            response.cache_control.no_cache = True
            response.cache_control.max_age = 0
    elif "max-age" not in headers.get("Cache-Control", ""):
        # Only a view that chose a lifetime itself (the favicon, a calendar feed) keeps it.
        headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    """Send the headers on every response; Secure cookies behind https; ``asset()``."""
    secure = app.config["SITE_URL"].startswith("https://")
    app.config["SESSION_COOKIE_SECURE"] = secure
    app.config["REMEMBER_COOKIE_SECURE"] = secure
    app.after_request(_browser_headers)
    app.add_template_global(asset, "asset")
