"""The error page: what each status's page says, and the page a refusal fills (its code's
words, ``hearings.errors``), in the reader's language."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import render_template

from hearings.errors import page_title, refusal
from hearings.i18n import gettext as _

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


def error_page(problem: Mapping[str, Any]) -> dict[str, str]:
    """What the error page says: ``title``, ``explanation`` and the ``detail`` for support.
    A refusal code may name the page (``page_title``) and, for a clash, a broken rule or a
    wait, says what happened in its own words."""
    status = int(problem.get("status", 500))
    title, explanation = ERROR_PAGES.get(status, ("操作未成功", "请返回首页重试。"))
    code = str(problem.get("code") or "")
    # A refusal of what was sent is said in its own words; the others by their status.
    said = " ".join(refusal(problem)) if status in (400, 409, 422, 429) else _(explanation)
    return {
        "title": page_title(code) or _(title),
        "explanation": said,
        "detail": str(problem.get("detail") or ""),
    }


def render_error_page(problem: dict[str, Any]) -> str:
    """The error page of a problem (``create_app`` gives it to the error handlers)."""
    return render_template("error.html", problem=problem, page=error_page(problem))
