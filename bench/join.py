"""Time from opening a join link to the first remote video frame, in Chromium, on loopback.

A mediator's page (Chromium) waits in the room and admits each party the moment they appear
(a script clicks 准许进入 as soon as the button shows: the judge's reaction time is not the
system's). For each run a new party, in a fresh phone-sized browser context, opens their own
join link, ticks the notice, clicks 进入会议 and waits; the figure is the page's own clock
(``performance.now()``: from the start of the navigation) when the mediator's video has its
first decoded frame (``videoWidth > 0``). The party then leaves. Median of ``--runs`` (5).
Target: median ≤ 1.5 s. A bench prints figures; it is not a timed test.

Media stays on this machine: run it in a network namespace that has only ``lo`` (as the
media tests do, .ci/run), e.g. as root:

    unshare -n sh -c 'ip link set lo up && ip addr add 127.0.0.2/8 dev lo && \
        .venv/bin/python bench/join.py'

It uses an embedded SQLite database in a temporary folder and Debian's Chromium
(``/usr/bin/chromium``; never a browser downloaded by Playwright).
"""

from __future__ import annotations

import argparse
import logging
import socket
import statistics
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask_migrate import upgrade
from werkzeug.serving import make_server

from hearings import create_app
from hearings.courts.auth import issue_api_token
from hearings.courts.models import Staff
from hearings.courts.seed import ensure_courts
from hearings.courts.services import hash_password
from hearings.extensions import db
from hearings.serving import RedactingRequestHandler
from hearings.timekeeping import utcnow

TARGET_SECONDS = 1.5
CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream", "--no-sandbox",
    "--allow-loopback-in-peer-connection", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-gpu",
]  # fmt: skip
PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
#: The mediator admits whoever waits, the moment the button appears.
ADMIT_AT_ONCE = """
new MutationObserver(() => document.querySelector("#waiting li button")?.click())
  .observe(document, {subtree: true, childList: true});
"""
#: Notes when the first remote frame shows, checked every animation frame. An init script:
#: the pages' policy (script-src 'self') refuses Playwright's wait_for_function, which
#: compiles its predicate in the page; init scripts come through DevTools, as evaluate does.
FIRST_FRAME = """(() => {
  const tick = () => {
    const v = document.querySelector('video[id^="v-"]');
    if (v && v.videoWidth > 0) window.__firstFrame = performance.now();
    else requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();"""


def wait_for(page: Any, expression: str, timeout: float = 30.0) -> Any:
    """Poll ``expression`` in the page (through DevTools) until truthy; its value."""
    deadline = time.monotonic() + timeout
    while not (value := page.evaluate(expression)):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{expression!r} still false after {timeout:.0f} s")
        page.wait_for_timeout(20)
    return value


def book(app: Any, parties: int) -> tuple[str, list[str]]:
    """A mediation starting in ten minutes: the mediator's and each party's join token."""
    with app.app_context():
        upgrade()
        ensure_courts()
        mediator = Staff(court_id="luoyang", role="mediator", username="bench-mediator",
                         password_hash=hash_password("bench-password"), name="调解员",
                         email="mediator@luoyang.example", phone="0379-6000000")  # fmt: skip
        admin = Staff(court_id="luoyang", role="admin", username="bench-admin",
                      password_hash=hash_password("bench-password"), name="管理员",
                      email="admin@luoyang.example", phone="0379-6000000")  # fmt: skip
        db.session.add_all([mediator, admin])
        db.session.commit()
        token, _ = issue_api_token(admin)
        headers = {"Authorization": f"Bearer {token}"}
        starts = utcnow() + timedelta(minutes=10)
        client = app.test_client()
        booked = client.post("/api/v1/sessions", headers=headers, json={
            "kind": "mediation", "title": "接入时间测试", "host_court": "luoyang",
            "starts_at": starts.isoformat(), "ends_at": (starts + timedelta(hours=1)).isoformat(),
            # Whatever the hour the bench runs at (night and weekend courts exist).
            "outside_hours_reason": "bench",
            "participants": [{"role": "mediator", "staff_id": mediator.id}] + [
                {"role": "party", "name": f"当事人{n}", "side": "applicant",
                 "phone": f"1380000{n:04d}"} for n in range(parties)
            ],
        })  # fmt: skip
        if booked.status_code != 201:
            sys.exit(f"booking failed: {booked.json}")
        session = booked.json
        links = client.post(f"/api/v1/sessions/{session['id']}/links", headers=headers).json
        token_of = {i["participant_id"]: i["url"].rsplit("/", 1)[1] for i in links["items"]}
        people = session["participants"]
        mediator_token = next(token_of[p["id"]] for p in people if p["role"] == "mediator")
        party_tokens = [token_of[p["id"]] for p in people if p["role"] == "party"]
        db.session.remove()
        return mediator_token, party_tokens


