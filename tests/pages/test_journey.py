"""The whole journey in real Chromium: a clerk books a mediation through the form on a slot
the finder offered; the mediator opens the room; a party on a phone passes the self-test,
waits, is admitted, and both see each other; the party's network drops and comes back; the
mediator ends the session and the attendance shows both. Screenshots in Chinese and English."""

from __future__ import annotations

import re
import socket

import pytest

from tests.pages.conftest import ONLY_LOOPBACK, wait_for

pytestmark = [
    pytest.mark.media,
    pytest.mark.skipif(
        not ONLY_LOOPBACK, reason="browser media tests run in a loopback-only namespace (.ci/run)"
    ),
]

PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
REMOTE_VIDEO_PLAYS = """() => {
  const v = document.querySelector('video[id^="v-"]');
  return !!v && v.videoWidth > 0 && v.getVideoPlaybackQuality().totalVideoFrames > 3;
}"""


def sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", "secret-password")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_book_meet_drop_and_end(browser, live_server, court_staff, app, artifacts, lang):
    base = f"http://{live_server}"
    clerk_ctx = browser.new_context(locale="zh-CN")
    mediator_ctx = browser.new_context(locale="zh-CN")
    party_ctx = browser.new_context(locale="zh-CN", **PHONE)
    try:
        for ctx in (clerk_ctx, mediator_ctx, party_ctx):
            ctx.add_cookies([{"name": "lang", "value": lang, "url": base}])
        clerk = clerk_ctx.new_page()
        sign_in(clerk, base, court_staff["luoyang-clerk1"].username)

        # Book through the form, on the first slot the finder offers.
        clerk.click("nav >> a[href='/sessions/new']")
        clerk.select_option("#kind", "mediation")
        clerk.fill("#title", "买卖合同纠纷视频调解")
        clerk.select_option("#staff_role_0", "mediator")
        clerk.select_option("#staff_id_0", str(court_staff["luoyang-mediator1"].id))
        clerk.select_option("#out_role_0", "party")
        clerk.select_option("#out_side_0", "applicant")
        clerk.fill("#out_name_0", "张三")
        clerk.fill("#out_phone_0", "13800000001")
        clerk.click("button[value=find]")
        clerk.wait_for_selector("#slots input[name=slot]")
        first_slot = clerk.get_attribute("#slots input[name=slot]", "value")
        assert first_slot == "2026-09-01T09:00:00+08:00"
        clerk.screenshot(path=artifacts / f"booking-form-{lang}.png", full_page=True)
        clerk.click("button[value=book]")
        clerk.wait_for_url(re.compile(r"/sessions/\d+$"))
        session_url = clerk.url
        clerk.click("#make-links")
        party_link = clerk.input_value("section.card:has-text('张三') input")
        clerk.screenshot(path=artifacts / f"join-links-{lang}.png", full_page=True)
        clerk.goto(session_url)
        clerk.screenshot(path=artifacts / f"session-page-{lang}.png", full_page=True)
        clerk.goto(f"{base}/")
        assert "买卖合同纠纷视频调解" in clerk.inner_text("#week")
        clerk.screenshot(path=artifacts / f"staff-week-{lang}.png", full_page=True)

        # The mediator enters the room from the session page.
        mediator = mediator_ctx.new_page()
        sign_in(mediator, base, court_staff["luoyang-mediator1"].username)
        mediator.goto(session_url)
        mediator.click("#enter-room")
        mediator.wait_for_url(re.compile(r"/join/"))
        mediator.check("#consent")
        mediator.click("#join")
        mediator.wait_for_selector("#controls:not([hidden])")

        # The party, on a phone, checks the device first, then waits.
        party = party_ctx.new_page()
        party.goto(party_link.replace("http://127.0.0.1:5000", base))
        party.click("#selftest")
        wait_for(party, "document.getElementById('verdict').dataset.result")
        assert party.get_attribute("#verdict", "data-result") in ("good", "okay")
        party.screenshot(path=artifacts / f"join-page-phone-{lang}.png", full_page=True)
        party.check("#consent")
        party.click("#join")
        mediator.wait_for_selector("#waiting li button")
        mediator.click("#waiting li button")
        wait_for(mediator, REMOTE_VIDEO_PLAYS, timeout=20_000)
        wait_for(party, REMOTE_VIDEO_PLAYS, timeout=20_000)
        frames = party.evaluate(
            "document.querySelector('video[id^=\"v-\"]').getVideoPlaybackQuality().totalVideoFrames"
        )
        wait_for(
            party,
            "document.querySelector('video[id^=\"v-\"]').getVideoPlaybackQuality()"
            f".totalVideoFrames > {frames}",
        )
        assert party.evaluate("document.documentElement.scrollWidth") <= 360
        party.screenshot(path=artifacts / f"call-phone-{lang}.png")
        mediator.screenshot(path=artifacts / f"call-mediator-{lang}.png")

        # The party's network drops; the page comes back into the call on its own.
        hub = app.extensions["hearings.hub"]
        (dropped,) = [c for c in hub.local_connections() if c.info.role == "party"]
        dropped.ws.sock.shutdown(socket.SHUT_RDWR)
        wait_for(mediator, "!document.querySelector('video[id^=\"v-\"]')")
        wait_for(mediator, REMOTE_VIDEO_PLAYS, timeout=20_000)
        wait_for(party, REMOTE_VIDEO_PLAYS, timeout=20_000)

        # The mediator ends it (and confirms); the session page shows who attended.
        mediator.once("dialog", lambda dialog: dialog.accept())
        mediator.click("#end")
        wait_for(party, "document.getElementById('status').textContent.length > 0")
        party.wait_for_selector("#videos video[id^='v-']", state="detached")
        clerk.goto(session_url)
        attendance = clerk.inner_text("#attendance")
        assert "张三" in attendance and court_staff["luoyang-mediator1"].name in attendance
        status = clerk.inner_text("#status")
        assert status in ("已结束", "Completed")
    finally:
        for ctx in (clerk_ctx, mediator_ctx, party_ctx):
            ctx.close()
