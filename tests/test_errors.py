"""How refusals reach the client: problem+json for the API, a page for the browser."""

from __future__ import annotations

from flask import request

from hearings.errors import StillWorking


def test_still_working_tells_when_to_ask_again(app, client):
    def busy():
        raise StillWorking("recorder-closing", retry_after=30)

    app.add_url_rule("/api/v1/busy-for-test", "busy_api", busy)
    app.add_url_rule("/busy-for-test", "busy_page", busy)

    api = client.get("/api/v1/busy-for-test")
    assert api.status_code == 503
    assert api.mimetype == "application/problem+json"
    assert api.headers["Retry-After"] == "30"
    assert api.json["retry_after"] == 30 and api.json["title"] == "Still working"

    page = client.get("/busy-for-test", headers={"Accept": "text/html"})
    assert page.status_code == 503
    assert page.mimetype == "text/html"
    assert page.headers["Retry-After"] == "30"
    assert "still closing the last segment" in page.get_data(as_text=True)


def test_a_page_shows_its_own_refusals_and_leaves_the_rest_to_the_error_page(app, client):
    from flask import url_for

    from hearings.errors import Conflict, NotFound, flashed_back_to, shown_by

    def back() -> str | None:
        return None if "gone" in request.args else url_for("health.favicon")

    @shown_by(flashed_back_to(back))
    def refuse():
        raise Conflict("already-recording", session_id=7)

    @shown_by(lambda error: None)
    def missing():
        raise NotFound("no-such-session", session_id=7)

    app.add_url_rule("/refuse-for-test", "refuse_page", refuse, methods=["POST"])
    app.add_url_rule("/missing-for-test", "missing_page", missing)

    shown = client.post("/refuse-for-test", headers={"Accept": "text/html"})
    assert shown.status_code == 302 and shown.headers["Location"].endswith("/favicon.ico")
    with client.session_transaction() as cookie:
        assert [m for _, m in cookie["_flashes"]] == ["本会议已在录像。"]
    gone = client.post("/refuse-for-test?gone", headers={"Accept": "text/html"})
    assert gone.status_code == 409 and "本会议已在录像。" in gone.text
    page = client.get("/missing-for-test", headers={"Accept": "text/html"})
    assert page.status_code == 404 and "找不到该会议" in page.text
    api = client.post("/refuse-for-test", headers={"Accept": "application/json"})
    assert api.status_code == 409 and api.json["code"] == "already-recording"
