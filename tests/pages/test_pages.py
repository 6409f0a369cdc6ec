"""The staff's pages through HTTP: sign in, the week, booking with the slot finder, a session,
the directory; Chinese first, English by a remembered switch."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hearings.i18n import catalogue
from tests.conftest import sign_in

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def signed_in(client, court_staff):
    """The test client, signed in as Luoyang's first judge."""
    return sign_in(client, court_staff["luoyang-judge1"])


def test_every_page_text_has_an_english_translation():
    english = catalogue("en")
    pattern = re.compile(r"""_\(\s*(["'])(.+?)\1""")
    sources = [*ROOT.joinpath("templates").glob("*.html"), *ROOT.joinpath("hearings").rglob("*.py")]
    missing = {
        m.group(2)
        for path in sources
        for m in pattern.finditer(path.read_text())
        if re.search(r"[\u4e00-\u9fff]", m.group(2)) and m.group(2) not in english
    }
    assert missing == set()


def test_language_switch_is_remembered(client):
    assert "法官通讯录" in client.get("/directory").text
    switched = client.get("/lang/en?next=/directory")
    assert switched.status_code == 302 and switched.headers["Location"] == "/directory"
    page = client.get("/directory")
    assert "Court working hours" in page.text and '<html lang="en">' in page.text
    assert client.get("/lang/en?next=https://evil.example/").headers["Location"] == "/"


def test_week_desk_shows_my_sessions(signed_in, make_session):
    make_session("hearing", starts_at="2026-09-03T15:00", ends_at="2026-09-03T16:00",
                 short_notice_reason="急")  # fmt: skip
    page = signed_in.get("/?week=2026-09-01")
    assert page.status_code == 200
    assert "网上开庭" in page.text and "15:00–16:00" in page.text
    assert 'class="card kind-hearing' in page.text


def test_booking_form_finds_slots_and_books(signed_in, court_staff):
    form = {
        "kind": "mediation", "title": "物业纠纷调解", "host_court": "luoyang", "duration": "60",
        "staff_role_0": "mediator", "staff_id_0": str(court_staff["luoyang-mediator1"].id),
        "out_role_0": "party", "out_side_0": "applicant", "out_name_0": "王五",
        "out_phone_0": "13800000009", "search_from": "2026-09-02",
    }  # fmt: skip
    found = signed_in.post("/sessions/new", data={**form, "action": "find"})
    assert found.status_code == 200
    slots = re.findall(r'name="slot" value="([^"]+)"', found.text)
    assert slots[0] == "2026-09-02T08:00:00+08:00"
    booked = signed_in.post("/sessions/new", data={**form, "action": "book", "slot": slots[1]})
    assert booked.status_code == 302
    page = signed_in.get(booked.headers["Location"])
    # One suggestion per morning and afternoon: the second is the afternoon's first.
    assert slots[1] == "2026-09-02T15:00:00+08:00"
    assert "物业纠纷调解" in page.text and "2026-09-02" in page.text and "15:00" in page.text
    assert "王五" in page.text


def test_booking_form_shows_rule_breaks_and_keeps_input(signed_in, court_staff):
    form = {
        "kind": "hearing", "title": "缺少书记员", "host_court": "luoyang", "duration": "60",
        "staff_role_0": "presiding_judge", "staff_id_0": str(court_staff["luoyang-judge1"].id),
        "action": "book", "starts_at": "2026-09-10T09:00",
    }  # fmt: skip
    response = signed_in.post("/sessions/new", data=form)
    assert response.status_code == 422
    assert "网上开庭须有一名书记员。" in response.text
    assert 'value="缺少书记员"' in response.text


def test_session_page_links_reschedule_cancel(signed_in, make_session, court_staff):
    session = make_session("hearing")
    page = signed_in.get(f"/sessions/{session['id']}")
    assert page.status_code == 200 and "进入会议室" in page.text and "生成参会链接" in page.text
    links = signed_in.post(f"/sessions/{session['id']}/links")
    assert links.status_code == 200
    assert links.text.count("/join/ey") == 3 and links.text.count("<svg") == 3
    assert links.text.count('class="reissue"') == 3
    assert (
        len(
            re.findall(
                r'class="reissue"[^>]*>\s*<input type="hidden" name="csrf_token"', links.text
            )
        )
        == 3
    )
    party = next(p for p in session["participants"] if p["role"] == "party")
    reissued = signed_in.post(f"/sessions/{session['id']}/participants/{party['id']}/link")
    assert reissued.status_code == 200 and "已重新签发链接" in reissued.text
    # The new link once, and the overview: everyone still has a working link.
    assert reissued.text.count("/join/ey") == 1 and reissued.text.count('class="reissue"') == 3
    enter = signed_in.post(f"/sessions/{session['id']}/enter")
    assert enter.status_code == 302 and "/join/ey" in enter.headers["Location"]
    moved = signed_in.post(
        f"/sessions/{session['id']}/reschedule",
        data={"starts_at": "2026-09-10T15:00", "duration": "90"},
        follow_redirects=True,
    )
    assert "已改期" in moved.text and "15:00–16:30" in moved.text
    refused = signed_in.post(
        f"/sessions/{session['id']}/cancel", data={"reason": " "}, follow_redirects=True
    )
    assert "取消须填写理由" in refused.text
    cancelled = signed_in.post(
        f"/sessions/{session['id']}/cancel", data={"reason": "当事人撤诉"}, follow_redirects=True
    )
    assert "已取消" in cancelled.text and "当事人撤诉" in cancelled.text


def test_other_courts_session_page_is_refused(client, make_session, court_staff):
    session = make_session("hearing")
    outsider = court_staff["luohe-judge2"]
    sign_in(client, outsider)
    page = client.get(f"/sessions/{session['id']}")
    assert page.status_code == 403
    assert "text/html" in page.content_type


def test_directory_page_and_hours(client, make_staff):
    make_staff("luohe", "judge", name="孙国庆", department="立案庭", phone="0395-3123456")
    page = client.get("/directory?q=立案")
    assert "孙国庆" in page.text and "tel:0395-3123456" in page.text
    assert 'id="hours-luoyang"' in page.text and 'id="hours-luohe"' in page.text
    # 2026-09-01 (frozen now) is a Tuesday, 09:00: open.
    assert "办公中" in page.text


def test_forms_without_the_pages_token_are_refused(signed_in, client, make_session, court_staff):
    session = make_session("hearing")
    forged = signed_in.post(
        f"/sessions/{session['id']}/cancel", data={"reason": "forged"}, csrf=False
    )
    assert forged.status_code == 400 and "reload the page" in forged.text
    assert "已排期" in signed_in.get(f"/sessions/{session['id']}").text
    page = signed_in.get(f"/sessions/{session['id']}")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    wrong = signed_in.post(
        f"/sessions/{session['id']}/cancel", data={"reason": "x", "csrf_token": token[::-1]},
        csrf=False,
    )  # fmt: skip
    assert wrong.status_code == 400
    sent = signed_in.post(
        f"/sessions/{session['id']}/cancel", data={"reason": "当事人撤诉", "csrf_token": token},
        csrf=False, follow_redirects=True,
    )  # fmt: skip
    assert "已取消" in sent.text
