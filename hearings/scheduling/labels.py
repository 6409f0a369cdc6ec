"""The court's words for kinds, statuses, roles and sides, as pages show them (Chinese source
text; the English comes from the catalogue)."""

from __future__ import annotations

KINDS = {
    "mediation": "视频调解",
    "hearing": "网上开庭",
    "witness": "委托代理视频见证",
    "liaison": "联络视频会议",
}
STATUSES = {
    "scheduled": "已排期",
    "open": "可入会",
    "in_progress": "进行中",
    "completed": "已结束",
    "cancelled": "已取消",
    "adjourned": "已休庭",
}
ROLES = {
    "presiding_judge": "审判长",
    "judge": "法官",
    "clerk": "书记员",
    "mediator": "调解员",
    "liaison": "联络员",
    "party": "当事人",
    "attorney": "代理律师",
    "witness": "证人",
    "interpreter": "翻译",
    "principal": "委托人",
    "agent": "受托代理人",
    "observer": "旁听",
    "admin": "管理员",
    "recorder": "录像",
}
SIDES = {
    "plaintiff": "原告",
    "defendant": "被告",
    "applicant": "申请人",
    "respondent": "被申请人",
    "third_party": "第三人",
}
STAFF_PARTICIPANT_ROLES = ("presiding_judge", "judge", "clerk", "mediator", "liaison", "observer")
OUTSIDE_ROLES = ("party", "attorney", "witness", "interpreter", "principal", "agent", "observer")
