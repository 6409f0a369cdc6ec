"""What the rooms' refusals say, in Chinese and English, by code: join links that can't be
used (the join page, from ``RoomRefusal.why``) and the links' API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hearings.errors import Words
from hearings.timekeeping import local


def _opens(language: str) -> Any:
    def said(p: Mapping[str, Any]) -> str:
        opens = p.get("opens")
        if opens is None:
            return (
                "This join link doesn't work yet; open it again shortly before the session starts."
                if language == "en"
                else "此参会链接尚未生效，请在会议开始前不久再打开。"
            )
        at = f"{local(opens):%Y-%m-%d %H:%M}"
        if language == "en":
            return (
                f"This join link doesn't work yet: it opens at {at} (Beijing time). "
                "Please open it again then."
            )
        return f"此参会链接尚未生效，将于 {at}（北京时间）起可以使用，届时请再打开。"

    return said


WORDS = {
    # Why a join link can't be used (the join page says it to the person who clicked it)
    "link-revoked": Words(
        "此参会链接已被法院收回（可能已向您发送了新链接）。请使用最新收到的链接，或联系承办法院。",
        "The court has withdrawn this join link (you may have been sent a new one). Use the "
        "latest link you received, or contact the court in charge.",
    ),
    "session-cancelled": Words(
        "此会议已取消，链接不再有效。如有疑问，请联系承办法院。",
        "This session was cancelled; the link no longer works. If you have questions, "
        "contact the court in charge.",
    ),
    "session-ended": Words(
        "此会议已经结束，链接不再有效。如有疑问，请联系承办法院。",
        "This session is over; the link no longer works. If you have questions, contact the "
        "court in charge.",
    ),
    "link-expired": Words(
        "此参会链接已过期。请联系承办法院获取新的链接。",
        "This join link has expired. Contact the court in charge for a new one.",
    ),
    "link-not-yet-valid": Words(_opens("zh"), _opens("en")),
    "link-invalid": Words(
        "此参会链接无效或已损坏，请使用邮件/短信中的完整链接，或联系承办法院。",
        "This join link is invalid or damaged. Use the complete link from your email or text "
        "message, or contact the court in charge.",
    ),
    # The links' API (services.py)
    "links-closed": Words(
        "该会议已结束或已取消，不再签发参会链接。",
        "This session is over or cancelled: no more join links are issued.",
        detail="Session %(session_id)s is %(state)s: no links are issued.",
    ),
    "not-a-participant": Words(
        "您不是本会议的参会人，不能进入。",
        "You are not a participant of this session, so you can't enter.",
        detail="You are not a participant of this session.",
    ),
    "session-not-open": Words(
        "该会议已结束或已取消。", "This session is over or cancelled.",
        detail="Session %(session_id)s is %(state)s.",
    ),
    # The SFU's refusals of a peer's media (an ``error`` frame on the room's socket)
    "media-server-unavailable": Words(
        "媒体服务器暂时无法连接，音视频未能接通。请稍后重试；如仍不行，请联系承办法院。",
        "The media server can't be reached, so your audio and video are not connected. Try "
        "again shortly; if it still fails, contact the court in charge.",
    ),
    "media-refused": Words(
        "媒体服务器未能接通您的音视频，请重新进入会议室；如仍不行，请联系承办法院。",
        "The media server could not connect your audio and video. Enter the room again; if it "
        "still fails, contact the court in charge.",
    ),
    "media-not-connected": Words(
        "您的音视频未能连上媒体服务器（网络可能受限），请检查网络后重新进入会议室。",
        "Your audio and video did not reach the media server (the network may be blocking "
        "it). Check your connection and enter the room again.",
    ),
}  # fmt: skip
