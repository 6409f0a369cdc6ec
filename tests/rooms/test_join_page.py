"""The join link: the party's page, its time window, and tokens kept out of logs."""

from __future__ import annotations

import logging
import urllib.request

from hearings.serving import redact


def test_links_for_every_participant(now_session, client, auth, court_staff):
    s = now_session("mediation")
    response = client.post(
        f"/api/v1/sessions/{s['id']}/links", headers=auth(court_staff["luoyang-admin"])
    )
    items = response.json["items"]
    assert {i["participant_id"] for i in items} == {p["id"] for p in s["participants"]}
    for item in items:
        assert item["url"].startswith("http://127.0.0.1:5000/join/ey")
        assert item["expires_at"] == "2026-09-01T12:15:00+08:00"


def test_join_page_in_its_window(now_session, client):
    s = now_session("mediation")
    page = client.get(f"/join/{s['tokens']['applicant']}")
    assert page.status_code == 200
    assert "视频调解" in page.text and "张三" in page.text
    assert "洛阳市中级人民法院" in page.text and "12368" in page.text
    assert "不得私自录音" in page.text  # the decorum notice
    assert 'id="join"' in page.text
    assert page.headers["Referrer-Policy"] == "no-referrer"


def test_join_page_before_the_window_says_when(now_session, client, app):
    s = now_session("mediation", starts_at="2026-09-01T15:00", ends_at="2026-09-01T16:00")
    page = client.get(f"/join/{s['tokens']['applicant']}")
    assert page.status_code == 200
    assert "2026-09-01 14:30" in page.text
    assert 'id="join"' not in page.text


def test_join_page_refuses_bad_or_revoked_links(now_session, client, auth, court_staff):
    assert client.get("/join/not-a-token").status_code == 403
    s = now_session("mediation")
    client.post(
        f"/api/v1/sessions/{s['id']}/cancel",
        json={"reason": "撤诉"},
        headers=auth(court_staff["luoyang-admin"]),
    )
    page = client.get(f"/join/{s['tokens']['applicant']}")
    assert page.status_code == 403
    assert "此会议已取消，链接不再有效。" in page.text
    # A clear page with the courts' contact, in the visitor's language; never a stack trace.
    assert "此链接无法使用" in page.text and "tel:12368" in page.text
    assert "洛阳市中级人民法院" in page.text and "Traceback" not in page.text
    client.get("/lang/en")
    english = client.get(f"/join/{s['tokens']['applicant']}").text
    assert "This link cannot be used" in english and "Please contact the court" in english


def test_request_logs_never_show_the_token(now_session, live_server, caplog):
    s = now_session("mediation")
    token = s["tokens"]["applicant"]
    url = f"http://{live_server}/join/{token}"
    with caplog.at_level(logging.INFO, logger="werkzeug"), urllib.request.urlopen(url) as r:
        assert r.status == 200
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "/join/…" in logged
    assert token not in logged
    assert redact(f"GET /join/{token}?x=1 HTTP/1.1") == "GET /join/…?x=1 HTTP/1.1"
