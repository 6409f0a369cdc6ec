"""A mediator and a party on a phone meet in real Chromium pages through the hub."""

from __future__ import annotations

import socket

import pytest

from tests.pages.conftest import ONLY_LOOPBACK

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


def enter(page, url: str) -> None:
    page.goto(url)
    page.check("#consent")
    page.click("#join")


def test_mediator_admits_a_party_and_both_see_video(
    browser, live_server, now_session, artifacts, app, client, auth, court_staff
):
    s = now_session("mediation")
    base = f"http://{live_server}/join/"
    judge_context = browser.new_context(locale="zh-CN")
    party_context = browser.new_context(locale="zh-CN", **PHONE)
    try:
        judge, party = judge_context.new_page(), party_context.new_page()
        enter(judge, base + s["tokens"]["mediator"])
        judge.wait_for_function(
            "document.getElementById('status').textContent.includes('已进入会议')"
        )
        enter(party, base + s["tokens"]["applicant"])
        party.wait_for_function("document.getElementById('status').textContent.includes('请稍候')")
        party.screenshot(path=artifacts / "join-waiting-phone-zh.png")
        judge.click("#waiting button")
        judge.wait_for_function(REMOTE_VIDEO_PLAYS, timeout=20_000)
        party.wait_for_function(REMOTE_VIDEO_PLAYS, timeout=20_000)
        frames = party.evaluate(
            "document.querySelector('video[id^=\"v-\"]').getVideoPlaybackQuality().totalVideoFrames"
        )
        party.wait_for_function(
            f"document.querySelector('video[id^=\"v-\"]').getVideoPlaybackQuality()"
            f".totalVideoFrames > {frames}"
        )
        party.screenshot(path=artifacts / "call-phone-zh.png")
        judge.screenshot(path=artifacts / "call-judge-zh.png")
        # Nothing overflows a phone's width.
        assert party.evaluate("document.documentElement.scrollWidth") <= 360

        # The party's network drops (the server sees the socket die, no goodbye) ...
        hub = app.extensions["hearings.hub"]
        (dropped,) = [c for c in hub.local_connections(s["id"]) if c.info.role == "party"]
        dropped.ws.sock.shutdown(socket.SHUT_RDWR)
        judge.wait_for_function("!document.querySelector('video[id^=\"v-\"]')")
        # ... and the page comes back on its own, straight into the call.
        judge.wait_for_function(REMOTE_VIDEO_PLAYS, timeout=20_000)
        party.wait_for_function(REMOTE_VIDEO_PLAYS, timeout=20_000)

        judge.click("#end")
        party.wait_for_function("document.getElementById('status').textContent.includes('已结束')")
        events = client.get(
            f"/api/v1/sessions/{s['id']}/attendance", headers=auth(court_staff["luoyang-admin"])
        ).json["items"]
        seen = {(e["role"], e["event"]) for e in events}
        assert {("mediator", "joined"), ("party", "admitted"), ("party", "dropped")} <= seen
        assert ("party", "admitted") in seen and ("mediator", "ended") in seen
    finally:
        judge_context.close()
        party_context.close()
