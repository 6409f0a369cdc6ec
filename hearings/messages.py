"""What people read when the service says no: refusals in the visitor's language.

The API answers with problem documents in English (a ``code`` and a ``detail`` for
developers). The pages show judges, clerks and the people they summon plain sentences in
Chinese (or English): built here from a problem's ``code`` and its parameters, never from
its ``detail``. Where only a ``detail`` is known (refusals that carry no code), a short table
of the services' own sentences maps them; anything else gets a plain sentence for its status.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from functools import lru_cache
from typing import Any

import holidays

from hearings.i18n import current_language
from hearings.i18n import gettext as _
from hearings.scheduling import labels
from hearings.timekeeping import local

#: The courts as their staff name them.
COURTS = {"luoyang": "洛阳中院", "luohe": "漯河中院"}
#: The role names of the pages.
ROLES = labels.ROLES
#: What a session lacks (``missing-role``'s ``needs``), as a whole sentence.
NEEDS = {
    "mediator": "视频调解须有一名调解员。",
    "presiding_judge": "网上开庭须有一名审判长。",
    "clerk": "网上开庭须有一名书记员。",
    "officer": "委托代理视频见证须有一名书记员或法官主持。",
    "principal": "委托代理视频见证须有委托人。",
    "agent": "委托代理视频见证须有受托代理人。",
    "liaison": "联络视频会议须有一名联络员或法官。",
    "liaison_each_court": "联络视频会议须有两院各一名联络员或法官。",
}
#: The booking form's labels of the two reasons (the fields a person can fill in).
SHORT_NOTICE_FIELD = "开庭不足三日的理由"
OUTSIDE_HOURS_FIELD = "非工作时间理由"


def court_name(court_id: str | None) -> str:
    """A court as its staff call it (洛阳中院), in the visitor's language."""
    if court_id is None:
        return "—"
    return _(COURTS[court_id]) if court_id in COURTS else court_id


def role_name(role: str | None) -> str:
    """A participant or staff role in the visitor's language."""
    if role is None:
        return ""
    return _(ROLES[role]) if role in ROLES else role


def _role_in_sentence(role: str | None) -> str:
    """A role inside an English sentence is lower case (``the presiding judge``)."""
    name = role_name(role)
    return name.lower() if current_language() == "en" else name


def _a(noun: str) -> str:
    """English wants an article before a role (``an administrator``); Chinese does not."""
    if current_language() != "en":
        return noun
    noun = noun.lower()
    return ("an " if noun[:1] in "aeiou" else "a ") + noun


@lru_cache(maxsize=16)
def _english_holidays(year: int) -> holidays.HolidayBase:
    return holidays.China(years=year, language="en_US")


def _holiday(problem: Mapping[str, Any]) -> str:
    name = str(problem.get("holiday") or "")
    if current_language() == "en" and problem.get("date"):
        return _english_holidays(date.fromisoformat(problem["date"]).year).get(
            date.fromisoformat(problem["date"]), name
        )
    return name


OUTSIDE_WORKING_HOURS = (
    "所选时间不在%(court)s %(date)s 的工作时间（%(hours)s）内；如确需安排，请填写“%(field)s”。"
)


def _outside_hours(p: Mapping[str, Any]) -> str:
    values = {"court": court_name(p.get("court")), "date": p.get("date", "")}
    field = _(OUTSIDE_HOURS_FIELD)
    match p.get("issue"):
        case "past-midnight":
            text = _("会议不能跨越午夜；如确需安排，请填写“%(field)s”。", field=field)
        case "holiday":
            text = _(
                "%(court)s %(date)s 不是工作日（%(holiday)s）；如确需安排，请填写“%(field)s”。",
                holiday=_holiday(p), field=field, **values,
            )  # fmt: skip
        case "weekend":
            text = _(
                "%(court)s %(date)s 是休息日；如确需安排，请填写“%(field)s”。",
                field=field, **values,
            )  # fmt: skip
        case "closure":
            text = _(
                "%(court)s %(date)s 闭院（%(closure)s）；如确需安排，请填写“%(field)s”。",
                closure=p.get("closure", ""), field=field, **values,
            )  # fmt: skip
        case "hours":
            text = _(
                OUTSIDE_WORKING_HOURS,
                hours=_("、").join(p.get("hours", [])), field=field, **values,
            )  # fmt: skip
        case _:
            text = _("所选时间不在%(court)s的工作时间内；如确需安排，请填写“%(field)s”。",
                     court=values["court"], field=field)  # fmt: skip
    return text


