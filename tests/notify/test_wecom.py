"""Progress notices to the courts' WeChat Work group robots, checked on a local server."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from hearings.extensions import db
from hearings.notify.models import OutboxMessage
from hearings.notify.outbox import deliver_outbox
from hearings.notify.services import announce_progress
from hearings.scheduling import signals
from hearings.scheduling.models import Session
from hearings.timekeeping import utcnow


def notices() -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.channel == "wecom")
            .order_by(OutboxMessage.id)
        )
    )


def test_booking_and_cancel_reach_both_courts_groups(
    make_session, smtp, robot, client, auth, court_staff
):
    session = make_session("mediation")
    deliver_outbox()
    assert sorted(path for path, _ in robot.posts) == ["/luohe?key=b", "/luoyang?key=a"]
    for _, body in robot.posts:
        assert body["msgtype"] == "markdown"
        content = body["markdown"]["content"]
        assert "视频调解已预约" in content and "booked" in content
        assert "测试 mediation" in content and "2026-09-10 09:00–10:00" in content
        assert "(2026)豫03民初1号" in content
        assert "李四" not in content  # parties are counted, not named, in group chats
    client.post(
        f"/api/v1/sessions/{session['id']}/cancel",
        json={"reason": "双方已和解"},
        headers=auth(court_staff["luoyang-admin"]),
    )
    deliver_outbox()
    cancelled = [b for _, b in robot.posts if "已取消" in b["markdown"]["content"]]
    assert len(cancelled) == 2
    assert "双方已和解" in cancelled[0]["markdown"]["content"]


def test_start_and_end_are_announced(make_session, smtp, robot):
    session_id = make_session("mediation")["id"]
    session = db.session.get(Session, session_id)
    progressed = getattr(signals, "session_progressed", None)
    for before, after, word in (
        ("open", "in_progress", "已开始"),
        ("in_progress", "completed", "已结束"),
    ):
        if progressed is not None:
            progressed.send(session, before=before, after=after)
        else:
            announce_progress(session, {"in_progress": "started", "completed": "ended"}[after])
        db.session.commit()
        deliver_outbox()
        assert any(word in b["markdown"]["content"] for _, b in robot.posts), word
    # The outside party with an address hears it too.
    subjects = [m["Subject"] for m in smtp.mailbox.to("lisi@example.com")]
    assert any("Started" in s for s in subjects) and any("Ended" in s for s in subjects)


def test_robot_refusal_is_reported_and_rate_limit_retried(make_session, robot):
    robot.answer = {"errcode": 45009, "errmsg": "api freq out of limit"}
    make_session("liaison")
    deliver_outbox()
    assert {n.state for n in notices()} == {"pending"}
    robot.answer = {"errcode": 93000, "errmsg": "invalid webhook url"}
    deliver_outbox(utcnow() + timedelta(minutes=5))
    assert {n.state for n in notices()} == {"failed"}
    assert "93000" in notices()[0].last_error


@pytest.mark.parametrize("setting", [None, ""])
def test_no_robot_no_notices(make_session, app, setting):
    app.config["WECOM_WEBHOOK_URL"] = setting
    make_session("liaison")
    assert notices() == []


def test_one_robot_for_every_court(make_session, robot, app):
    app.config["WECOM_WEBHOOK_URL"] = f"{robot.base}/all?key=z"
    make_session("liaison")
    deliver_outbox()
    assert [path for path, _ in robot.posts] == ["/all?key=z", "/all?key=z"]
