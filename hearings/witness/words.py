"""What the witnessing's refusals say, in Chinese and English, by code: identity checks, the
script of a witnessing, the recording's controls, and the recordings' archive."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hearings.errors import Words
from hearings.scheduling.words import role_name

#: What they must be in the room for (``not-in-room``'s ``doing``).
DOING = {
    "check-identity": ("核验其身份", "have their identity checked"),
    "start-recording": ("开始录制", "start recording"),
    "mark-step": ("记录此步骤", "mark this step"),
}


def _missing(p: Mapping[str, Any], language: str) -> str:
    """Who is missing, run together for the problem's ``detail`` (委托人赵六 · the principal 赵六)."""
    people = p.get("missing") or []
    if language == "en":
        return ", ".join(f"the {role_name(m.get('role'), 'en').lower()} {m.get('name', '')}"
                         for m in people)  # fmt: skip
    return "、".join(f"{role_name(m.get('role'), 'zh')}{m.get('name', '')}" for m in people)


def _doing(p: Mapping[str, Any], language: str) -> str:
    zh, en = DOING.get(str(p.get("doing")), ("继续", "go on"))
    return en if language == "en" else zh


def _people(p: Mapping[str, Any], language: str) -> str:
    """Who is missing, as the pages name roles (受托代理人 钱律师)."""
    return ("、" if language == "zh" else ", ").join(
        f"{role_name(m.get('role'), language)} {m.get('name', '')}".strip()
        for m in p.get("missing") or []
    )


def _not_in_room_zh(p: Mapping[str, Any]) -> str:
    return f"{_people(p, 'zh')}还不在视频室中（或尚未准许入会）：请等其进入并准许入会后再继续。"


def _not_in_room_en(p: Mapping[str, Any]) -> str:
    return (f"{_people(p, 'en')}: not in the room yet (or not let in): wait until they have "
            "joined and been let in.")  # fmt: skip


def _not_in_room_detail(p: Mapping[str, Any]) -> str:
    return (f"{_missing(p, 'zh')}不在视频室中（或尚未准许入会），不能{_doing(p, 'zh')}。 · "
            f"{_missing(p, 'en')} must be in the room (let in) to {_doing(p, 'en')}.")  # fmt: skip


def _steps_while_recording(language: str) -> Any:
    def said(p: Mapping[str, Any]) -> str:
        if p.get("state") == "paused":
            return ("The recording is paused: resume it before marking a step."
                    if language == "en" else "录像已暂停：请先继续录像，再标记步骤。")  # fmt: skip
        return (
            "Steps can only be marked while recording."
            if language == "en"
            else "只有在录像进行中才能标记步骤。"
        )

    return said


_POWERS = Words("请选择授权范围：一般授权，或至少一项特别授权。",
                "Choose the powers granted: a general agency, or at least one special authority.",
                detail="powers: %(reason)s")  # fmt: skip
_STEPS = Words("步骤须按顺序进行，不能跳过。", "Steps are taken in order; none may be skipped.",
               detail="%(reason)s")  # fmt: skip