#: One sentence per rule code (``scheduling/rules.py``), from the problem's parameters.
RULES: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "staff-required": lambda p: _("%(role)s须由法院工作人员担任。",
                                  role=_role_in_sentence(p.get("role"))),
    "role-mismatch": lambda p: _(
        "%(name)s是%(staff_role)s，不能担任%(role)s。", name=p.get("name", ""),
        staff_role=_a(role_name(p.get("staff_role"))), role=_role_in_sentence(p.get("role")),
    ),
    "name-required": lambda p: _("请填写%(role)s的姓名。", role=_role_in_sentence(p.get("role"))),
    "outsider-role": lambda p: _("法院工作人员不能以%(role)s身份参加。",
                                 role=_a(_role_in_sentence(p.get("role")))),
    "side-not-allowed": lambda p: _("只有当事人和代理律师需要选择诉讼地位，%(role)s不需要。",
                                    role=_role_in_sentence(p.get("role"))),
    "missing-role": lambda p: _(NEEDS.get(p.get("needs", ""), "会议缺少必要的参会人。")),
    "duplicate-staff": lambda p: _("%(name)s被重复列入，请删去一处。", name=p.get("name", "")),
    "staff-only": lambda p: _("联络视频会议仅限法院工作人员参加。"),
    "end-before-start": lambda p: _("结束时间须晚于开始时间。"),
    "too-long": lambda p: _("一次会议最长%(hours)s小时（一个工作日），请缩短时长或分次安排。",
                            hours=p.get("hours", 10)),
    "in-the-past": lambda p: _("开始时间已过，请选择以后的时间。"),
    "short-notice": lambda p: _(
        "开庭须提前三日通知（民诉法第139条）；如需更早开庭，请填写“%(field)s”。",
        field=_(SHORT_NOTICE_FIELD),
    ),
    "outside-hours": _outside_hours,
    # Recurring series (scheduling/recurrence.py)
    "rrule-invalid": lambda p: _("重复规则格式不正确（应为 RFC 5545 RRULE）。"),
    "rrule-unbounded": lambda p: _("重复规则须写明次数（COUNT）或截止日期（UNTIL）。"),
    "rrule-frequency": lambda p: _("系列会议最多每天一次（按天、周、月或年重复）。"),
    "rrule-empty": lambda p: _("按此重复规则排不出任何一次会议，请检查规则。"),
    "series-too-long": lambda p: _("系列会议的时间跨度最长%(days)s天，请缩短。",
                                   days=p.get("days", 366)),
    "series-too-many": lambda p: _("系列会议最多%(count)s次，请减少次数。",
                                   count=p.get("count", 60)),
    "series-overlaps-itself": lambda p: _("系列中的会议相互重叠：下一次在上一次结束前就开始了。"),
    # Text that can't be stored or sent (hearings/inputs.py)
    "control-characters": lambda p: text_fault_sentence("control-characters",
                                                        p.get("field"), p.get("text")),
    "unpaired-surrogate": lambda p: text_fault_sentence("unpaired-surrogate",
                                                        p.get("field"), p.get("text")),
}  # fmt: skip


