"""The staff's forms as a clerk meets them: a refused reschedule keeps what was typed, the
slot finder offers only bookable and spread-out times, the history reads as words."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
import sqlalchemy as sa

from hearings.extensions import db
from hearings.rooms.models import JoinLink
from hearings.scheduling import audit
from hearings.scheduling.models import AuditEvent, Session
from hearings.scheduling.services import advance_status
from tests.conftest import sign_in


@pytest.fixture
def signed_in(client, court_staff):
    """The test client, signed in as Luoyang's clerk."""
    return sign_in(client, court_staff["luoyang-clerk1"])


def reschedule_form(page_text: str) -> dict[str, str]:
    """The values the reschedule form shows."""
    form = page_text[page_text.index('id="reschedule"') :]
    form = form[: form.index("</form>")]
    values = dict(re.findall(r'name="([a-z_]+)" type="[a-z-]+"[^>]*?value="([^"]*)"', form))
    values["duration"] = re.search(r'<option value="(\d+)" selected', form).group(1)
    return values


@pytest.mark.parametrize(
    ("starts_at", "reasons", "status", "why"),
    [
        # Tomorrow: under the hearing's notice (an outside-hours reason does not help).
        ("2026-09-02T10:00", {"outside_hours_reason": "当事人在外地"}, 422, "开庭须提前三日通知"),
        # An evening, without an outside-hours reason.
        ("2026-09-10T20:00", {"short_notice_reason": "羁押期限"}, 422, "非工作时间理由"),
        # The judge's and the clerk's other hearing.
        ("2026-09-11T09:00", {"outside_hours_reason": "当事人在外地"}, 409, "该时段已有安排"),
    ],
)
def test_refused_reschedule_keeps_what_was_typed(
    signed_in, make_session, starts_at, reasons, status, why
):
    session = make_session("hearing")
    make_session("hearing", starts_at="2026-09-11T09:00", ends_at="2026-09-11T10:00")
    typed = {"starts_at": starts_at, "duration": "90", **reasons}
    response = signed_in.post(f"/sessions/{session['id']}/reschedule", data=typed)
    assert response.status_code == status  # shown again at once, not redirected
    assert why in response.text
    shown = reschedule_form(response.text)
    expected = {"outside_hours_reason": "", "short_notice_reason": ""} | typed
    assert shown == expected
    # Nothing moved.
    assert reschedule_form(signed_in.get(f"/sessions/{session['id']}").text)["starts_at"] == (
        "2026-09-10T09:00"
    )


def test_hearing_moves_within_three_days_with_a_reason(signed_in, make_session):
    session = make_session("hearing")
    page = signed_in.get(f"/sessions/{session['id']}")
    assert 'name="short_notice_reason"' in page.text and "开庭不足三日的理由" in page.text
    moved = signed_in.post(
        f"/sessions/{session['id']}/reschedule",
        data={"starts_at": "2026-09-02T10:00", "duration": "60", "short_notice_reason": "羁押期限"},
    )
    assert moved.status_code == 302
    page = signed_in.get(moved.headers["Location"])
    assert "已改期" in page.text and "2026-09-02 周三 10:00–11:00" in page.text
    assert "羁押期限" in page.text
    assert reschedule_form(page.text)["short_notice_reason"] == "羁押期限"


def hearing_finder(court_staff, **extra: str) -> dict[str, str]:
    """A hearing's finder form without a title (the finder does not need one)."""
    return {
        "kind": "hearing", "host_court": "luoyang", "duration": "60", "action": "find",
        "staff_role_0": "presiding_judge", "staff_id_0": str(court_staff["luoyang-judge1"].id),
        "staff_role_1": "clerk", "staff_id_1": str(court_staff["luoyang-clerk1"].id),
        "search_from": "2026-09-01", **extra,
    }  # fmt: skip


def offered(page_text: str) -> list[datetime]:
    return [
        datetime.fromisoformat(v) for v in re.findall(r'name="slot" value="([^"]+)"', page_text)
    ]


def test_finder_offers_bookable_hearing_slots_spread_over_days(signed_in, court_staff):
    form = signed_in.get("/sessions/new").text
    assert re.search(r'value="find" formnovalidate', form)
    found = signed_in.post("/sessions/new", data=hearing_finder(court_staff))
    assert found.status_code == 200
    slots = offered(found.text)
    assert len(slots) == 8
    # Frozen now: Tue 2026-09-01 09:00; a hearing needs 3 days' notice.
    notice = datetime.fromisoformat("2026-09-04T09:00:00+08:00")
    assert all(s >= notice for s in slots)
    assert slots[0] == notice
    halves = {(s.date(), s.hour < 12) for s in slots}
    assert len(halves) == 8 and len({s.date() for s in slots}) >= 4
    assert "2026-09-04 周五 09:00–10:00" in found.text and "Fri" not in found.text
    # The first offer books: the finder and the rules agree.
    booked = signed_in.post(
        "/sessions/new",
        data={**hearing_finder(court_staff), "action": "book", "title": "借款纠纷",
              "slot": slots[0].isoformat()},
    )  # fmt: skip
    assert booked.status_code == 302


