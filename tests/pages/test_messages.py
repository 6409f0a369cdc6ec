"""What people read when a page says no: the booking rules, double bookings, sign-in, the
error pages, refused join links and the deliveries page, in Chinese and in English."""

from __future__ import annotations

import html

import pytest

from hearings.i18n import catalogue
from hearings.notify.words import NOTICE_KINDS
from hearings.page_errors import ERROR_PAGES, error_page
from hearings.scheduling.words import NEEDS
from hearings.words import FORM_FIELDS
from tests.conftest import sign_in
from tests.forms import alerts, hearing_form


def book_form(client, cast, starts_at: str):
    """Book a hearing on the form at a local time."""
    return client.post("/sessions/new", data=hearing_form(cast, starts_at=starts_at))


def test_every_message_the_pages_build_has_an_english_translation():
    english = catalogue("en")
    texts = [*NEEDS.values(), *NOTICE_KINDS.values(), *FORM_FIELDS.values()]
    texts += [t for pair in ERROR_PAGES.values() for t in pair]
    assert [t for t in texts if t not in english] == []


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("zh", "网上开庭须有一名书记员。"), ("en", "An online hearing needs a clerk.")],
)
def test_a_missing_role_is_named_in_the_visitors_language(client, court_staff, lang, expected):
    sign_in(client, court_staff["luoyang-judge1"], lang)
    form = hearing_form(court_staff, staff_id_1="")
    response = client.post("/sessions/new", data=form)
    assert response.status_code == 422
    assert alerts(response) == [expected]


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("zh", "开庭须提前三日通知（民诉法第139条）；如需更早开庭，请填写“开庭不足三日的理由”。"),
        ("en", "Parties must be summoned at least three days before a hearing (Civil Procedure "
               "Law, Art. 139); to hold it sooner, fill in “Reason for a hearing at less than "
               "3 days' notice”."),
    ],
)  # fmt: skip
def test_short_notice_names_the_forms_field(client, court_staff, lang, expected):
    sign_in(client, court_staff["luoyang-judge1"], lang)
    response = client.post(
        "/sessions/new", data=hearing_form(court_staff, starts_at="2026-09-02T09:00")
    )
    assert response.status_code == 422
    assert alerts(response) == [expected]
    assert "short_notice_reason" not in " ".join(alerts(response))


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("zh", "洛阳中院 2027-01-01 不是工作日（元旦）；如确需安排，请填写“非工作时间理由”。"),
        ("en", "2027-01-01 is not a working day at Luoyang Intermediate Court (New Year's Day); "
               "if the session must be held then, fill in “Reason for outside working hours”."),
    ],
)  # fmt: skip
def test_a_holiday_is_named_with_the_court(client, court_staff, lang, expected):
    sign_in(client, court_staff["luoyang-judge1"], lang)
    response = client.post(
        "/sessions/new", data=hearing_form(court_staff, starts_at="2027-01-01T09:00")
    )
    assert response.status_code == 422
    assert alerts(response) == [expected]


def test_outside_the_days_hours_shows_them(client, court_staff):
    sign_in(client, court_staff["luoyang-judge1"])
    response = client.post(
        "/sessions/new", data=hearing_form(court_staff, starts_at="2026-09-10T07:00")
    )
    [said] = alerts(response)
    assert said.startswith("所选时间不在洛阳中院 2026-09-10 的工作时间（")
    assert said.endswith("）内；如确需安排，请填写“非工作时间理由”。")
    assert "outside_hours_reason" not in said


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_role_mismatch_duplicate_and_past_in_plain_words(client, court_staff, lang):
    admin, clerk = court_staff["luoyang-admin"], court_staff["luoyang-clerk1"]
    sign_in(client, court_staff["luoyang-judge1"], lang)
    form = hearing_form(
        court_staff, staff_id_0=str(admin.id), staff_role_2="clerk", staff_id_2=str(clerk.id)
    )
    response = client.post("/sessions/new", data=form)
    past = client.post(
        "/sessions/new", data=hearing_form(court_staff, starts_at="2026-08-20T09:00")
    )
    assert response.status_code == past.status_code == 422
    if lang == "zh":
        assert alerts(response) == [
            f"{admin.name}是管理员，不能担任审判长。",
            f"{clerk.name}被重复列入，请删去一处。",
        ]
        assert alerts(past) == ["开始时间已过，请选择以后的时间。"]
    else:
        assert alerts(response) == [
            f"{admin.name} is an administrator and can't be the presiding judge.",
            f"{clerk.name} is listed twice; please remove one.",
        ]
        assert alerts(past) == ["That start time has passed; please choose a later time."]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_double_booking_lists_who_when_and_which_session(client, make_session, court_staff, lang):
    taken = make_session("hearing")
    judge = court_staff["luoyang-judge1"]
    sign_in(client, judge, lang)
    form = hearing_form(court_staff, starts_at="2026-09-10T09:30")
    response = client.post("/sessions/new", data=form)
    assert response.status_code == 409
    [said] = alerts(response)
    if lang == "zh":
        assert said.startswith("以下人员或房间该时段已有安排：")
        assert f"{judge.name} 09:00–10:00（会议 {taken['id']}）" in said
    else:
        assert said.startswith("Already booked at that time: ")
        assert f"{judge.name} 09:00–10:00 (session {taken['id']})" in said