def serve(app: Any) -> tuple[str, Any]:
    """The app on a threaded server on 127.0.0.1 (WebSockets need a real one)."""
    server = make_server("127.0.0.1", 0, app, threaded=True,
                         request_handler=RedactingRequestHandler)  # fmt: skip
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server


def measure(base: str, mediator_token: str, party_tokens: list[str]) -> list[float]:
    """Seconds from opening each party's link to the first remote frame in their page."""
    from playwright.sync_api import sync_playwright

    times = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        judge_ctx = browser.new_context(locale="zh-CN")
        judge_ctx.add_init_script(ADMIT_AT_ONCE)
        judge = judge_ctx.new_page()
        judge.goto(f"{base}/join/{mediator_token}")
        judge.check("#consent")
        judge.click("#join")
        judge.wait_for_selector("#controls:not([hidden])")
        for n, token in enumerate(party_tokens, start=1):
            ctx = browser.new_context(locale="zh-CN", **PHONE)
            ctx.add_init_script(FIRST_FRAME)
            page = ctx.new_page()
            page.goto(f"{base}/join/{token}", wait_until="domcontentloaded")
            page.check("#consent")
            page.click("#join")
            seconds = wait_for(page, "window.__firstFrame") / 1000
            times.append(seconds)
            print(f"  run {n}: {seconds:.3f} s", flush=True)
            page.click("#leave")
            wait_for(judge, "!document.querySelector('video[id^=\"v-\"]')")
            ctx.close()
        judge_ctx.close()
        browser.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if [name for _, name in socket.if_nameindex()] != ["lo"]:
        sys.exit("Run this in a loopback-only network namespace (see the top of bench/join.py).")
    if not Path(CHROMIUM).exists():
        sys.exit("Debian's chromium is not installed (apt-get install chromium).")
    with tempfile.TemporaryDirectory() as folder:
        app = create_app({
            "INSTANCE_PATH": folder, "DATABASE_URL": f"sqlite:///{folder}/bench.sqlite3",
            "SECRET_KEY": "bench-secret-key-0123456789abcdef-0123456789",
            "WITNESS_ID_KEY": "YmVuY2gtd2l0bmVzcy1pZC1rZXktMDEyMzQ1Njc4OWE=",
            "MANIFEST_SIGNING_KEY": "YmVuY2gtbWFuaWZlc3Qtc2VlZC0wMTIzNDU2Nzg5YWI=",
            "RECORDER_ENABLED": False,
        })  # fmt: skip
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # figures, not request lines
        mediator_token, party_tokens = book(app, args.runs)
        base, server = serve(app)
        app.config["SITE_URL"] = base
        print(f"join link → first remote frame, Chromium ↔ Chromium on loopback, {args.runs} runs")
        started = time.monotonic()
        try:
            times = measure(base, mediator_token, party_tokens)
        finally:
            server.shutdown()
            app.extensions["hearings.hub"].stop()
        median = statistics.median(times)
        verdict = "meets" if median <= TARGET_SECONDS else "MISSES"
        print(f"median {median:.3f} s (min {min(times):.3f}, max {max(times):.3f}); "
              f"target ≤ {TARGET_SECONDS:.1f} s median: {verdict} "
              f"[{time.monotonic() - started:.0f} s wall]")  # fmt: skip


if __name__ == "__main__":
    main()