def test_finder_with_a_short_notice_reason_offers_today(signed_in, court_staff):
    found = signed_in.post(
        "/sessions/new", data=hearing_finder(court_staff, short_notice_reason="羁押期限")
    )
    slots = offered(found.text)
    assert slots[0] == datetime.fromisoformat("2026-09-01T09:00:00+08:00")


def test_weekdays_follow_the_language(signed_in, court_staff, make_session):
    session = make_session("hearing")
    signed_in.get("/lang/en")
    found = signed_in.post("/sessions/new", data=hearing_finder(court_staff))
    assert "2026-09-04 Fri 09:00" in found.text and "周五" not in found.text
    assert "2026-09-10 Thu 09:00" in signed_in.get(f"/sessions/{session['id']}").text
    signed_in.get("/lang/zh")
    assert "2026-09-10 周四 09:00" in signed_in.get(f"/sessions/{session['id']}").text


def test_history_reads_as_words_each_event_once(signed_in, make_session, court_staff):
    booked = make_session("hearing")
    session = db.session.get(Session, booked["id"])
    advance_status(session, "in_progress", None)
    advance_status(session, "completed", None)
    # A second connection recording the same end (the trail keeps both; the page shows one).
    ended = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.session_id == session.id).order_by(AuditEvent.id)
    ).all()[-1]
    audit.record("session.status", None, session, **ended.detail)
    db.session.commit()
    page = signed_in.get(f"/sessions/{booked['id']}").text
    history = page[page.index('id="history"') :]
    assert "session." not in history
    assert "已预约" in history and "2026-09-10 09:00–10:00" in history
    assert history.count("状态：已结束") == 1 and "状态：进行中" in history
    assert "09:00 起的时段已释放" in history  # ended before its start: all of its time freed
    signed_in.get("/lang/en")
    history = signed_in.get(f"/sessions/{booked['id']}").text
    history = history[history.index('id="history"') :]
    assert "Booked" in history and history.count("Status: ") == 2


def test_links_page_opens_by_get_and_a_refresh_issues_nothing(signed_in, make_session):
    booked = make_session("hearing")
    session_id = booked["id"]
    overview = signed_in.get(f"/sessions/{session_id}/links")
    assert overview.status_code == 200 and "/join/ey" not in overview.text
    assert overview.text.count("没有有效链接") == 3 and overview.text.count('class="issue"') == 3
    # The session page's button carries what it has seen, as a browser sends it.
    panel = signed_in.get(f"/sessions/{session_id}").text
    seen = re.search(r'name="links_seen" value="(\d+)"', panel).group(1)
    issued = signed_in.post(f"/sessions/{session_id}/links", data={"links_seen": seen})
    assert issued.status_code == 200 and issued.text.count("/join/ey") == 3
    # links.js moves the address to the overview (tests/pages/test_csp.py sees it in Chromium).
    assert f'"overview": "/sessions/{session_id}/links"' in issued.text
    count = db.session.scalar(sa.select(sa.func.count(JoinLink.id)))
    # Sent again (the browser's refresh of the POST): nothing issued, the overview instead.
    again = signed_in.post(f"/sessions/{session_id}/links", data={"links_seen": seen})
    assert again.status_code == 302
    assert again.headers["Location"] == f"/sessions/{session_id}/links"
    assert db.session.scalar(sa.select(sa.func.count(JoinLink.id))) == count
    overview = signed_in.get(again.headers["Location"])
    assert "页面已过期" in overview.text and "/join/ey" not in overview.text
    assert overview.text.count("有效期至") == 3 and overview.text.count('class="reissue"') == 3
    # Re-issuing one from the overview works once; its refresh does not issue again.
    party = next(p for p in booked["participants"] if p["role"] == "party")
    seen = re.search(r'name="links_seen" value="(\d+)"', overview.text).group(1)
    path = f"/sessions/{session_id}/participants/{party['id']}/link"
    reissued = signed_in.post(path, data={"links_seen": seen})
    assert reissued.status_code == 200 and reissued.text.count("/join/ey") == 1
    assert signed_in.post(path, data={"links_seen": seen}).status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(JoinLink.id))) == count + 1


def test_links_page_speaks_the_pages_language(signed_in, make_session):
    booked = make_session("hearing")
    signed_in.get("/lang/en")
    overview = signed_in.get(f"/sessions/{booked['id']}/links")
    assert overview.status_code == 200 and "No working link" in overview.text


def test_links_page_is_refused_to_another_courts_staff(client, make_session, court_staff):
    booked = make_session("hearing")
    outsider = court_staff["luohe-judge2"]
    sign_in(client, outsider)
    page = client.get(f"/sessions/{booked['id']}/links")
    assert page.status_code == 403 and "text/html" in page.content_type