def test_a_form_that_doesnt_fit_names_its_fields(client, court_staff):
    sign_in(client, court_staff["luoyang-judge1"])
    response = client.post("/sessions/new", data=hearing_form(court_staff, title=""))
    assert response.status_code == 422
    assert alerts(response) == ["请检查以下项目：标题。"]


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("zh", "洛阳中院 2026-10-01 不是工作日（国庆节）"),
     ("en", "2026-10-01 is not a working day at Luoyang Intermediate Court (National Day)")],
)  # fmt: skip
def test_reschedule_refusal_is_flashed_in_plain_words(
    client, make_session, court_staff, lang, expected
):
    session = make_session("hearing")
    sign_in(client, court_staff["luoyang-judge1"], lang)
    moved = client.post(
        f"/sessions/{session['id']}/reschedule",
        data={"starts_at": "2026-10-01T09:00", "duration": "60"},
        follow_redirects=True,
    )
    [said] = alerts(moved)
    assert said.startswith(expected) and "outside_hours_reason" not in said


@pytest.mark.parametrize(
    ("lang", "expected"), [("zh", "用户名或密码错误。"), ("en", "Wrong username or password.")]
)
def test_wrong_password(client, court_staff, lang, expected):
    client.get(f"/lang/{lang}")
    response = client.post(
        "/login", data={"username": court_staff["luoyang-judge1"].username, "password": "nope"}
    )
    assert response.status_code == 401
    assert alerts(response) == [expected]


@pytest.mark.parametrize(
    ("lang", "title", "next_step"),
    [("zh", "您无权查看此会议", "返回首页"),
     ("en", "You may not view this session", "Back to the home page")],
)  # fmt: skip
def test_a_refused_session_page_says_so_plainly(client, make_session, court_staff, auth, lang,
                                                title, next_step):  # fmt: skip
    session = make_session("hearing")
    sign_in(client, court_staff["luohe-judge2"], lang)
    page = client.get(f"/sessions/{session['id']}")
    assert page.status_code == 403
    assert f"<h1>{title}</h1>" in page.text and next_step in page.text
    assert "403 · Not allowed" not in page.text
    # The API's problem document is unchanged.
    api = client.get(f"/api/v1/sessions/{session['id']}", headers=auth(court_staff["luohe-judge2"]))
    assert api.json["title"] == "Not allowed" and "You may not view session" in api.json["detail"]


@pytest.mark.parametrize(
    ("lang", "path", "method", "status", "title"),
    [
        ("zh", "/sessions/999999", "GET", 404, "找不到该会议"),
        ("en", "/sessions/999999", "GET", 404, "Session not found"),
        ("zh", "/no-such-page", "GET", 404, "找不到该页面"),
        ("en", "/no-such-page", "GET", 404, "Page not found"),
        ("zh", "/sessions/1/cancel", "GET", 405, "无法这样打开此页面"),
        ("en", "/sessions/1/cancel", "GET", 405, "This page can't be opened this way"),
        ("zh", "/sessions/1/cancel", "POST", 400, "页面已过期"),
        ("en", "/sessions/1/cancel", "POST", 400, "This page has expired"),
    ],
)
def test_error_pages_have_a_plain_title_and_what_to_do(client, court_staff, lang, path, method,
                                                       status, title):  # fmt: skip
    sign_in(client, court_staff["luoyang-judge1"], lang)
    page = client.open(path, method=method, data={"reason": "x"}, csrf=False)
    assert page.status_code == status
    assert f"<h1>{title}</h1>" in html.unescape(page.text)
    assert ("返回首页" if lang == "zh" else "Back to the home page") in page.text


