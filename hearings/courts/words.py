"""What the courts' refusals say (sign-in, staff tokens, court reference data), in Chinese
and English, by code."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hearings.errors import Words
from hearings.i18n import translate


def _throttled_zh(p: Mapping[str, Any]) -> str:
    minutes = int(p.get("minutes") or 1)
    wait = "一分钟" if minutes == 1 else f"{minutes}分钟"
    return f"登录失败次数过多，为保护账号安全，暂停登录。请{wait}后再试。"


def _throttled_en(p: Mapping[str, Any]) -> str:
    minutes = int(p.get("minutes") or 1)
    wait = "a minute" if minutes == 1 else f"{minutes} minutes"
    return f"Too many failed sign-ins: signing in is paused to protect the account. Please try again in {wait}."


def _throttled_detail(p: Mapping[str, Any]) -> str:
    return f"Too many failed sign-ins: try again in {int(p.get('minutes') or 1)} minute(s)."


WORDS = {
    "sign-in-throttled": Words(_throttled_zh, _throttled_en, detail=_throttled_detail),
    "wrong-credentials": Words("用户名或密码错误。", "Wrong username or password."),
    "token-missing": Words("请先登录。", "Please sign in first.",
                           detail="Send a staff token as 'Authorization: Bearer <token>'."),
    "token-refused": Words("登录已失效，请重新登录。", "Your sign-in has expired; please sign in again.",
                           detail="The token was refused: %(reason)s."),
    "staff-inactive": Words("该账号已停用。", "This account is no longer active.",
                            detail="The token's staff member no longer has access."),
    "sign-in-required": Words("请先登录。", "Please sign in first.", detail="Sign in first."),
    "no-such-court": Words("找不到该法院。", "There is no such court.",
                           detail="There is no court %(court_id)r."),
    "season-invalid": Words("作息季节只能是%(seasons)s。", "The season must be one of %(seasons)s.",
                            detail="season must be one of %(seasons)s"),
    "day-invalid": Words("%(day)s 不是一年中的日期。", "%(day)s is not a day of the year.",
                         detail="%(day)s is not a day of the year"),
    "hours-order": Words(
        "作息时间须依次为：上午上班 < 上午下班 ≤ 下午上班 < 下午下班。",
        "The hours must run: morning opens < morning closes ≤ afternoon opens < afternoon "
        "closes.",
        detail="hours must run morning opens < closes <= afternoon opens < closes",
    ),
    "closure-needs-reason": Words("闭院须写明原因。", "A closure needs a reason."),
}  # fmt: skip

#: The courts as their staff name them.
COURT_NAMES = {"luoyang": "洛阳中院", "luohe": "漯河中院"}


def court_name(court_id: str | None, language: str) -> str:
    """A court as its staff call it (洛阳中院), in ``language``."""
    if court_id is None:
        return "—"
    return translate(COURT_NAMES[court_id], language) if court_id in COURT_NAMES else court_id
