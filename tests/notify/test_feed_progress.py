"""The staff's calendar feed and the party's progress page."""

from __future__ import annotations

import re

import icalendar
import vobject

from hearings.notify.outbox import deliver_outbox
from tests.notify.conftest import ics_of


def test_calendar_feed_is_private_and_revocable(make_session, client, auth, court_staff):
    judge = court_staff["luoyang-judge1"]
    first = make_session("hearing")
    make_session("hearing", starts_at="2026-09-11T15:00:00", ends_at="2026-09-11T16:00:00")
    make_session("mediation")  # the judge takes no part
    admin = auth(court_staff["luoyang-admin"])
    client.post(f"/api/v1/sessions/{first['id']}/cancel", json={"reason": "改期"}, headers=admin)

    created = client.post("/api/v1/calendar-feeds", headers=auth(judge))
    assert created.status_code == 201
    path = created.json["url"].removeprefix("http://127.0.0.1:5000")
    feed = client.get(path)
    assert feed.status_code == 200
    assert feed.mimetype == "text/calendar"
    calendar = icalendar.Calendar.from_ical(feed.data)
    assert calendar.get_missing_tzids() == set()
    vobject.readOne(feed.get_data(as_text=True)).serialize(validate=True)
    events = calendar.walk("VEVENT")
    assert [str(e["STATUS"]) for e in events] == ["CANCELLED", "CONFIRMED"]
    assert all("网上开庭" in str(e["SUMMARY"]) for e in events)
    assert client.get(path.replace(".ics", "x.ics")).status_code == 404

    renewed = client.post("/api/v1/calendar-feeds", headers=auth(judge))
    assert client.get(path).status_code == 404  # the old URL stopped working
    new_path = renewed.json["url"].removeprefix("http://127.0.0.1:5000")
    assert client.get(new_path).status_code == 200
    revoked = client.delete("/api/v1/calendar-feeds", headers=auth(judge))
    assert revoked.json == {"revoked": 1}
    assert client.get(new_path).status_code == 404


def link_in(message) -> str:
    """The progress page link an invite's description gives (its URL is the join link)."""
    _, _, data = ics_of(message)
    (event,) = icalendar.Calendar.from_ical(data).walk("VEVENT")
    assert "/join/" in str(event["URL"])
    (link,) = re.findall(r"Progress of your case: (\S+)", str(event["DESCRIPTION"]))
    return link.removeprefix("http://127.0.0.1:5000")


def test_progress_page_from_the_invite_link(make_session, smtp, client, auth, court_staff):
    session = make_session("mediation")
    deliver_outbox()
    (invite,) = [m for m in smtp.mailbox.wait_for(2) if "lisi@" in m["To"]]
    path = link_in(invite)
    page = client.get(path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "测试 mediation" in html and "已预约" in html and "12368" in html
    assert "李四" in html and "张三" not in html  # only their own name
    assert "08:00–12:00" in html

    admin = auth(court_staff["luoyang-admin"])
    client.patch(
        f"/api/v1/sessions/{session['id']}",
        json={"starts_at": "2026-09-11T09:00:00", "ends_at": "2026-09-11T10:00:00"},
        headers=admin,
    )
    client.post(f"/api/v1/sessions/{session['id']}/cancel", json={"reason": "和解"}, headers=admin)
    html = client.get(path).get_data(as_text=True)
    assert "已改期" in html and "2026-09-10 09:00 → 2026-09-11 09:00" in html
    assert "已取消" in html and "和解" in html
    client.get("/lang/en")
    english = client.get(path).get_data(as_text=True)
    assert "Progress" in english and "Moved" in english and "Cancelled" in english
    assert "Luoyang" in english and "办理进展" not in english and "您好" not in english

    assert client.get(path[:-3] + "abc").status_code == 404
    assert client.get("/progress/not-a-token").status_code == 404


def test_removed_participant_loses_the_progress_page(make_session, smtp, client, auth, court_staff):
    session = make_session("mediation")
    deliver_outbox()
    (invite,) = [m for m in smtp.mailbox.wait_for(2) if "lisi@" in m["To"]]
    lisi = next(p for p in session["participants"] if p["name"] == "李四")
    client.delete(
        f"/api/v1/sessions/{session['id']}/participants/{lisi['id']}",
        headers=auth(court_staff["luoyang-admin"]),
    )
    assert client.get(link_in(invite)).status_code == 404