def _sign_in_throttled(p: Mapping[str, Any]) -> str:
    minutes = int(p.get("minutes") or 1)
    if minutes == 1:
        return _("登录失败次数过多，为保护账号安全，暂停登录。请一分钟后再试。")
    return _("登录失败次数过多，为保护账号安全，暂停登录。请%(minutes)s分钟后再试。",
             minutes=minutes)  # fmt: skip


#: One sentence per refusal code that stands alone (not one of a request's ``problems``).
REFUSALS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    # Sign-in (courts/throttle.py)
    "sign-in-throttled": _sign_in_throttled,
}


def rule_problem(problem: Mapping[str, Any]) -> str:
    """One rule problem (a dict with ``code``) as a sentence in the visitor's language."""
    render = RULES.get(str(problem.get("code")))
    return render(problem) if render else refusal_detail(str(problem.get("detail", "")), 422)


def _clock(value: str) -> str:
    return f"{local(datetime.fromisoformat(value)):%H:%M}"


def conflicts_text(conflicts: Iterable[Mapping[str, Any]]) -> str:
    """A 409's double bookings: who or which room is taken, when, and by which session."""
    items = [
        _("%(name)s %(starts)s–%(ends)s（会议 %(session)s）", name=c["resource_name"],
          starts=_clock(c["starts_at"]), ends=_clock(c["ends_at"]), session=c["session_id"])
        for c in conflicts
    ]  # fmt: skip
    if not items:
        return _("该时段刚被其他预约占用，请重新选择时间。")
    return _("以下人员或房间该时段已有安排：%(items)s", items=_("；").join(items))


#: Refusals that carry no code, by the services' own (English) sentence.
DETAILS: tuple[tuple[str, str], ...] = (
    # Scheduling
    (r"Session \d+ is (cancelled|completed|adjourned)\b.*", "该会议已结束或已取消，不能再更改。"),
    (r"Unknown or inactive staff.*", "所选工作人员不存在或已停用，请重新选择。"),
    (r"Unknown or inactive rooms.*", "所选房间不存在或已停用，请重新选择。"),
    (r"A room is listed twice\.", "同一房间被选了两次。"),
    (r"There is no court .*", "请选择承办法院。"),
    (r"Unknown courts.*", "参会人所属法院不存在，请重新选择。"),
    (r"Removing this participant would leave .*", "移出此人后会议将缺少必要的参会人。"),
    (r"Another booking took this time a moment ago.*", "该时段刚被其他预约占用，请重新选择时间。"),
    (r"You may not .*", "您无权进行此操作。"),
    # Witnessing
    (r"id_number: a resident ID number has 17 digits.*",
     "身份证号码应为18位（17位数字加1位校验码，校验码可为X），请核对。"),
    (r"id_number: the birth date in the ID number does not exist",
     "身份证号码中的出生日期不存在，请核对。"),
    (r"id_number: the ID number's check digit is wrong.*", "身份证号码校验位不正确，请核对。"),
    (r"The name on the card .* is not the participant's .*",
     "身份证上的姓名与委托人姓名不一致，请核对。"),
    (r"The face on camera does not match the card.*", "镜头前的人与身份证照片不符，身份未能确认。"),
    (r"Check the principal's identity .*", "请先核对委托人身份，再开始录像。"),
    (r"Session \d+ is being recorded already\.", "本会议已在录像。"),
    (r"Session \d+ is \w+: nothing can be recorded\.", "该会议已结束或已取消，不能录像。"),
    (r"No recording is in progress.*", "当前没有进行中的录像，请先开始录像。"),
    (r"powers: a general agency is granted alone.*", "一般授权不能与特别授权同时选择。"),
    (r"powers: .*", "请选择授权范围：一般授权，或至少一项特别授权。"),
    (r"The recording is paused: steps are marked while recording\.",
     "录像已暂停：请先继续录像，再标记步骤。"),
    (r"The recording is \w+: steps are marked while recording\.", "只有在录像进行中才能标记步骤。"),
    (r"the next step is .*", "步骤须按顺序进行，不能跳过。"),
    (r"the script is complete.*", "见证流程已全部完成。"),
    (r"The recording is \w+, not recording\.", "录像未在进行，无法暂停。"),
    (r"The recording is \w+, not paused\.", "录像未暂停，无需继续。"),
    (r"The recording is (sealed|deleted)\.", "录像已封存，不能再操作。"),
    (r"The script is not complete: give the reason for stopping.*",
     "见证流程尚未完成：请填写停止录像的原因（《庭审录音录像规定》第4条）。"),
    (r"reason: .*", "请填写原因。"),
    (r"The recorder is still closing the last segment.*",
     "录像机仍在保存最后一段录像，请稍后再点“停止录像并封存”。"),
    (r"Session \d+ is a \w+, not a witnessing\.", "此会议不是委托代理视频见证。"),
    # Rooms
    (r"Session \d+ is \w+: no links are issued\.", "该会议已结束或已取消，不再签发参会链接。"),
    (r"You are not a participant of this session\.", "您不是本会议的参会人，不能进入。"),
    # Sign-in
    (r"Wrong username or password\.", "用户名或密码错误。"),
)  # fmt: skip

