"""The outbox: stored before sending, retried with backoff, sent once, failures reported."""

from __future__ import annotations

import threading
from datetime import timedelta

import sqlalchemy as sa

from hearings.extensions import db
from hearings.notify.models import OutboxMessage
from hearings.notify.outbox import deliver_outbox
from hearings.notify.services import notify_booked, queue_email
from hearings.scheduling.models import Session
from hearings.timekeeping import utcnow
from tests.conftest import sign_in


def states() -> list[str]:
    return list(db.session.scalars(sa.select(OutboxMessage.state).order_by(OutboxMessage.id)))


def deliveries(client, auth, staff, session_id):
    response = client.get(f"/api/v1/sessions/{session_id}/deliveries", headers=auth(staff))
    assert response.status_code == 200, response.json
    return response.json


def test_smtp_down_loses_nothing(make_session, smtp_down, client, auth, court_staff):
    session = make_session("mediation")
    # Stored with the booking, before any try.
    assert states() == ["pending", "no_address", "pending"]
    counts = deliver_outbox()
    assert counts == {"sent": 0, "retry": 2, "failed": 0}
    report = deliveries(client, auth, court_staff["luoyang-admin"], session["id"])
    lisi = next(i for i in report["items"] if i["name"] == "李四")
    assert lisi["state"] == "pending"
    assert lisi["messages"][0]["attempts"] == 1
    assert "unreachable" in lisi["last_error"]
    assert lisi["messages"][0]["next_attempt_at"] == "2026-09-01T09:01:00+08:00"

    smtp_down.start()
    assert deliver_outbox() == {"sent": 0, "retry": 0, "failed": 0}  # backing off
    assert deliver_outbox(utcnow() + timedelta(minutes=1)) == {"sent": 2, "retry": 0, "failed": 0}
    assert len(smtp_down.mailbox.wait_for(2)) == 2
    assert deliver_outbox(utcnow() + timedelta(hours=1))["sent"] == 0
    assert len(smtp_down.mailbox.messages) == 2
    report = deliveries(client, auth, court_staff["luoyang-admin"], session["id"])
    assert {i["name"]: i["state"] for i in report["items"]} == {
        "Mediator 4": "sent",
        "张三": "no_address",
        "李四": "sent",
    }


def test_backoff_doubles_then_gives_up(make_session, smtp_down, app):
    app.config["OUTBOX_MAX_ATTEMPTS"] = 3
    make_session("liaison")
    now = utcnow()
    deliver_outbox(now)
    waits = []
    for _ in range(2):
        message = db.session.scalar(sa.select(OutboxMessage).order_by(OutboxMessage.id))
        waits.append(message.next_attempt_at - now)
        now = message.next_attempt_at
        deliver_outbox(now)
    assert waits == [timedelta(minutes=1), timedelta(minutes=2)]
    assert states() == ["failed", "failed"]
    message = db.session.scalar(sa.select(OutboxMessage).order_by(OutboxMessage.id))
    assert message.attempts == 3


def test_refused_address_is_reported_not_retried(make_session, smtp, client, auth, court_staff):
    smtp.mailbox.refuse.add("lisi@example.com")
    session = make_session("mediation")
    assert deliver_outbox() == {"sent": 1, "retry": 0, "failed": 1}
    report = deliveries(client, auth, court_staff["luoyang-admin"], session["id"])
    lisi = next(i for i in report["items"] if i["name"] == "李四")
    assert lisi["state"] == "failed"
    assert "550" in lisi["last_error"] and "lisi@example.com" in lisi["last_error"]
    zhang = next(i for i in report["items"] if i["name"] == "张三")
    assert zhang["state"] == "no_address"
    assert "13800000001" in zhang["last_error"]
    assert report["problems"] == 2


def test_participant_without_any_contact_is_reported(make_session, smtp, client, auth, court_staff):
    people = [
        {"role": "mediator", "staff_id": court_staff["luoyang-mediator1"].id},
        {"role": "party", "name": "无联系方式", "side": "applicant"},
    ]
    session = make_session("mediation", participants=people)
    deliver_outbox()
    report = deliveries(client, auth, court_staff["luoyang-admin"], session["id"])
    nobody = next(i for i in report["items"] if i["name"] == "无联系方式")
    assert nobody["state"] == "no_address"
    assert "no phone" in nobody["last_error"]
    assert report["problems"] == 1


def test_storing_says_whether_the_message_was_new(make_session):
    # (On PostgreSQL an executemany's rowcount is -1: the count comes from the returned ids.)
    session = db.session.get(Session, make_session("mediation")["id"])
    participant = session.participants[0]
    assert queue_email(session, participant, "update", text="relink", method="REQUEST") is True
    assert queue_email(session, participant, "update", text="relink", method="REQUEST") is False
    db.session.rollback()


def test_each_message_is_stored_and_sent_once(make_session, smtp, app):
    session_id = make_session("mediation")["id"]
    notify_booked([db.session.get(Session, session_id)])  # the signal, repeated
    db.session.commit()
    assert len(states()) == 3
    db.session.rollback()  # end this test's transaction: SQLite has one writer at a time

    # Two workers deliver at once: each message is claimed by one of them.
    barrier = threading.Barrier(2)
    results = []

    def worker():
        with app.app_context():
            barrier.wait(timeout=10)
            results.append(deliver_outbox())
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sum(r["sent"] for r in results) == 2
    smtp.mailbox.wait_for(2)
    deliver_outbox(utcnow() + timedelta(days=1))
    assert len(smtp.mailbox.messages) == 2


def test_without_smtp_messages_go_to_the_outbox_folder(make_session, app, tmp_path):
    app.config["SMTP_URL"] = None
    make_session("mediation")
    assert deliver_outbox()["sent"] == 2
    files = sorted((tmp_path / "outbox").glob("*.eml"))
    assert len(files) == 2
    text = files[0].read_text(encoding="utf-8")
    assert 'Content-Type: text/calendar; charset="utf-8"; method="REQUEST"' in text
    assert states() == ["sent", "no_address", "sent"]


def test_stale_claim_is_reported_not_resent(make_session, smtp):
    make_session("liaison")
    db.session.execute(
        sa.update(OutboxMessage).values(state="sending", claimed_at=utcnow() - timedelta(hours=1))
    )
    db.session.commit()
    deliver_outbox()
    assert states() == ["failed", "failed"]
    assert len(smtp.mailbox.messages) == 0


def test_deliveries_page_for_staff(make_session, client, court_staff):
    session = make_session("mediation")
    staff = court_staff["luoyang-mediator1"]
    sign_in(client, staff)
    page = client.get(f"/sessions/{session['id']}/deliveries")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "张三" in html and "无联系地址" in html and "13800000001" in html
    client.get("/lang/en")
    english = client.get(f"/sessions/{session['id']}/deliveries").get_data(as_text=True)
    assert (
        "Invite deliveries" in english and "no address" in english and "通知送达情况" not in english
    )
