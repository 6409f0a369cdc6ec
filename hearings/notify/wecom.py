"""WeChat Work (企业微信) group robots: the courts' progress notices, posted as JSON."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from hearings.notify.mail import DeliveryError

#: Seconds to wait for the robot's answer.
WEBHOOK_TIMEOUT = 15
#: WeChat Work caps a markdown message at 4096 bytes.
MAX_CONTENT_BYTES = 4096


def parse_webhooks(setting: str | None) -> dict[str, str]:
    """``HEARINGS_WECOM_WEBHOOK_URL``: one URL for every court, or ``court=url,court=url``.

    The key ``*`` stands for every court without its own robot.
    """
    if not setting:
        return {}
    if "=" not in setting.split("?", 1)[0]:
        return {"*": setting.strip()}
    hooks = {}
    for item in setting.split(","):
        court, sep, url = item.strip().partition("=")
        if not sep or not court or not url.startswith(("http://", "https://")):
            raise ValueError("HEARINGS_WECOM_WEBHOOK_URL must be a URL or 'court=url,court=url'")
        hooks[court.strip()] = url.strip()
    return hooks


def webhook_for(hooks: dict[str, str], court_id: str) -> str | None:
    """The robot URL of a court's group, if any."""
    return hooks.get(court_id) or hooks.get("*")


def markdown_payload(content: str) -> str:
    """The robot's JSON body for a markdown message, cut to the size it accepts."""
    data = content.encode("utf-8")
    if len(data) > MAX_CONTENT_BYTES:
        content = data[: MAX_CONTENT_BYTES - 3].decode("utf-8", errors="ignore") + "…"
    return json.dumps({"msgtype": "markdown", "markdown": {"content": content}}, ensure_ascii=False)


def post(url: str, body: str) -> None:
    """Post one message; WeChat Work answers ``{"errcode": 0}`` when it took it."""
    request = urllib.request.Request(
        url,
        data=body.encode("utf-8"),
        headers={"Content-Type": "application/json; charset=utf-8"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT) as response:
            answer = response.read()
    except urllib.error.HTTPError as error:
        raise DeliveryError(
            f"WeChat Work answered HTTP {error.code}", permanent=400 <= error.code < 500
        ) from None
    except (OSError, urllib.error.URLError) as error:
        raise DeliveryError(f"WeChat Work unreachable: {error}") from None
    try:
        result = json.loads(answer or b"{}")
    except ValueError:
        raise DeliveryError("WeChat Work answered something that is not JSON") from None
    code = result.get("errcode", 0) if isinstance(result, dict) else 0
    if code != 0:
        # 45009 is the robot's rate limit (20 messages a minute): worth another try.
        raise DeliveryError(
            f"WeChat Work refused: {code} {result.get('errmsg', '')}", permanent=code != 45009
        )
