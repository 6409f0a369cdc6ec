"""The video room as people use it, in real Chromium: a mediator's caucus (背对背) they can
follow and undo; joining without a camera or microphone; on/off controls a party can read;
ending only after a confirmation; header links that leave the call running."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pages.conftest import CHROMIUM, FLAGS, ONLY_LOOPBACK, wait_for
from tests.pages.test_accessibility import violations
from tests.pages.test_journey import REMOTE_VIDEO_PLAYS

pytestmark = [
    pytest.mark.media,
    pytest.mark.skipif(
        not ONLY_LOOPBACK, reason="browser media tests run in a loopback-only namespace (.ci/run)"
    ),
]

FAKE_DEVICES = "--use-fake-device-for-media-stream"
#: Chromium as on a machine without devices, with only a microphone, or refusing permission.
DEVICES = {
    "fake": FLAGS,
    "none": [f for f in FLAGS if f != FAKE_DEVICES],
    # The fake capture factory with no cameras: the fake microphone stays.
    "microphone": [f if f != FAKE_DEVICES else f"{FAKE_DEVICES}=device-count=0" for f in FLAGS],
    "denied": [
        *(f for f in FLAGS if f != "--use-fake-ui-for-media-stream"),
        "--deny-permission-prompts",
    ],
}
TILES = "#videos figure[id^='t-']"


@pytest.fixture(scope="module")
def chromium() -> Iterator[dict[str, object]]:
    """One headless Chromium per set of devices, launched when first asked for."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched: dict[str, object] = {}

        class Browsers(dict):
            def __missing__(self, devices: str) -> object:
                launched[devices] = playwright.chromium.launch(
                    executable_path=CHROMIUM, args=DEVICES[devices]
                )
                return launched[devices]

        yield Browsers()
        for browser in launched.values():
            browser.close()  # type: ignore[attr-defined]


@pytest.fixture
def room(chromium, live_server):
    """Open a join link in a new context of the Chromium with those devices; all closed after."""
    base = f"http://{live_server}"
    contexts = []

    def open_page(token: str, devices: str = "fake", lang: str = "zh"):
        ctx = chromium[devices].new_context(locale="zh-CN")
        ctx.add_cookies([{"name": "lang", "value": lang, "url": base}])
        contexts.append(ctx)
        page = ctx.new_page()
        page.goto(f"{base}/join/{token}")
        return page

    yield open_page
    for ctx in contexts:
        ctx.close()


def enter(page) -> None:
    page.check("#consent")
    page.click("#join")


def status_is(page, text: str) -> None:
    wait_for(page, "(text) => document.getElementById('status').textContent === text", arg=text)


def admit(mediator, name: str) -> None:
    mediator.click(f"#waiting li:has-text('{name}') button")


def test_caucus_the_mediator_follows_and_brings_back(room, now_session, artifacts):
    s = now_session("mediation")
    mediator = room(s["tokens"]["mediator"])
    enter(mediator)
    mediator.wait_for_selector("#controls:not([hidden])")
    applicant, respondent = room(s["tokens"]["applicant"]), room(s["tokens"]["respondent"])
    for party in (applicant, respondent):
        enter(party)
    wait_for(mediator, "document.querySelectorAll('#waiting li').length === 2")
    waiting = mediator.inner_text("#waiting")
    # The role in the court's words, not the protocol's.
    assert "张三（当事人）" in waiting and "party" not in waiting
    admit(mediator, "张三")
    admit(mediator, "李四")
    # Nobody is waiting any more: no empty heading.
    assert mediator.is_hidden("#lobby")
    wait_for(mediator, f'document.querySelectorAll("{TILES}").length === 2')

    # 背对背 on the applicant's tile: the applicant is alone in a caucus, and told so.
    mediator.click(f"{TILES}:has-text('张三') button:text-is('背对背')")
    status_is(applicant, "您已被调解员请入单独会谈室，请稍候。")
    assert applicant.locator(TILES).count() == 0
    respondent.wait_for_selector(f"{TILES}:has-text('张三')", state="detached")
    # The mediator still sees where the applicant is, and can act on it.
    caucus = mediator.locator("#subrooms li", has_text="背对背 · 当事人 张三")
    caucus.wait_for()
    assert mediator.is_visible("#rooms")
    assert violations(mediator) == [] and violations(applicant) == []
    mediator.screenshot(path=artifacts / "caucus-mediator.png", full_page=True)

    # The mediator follows into the caucus: the two talk alone.
    caucus.get_by_role("button", name="进入该室").click()
    status_is(mediator, "您在背对背单独会谈室中，其他人看不到、听不到。")
    status_is(applicant, "您正在与调解员单独会谈（背对背），其他当事人看不到、听不到。")
    wait_for(applicant, REMOTE_VIDEO_PLAYS, timeout=20_000)
    mediator.wait_for_selector(f"{TILES}:has-text('张三')")
    mediator.locator("#subrooms li", has_text="调解室 · 当事人 李四").wait_for()
    wait_for(respondent, f'!document.querySelector("{TILES}")')
    applicant.screenshot(path=artifacts / "caucus-party.png", full_page=True)

    # The mediator steps back out; the applicant waits again.
    mediator.click("#back-main")
    status_is(mediator, "已进入会议。")
    status_is(applicant, "您已被调解员请入单独会谈室，请稍候。")
    mediator.wait_for_selector(f"{TILES}:has-text('李四')")

    # And brings the applicant back to the main room: everyone sees everyone again.
    caucus.get_by_role("button", name="回到调解室").click()
    status_is(applicant, "已进入会议。")
    mediator.wait_for_selector("#rooms", state="hidden")
    for page in (mediator, applicant, respondent):
        wait_for(page, f'document.querySelectorAll("{TILES}").length === 2')
    wait_for(applicant, REMOTE_VIDEO_PLAYS, timeout=20_000)


