"""What browsers and proxies are told about caching and cookies: a join page (a token and
TURN credentials) and API answers (personal data) are never stored; static files are, for
long; the login cookie is Secure when the site is served over https."""

from __future__ import annotations

import re

import pytest

from hearings import create_app
from hearings.extensions import db
from tests.conftest import PASSWORD, PageClient, base_config


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_join_page_is_never_stored_and_sends_no_referrer(client, now_session):
    session = now_session("mediation")
    page = client.get(f"/join/{session['tokens']['applicant']}")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    refused = client.get("/join/not-a-token")
    assert refused.headers["Cache-Control"] == "no-store"


def test_api_answers_and_errors_are_never_stored(client, auth, court_staff):
    listed = client.get("/api/v1/sessions", headers=auth(court_staff["luoyang-judge1"]))
    assert listed.status_code == 200 and listed.headers["Cache-Control"] == "no-store"
    refused = client.get("/api/v1/sessions")
    assert refused.status_code == 401 and refused.headers["Cache-Control"] == "no-store"
    token = client.post(
        "/api/v1/auth/token",
        json={"username": court_staff["luoyang-judge1"].username, "password": PASSWORD},
    )
    assert token.status_code == 200 and token.headers["Cache-Control"] == "no-store"


def test_static_files_are_kept_long_when_their_url_names_the_version(client):
    page = client.get("/login")
    assert page.headers["Cache-Control"] == "no-store"
    versioned = client.get("/static/room.js?v=abc")
    versioned.close()  # a file response: its file stays open until closed
    assert versioned.status_code == 200
    assert versioned.mimetype in ("text/javascript", "application/javascript")
    cache = versioned.headers["Cache-Control"]
    assert "max-age=31536000" in cache and "immutable" in cache and "no-store" not in cache
    # An import between modules carries no version: it is asked about again every time, and
    # costs a 304 while unchanged, so a page never runs a stale module beside a fresh one.
    plain = client.get("/static/room-media.js")
    plain.close()
    assert plain.status_code == 200 and "no-cache" in plain.headers["Cache-Control"]
    again = client.get("/static/room-media.js", headers={"If-None-Match": plain.headers["ETag"]})
    again.close()
    assert again.status_code == 304


def test_pages_load_their_scripts_as_modules_and_one_stylesheet(client):
    page = client.get("/login").text
    assert re.search(r'<link rel="stylesheet" href="/static/hearings\.css\?v=\w{16}">', page)
    css = client.get("/static/hearings.css")
    css.close()
    assert css.status_code == 200 and css.mimetype == "text/css"


def test_asset_urls_carry_the_content_hash(app):
    from hearings.browser import asset

    with app.test_request_context():
        url = asset("room.js")
    assert url.startswith("/static/room.js?v=") and len(url.rsplit("=", 1)[1]) == 16


def login_cookies(app, staff) -> list[str]:
    client = app.test_client()
    client.get("/lang/en")
    response = client.post("/login", data={"username": staff.username, "password": PASSWORD})
    assert response.status_code == 302
    return response.headers.getlist("Set-Cookie")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("site", ["https://hearings.example.court", "http://127.0.0.1:5000"])
def test_login_cookie_is_secure_behind_https(database_url, tmp_path, court_staff, site):
    app = create_app({**base_config(database_url, tmp_path / "site"), "SITE_URL": site})
    app.test_client_class = PageClient
    with app.app_context():
        staff = db.session.merge(court_staff["luoyang-clerk1"])
        cookies = login_cookies(app, staff)
        db.session.remove()
    (session_cookie,) = [c for c in cookies if c.startswith("session=")]
    assert ("; Secure" in session_cookie) is site.startswith("https://"), session_cookie
    assert "HttpOnly" in session_cookie
