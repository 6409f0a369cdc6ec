"""Every page people use passes axe-core (labels, contrast, landmarks, names …), run in the
page in real Chromium, in Chinese and in English; the party's join page on a phone."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.pages.conftest import find_mediation_slots, wait_for
from tests.pages.test_journey import PHONE, sign_in

#: WCAG 2.1 A and AA, and axe's best practices (landmarks, headings, regions).
RULES = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa",
                                                "best-practice"]}}  # fmt: skip


def violations(page) -> list[str]:
    """What axe finds wrong on the page, one line per rule and element."""
    results = Axe().run(page, options=RULES)
    return [
        f"{v['id']} ({v['impact']}): {node['target']} — {node['failureSummary']}"
        for v in results.response["violations"]
        for node in v["nodes"]
    ]


# One database is enough: the pages are under test here, not the storage.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_pages_pass_axe(browser, live_server, now_session, make_session, court_staff, lang):
    base = f"http://{live_server}"
    witnessing = now_session("witness")
    mediation = make_session("mediation")
    found: dict[str, list[str]] = {}
    staff_ctx = browser.new_context(locale="zh-CN")
    phone_ctx = browser.new_context(locale="zh-CN", **PHONE)
    try:
        for ctx in (staff_ctx, phone_ctx):
            ctx.add_cookies([{"name": "lang", "value": lang, "url": base}])
        page = staff_ctx.new_page()
        page.goto(f"{base}/login")
        found["login"] = violations(page)
        page.goto(f"{base}/directory")
        found["directory"] = violations(page)
        sign_in(page, base, court_staff["luoyang-clerk1"].username)
        page.goto(f"{base}/?week=2026-09-07")
        found["desk week"] = violations(page)
        page.goto(f"{base}/sessions/new")
        found["booking form"] = violations(page)
        find_mediation_slots(page, base, court_staff["luoyang-mediator1"].id)
        found["booking form with slots"] = violations(page)
        page.goto(f"{base}/sessions/{mediation['id']}")
        found["session page"] = violations(page)
        page.goto(f"{base}/sessions/{witnessing['id']}")
        page.click("#enter-room")
        page.wait_for_selector("#consent")
        found["officer's room page"] = violations(page)
        page.check("#consent")
        page.click("#join")
        page.wait_for_selector("#w-identity-form:visible")
        found["officer's room page, in the call, witnessing panel"] = violations(page)
        page.click("#w-check")  # the face is not confirmed: the panel says so
        page.wait_for_selector("#w-error:visible")
        found["witnessing panel with a refusal"] = violations(page)

        phone = phone_ctx.new_page()
        phone.goto(f"{base}/join/{witnessing['tokens']['principal']}")
        found["join page (phone)"] = violations(phone)
        phone.click("#selftest")
        wait_for(phone, "document.getElementById('verdict').dataset.result")
        found["join page after the self-test (phone)"] = violations(phone)
        phone.goto(f"{base}/join/not-a-token")
        found["refused link (phone)"] = violations(phone)
    finally:
        staff_ctx.close()
        phone_ctx.close()
    assert {name: lines for name, lines in found.items() if lines} == {}
