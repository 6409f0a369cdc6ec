"""The pages under a content security policy without 'unsafe-inline': every page sends it,
no template holds an inline script, style or handler, and in real Chromium every kind of
page (sign-in, desk, booking, session, links, directory, join/room with the witnessing
panel, the witnessing record, error pages) runs its modules and takes its stylesheet without
a single violation."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.conftest import sign_in
from tests.fixtures.witness import valid_id
from tests.pages.conftest import find_mediation_slots, wait_for
from tests.pages.test_journey import PHONE
from tests.pages.test_journey import sign_in as sign_in_browser

#: Collects every violation the page reports (an init script runs before the page's own).
WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  window.__violations.push(`${e.violatedDirective} ${e.blockedURI} ${where}`);
});
"""


TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
#: E-mail keeps its inline styles: that is what mail clients read (and no policy governs).
MAIL = {"notify_mail.html"}


class InlineCode(HTMLParser):
    """Finds what the policy would refuse inline: scripts without src (JSON data aside),
    on…= handlers, javascript: URLs, <style> elements and style= attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        where = f"line {self.getpos()[0]}"
        if tag == "script" and not values.get("src") and values.get("type") != "application/json":
            self.found.append(f"<script> without src at {where}")
        if tag == "style":
            self.found.append(f"<style> at {where}")
        for name, value in attrs:
            if name.startswith("on") or name == "style":
                self.found.append(f"<{tag} {name}=…> at {where}")
            if (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}=javascript:…> at {where}")


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.found


def test_no_template_holds_an_inline_script_style_or_handler():
    templates = sorted(p for p in TEMPLATES.glob("*.html") if p.name not in MAIL)
    assert len(templates) > 10
    found = {}
    for path in templates:
        text = re.sub(r"{#.*?#}", "", path.read_text(), flags=re.S)  # Jinja comments
        # The parser sees the markup; a bare regex also catches a style= that Jinja puts
        # inside a tag where the parser would not look (``<tr {% if … %}style=…``).
        lines = inline_code(text)
        lines += [f"style= at line {text[: m.start()].count(chr(10)) + 1}"
                  for m in re.finditer(r"\sstyle\s*=", text)]  # fmt: skip
        if lines:
            found[path.name] = sorted(set(lines))
    assert found == {}


def test_the_scanner_finds_what_the_policy_refuses():
    page = """<p style="color:red">x</p><style>p{}</style><script>alert(1)</script>
    <button onclick="go()">go</button><script type="application/json">{}</script>
    <script type="module" src="/static/room.js?v=1"></script>"""
    assert [line.split(" at ")[0] for line in inline_code(page)] == [
        "<p style=…>", "<style>", "<script> without src", "<button onclick=…>",
    ]  # fmt: skip


def assert_policy(response) -> None:
    policy = response.headers.get("Content-Security-Policy", "")
    directives = dict(d.strip().partition(" ")[::2] for d in policy.split(";") if d.strip())
    assert directives.get("script-src") == "'self'", policy
    assert directives.get("style-src") == "'self'", policy
    assert "'unsafe-inline'" not in policy, policy
    assert directives.get("frame-ancestors") == "'none'", policy
    assert directives.get("object-src") == "'none'" and directives.get("base-uri") == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_page_has_the_policy_and_no_inline_script(
    client, now_session, book, court_staff, app
):
    witnessing = now_session("witness")
    mediation = now_session("mediation")
    anonymous = {
        "login": "/login",
        "directory": "/directory",
        "join (party)": f"/join/{mediation['tokens']['applicant']}",
        "join (principal, witnessing)": f"/join/{witnessing['tokens']['principal']}",
        "refused link": "/join/not-a-token",
        "not found": "/no-such-page",
    }
    pages = {name: client.get(url) for name, url in anonymous.items()}
    sign_in(client, court_staff["luoyang-clerk1"])
    staff = {
        "desk": "/?week=2026-09-01",
        "booking form": "/sessions/new",
        "session": f"/sessions/{mediation['id']}",
        "witnessing session": f"/sessions/{witnessing['id']}",
        "links overview": f"/sessions/{mediation['id']}/links",
        "deliveries": f"/sessions/{mediation['id']}/deliveries",
    }
    pages |= {name: client.get(url) for name, url in staff.items()}
    pages["links issued"] = client.post(f"/sessions/{mediation['id']}/links")
    found = {}
    for name, response in pages.items():
        assert response.mimetype == "text/html", (name, response.status_code)
        assert_policy(response)
        if inline := inline_code(response.text):
            found[name] = inline
    assert found == {}
    # The room's and the panels' scripts really are on the pages, as files.
    assert "/static/room.js?v=" in pages["join (party)"].text
    assert "/static/witness_room.js?v=" in pages["witnessing session"].text or (
        "/static/room.js?v=" in pages["join (principal, witnessing)"].text
    )


def test_the_policy_names_the_sites_socket(app, client):
    app.config["SITE_URL"] = "https://hearings.example.court"
    policy = client.get("/login").headers["Content-Security-Policy"]
    connect = next(d for d in policy.split("; ") if d.startswith("connect-src"))
    assert "wss://hearings.example.court" in connect and "'self'" in connect
    assert "'unsafe-inline'" not in policy


#: An element's computed background colour.
STYLED = "(e) => getComputedStyle(e).backgroundColor"


def watch(ctx) -> None:
    ctx.add_init_script(WATCH)


def violations(page, console: list[str]) -> list[str]:
    reported = page.evaluate("window.__violations")
    return [*reported, *(m for m in console if "Content Security Policy" in m)]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_scripts_run_with_no_violation_in_chromium(
    browser, live_server, now_session, court_staff, app
):
    base = f"http://{live_server}"
    mediation = now_session("mediation")
    witnessing = now_session("witness")
    staff_ctx = browser.new_context(locale="zh-CN")
    phone_ctx = browser.new_context(locale="zh-CN", **PHONE)
    console: list[str] = []
    found: dict[str, list[str]] = {}
    try:
        for ctx in (staff_ctx, phone_ctx):
            watch(ctx)
        staff = staff_ctx.new_page()
        staff.on("console", lambda m: console.append(m.text))
        staff.goto(f"{base}/login")
        # The stylesheet is there and applies (a page without it would have no violation
        # either): the header in the court's red.
        assert staff.eval_on_selector("header", STYLED) == "rgb(155, 28, 28)"
        found["login"] = violations(staff, console)
        sign_in_browser(staff, base, court_staff["luoyang-clerk1"].username)
        found["desk"] = violations(staff, console)
        staff.goto(f"{base}/directory")
        found["directory"] = violations(staff, console)
        staff.goto(f"{base}/no-such-page")
        found["error page"] = violations(staff, console)

        find_mediation_slots(staff, base, court_staff["luoyang-mediator1"].id)
        found["booking"] = violations(staff, console)

        staff.goto(f"{base}/sessions/{mediation['id']}")
        found["session"] = violations(staff, console)

        # links.js: issuing moves the address to the overview, and copying says so.
        staff.goto(f"{base}/sessions/{mediation['id']}/links")
        staff.click("#make-links")
        staff.wait_for_url(f"{base}/sessions/{mediation['id']}/links")
        staff.locator("button.copy").first.click()
        staff.locator("button.copy", has_text="✓").first.wait_for()
        found["links"] = violations(staff, console)

        # room.js and the witnessing panel's script, as the officer.
        staff.goto(f"{base}/sessions/{witnessing['id']}")
        staff.click("#enter-room")
        staff.check("#consent")
        staff.click("#join")
        staff.wait_for_selector("#w-identity-form:visible")
        found["officer's room with the witnessing panel"] = violations(staff, console)

        # room.js on a party's phone: the self-test runs to its verdict.
        phone = phone_ctx.new_page()
        phone.on("console", lambda m: console.append(m.text))
        phone.goto(f"{base}/join/{mediation['tokens']['applicant']}")
        phone.click("#selftest")
        phone.locator("#verdict[data-result]").wait_for()
        found["join page after the self-test"] = violations(phone, console)
        phone.goto(f"{base}/join/not-a-token")
        found["refused join link"] = violations(phone, console)
    finally:
        staff_ctx.close()
        phone_ctx.close()
    assert {name: lines for name, lines in found.items() if lines} == {}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_witnessing_record_prints_with_no_violation_in_chromium(
    browser, live_server, witness, court_staff
):
    call, base = witness["call"], f"http://{live_server}"
    check = call("POST", f"/sessions/{witness['id']}/identity-checks", json={
        "participant_id": witness["principal"]["id"], "name": "赵六",
        "id_number": valid_id(), "method": "visual",
    })  # fmt: skip
    assert check.status_code == 201, check.json
    started = call("POST", f"/sessions/{witness['id']}/recordings", json={})
    assert started.status_code == 201, started.json
    rid = started.json["id"]
    assert call("POST", f"/recordings/{rid}/stop", json={"reason": "测试"}).status_code == 200
    ctx = browser.new_context(locale="zh-CN")
    watch(ctx)
    console: list[str] = []
    try:
        page = ctx.new_page()
        page.on("console", lambda m: console.append(m.text))
        sign_in_browser(page, base, witness["officer"].username)
        page.goto(f"{base}/recordings/{rid}/record")
        # print.js is a module that runs: its button opens the print dialog (stubbed here
        # through DevTools, which the policy does not govern).
        page.evaluate("window.print = () => { window.__printed = true; }")
        page.click("#print")
        wait_for(page, "window.__printed === true")
        # On paper the site's header and the buttons go (the stylesheet's print rules).
        page.emulate_media(media="print")
        assert page.is_hidden("header") and page.is_hidden(".noprint")
        assert violations(page, console) == []
    finally:
        ctx.close()
