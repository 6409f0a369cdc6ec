"""The refusals that fill a whole page: the error page of each status, and a join link that
can't be used, said to the person reading them in their language (see ``messages``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from hearings.i18n import gettext as _
from hearings.messages import refusal
from hearings.timekeeping import local, utcnow

#: The error page of each status: a title, what happened in plain words, what to do next.
ERROR_PAGES = {
    400: ("请求无法处理", "页面发来的内容无法处理。请返回上一页，检查后重试。"),
    401: ("请先登录", "此页面仅供法院工作人员使用，请先登录。"),
    403: (
        "您无权访问此页面",
        "您的账号没有查看或办理此事项的权限。如确需办理，请联系承办法官或本院管理员。",
    ),
    404: (
        "找不到该页面",
        "该页面不存在，或所找的会议、录像已被删除。请检查网址，或从首页重新进入。",
    ),
    405: ("无法这样打开此页面", "此地址不能直接在浏览器中打开。请从首页进入相应页面后再操作。"),
    409: (
        "操作与当前状态冲突",
        "该事项刚刚发生了变化（例如已被他人修改、取消或已结束）。"
        "请刷新页面，查看最新情况后再操作。",
    ),
    422: ("填写的内容不符合要求", "请返回上一页，按提示修改后重新提交。"),
    429: ("操作过于频繁", "请稍等几分钟后再试。"),
    500: (
        "系统出错",
        "系统出了故障，本次操作没有保存。错误已记录，请稍后重试；如仍不行，请联系技术支持。",
    ),
    503: ("系统仍在处理", "请稍等片刻后刷新页面。"),
}
#: Errors with a page of their own, by problem type.
ERROR_TYPES = {
    "csrf": (
        "页面已过期",
        "此表单不是从本站页面提交的，或页面打开时间太久。请刷新页面后重新填写提交。",
    ),
}
#: Refusals (403/404) that say which thing could not be seen.
ERROR_SUBJECTS = (
    (r"You may not view session \d+.*", "您无权查看此会议"),
    (r"You may not (change|cancel|reschedule) session \d+.*", "您无权更改此会议"),
    (r"Session \d+ not found.*|There is no session \d+.*", "找不到该会议"),
)


def error_page(problem: Mapping[str, Any]) -> dict[str, str]:
    """What the error page says: ``title``, ``explanation`` and the ``detail`` for support."""
    status = int(problem.get("status", 500))
    kind = str(problem.get("type", "")).rsplit("/", 1)[-1]
    title, explanation = ERROR_TYPES.get(kind) or ERROR_PAGES.get(
        status, ("操作未成功", "请返回首页重试。")
    )
    detail = str(problem.get("detail") or "")
    for pattern, subject in ERROR_SUBJECTS:
        if re.fullmatch(pattern, detail):
            title = subject
    # A clash or a broken rule is said as such (the booking's own sentences).
    said = " ".join(refusal(problem)) if status in (409, 422, 429) else _(explanation)
    return {"title": _(title), "explanation": said, "detail": detail}


def join_refusal(reason: str, opens: datetime | None = None) -> str:
    """Why a join link can't be used, for the person who clicked it, and what to do."""
    if reason in ("this link was revoked",):
        return _(
            "此参会链接已被法院收回（可能已向您发送了新链接）。请使用最新收到的链接，或联系承办法院。"
        )
    if reason == "the session is cancelled":
        return _("此会议已取消，链接不再有效。如有疑问，请联系承办法院。")
    if reason in ("the session is completed", "the session is adjourned"):
        return _("此会议已经结束，链接不再有效。如有疑问，请联系承办法院。")
    if reason == "outside the session's time window":
        reason = "token not yet valid" if opens and utcnow() < opens else "token expired"
    if reason == "token expired":
        return _("此参会链接已过期。请联系承办法院获取新的链接。")
    if reason == "token not yet valid":
        if opens is None:
            return _("此参会链接尚未生效，请在会议开始前不久再打开。")
        return _("此参会链接尚未生效，将于 %(opens)s（北京时间）起可以使用，届时请再打开。",
                 opens=f"{local(opens):%Y-%m-%d %H:%M}")  # fmt: skip
    return _("此参会链接无效或已损坏，请使用邮件/短信中的完整链接，或联系承办法院。")
