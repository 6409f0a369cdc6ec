"""The court's words for kinds, statuses, roles and sides, as pages show them (Chinese source
text; the English comes from the catalogue), keyed by the vocabularies' members."""

from __future__ import annotations

from hearings.courts.vocabulary import StaffRole
from hearings.scheduling.vocabulary import (
    OUTSIDER_ROLES,
    STAFF_ONLY_ROLES,
    Kind,
    ParticipantRole,
    Side,
    Status,
)

R = ParticipantRole
KINDS: dict[str, str] = {
    Kind.MEDIATION: "视频调解",
    Kind.HEARING: "网上开庭",
    Kind.WITNESS: "委托代理视频见证",
    Kind.LIAISON: "联络视频会议",
}
STATUSES: dict[str, str] = {
    Status.SCHEDULED: "已排期",
    Status.OPEN: "可入会",
    Status.IN_PROGRESS: "进行中",
    Status.COMPLETED: "已结束",
    Status.CANCELLED: "已取消",
    Status.ADJOURNED: "已休庭",
}
#: Participant roles, a staff account's own role (the directory shows it) and the room's
#: recorder peer.
ROLES: dict[str, str] = {
    R.PRESIDING_JUDGE: "审判长",
    R.JUDGE: "法官",
    R.CLERK: "书记员",
    R.MEDIATOR: "调解员",
    R.LIAISON: "联络员",
    R.PARTY: "当事人",
    R.ATTORNEY: "代理律师",
    R.WITNESS: "证人",
    R.INTERPRETER: "翻译",
    R.PRINCIPAL: "委托人",
    R.AGENT: "受托代理人",
    R.OBSERVER: "旁听",
    StaffRole.ADMIN: "管理员",
    "recorder": "录像",
}
SIDES: dict[str, str] = {
    Side.PLAINTIFF: "原告",
    Side.DEFENDANT: "被告",
    Side.APPLICANT: "申请人",
    Side.RESPONDENT: "被申请人",
    Side.THIRD_PARTY: "第三人",
}
#: The roles the booking form offers for a staff member (an observer may be staff too) ...
STAFF_PARTICIPANT_ROLES = (*STAFF_ONLY_ROLES, R.OBSERVER)
#: ... and for someone from outside.
OUTSIDE_ROLES = OUTSIDER_ROLES