def test_a_server_failure_page_says_nothing_was_saved(app, client, court_staff, monkeypatch):
    from hearings.scheduling import pages

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(pages, "render_panels", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    sign_in(client, court_staff["luoyang-judge1"])
    session = client.post("/sessions/new", data=hearing_form(court_staff))
    page = client.get(session.headers["Location"])
    assert page.status_code == 500
    assert "<h1>系统出错</h1>" in page.text and "本次操作没有保存" in page.text
    assert "boom" not in page.text


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("zh", "此参会链接无效或已损坏，请使用邮件/短信中的完整链接，或联系承办法院。"),
     ("en", "This join link is invalid or damaged. Use the complete link from your email or "
            "text message, or contact the court in charge.")],
)  # fmt: skip
def test_a_damaged_join_link(client, lang, expected):
    client.get(f"/lang/{lang}")
    page = client.get("/join/eyJhbGciOiJIUzI1NiJ9.broken.signature")
    assert page.status_code == 403
    assert expected in html.unescape(page.text)
    assert "Signature" not in page.text and "invalid token" not in page.text


def test_revoked_and_cancelled_join_links(client, now_session, court_staff, auth):
    session = now_session("mediation")
    party = next(p for p in session["participants"] if p["role"] == "party")
    old = session["tokens"][party["side"]]
    reissued = client.post(f"/api/v1/sessions/{session['id']}/participants/{party['id']}/link",
                           headers=auth(court_staff["luoyang-admin"]))  # fmt: skip
    assert reissued.status_code in (200, 201), reissued.json
    assert "此参会链接已被法院收回" in client.get(f"/join/{old}").text
    mediator = session["tokens"]["mediator"]
    cancelled = client.post(f"/api/v1/sessions/{session['id']}/cancel",
                            json={"reason": "当事人和解"},
                            headers=auth(court_staff["luoyang-admin"]))  # fmt: skip
    assert cancelled.status_code == 200, cancelled.json
    page = client.get(f"/join/{mediator}")
    assert "此会议已取消，链接不再有效。" in page.text and "the session is" not in page.text
    client.get("/lang/en")
    assert "This session was cancelled" in client.get(f"/join/{mediator}").text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_deliveries_speak_the_visitors_language_only(client, make_session, court_staff, lang):
    session = make_session("hearing")
    sign_in(client, court_staff["luoyang-judge1"], lang)
    page = client.get(f"/sessions/{session['id']}/deliveries")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert "invite#" not in text and "no_address" not in text
    if lang == "zh":
        assert "没有电子邮箱，请电话通知 13800000002" in text and "no email address" not in text
        assert "邀请 无联系地址" in text
    else:
        assert "No email address: call 13800000002" in text and "没有电子邮箱" not in text
        assert "Invitation" in text


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("zh", "此参会链接已过期。请联系承办法院获取新的链接。"),
     ("en", "This join link has expired. Contact the court in charge for a new one.")],
)  # fmt: skip
def test_a_join_link_after_its_session_says_it_expired(client, now_session, app, lang, expected):
    session = now_session("mediation", starts_at="2026-09-01T09:15", ends_at="2026-09-01T10:15")
    app.config["NOW"] = "2026-09-01T13:00:00+08:00"  # the room closes two hours after
    client.get(f"/lang/{lang}")
    page = client.get(f"/join/{session['tokens']['mediator']}")
    assert page.status_code == 403 and expected in html.unescape(page.text)


def test_a_clash_on_an_error_page_is_said_like_on_the_form(app):
    conflict = {
        "type": "https://hearings.court/problems/conflict", "title": "Double booking",
        "status": 409, "detail": "Already booked at that time: 第一法庭.",
        "code": "double-booking",
        "conflicts": [{"resource": "room:1", "resource_name": "第一法庭", "session_id": 7,
                       "starts_at": "2026-09-10T09:00:00+08:00",
                       "ends_at": "2026-09-10T10:00:00+08:00"}],
    }  # fmt: skip
    with app.test_request_context("/"):
        page = error_page(conflict)
    assert page["title"] == "操作与当前状态冲突"
    assert page["explanation"] == "以下人员或房间该时段已有安排：第一法庭 09:00–10:00（会议 7）"
