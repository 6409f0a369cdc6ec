"""Witnessing from the room in real Chromium: the clerk (the officer) checks the principal's
identity, starts the server's recorder once the agent is in the room too, confirms every step
in order, pauses with a reason, resumes and seals, while the principal, on a phone, is in the
call and sees the recording indicator follow along, and never any of the controls."""

from __future__ import annotations

import json
import re

import pytest

from tests.fixtures.witness import valid_id
from tests.pages.conftest import ONLY_LOOPBACK, wait_for
from tests.pages.test_journey import PHONE, REMOTE_VIDEO_PLAYS, sign_in

pytestmark = [
    pytest.mark.media,
    pytest.mark.skipif(
        not ONLY_LOOPBACK, reason="browser media tests run in a loopback-only namespace (.ci/run)"
    ),
]

INDICATOR = "document.getElementById('recording')"


@pytest.fixture
def recording_app(app, live_server):
    """The app with its recorder peer on, joining rooms through the live server."""
    app.config.update(RECORDER_ENABLED=True, RECORDER_SIGNALING_URL=f"ws://{live_server}",
                      SEGMENT_SECONDS=4.0)  # fmt: skip
    yield app
    app.extensions["hearings.recorders"].shutdown()


def indicator_is(page, state: str) -> None:
    """Wait until the page's recording indicator shows ``state`` (``on``, ``paused``, ``off``)."""
    hidden = "true" if state == "off" else "false"
    try:
        wait_for(
            page, f"{INDICATOR}.hidden === {hidden} && {INDICATOR}.dataset.state === '{state}'"
        )
    except Exception:
        actual = page.evaluate(f"[{INDICATOR}.hidden, {INDICATOR}.dataset.state]")
        raise AssertionError(f"the indicator is {actual}, not {state}") from None


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_clerk_witnesses_to_sealed_with_principal_and_agent_in_the_room(
    browser, live_server, recording_app, now_session, court_staff, auth, client, artifacts, lang
):
    base = f"http://{live_server}"
    session = now_session("witness")
    clerk_ctx = browser.new_context(locale="zh-CN")
    principal_ctx = browser.new_context(locale="zh-CN", **PHONE)
    agent_ctx = browser.new_context(locale="zh-CN")
    try:
        for ctx in (clerk_ctx, principal_ctx, agent_ctx):
            ctx.add_cookies([{"name": "lang", "value": lang, "url": base}])
        clerk = clerk_ctx.new_page()
        sign_in(clerk, base, court_staff["luoyang-clerk1"].username)
        clerk.goto(f"{base}/sessions/{session['id']}")
        clerk.click("#enter-room")
        clerk.wait_for_url(re.compile(r"/join/"))
        clerk.check("#consent")
        clerk.click("#join")
        clerk.wait_for_selector("#witness:visible")

        principal = principal_ctx.new_page()
        principal.goto(f"{base}/join/{session['tokens']['principal']}")
        principal.check("#consent")
        principal.click("#join")
        clerk.wait_for_selector("#waiting li button")
        clerk.click("#waiting li button")
        wait_for(clerk, REMOTE_VIDEO_PLAYS, timeout=20_000)
        wait_for(principal, REMOTE_VIDEO_PLAYS, timeout=20_000)
        assert principal.locator("#witness, #w-start, #w-stop").count() == 0

        # Identity: name and number off the card shown on camera, the face confirmed.
        clerk.fill("#w-name", "赵六")
        clerk.fill("#w-id-number", valid_id())
        clerk.click("#w-check")
        clerk.wait_for_selector("#w-error:visible")  # the face is not confirmed yet
        clerk.check("#w-face")
        clerk.click("#w-check")
        clerk.wait_for_selector("#w-identity-done:visible")
        assert "4103**********" in clerk.inner_text("#w-identity-done")
        assert valid_id() not in clerk.content()

        # Recording on, with two special authorities: not before the agent is in the room
        # too; then everyone sees the indicator.
        clerk.check("input[name=w-grant][value=special]")
        clerk.check("input[name=w-power][value=settle]")
        clerk.check("input[name=w-power][value=appeal]")
        clerk.click("#w-start")
        clerk.wait_for_selector("#w-error:visible")
        assert "钱律师" in clerk.inner_text("#w-error")
        agent = agent_ctx.new_page()
        agent.goto(f"{base}/join/{session['tokens']['agent']}")
        agent.check("#consent")
        agent.click("#join")
        clerk.wait_for_selector("#waiting li button")
        clerk.click("#waiting li button")
        wait_for(agent, REMOTE_VIDEO_PLAYS, timeout=20_000)
        clerk.click("#w-start")
        indicator_is(principal, "on")
        indicator_is(clerk, "on")
        clerk.wait_for_selector("#w-steps button[data-step=undertaking]:enabled")
        assert clerk.is_disabled("#w-steps button[data-step=agent_accepts]")

        # A step out of order (a stale page, say) is refused by the server, in plain words.
        clerk.evaluate(
            "document.querySelector('#w-steps button[data-step=agent_accepts]').disabled = false"
        )
        clerk.click("#w-steps button[data-step=agent_accepts]")
        clerk.wait_for_selector("#w-error:visible")
        refusal = clerk.inner_text("#w-error")
        assert ("下一步" in refusal or "next one" in refusal) and (
            "不能跳过" in refusal or "none may be skipped" in refusal
        )

        for selector in ("[data-step=undertaking]", "[data-power=settle]", "[data-power=appeal]"):
            clerk.click(f"#w-steps button{selector}")
            clerk.wait_for_selector(f"#w-steps button{selector}", state="detached")
        assert clerk.locator("#w-steps li[data-done]").count() == 3

        clerk.click("#w-steps button[data-step=agent_accepts]")
        clerk.wait_for_selector("#w-steps button[data-step=attestation]:enabled")
        clerk.click("#w-steps button[data-step=attestation]")
        wait_for(clerk, "document.querySelectorAll('#w-steps li[data-done]').length === 5")
        clerk.screenshot(path=artifacts / f"witness-room-clerk-{lang}.png", full_page=True)
        principal.screenshot(path=artifacts / f"witness-room-principal-phone-{lang}.png")

        # A pause needs its reason; the room sees it, and the resumption.
        clerk.click("#w-pause")
        assert clerk.is_visible("#w-error")
        clerk.fill("#w-reason", "委托人需要取身份证原件")
        clerk.click("#w-pause")
        indicator_is(principal, "paused")
        clerk.wait_for_selector("#w-resume:enabled")
        clerk.click("#w-resume")
        indicator_is(clerk, "on")
        # Sealed at once, as an officer would: the segment just opened may have no media yet.
        clerk.fill("#w-reason", "")
        clerk.click("#w-stop")
        # Sealing waits for the recorder to close its last segment and leave; under load that
        # has once taken 30 s (seen in the recorder's stop, witness package): room to spare.
        clerk.wait_for_selector("#w-sealed:visible", timeout=90_000)
        indicator_is(principal, "off")
        indicator_is(clerk, "off")
        record_url = clerk.get_attribute("#w-sealed a", "href")
        assert principal.locator("#witness").count() == 0
        # The call goes on after the seal.
        wait_for(principal, REMOTE_VIDEO_PLAYS)
    finally:
        for ctx in (clerk_ctx, principal_ctx, agent_ctx):
            ctx.close()

    # The sealed recording holds what happened, and verifies.
    rid = int(record_url.rstrip("/").split("/")[-2])
    headers = auth(court_staff["luoyang-clerk1"])
    recording = client.get(f"/api/v1/recordings/{rid}", headers=headers).json
    assert recording["status"] == "sealed" and recording["powers"] == ["settle", "appeal"]
    steps = [(m["step"], m["power"]) for m in recording["script"]]
    assert steps == [("undertaking", None), ("power", "settle"), ("power", "appeal"),
                     ("agent_accepts", None), ("attestation", None)]  # fmt: skip
    actions = [e["action"] for e in recording["custody"]]
    assert "paused" in actions and "resumed" in actions
    paused = next(e for e in recording["custody"] if e["action"] == "paused")
    assert paused["detail"]["reason"] == "委托人需要取身份证原件"
    assert recording["segments"], json.dumps(recording, ensure_ascii=False)[:2000]
    verified = client.get(f"/api/v1/recordings/{rid}/verify", headers=headers).json
    assert verified["ok"], verified
