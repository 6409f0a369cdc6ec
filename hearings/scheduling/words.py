"""What scheduling's refusals say, in Chinese and English, by code: the booking rules
(``rules.py``, ``recurrence.py``), double bookings, and who may act on a session."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from functools import lru_cache
from typing import Any

import holidays

from hearings.courts.words import court_name
from hearings.errors import Words
from hearings.i18n import translate
from hearings.scheduling import labels
from hearings.timekeeping import local

Params = Mapping[str, Any]

#: The booking form's labels of the two reasons (the fields a person can fill in).
SHORT_NOTICE_FIELD = "开庭不足三日的理由"
OUTSIDE_HOURS_FIELD = "非工作时间理由"
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


def role_name(role: str | None, language: str) -> str:
    """A participant or staff role in ``language``."""
    if role is None:
        return ""
    return translate(labels.ROLES[role], language) if role in labels.ROLES else role


def _role_in_sentence(role: str | None, language: str) -> str:
    """A role inside an English sentence is lower case (``the presiding judge``)."""
    name = role_name(role, language)
    return name.lower() if language == "en" else name


def _a(noun: str, language: str) -> str:
    """English wants an article before a role (``an administrator``); Chinese does not."""
    if language != "en":
        return noun
    noun = noun.lower()
    return ("an " if noun[:1] in "aeiou" else "a ") + noun


@lru_cache(maxsize=16)
def _english_holidays(year: int) -> holidays.HolidayBase:
    return holidays.China(years=year, language="en_US")


def _holiday(p: Params, language: str) -> str:
    name = str(p.get("holiday") or "")
    if language == "en" and p.get("date"):
        day = date.fromisoformat(p["date"])
        return str(_english_holidays(day.year).get(day, name))
    return name


def _outside_hours(language: str) -> Callable[[Params], str]:
    def said(p: Params) -> str:
        t = lambda text, **values: translate(text, language, **values)  # noqa: E731
        court = court_name(p.get("court"), language)
        values = {"court": court, "date": p.get("date", ""), "field": t(OUTSIDE_HOURS_FIELD)}
        match p.get("issue"):
            case "past-midnight":
                return t("会议不能跨越午夜；如确需安排，请填写“%(field)s”。", field=values["field"])
            case "holiday":
                return t("%(court)s %(date)s 不是工作日（%(holiday)s）；如确需安排，请填写“%(field)s”。",
                         holiday=_holiday(p, language), **values)  # fmt: skip
            case "weekend":
                return t("%(court)s %(date)s 是休息日；如确需安排，请填写“%(field)s”。", **values)
            case "closure":
                return t("%(court)s %(date)s 闭院（%(closure)s）；如确需安排，请填写“%(field)s”。",
                         closure=p.get("closure", ""), **values)  # fmt: skip
            case "hours":
                return t(
                    "所选时间不在%(court)s %(date)s 的工作时间（%(hours)s）内；如确需安排，请填写“%(field)s”。",
                    hours=t("、").join(p.get("hours", [])), **values,
                )  # fmt: skip
        return t("所选时间不在%(court)s的工作时间内；如确需安排，请填写“%(field)s”。",
                 court=court, field=values["field"])  # fmt: skip

    return said


def _rule(render: Callable[[Params, str], str]) -> Words:
    """Words said by one function in both languages (through the page catalogue)."""
    return Words(lambda p: render(p, "zh"), lambda p: render(p, "en"))


def _said(text: str, **fill: Callable[[Params, str], Any]) -> Words:
    """Words from a Chinese sentence and its catalogue English, ``fill`` giving the values."""
    return _rule(lambda p, lang: translate(text, lang, **{k: f(p, lang) for k, f in fill.items()}))


def _param(name: str, default: Any = "") -> Callable[[Params, str], Any]:
    return lambda p, lang: p.get(name, default)


def _clock(value: str) -> str:
    return f"{local(datetime.fromisoformat(value)):%H:%M}"


def _conflicts(p: Params, language: str) -> str:
    """A 409's double bookings: who or which room is taken, when, and by which session."""
    items = [
        translate("%(name)s %(starts)s–%(ends)s（会议 %(session)s）", language,
                  name=c["resource_name"], starts=_clock(c["starts_at"]),
                  ends=_clock(c["ends_at"]), session=c["session_id"])
        for c in p.get("conflicts") or []
    ]  # fmt: skip
    if not items:
        return translate("该时段刚被其他预约占用，请重新选择时间。", language)
    return translate("以下人员或房间该时段已有安排：%(items)s", language,
                     items=translate("；", language).join(items))  # fmt: skip


