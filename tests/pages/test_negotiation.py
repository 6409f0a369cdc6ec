"""The room's WebRTC in real Chromium: offers that cross ("glare") still end in live video,
and a connection that fails is rebuilt with a new RTCPeerConnection and a fresh offer.

The test watches the page's connections by wrapping the browser's own ``RTCPeerConnection``
and ``WebSocket.send`` before the page loads (the page itself is unchanged): that is how it
holds two offers until both exist, so they cross for certain.
"""

from __future__ import annotations

import pytest

from tests.pages.conftest import ONLY_LOOPBACK, wait_for
from tests.pages.test_journey import REMOTE_VIDEO_PLAYS

pytestmark = [
    pytest.mark.media,
    pytest.mark.skipif(
        not ONLY_LOOPBACK, reason="browser media tests run in a loopback-only namespace (.ci/run)"
    ),
]

WATCH = """
(() => {
  window.__pcs = [];
  const Native = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends Native {
    constructor(...args) {
      super(...args);
      this.__states = [];
      this.addEventListener("signalingstatechange", () => this.__states.push(this.signalingState));
      window.__pcs.push(this);
    }
  };
  window.__held = null;  // an array: outgoing offers wait in it ...
  window.__inbox = [];  // ... and incoming offers wait here meanwhile (see __release)
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    if (!window.__held || JSON.parse(data).type !== "offer") return send.call(this, data);
    window.__held.push([this, data]);
  };
  const onmessage = Object.getOwnPropertyDescriptor(WebSocket.prototype, "onmessage");
  Object.defineProperty(WebSocket.prototype, "onmessage", {
    configurable: true,
    get() { return onmessage.get.call(this); },
    set(handler) {
      const ws = this;
      onmessage.set.call(this, handler && function (e) {
        const offer = JSON.parse(e.data).type === "offer";
        if (window.__held && offer) return window.__inbox.push([handler, ws, e]);
        return handler.call(ws, e);
      });
    },
  });
  // Our offer goes out, then the other's is taken in: as on a real wire, where each side's
  // offer left before the other's arrived (without holding the incoming one, a page could
  // take the other's offer before its own was sent: a stale offer sent after a rollback).
  window.__release = () => {
    const held = window.__held; window.__held = null;
    held.forEach(([ws, data]) => send.call(ws, data));
    const inbox = window.__inbox; window.__inbox = [];
    inbox.forEach(([handler, ws, e]) => handler.call(ws, e));
    return held.length;
  };
})();
"""
#: The page's connection to the other page (the self-test's probe is closed by then).
LIVE = "window.__pcs.filter((pc) => pc.connectionState === 'connected').at(-1)"
UFRAG = "(pc) => /a=ice-ufrag:(\\S+)/.exec(pc.localDescription.sdp)[1]"
FRAMES = (
    "document.querySelector('video[id^=\"v-\"]')?.getVideoPlaybackQuality().totalVideoFrames ?? 0"
)


def frames_rise(page) -> None:
    """The remote video plays and its frame count keeps rising."""
    wait_for(page, REMOTE_VIDEO_PLAYS, timeout=30_000)
    before = page.evaluate(FRAMES)
    wait_for(page, f"{FRAMES} > {before} + 5", timeout=30_000)


@pytest.fixture
def in_call(browser, live_server, now_session):
    """A mediator and a party, each in their own browser, both seeing the other."""
    base = f"http://{live_server}"
    session = now_session("mediation")
    contexts = [browser.new_context(locale="zh-CN") for _ in range(2)]
    try:
        pages = []
        for ctx, role in zip(contexts, ("mediator", "applicant"), strict=True):
            ctx.add_init_script(WATCH)
            page = ctx.new_page()
            page.goto(f"{base}/join/{session['tokens'][role]}")
            page.check("#consent")
            page.click("#join")
            pages.append(page)
        mediator, party = pages
        mediator.wait_for_selector("#waiting li button")
        mediator.click("#waiting li button")
        for page in pages:
            frames_rise(page)
        yield mediator, party
    finally:
        for ctx in contexts:
            ctx.close()


def test_offers_made_at_the_same_moment_still_connect(in_call):
    pages = in_call
    ufrags = []
    for page in pages:
        page.evaluate("window.__held = []")
        ufrags.append(page.evaluate(f"({UFRAG})({LIVE})"))
        page.evaluate(f"{LIVE}.__states.length = 0")
        # Both ask for new ICE credentials: each connection needs negotiating, so each offers.
        page.evaluate(f"{LIVE}.restartIce()")
    for page in pages:
        wait_for(page, "window.__held.length === 1")
    # Both offers exist before either is delivered: they cross on the wire.
    assert [page.evaluate("window.__release()") for page in pages] == [1, 1]

    for page, ufrag in zip(pages, ufrags, strict=True):
        wait_for(
            page,
            f"(() => {{ const pc = {LIVE}; return !!pc && pc.signalingState === 'stable' && "
            f"({UFRAG})(pc) !== '{ufrag}'; }})()",
            timeout=30_000,
        )
        frames_rise(page)
    # One side (the polite one) rolled its offer back and answered; the other ignored the
    # offer that collided with its own and took the answer.
    histories = [page.evaluate(f"{LIVE}.__states") for page in pages]
    answered = ["have-remote-offer" in h for h in histories]
    assert sorted(answered) == [False, True], histories
    assert all(h[0] == "have-local-offer" and h[-1] == "stable" for h in histories), histories


def test_a_failed_connection_is_rebuilt(in_call):
    mediator, party = in_call
    made = [page.evaluate("window.__pcs.length") for page in in_call]
    # The party's side of the connection dies under it (its page is not told): the
    # mediator's connection fails and is rebuilt with a new offer.
    party.evaluate(f"{LIVE}.close()")
    wait_for(
        mediator,
        f"window.__pcs.length > {made[0]} && window.__pcs.at(-1).connectionState === 'connected'",
        timeout=60_000,
    )
    assert mediator.evaluate("window.__pcs.at(-2).connectionState") == "closed"
    # The party's page took the new offer on a new connection of its own.
    wait_for(
        party,
        f"window.__pcs.length > {made[1]} && window.__pcs.at(-1).connectionState === 'connected'",
    )
    for page in in_call:
        frames_rise(page)
