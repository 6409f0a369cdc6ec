"""Email: compose the multipart invite, and send it over SMTP or into the .eml outbox folder."""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app

log = logging.getLogger(__name__)

#: Seconds to wait for the SMTP server on connect and on each command.
SMTP_TIMEOUT = 30


class DeliveryError(Exception):
    """A send failed; ``permanent`` means retrying won't help (e.g. the address is refused)."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send: from ``HEARINGS_SMTP_URL``.

    ``smtp://host:25`` plain; ``smtp://host:587?starttls=true`` (or ``smtp+starttls://``)
    upgrades with STARTTLS; ``smtps://host:465`` speaks TLS from the start. A user and
    password in the URL log in.
    """

    host: str
    port: int
    security: str  # "plain", "starttls" or "ssl"
    username: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, url: str) -> SmtpSettings:
        """Read an SMTP URL; refuse what it can't be."""
        parts = urlsplit(url)
        query = {k: v[-1].lower() for k, v in parse_qs(parts.query).items()}
        if parts.scheme == "smtps":
            security, default_port = "ssl", 465
        elif parts.scheme == "smtp+starttls" or query.get("starttls") in ("1", "true", "yes"):
            security, default_port = "starttls", 587
        elif parts.scheme == "smtp":
            security, default_port = "plain", 25
        else:
            raise ValueError(f"HEARINGS_SMTP_URL: unknown scheme {parts.scheme!r}")
        if not parts.hostname:
            raise ValueError("HEARINGS_SMTP_URL names no host")
        return cls(
            host=parts.hostname,
            port=parts.port or default_port,
            security=security,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


def compose(
    *,
    sender: str,
    to_name: str,
    to_address: str,
    subject: str,
    text: str,
    html: str,
    now: datetime,
    ics: bytes | None = None,
    method: str | None = None,
) -> EmailMessage:
    """A multipart message: text and HTML bodies, and, for an invite, a ``text/calendar``
    alternative whose ``method`` matches the file plus the same ``.ics`` attached."""
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = sender
    message["To"] = formataddr((to_name, to_address))
    message["Subject"] = subject
    message["Date"] = format_datetime(now)
    domain = sender.rpartition("@")[2].strip(">") or "hearings"
    message["Message-ID"] = make_msgid(domain=domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text, subtype="plain", charset="utf-8")
    message.add_alternative(html, subtype="html", charset="utf-8")
    if ics is not None and method is not None:
        message.add_alternative(
            ics.decode("utf-8"), subtype="calendar", charset="utf-8", params={"method": method}
        )
        # Outlook reads the alternative, others the attachment: both carry the same file.
        message.make_mixed()
        message.add_attachment(
            ics,
            maintype="application",
            subtype="ics",
            filename="invite.ics",
        )
    return message


def parse(raw: str) -> EmailMessage:
    """A stored message read back."""
    parsed = BytesParser(policy=policy.SMTP).parsebytes(raw.encode("utf-8"))
    assert isinstance(parsed, EmailMessage)
    return parsed


class Mailer:
    """Sends stored messages: one SMTP connection per batch, or .eml files when unset."""

    def __init__(self, smtp_url: str | None, outbox_folder: Path) -> None:
        self.settings = SmtpSettings.parse(smtp_url) if smtp_url else None
        self.folder = outbox_folder
        self._smtp: smtplib.SMTP | None = None

    @classmethod
    def from_app(cls) -> Mailer:
        """The mailer the app's settings describe."""
        return cls(current_app.config["SMTP_URL"], Path(current_app.instance_path) / "outbox")

    def send(self, message_id: int, raw: str, recipient: str) -> None:
        """Send one stored message; raise ``DeliveryError`` on failure."""
        if self.settings is None:
            self._write_file(message_id, raw)
            return
        try:
            smtp = self._connection()
            refused = smtp.sendmail(self._envelope_sender(), [recipient], raw.encode("utf-8"))
        except smtplib.SMTPRecipientsRefused as error:
            code, reason = error.recipients.get(recipient, (550, b"refused"))
            raise DeliveryError(
                f"{recipient} refused: {code} {reason.decode(errors='replace')}",
                permanent=code >= 500,
            ) from None
        except smtplib.SMTPResponseException as error:
            self.close()
            answer = error.smtp_error
            text = answer.decode(errors="replace") if isinstance(answer, bytes) else str(answer)
            raise DeliveryError(
                f"SMTP {error.smtp_code} {text}", permanent=error.smtp_code >= 500
            ) from None
        except (OSError, smtplib.SMTPException) as error:
            self.close()
            raise DeliveryError(f"SMTP server unreachable: {error}") from None
        if refused:
            raise DeliveryError(f"{recipient} refused: {refused}", permanent=True)

    def close(self) -> None:
        """End the SMTP connection, if any."""
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()

    def _envelope_sender(self) -> str:
        return parseaddr(current_app.config["MAIL_FROM"])[1]

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is not None:
            return self._smtp
        settings = self.settings
        assert settings is not None
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if settings.security == "ssl":
            smtp = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=SMTP_TIMEOUT, context=context
            )
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, timeout=SMTP_TIMEOUT)
        try:
            if settings.security == "starttls":
                smtp.starttls(context=context)
            if settings.username:
                smtp.login(settings.username, settings.password or "")
        except BaseException:
            smtp.close()
            raise
        self._smtp = smtp
        return smtp

    def _write_file(self, message_id: int, raw: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{message_id:08d}.eml"
        path.write_text(raw, encoding="utf-8")
        log.info("no SMTP server set: message %s written to %s", message_id, path)