def _problems_detail(p: Params) -> str:
    return "; ".join(str(q.get("detail", "")) for q in p.get("problems") or [])


def _of_another_court(zh: str, en: str, title: tuple[str, str]) -> Words:
    return Words(zh, en, detail="You may not %(what)s session %(session_id)s of another court.",
                 title=title)  # fmt: skip


WORDS = {
    # Who may act on what (access.py)
    "may-not-view-session": _of_another_court(
        "您无权查看其他法院的会议。", "You may not view a session of another court.",
        ("您无权查看此会议", "You may not view this session")),
    "may-not-change-session": _of_another_court(
        "您无权更改其他法院的会议。", "You may not change a session of another court.",
        ("您无权更改此会议", "You may not change this session")),
    "may-not-act-on-session": _of_another_court(
        "您无权对其他法院的会议进行此操作。", "You may not do this with a session of another court.",
        ("您无权访问此页面", "You may not open this page")),
    "may-not-act-for-court": Words("您无权为其他法院办理此事项。", "You may not do this for another court.",
                                   detail="You may not %(what)s for court %(court_id)s."),
    "no-such-session": Words("找不到该会议。", "Session not found.",
                             detail="There is no session %(session_id)s.",
                             title=("找不到该会议", "Session not found")),
    "no-such-participant": Words("该会议没有这位参会人。", "The session has no such participant.",
                                 detail="Session %(session_id)s has no participant %(participant_id)s."),
    # Booking (planning.py, services.py)
    "session-closed": Words("该会议已结束或已取消，不能再更改。",
                            "This session is over or cancelled and can't be changed.",
                            detail="Session %(session_id)s is %(state)s and can't be changed."),
    "unknown-host-court": Words("请选择承办法院。", "Please choose the host court.",
                                detail="There is no court %(court_id)r."),
    "room-listed-twice": Words("同一房间被选了两次。", "The same room is chosen twice.",
                               detail="A room is listed twice."),
    "unknown-rooms": Words("所选房间不存在或已停用，请重新选择。",
                           "A room chosen no longer exists or is inactive; please choose again.",
                           detail="Unknown or inactive rooms: %(unknown)s."),
    "unknown-staff": Words("所选工作人员不存在或已停用，请重新选择。",
                           "A staff member chosen no longer exists or is inactive; please choose again.",
                           detail="Unknown or inactive staff: %(unknown)s."),
    "unknown-courts": Words("参会人所属法院不存在，请重新选择。",
                            "A participant's court doesn't exist; please choose again.",
                            detail="Unknown courts: %(unknown)s."),
    "rules-broken": Words("填写的内容不符合要求，请检查后重试。",
                          "Something entered isn't acceptable; please check and try again.",
                          detail=_problems_detail),
    "removal-leaves-role-missing": Words(
        "移出此人后会议将缺少必要的参会人。",
        "Without this person the session would lack a required participant.",
        detail=lambda p: "Removing this participant would leave the session without a "
        "required role: " + _problems_detail(p)),
    "occurrences-refused": Words("系列中有%(count)s次会议无法安排：%(dates)s。",
                                 "%(count)s of the series' meetings can't be booked: %(dates)s.",
                                 detail="%(count)s of %(total)s occurrences can't be booked: %(dates)s."),
    "double-booking": Words(lambda p: _conflicts(p, "zh"), lambda p: _conflicts(p, "en"),
                            detail=lambda p: "Already booked at that time: "
                            + ", ".join(sorted({c["resource_name"] for c in p.get("conflicts") or []})) + "."),
    "booking-raced": Words(lambda p: _conflicts(p, "zh"), lambda p: _conflicts(p, "en"),
                           detail="Another booking took this time a moment ago; try again."),
    # Free slots (views.py)
    "ids-invalid": Words("编号格式不正确。", "The ids are not valid.",
                         detail="%(field)s must be comma-separated ids (1 to %(max)s)."),
    "unknown-resources": Words("所选人员或房间不存在。", "A staff member or room chosen doesn't exist.",
                               detail="Unknown staff or rooms: %(unknown)s."),
    "search-needs-something": Words("请至少选择一个法院、工作人员或房间。",
                                    "Choose at least one court, staff member or room.",
                                    detail="Name at least one court, staff member or room."),
    "courts-without-hours": Words("所选法院不存在或没有工作时间。",
                                  "A court chosen doesn't exist or has no working hours.",
                                  detail="Unknown courts or courts without working hours: %(missing)s."),
    "search-window-order": Words("结束时间须晚于开始时间（且晚于现在）。",
                                 "The end must come after the start (and after now).",
                                 detail="'to' must come after 'from' (and after now)."),
    "search-too-long": Words("一次最多查找%(days)s天。", "Search at most %(days)s days at once.",
                             detail="Search at most %(days)s days at once."),
    # The booking rules (rules.py): one problem each of a 422's ``problems``
    "staff-required": _said("%(role)s须由法院工作人员担任。", role=lambda p, lang: _role_in_sentence(p.get("role"), lang)),
    "role-mismatch": _said("%(name)s是%(staff_role)s，不能担任%(role)s。", name=_param("name"),
                           staff_role=lambda p, lang: _a(role_name(p.get("staff_role"), lang), lang),
                           role=lambda p, lang: _role_in_sentence(p.get("role"), lang)),
    "name-required": _said("请填写%(role)s的姓名。", role=lambda p, lang: _role_in_sentence(p.get("role"), lang)),
    "outsider-role": _said("法院工作人员不能以%(role)s身份参加。",
                           role=lambda p, lang: _a(_role_in_sentence(p.get("role"), lang), lang)),
    "side-not-allowed": _said("只有当事人和代理律师需要选择诉讼地位，%(role)s不需要。",
                              role=lambda p, lang: _role_in_sentence(p.get("role"), lang)),
    "missing-role": _rule(lambda p, lang: translate(NEEDS.get(p.get("needs", ""), "会议缺少必要的参会人。"), lang)),
    "duplicate-staff": _said("%(name)s被重复列入，请删去一处。", name=_param("name")),
    "staff-only": _said("联络视频会议仅限法院工作人员参加。"),
    "end-before-start": _said("结束时间须晚于开始时间。"),
    "too-long": _said("一次会议最长%(hours)s小时（一个工作日），请缩短时长或分次安排。", hours=_param("hours", 10)),
    "in-the-past": _said("开始时间已过，请选择以后的时间。"),
    "short-notice": _said("开庭须提前三日通知（民诉法第139条）；如需更早开庭，请填写“%(field)s”。",
                          field=lambda p, lang: translate(SHORT_NOTICE_FIELD, lang)),
    "outside-hours": Words(_outside_hours("zh"), _outside_hours("en")),
    # Recurring series (recurrence.py, services.py)
    "no-recurrence": Words("只有联络视频会议可以设为重复会议。", "Only liaison meetings may recur."),
    "rrule-invalid": _said("重复规则格式不正确（应为 RFC 5545 RRULE）。"),
    "rrule-unbounded": _said("重复规则须写明次数（COUNT）或截止日期（UNTIL）。"),
    "rrule-frequency": _said("系列会议最多每天一次（按天、周、月或年重复）。"),
    "rrule-empty": _said("按此重复规则排不出任何一次会议，请检查规则。"),
    "series-too-long": _said("系列会议的时间跨度最长%(days)s天，请缩短。", days=_param("days", 366)),
    "series-too-many": _said("系列会议最多%(count)s次，请减少次数。", count=_param("count", 60)),
    "series-overlaps-itself": _said("系列中的会议相互重叠：下一次在上一次结束前就开始了。"),
}  # fmt: skip
