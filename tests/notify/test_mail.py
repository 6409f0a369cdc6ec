"""SMTP settings from the URL, and logging in to a server that asks for it."""

from __future__ import annotations

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from hearings.notify.mail import SmtpSettings
from hearings.notify.outbox import deliver_outbox
from tests.fixtures.smtp import SMTP_ALLOWED
from tests.notify.conftest import HOST, Mailbox, free_port


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example:25", ("mail.example", 25, "plain", None, None)),
        (
            "smtp://u:p%40ss@mail.example?starttls=true",
            ("mail.example", 587, "starttls", "u", "p@ss"),
        ),
        ("smtp+starttls://mail.example", ("mail.example", 587, "starttls", None, None)),
        ("smtps://court%40x.cn:pw@smtp.x.cn", ("smtp.x.cn", 465, "ssl", "court@x.cn", "pw")),
    ],
)
def test_smtp_url(url, expected):
    s = SmtpSettings.parse(url)
    assert (s.host, s.port, s.security, s.username, s.password) == expected


@pytest.mark.parametrize("url", ["http://mail.example", "smtp://"])
def test_bad_smtp_url(url):
    with pytest.raises(ValueError):
        SmtpSettings.parse(url)


def test_login_when_the_url_has_credentials(make_session, app):
    logins = []

    def authenticator(server, session, envelope, mechanism, data):
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            b"court",
            b"s3cret",
        )
        logins.append(ok)
        return AuthResult(success=ok)

    mailbox, port = Mailbox(), free_port()
    controller = Controller(
        mailbox,
        hostname=HOST,
        port=port,
        authenticator=authenticator,
        auth_require_tls=False,
    )
    controller.start()
    SMTP_ALLOWED.add((HOST, port))
    try:
        app.config["SMTP_URL"] = f"smtp://court:s3cret@{HOST}:{port}"
        make_session("liaison")
        assert deliver_outbox()["sent"] == 2
        assert len(mailbox.wait_for(2)) == 2
        assert logins == [True]  # one connection, one login, for the whole batch
    finally:
        controller.stop()
        SMTP_ALLOWED.discard((HOST, port))