#: A plain sentence for each status, when nothing more particular is known.
STATUS_SENTENCES = {
    400: "请求无法处理，请返回上一页重试。",
    401: "请先登录。",
    403: "您无权进行此操作。",
    404: "找不到该内容。",
    409: "操作与当前状态冲突，请刷新页面后重试。",
    422: "填写的内容不符合要求，请检查后重试。",
    429: "操作过于频繁，请稍后再试。",
    503: "系统仍在处理，请稍后再试。",
}


def refusal_detail(detail: str, status: int) -> str:
    """A refusal known only by its English ``detail``, in plain words for the visitor."""
    for pattern, sentence in DETAILS:
        if re.fullmatch(pattern, detail.strip(), flags=re.DOTALL):
            return _(sentence)
    return _(STATUS_SENTENCES.get(status, "操作未成功，请稍后再试。"))


def missing_text(missing: Iterable[Mapping[str, Any]]) -> str:
    """Who must be in the room, let in, before a witnessing goes on (``missing`` of a 409)."""
    people = _("、").join(
        f"{role_name(m.get('role'))} {m.get('name', '')}".strip() for m in missing
    )
    return _("%(people)s还不在视频室中（或尚未准许入会）：请等其进入并准许入会后再继续。",
             people=people)  # fmt: skip


def refusal(problem: Mapping[str, Any]) -> list[str]:
    """Every sentence a page shows for a refusal (a problem document or its parts)."""
    if problem.get("problems"):
        return [rule_problem(p) for p in problem["problems"]]
    if problem.get("missing"):
        return [missing_text(problem["missing"])]
    if "conflicts" in problem:
        return [conflicts_text(problem["conflicts"])]
    if str(problem.get("code")) in REFUSALS:
        return [REFUSALS[str(problem["code"])](problem)]
    return [refusal_detail(str(problem.get("detail", "")), int(problem.get("status", 400)))]


def error_refusal(error: Any) -> list[str]:
    """The sentences for a ``HearingsError`` raised by a service."""
    return refusal(error.to_problem())


#: The kinds of notices the deliveries page lists.
NOTICE_KINDS = {"invite": "邀请", "update": "变更", "cancel": "取消", "reminder": "提醒"}
#: The states of one message.
DELIVERY_STATES = {
    "pending": "待发送",
    "sending": "发送中",
    "sent": "已送达",
    "failed": "发送失败",
    "no_address": "无联系地址",
}


def notice_kind(kind: str) -> str:
    """A notice's kind (invite, update, …) in the visitor's language."""
    if kind.startswith("notice-"):
        return _("进展通知")
    return _(NOTICE_KINDS[kind]) if kind in NOTICE_KINDS else kind


