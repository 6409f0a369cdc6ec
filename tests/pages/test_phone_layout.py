"""The staff's table pages on a phone (390×844) in real Chromium: nothing makes the page scroll
sideways, and each participant's or colleague's details stay readable (no column squeezed to
one character a line)."""

from __future__ import annotations

import pytest

from tests.pages.test_journey import sign_in

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}

#: The narrowest text cell on the page, in CSS pixels (a one-character column is ~16 px).
NARROWEST_CELL = """(selector) => Math.min(...[...document.querySelectorAll(selector)]
  .filter((td) => td.textContent.trim()).map((td) => td.getBoundingClientRect().width))"""


# One database is enough: the layout is under test, not the storage.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_tables_fit_a_phone(
    browser, live_server, make_session, court_staff, make_staff, artifacts, lang
):
    base = f"http://{live_server}"
    make_staff(
        "luohe",
        "judge",
        name="欧阳明远",
        department="立案庭（诉讼服务中心）",
        email="ouyang.mingyuan.lian@luohe-court.example",
    )
    mediation = make_session("mediation")
    context = browser.new_context(locale="zh-CN", **PHONE)
    try:
        context.add_cookies([{"name": "lang", "value": lang, "url": base}])
        page = context.new_page()
        for name, path, cells in (
            ("directory", "/directory", "#people td"),
            ("session", f"/sessions/{mediation['id']}", "#participants td"),
        ):
            if name == "session":
                sign_in(page, base, court_staff["luoyang-mediator1"].username)
            page.goto(base + path)
            page.screenshot(path=artifacts / f"phone-{name}-{lang}.png", full_page=True)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"{name} ({lang}) is {width} px wide"
            assert page.evaluate(NARROWEST_CELL, cells) > 200, f"{name} ({lang}) squeezes a cell"
        email = page.goto(f"{base}/directory?q=欧阳") and page.locator("#people a[href^=mailto]")
        box = email.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    finally:
        context.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_finder_without_a_title_and_links_refresh_in_a_browser(
    browser, live_server, court_staff, artifacts
):
    base = f"http://{live_server}"
    context = browser.new_context(locale="zh-CN", **PHONE)
    try:
        page = context.new_page()
        sign_in(page, base, court_staff["luoyang-clerk1"].username)
        # The finder needs no title: the browser does not stop it at the empty field.
        page.goto(f"{base}/sessions/new")
        page.select_option("#kind", "hearing")
        page.select_option("#staff_role_0", "presiding_judge")
        page.select_option("#staff_id_0", str(court_staff["luoyang-judge1"].id))
        page.select_option("#staff_role_1", "clerk")
        page.select_option("#staff_id_1", str(court_staff["luoyang-clerk1"].id))
        page.click("button[value=find]")
        page.wait_for_selector("#slots input[name=slot]")
        assert page.get_attribute("#slots input[name=slot]", "value") == (
            "2026-09-04T09:00:00+08:00"
        )
        assert "周五" in page.inner_text("#slots")
        page.fill("#title", "借款合同纠纷")
        page.click("button[value=book]")
        page.wait_for_url(f"{base}/sessions/*")
        # Issue the links; a reload shows the overview and issues nothing.
        page.click("#make-links")
        page.wait_for_selector("#issued")
        assert page.locator("#issued input").count() == 2  # the judge and the clerk
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=artifacts / "phone-links-zh.png", full_page=True)
        page.reload()
        assert page.locator("#issued").count() == 0
        # A plain GET of the overview (the POST was not sent again: no out-of-date notice).
        assert "页面已过期" not in page.content()
        assert page.locator("#link-states form.reissue").count() == 2
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        context.close()