WORDS = {
    # Identity (services.record_identity_check)
    "id-number-form": Words(
        "身份证号码应为18位（17位数字加1位校验码，校验码可为X），请核对。",
        "A resident ID number has 18 characters (17 digits and a check digit, which may be X); "
        "please check it.",
        detail="id_number: %(reason)s"),
    "id-number-birth-date": Words("身份证号码中的出生日期不存在，请核对。",
                                  "The date of birth in the ID number doesn't exist; please check it.",
                                  detail="id_number: %(reason)s"),
    "id-number-check-digit": Words("身份证号码校验位不正确，请核对。",
                                   "The ID number's check digit is wrong; please check it.",
                                   detail="id_number: %(reason)s"),
    "id-number-unreadable": Words("身份证号码无法读取。", "The ID number can't be read.",
                                  detail="id_number: %(reason)s"),
    "card-name-differs": Words(
        "身份证上的姓名与委托人姓名不一致，请核对。",
        "The name on the ID card differs from the principal's name; please check it.",
        detail="The name on the card (%(card)s) is not the participant's (%(participant_name)s)."),
    "face-differs": Words(
        "镜头前的人与身份证照片不符，身份未能确认。",
        "The person on camera doesn't match the ID card: identity not confirmed.",
        detail="The face on camera does not match the card: identity not confirmed."),
    "room-unknown": Words(
        "暂时无法确认谁在视频室中，请稍后再试。", "Who is in the room can't be told just now; try again shortly.",
        detail="暂时无法确认谁在视频室中，请稍后再试。 · Who is in the room can't be told just now; "
        "try again shortly."),
    "not-in-room": Words(_not_in_room_zh, _not_in_room_en, detail=_not_in_room_detail),
    "not-a-witnessing": Words("此会议不是委托代理视频见证。", "This session is not a witnessed power of attorney.",
                              detail="Session %(session_id)s is a %(kind)s, not a witnessing."),
    # Recording (services)
    "kind-not-recorded": Words(
        "联络视频会议不录像。", "Liaison meetings are not recorded.",
        detail="Session %(session_id)s is a %(kind)s: only witnessings, hearings and "
        "mediations are recorded."),
    "no-witness-record": Words(
        "只有委托代理视频见证的录像才有见证笔录。", "Only a witnessing's recording has a witness record.",
        detail="Recording %(recording_id)s is of a %(kind)s: it has no witness record."),
    "not-started-by-chair": Words(
        "只有审判长（庭审）或调解员（调解）可以开始会议。",
        "Only the presiding judge (a hearing) or the mediator (a mediation) starts the session.",
        detail="Session %(session_id)s (a %(kind)s) is started by its presiding judge "
        "(hearing) or mediator (mediation)."),
    "powers-only-witnessing": Words(
        "只有委托代理视频见证才需列明代理权限。", "Powers are named only for a witnessing.",
        detail="powers: only a witnessing grants powers, not a %(kind)s."),
    "session-not-recordable": Words(
        "该会议已结束或已取消，不能录像。", "This session is over or cancelled: it can't be recorded.",
        detail="Session %(session_id)s is %(state)s: nothing can be recorded."),
    "already-recording": Words("本会议已在录像。", "This session is being recorded already.",
                               detail="Session %(session_id)s is being recorded already."),
    "identity-unchecked": Words(
        "请先核对委托人身份，再开始录像。", "Check the principal's identity before starting the recording.",
        detail="Check the principal's identity in this session before recording."),
    "no-recording-in-progress": Words(
        "当前没有进行中的录像，请先开始录像。", "No recording is in progress; start one first.",
        detail="No recording is in progress in this session: start one first."),
    "not-recording": Words("录像未在进行，无法暂停。", "The recording isn't running, so it can't be paused.",
                           detail="The recording is %(state)s, not recording."),
    "not-paused": Words("录像未暂停，无需继续。", "The recording isn't paused.",
                        detail="The recording is %(state)s, not paused."),
    "recording-finished": Words("录像已封存，不能再操作。",
                                "The recording is sealed; nothing more can be done with it.",
                                detail="The recording is %(state)s."),
    "stop-reason-required": Words(
        "见证流程尚未完成：请填写停止录像的原因（《庭审录音录像规定》第4条）。",
        "The witnessing script isn't complete: give the reason for stopping (Provisions on "
        "Audio and Video Recording of Trials, Art. 4).",
        detail="The script is not complete: give the reason for stopping (庭审录音录像规定 Art. 4)."),
    "recorder-closing": Words(
        "录像机仍在保存最后一段录像，请稍后再点“停止录像并封存”。",
        "The recorder is still saving the last segment: press “Stop recording and seal” again in a moment.",
        detail="The recorder is still closing the last segment; ask again to seal it."),
    "steps-while-recording": Words(_steps_while_recording("zh"), _steps_while_recording("en"),
                                   detail="The recording is %(state)s: steps are marked while recording."),
    # The script (script.py's ScriptError codes)
    "powers-missing": _POWERS,
    "powers-unknown": _POWERS,
    "powers-repeated": _POWERS,
    "general-agency-alone": Words("一般授权不能与特别授权同时选择。",
                                  "A general agency can't be combined with special authorities.",
                                  detail="powers: %(reason)s"),
    "steps-out-of-order": _STEPS,
    "step-unknown": _STEPS,
    "step-skipped": _STEPS,
    "power-not-granted": Words("该项授权不在授权范围内。", "That power is not among the powers granted.",
                               detail="%(reason)s"),
    "power-on-wrong-step": _STEPS,
    "script-complete": Words("见证流程已全部完成。", "The witnessing script is complete.", detail="%(reason)s"),
    # Access to recordings (access.py) and the archive (archive.py, record_pdf.py)
    "may-not-see-recording": Words("您无权进行此操作。", "You may not do this.", detail="You may not %(what)s."),
    "no-such-recording": Words("找不到该录像。", "Recording not found.",
                               detail="There is no recording %(recording_id)s."),
    "no-such-segment": Words("找不到该段录像。", "That segment is not found.",
                             detail="Recording %(recording_id)s has no finished segment %(n)s."),
    "segment-empty": Words("该段录像没有内容。", "That segment received no media.",
                           detail="Segment %(n)s of recording %(recording_id)s received no media: no file."),
    "segment-not-on-file": Words("该段录像文件不存在。", "That segment is not on file.",
                                 detail="Segment %(n)s of recording %(recording_id)s is not on file."),
    "hold-admins-only": Words("只有相关法院的管理员可以设置或解除诉讼保全。",
                              "Only an admin of an involved court places or lifts a legal hold."),
    "delete-admins-only": Words("只有相关法院的管理员可以删除录像。",
                                "Only an admin of an involved court deletes recordings."),
    "recording-deleted": Words("该录像已删除。", "The recording is deleted already.",
                               detail="Recording %(recording_id)s is deleted already."),
    "recording-on-hold": Words("该录像处于诉讼保全中，不能删除。", "The recording is under legal hold.",
                               detail="Recording %(recording_id)s is under legal hold: %(reason)s"),
    "recording-retained": Words(
        "该录像保存期未满，不能删除。", "The recording is kept until its retention ends; it can't be deleted before.",
        detail="Recording %(recording_id)s is kept until %(retain_until)s (retention); it can't be deleted before."),
    "recording-not-sealed": Words("只有已封存的录像可以删除。", "Only a sealed recording can be deleted."),
    "record-font-missing": Words(
        "见证笔录所需的字体缺失，请联系技术支持。", "The witness record's font is missing; contact technical support.",
        detail="HEARINGS_RECORD_PDF_FONT is %(path)s, and there is no such file: install a Chinese "
        "TTF/TTC (e.g. fonts-wqy-zenhei) there, or unset it to use the built-in %(built_in)s."),
}  # fmt: skip


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