def test_controls_show_off_end_asks_and_links_leave_the_call_alone(room, now_session):
    s = now_session("mediation")
    mediator, party = room(s["tokens"]["mediator"]), room(s["tokens"]["applicant"])
    enter(mediator)
    mediator.wait_for_selector("#controls:not([hidden])")
    enter(party)
    admit(mediator, "张三")
    wait_for(party, REMOTE_VIDEO_PLAYS, timeout=20_000)
    assert party.inner_text("#mic") == "麦克风" and party.inner_text("#cam") == "摄像头"

    # The party turns the camera off; the mediator mutes the party: both are plain to see.
    party.click("#cam")
    assert party.inner_text("#cam") == "摄像头已关"
    assert party.get_attribute("#cam", "aria-pressed") == "false"
    mediator.click(f"{TILES}:has-text('张三') button:text-is('静音')")
    status_is(party, "主持人已将您静音。")
    assert party.inner_text("#mic") == "麦克风已关"
    assert party.get_attribute("#mic", "aria-pressed") == "false"
    off, on = (
        party.eval_on_selector(b, "(e) => getComputedStyle(e).backgroundColor")
        for b in ("#mic", "#leave")
    )
    assert off != on  # not only the words: the button's colour says "off" too
    party.click("#mic")
    assert party.inner_text("#mic") == "麦克风"

    # Mid-call, the header's links open beside the call; the call goes on.
    for link in ("法官通讯录", "English"):
        with party.context.expect_page() as opened:
            party.click(f"header a:text-is('{link}')")
        opened.value.close()
        assert "/join/" in party.url
    assert party.locator(TILES).count() == 1
    assert mediator.locator(f"{TILES}:has-text('张三')").count() == 1
    # Leaving the page any other way asks first.
    asked = []
    party.once("dialog", lambda dialog: (asked.append(dialog.type), dialog.dismiss()))
    party.close(run_before_unload=True)
    party.evaluate("true")  # one round trip: the dialog has been handled by now
    assert asked == ["beforeunload"] and not party.is_closed()

    # Ending asks first; "cancel" leaves everyone in.
    questions = []
    mediator.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    mediator.click("#end")
    assert questions == ["确定结束会议吗？所有参会人将被断开，结束后无法恢复。"]
    mediator.click(f"{TILES}:has-text('张三') button:text-is('静音')")  # the socket still works
    status_is(party, "主持人已将您静音。")
    assert party.locator(TILES).count() == 1
    mediator.once("dialog", lambda dialog: dialog.accept())
    mediator.click("#end")
    status_is(party, "会议已结束。")


@pytest.mark.parametrize(
    ("devices", "lang", "notice", "mic", "cam"),
    [
        ("none", "zh", "您将以旁听方式参会", "无麦克风", "无摄像头"),
        ("none", "en", "you will join to watch and listen", "No microphone", "No camera"),
        ("microphone", "zh", "您将仅以语音参会", "麦克风", "无摄像头"),
    ],
)
def test_joining_without_a_camera_or_microphone(room, now_session, devices, lang, notice, mic, cam):
    s = now_session("mediation")
    mediator = room(s["tokens"]["mediator"])
    enter(mediator)
    mediator.wait_for_selector("#controls:not([hidden])")
    party = room(s["tokens"]["applicant"], devices, lang)
    party.click("#selftest")
    wait_for(party, "document.getElementById('verdict').dataset.result")
    assert party.get_attribute("#verdict", "data-result") == "limited"
    assert notice in party.inner_text("#media-note")
    assert party.inner_text("#check-camera span") in ("未检测到", "Not found")

    enter(party)
    admit(mediator, "张三")
    party.wait_for_selector("#controls:not([hidden])")
    # The party sees and hears the mediator, and is told what the others get of them.
    wait_for(party, REMOTE_VIDEO_PLAYS, timeout=20_000)
    assert notice in party.inner_text("#media-note")
    assert violations(party) == []
    assert party.inner_text("#mic") == mic and party.inner_text("#cam") == cam
    assert party.is_disabled("#cam")
    # The mediator has a tile for the party (by name, with the controls) all the same.
    tile = mediator.locator(f"{TILES}:has-text('张三')")
    tile.wait_for()
    assert tile.get_by_role("button", name="背对背").count() == 1
    if devices == "microphone":
        wait_for(
            mediator,
            "document.querySelector(\"#videos figure[id^='t-'] video\")"
            "?.srcObject?.getAudioTracks().length === 1",
        )


def test_a_refused_permission_says_how_to_allow_it(room, now_session):
    s = now_session("mediation")
    party = room(s["tokens"]["applicant"], "denied")
    enter(party)
    wait_for(party, "document.getElementById('status').textContent.length > 0")
    assert "锁形图标" in party.inner_text("#media-note")
    assert violations(party) == []
    assert party.is_visible("#prejoin") and party.is_enabled("#join")
