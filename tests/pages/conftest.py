"""Playwright driving Debian's Chromium (never a downloaded browser)."""

from __future__ import annotations

import shutil
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ONLY_LOOPBACK = [name for _, name in socket.if_nameindex()] == ["lo"]
FLAGS = [
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--no-sandbox",
    "--allow-loopback-in-peer-connection",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
]


def wait_for(page: Any, predicate: str, arg: Any = None, *, timeout: float = 30_000) -> Any:
    """Wait until ``predicate`` (a JS expression or function) is truthy in the page; its value.

    ``page.wait_for_function`` can't be used: Playwright compiles its predicate with
    ``new Function`` in the page, which the pages' policy (``script-src 'self'``) refuses,
    and bypassing the policy would hide what it breaks. ``page.evaluate`` goes through the
    DevTools protocol, which the policy does not govern: this polls with it.
    """
    from playwright.sync_api import Error

    deadline = time.monotonic() + timeout / 1000
    while True:
        try:
            value = page.evaluate(predicate, arg)
        except Error as error:  # the page navigated meanwhile: ask the new one
            if "context was destroyed" not in str(error):
                raise
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{predicate!r} still false after {timeout / 1000:.0f} s")
        page.wait_for_timeout(50)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Headless Chromium for one test module.

    Module-scoped: Playwright's sync API keeps an event loop running on this thread while
    it is open, and other tests need ``asyncio.run`` afterwards.
    """
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def artifacts() -> Path:
    """Where screenshots go (kept by CI as artifacts; never committed)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def find_mediation_slots(page: Any, base: str, mediator_id: int) -> None:
    """On the booking form: a mediation with this mediator, its earliest free slots found."""
    page.goto(f"{base}/sessions/new")
    page.select_option("#kind", "mediation")
    page.fill("#title", "物业纠纷调解")
    page.select_option("#staff_role_0", "mediator")
    page.select_option("#staff_id_0", str(mediator_id))
    page.click("button[value=find]")
    page.wait_for_selector("#slots input[name=slot]")
