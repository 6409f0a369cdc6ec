"""The words of the core's refusal codes (the door's input checks, the API's body, times,
forms) and the labels of the fields they name. Registered by ``create_app``."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from hearings.errors import Words
from hearings.i18n import current_language, translate
from hearings.i18n import gettext as _

#: The labels of the fields a request may get wrong (the booking form's, and others').
FORM_FIELDS = {
    "kind": "类型",
    "title": "标题",
    "case_number": "案号",
    "host_court": "承办法院",
    "starts_at": "开始时间（北京时间）",
    "ends_at": "时长",
    "room_ids": "房间（可选）",
    "participants": "参会人员",
    "email": "电子邮箱",
    "phone": "电话",
    "name": "姓名",
    "outside_hours_reason": "非工作时间理由",
    "short_notice_reason": "开庭不足三日的理由",
    "reason": "理由",
    "note": "备注",
    "username": "用户名",
    "q": "搜索",
    "id_number": "身份证号码",
    "rrule": "重复规则",
    "court": "所属法院",
}


def field_label(field: str | None, language: str) -> str:
    """A field as the pages name it (``participants.1.name``, ``out_name_1`` → 姓名); a field
    without a label by its name."""
    key = re.sub(r"^(out|staff)_|_\d+$", "", str(field or "").rsplit(".", 1)[-1])
    return translate(FORM_FIELDS[key], language) if key in FORM_FIELDS else str(field or "")


#: What a problem's ``detail`` says of each fault (never the text itself), by where it was.
FAULT_DETAILS = {
    ("unpaired-surrogate", "text"): "contains an unpaired surrogate (not valid Unicode text)",
    ("control-characters", "text"): "contains NUL (U+0000), which no text may hold",
    ("control-characters", "single-line"): (
        "must be one line: no line breaks, NUL or other control characters"
    ),
    ("control-characters", "multi-line"): (
        "must not contain NUL or other control characters (line breaks and tabs are fine)"
    ),
}


def fault_detail(code: str, kind: str) -> str:
    """What a problem's ``detail`` says of a fault in ``kind`` of text (``text``: any field;
    ``single-line``; ``multi-line``)."""
    return FAULT_DETAILS.get((code, kind)) or FAULT_DETAILS[(code, "text")]


#: What the pages say of text that can't be stored or sent, by code and kind of field.
TEXT_FAULTS = {
    "unpaired-surrogate": (
        "“%(field)s”含有无效的字符，请重新输入。",
        "“%(field)s” holds an invalid character: please type it again.",
    ),
    "single-line": (
        "“%(field)s”只能填写一行文字，不能含换行符或其他控制字符。",
        "“%(field)s” must be a single line, without line breaks or other control characters.",
    ),
    "control-characters": (
        "“%(field)s”含有无法保存的控制字符（如 NUL），请删去后重试。",
        "“%(field)s” holds a control character that can't be stored (such as NUL): remove it "
        "and try again.",
    ),
}


def fault_sentence(code: str, field: str | None, kind: str | None, language: str) -> str:
    """Why a field's text is refused (``control-characters`` in a ``single-line`` field, or
    anywhere, or ``unpaired-surrogate``), naming the field, never quoting the text."""
    key = "single-line" if code == "control-characters" and kind == "single-line" else code
    zh, en = TEXT_FAULTS.get(key, TEXT_FAULTS["control-characters"])
    return (en if language == "en" else zh) % {"field": field_label(field, language)}


def _text(code: str) -> Words:
    return Words(
        lambda p: fault_sentence(code, p.get("field"), p.get("text"), "zh"),
        lambda p: fault_sentence(code, p.get("field"), p.get("text"), "en"),
    )


def _fields(p: Mapping[str, Any], language: str) -> str:
    labels: list[str] = []
    for e in p.get("errors") or []:
        parts = str(e.get("field", "")).split(".")
        # A participant's own field (participants.2.email) is named by its label.
        key = parts[-1] if parts[:1] == ["participants"] else parts[0]
        label = translate(FORM_FIELDS.get(key, "参会人员"), language)
        if label not in labels:
            labels.append(label)
    return ("、" if language == "zh" else ", ").join(labels)


def _invalid_en(p: Mapping[str, Any]) -> str:
    return "; ".join(f"{e['field']}: {e['message']}" for e in p.get("errors") or [])[:2000]


WORDS = {
    # hearings/inputs.py: the door
    "json-too-deep": Words("发送的内容嵌套层级过深（最多%(max_depth)s层）。",
                           "The JSON is nested more than %(max_depth)s levels deep."),
    "no-such-page": Words("找不到该页面。", "No such page."),
    "control-characters": _text("control-characters"),
    "unpaired-surrogate": _text("unpaired-surrogate"),
    "unstorable-text": Words(
        lambda p: fault_sentence(_first(p, "code"), p.get("field"), _first(p, "text"), "zh"),
        lambda p: fault_sentence(_first(p, "code"), p.get("field"), _first(p, "text"), "en"),
        detail=lambda p: f"{p.get('field')}: {fault_detail(_first(p, 'code'), _first(p, 'text'))}",
    ),
    "invalid-request": Words(lambda p: f"请检查以下项目：{_fields(p, 'zh')}。",
                             lambda p: f"Please check: {_fields(p, 'en')}.", detail=_invalid_en),
    # hearings/api.py: the body
    "json-required": Words("请以 application/json 格式发送请求内容。",
                           "Send the body as application/json."),
    "json-invalid": Words("请求内容不是有效的 JSON。", "The body is not valid JSON.",
                          detail="The body is not valid JSON: %(reason)s"),
    "json-not-object": Words("请求内容须为 JSON 对象。", "The body must be a JSON object."),
    # hearings/timekeeping.py: times
    "time-invalid": Words("请填写有效的时间。", "Please give a valid time.",
                          detail="%(field)s: %(value)r is not an ISO 8601 date-time"),
    "time-out-of-range": Words("时间须在%(first)s年至%(last)s年之间。",
                               "The time must fall between %(first)s and %(last)s.",
                               detail="%(field)s: a time between %(first)s and %(last)s"),
    # hearings/health.py: readiness
    "not-ready": Words("系统尚未就绪：有依赖的服务未应答。", "Not ready: a service it depends on does not answer.",
                       detail="A dependency does not answer."),
    # hearings/csrf.py: forms
    "form-expired": Words(
        "此表单不是从本站页面提交的，或页面打开时间太久。请刷新页面后重新填写提交。",
        "This form wasn't sent from this site's page, or the page was open too long. Reload "
        "the page, fill the form in again and send it.",
        detail="This form was not sent from this site's page, or the page is too old: reload "
        "the page and try again.",
        title=("页面已过期", "This page has expired"),
    ),
}  # fmt: skip


def _first(p: Mapping[str, Any], key: str) -> str:
    problems = p.get("problems") or [{}]
    return str(problems[0].get(key) or ("text" if key == "text" else "control-characters"))


def text_problems(faults: Iterable[tuple[str, str]]) -> list[str]:
    """The sentences for form fields holding text that can't be stored: (field, code)."""
    return [fault_sentence(code, field, None, current_language()) for field, code in faults]


def form_problems(error: Any) -> list[str]:
    """A form that doesn't fit the request's schema (a pydantic ``ValidationError``): text
    refused for what it holds, field by field; then which other fields to look at, by their
    labels."""
    sentences: list[str] = []
    fields: list[str] = []
    for e in error.errors():
        if e["type"] in ("control-characters", "unpaired-surrogate"):
            field = ".".join(str(part) for part in e["loc"])
            kind = (e.get("ctx") or {}).get("text")
            sentence = fault_sentence(e["type"], field, kind, current_language())
            if sentence not in sentences:
                sentences.append(sentence)
            continue
        # A participant's own field (("participants", 2, "email")) is named by its label.
        key = (
            str(e["loc"][-1] if e["loc"][:1] == ("participants",) else e["loc"][0])
            if e["loc"]
            else ""
        )
        label = _(FORM_FIELDS.get(key, "参会人员"))
        if label not in fields:
            fields.append(label)
    if fields:
        sentences.append(_("请检查以下项目：%(fields)s。", fields=_("、").join(fields)))
    return sentences
