"""How refusals reach the client: problem+json for the API, a page for the browser."""

from __future__ import annotations

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