def delivery_state(state: str | None) -> str:
    """A message's delivery state in the visitor's language."""
    if state is None:
        return "—"
    return _(DELIVERY_STATES[state]) if state in DELIVERY_STATES else state


def delivery_note(note: str | None) -> str:
    """Why a notice was not delivered, in the visitor's language only (the outbox stores
    both languages for some, English technical text for others)."""
    if not note:
        return ""
    if found := re.fullmatch(r"没有电子邮箱，请电话通知 (\S+) · .*", note):
        return _("没有电子邮箱，请电话通知 %(phone)s", phone=found.group(1))
    if note.startswith("没有任何联系方式"):
        return _("没有任何联系方式，请以其他方式通知")
    if note.startswith("interrupted while sending"):
        return _("发送中断，对方可能未收到")
    return _("邮件服务器未接收：%(error)s", error=note)


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
    "short_notice_reason": SHORT_NOTICE_FIELD,
    "reason": "理由",
    "note": "备注",
    "username": "用户名",
    "q": "搜索",
    "id_number": "身份证号码",
    "rrule": "重复规则",
    "court": "所属法院",
}

#: What the pages say of text that can't be stored or sent, by problem code.
TEXT_FAULTS = {
    "unpaired-surrogate": "“%(field)s”含有无效的字符，请重新输入。",
    "single-line": "“%(field)s”只能填写一行文字，不能含换行符或其他控制字符。",
    "control-characters": "“%(field)s”含有无法保存的控制字符（如 NUL），请删去后重试。",
}


def field_label(field: str | None) -> str:
    """A field as the pages name it (``participants.1.name``, ``out_name_1`` → 姓名); a field
    without a label by its name."""
    key = re.sub(r"^(out|staff)_|_\d+$", "", str(field or "").rsplit(".", 1)[-1])
    return _(FORM_FIELDS[key]) if key in FORM_FIELDS else str(field or "")


def text_fault_sentence(code: str, field: str | None, kind: str | None = None) -> str:
    """Why a field's text is refused (``control-characters`` in a ``single-line`` field, or
    anywhere, or ``unpaired-surrogate``), naming the field, never quoting the text."""
    key = "single-line" if code == "control-characters" and kind == "single-line" else code
    return _(TEXT_FAULTS.get(key, TEXT_FAULTS["control-characters"]), field=field_label(field))


def text_problems(faults: Iterable[tuple[str, str]]) -> list[str]:
    """The sentences for form fields holding text that can't be stored: (field, code)."""
    return [text_fault_sentence(code, field) for field, code in faults]


def form_problems(error: Any) -> list[str]:
    """A form that doesn't fit the request's schema (a pydantic ``ValidationError``): text
    refused for what it holds, field by field; then which other fields to look at, by their
    labels."""
    sentences: list[str] = []
    fields: list[str] = []
    for e in error.errors():
        if e["type"] in ("control-characters", "unpaired-surrogate"):
            field = ".".join(str(part) for part in e["loc"])
            sentence = text_fault_sentence(e["type"], field, (e.get("ctx") or {}).get("text"))
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


#: The witness record's words for stored values (the record is bilingual by design).
RECORD_LABELS = {
    "recording": "录像中 recording",
    "paused": "已暂停 paused",
    "interrupted": "已中断 interrupted",
    "sealed": "已封存 sealed",
    "deleted": "已删除 deleted",
    "open": "录制中 open",
    "closed": "已关闭 closed",
    "partial": "不完整 partial",
    "empty": "无内容 empty",
    "lost": "已丢失 lost",
    "visual": "目视核对 visual check",
    "luoyang": "洛阳中院 Luoyang Intermediate Court",
    "luohe": "漯河中院 Luohe Intermediate Court",
}


def record_label(value: str | None) -> str:
    """A stored value (status, method, court) as the witness record prints it."""
    if value is None:
        return "—"
    return RECORD_LABELS.get(value, value)
