"""Invites by email over real SMTP: MIME structure, RFC 5545/5546, updates and cancels."""

from __future__ import annotations

import re
from datetime import timedelta

import icalendar
import pytest
import sqlalchemy as sa
import vobject

from hearings.extensions import db
from hearings.notify.models import OutboxMessage
from hearings.notify.outbox import deliver_outbox
from tests.notify.conftest import ics_of


def parse_invite(data: bytes) -> icalendar.Calendar:
    """Parse with icalendar and vobject (validating); both must accept it."""
    calendar = icalendar.Calendar.from_ical(data)
    assert calendar.get_missing_tzids() == set()
    vobject.readOne(data.decode("utf-8")).serialize(validate=True)
    return calendar


def event_of(calendar: icalendar.Calendar) -> icalendar.Event:
    (event,) = calendar.walk("VEVENT")
    return event


def download_invite(client, headers, session: dict, role: str):
    """``GET …/invite.ics`` of the session's participant in ``role``, as staff."""
    person = next(p for p in session["participants"] if p["role"] == role)
    path = f"/api/v1/sessions/{session['id']}/participants/{person['id']}/invite.ics"
    return client.get(path, headers=headers)


def invites_by_address(smtp, count: int) -> dict[str, object]:
    messages = smtp.mailbox.wait_for(count)
    return {m["To"].addresses[0].addr_spec: m for m in messages}


def test_booking_delivers_one_invite_per_participant(book, smtp, court_staff):
    response = book("mediation")
    assert response.status_code == 201
    deliver_outbox()
    # The mediator (staff) and 李四 have addresses; 张三 gave only a phone number.
    by_address = invites_by_address(smtp, 2)
    mediator = court_staff["luoyang-mediator1"]
    assert set(by_address) == {mediator.email, "lisi@example.com"}
    assert len(smtp.mailbox.messages) == 2

    message = by_address["lisi@example.com"]
    assert message.get_content_type() == "multipart/mixed"
    alternative = next(message.iter_parts())
    assert alternative.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in alternative.iter_parts()] == [
        "text/plain",
        "text/html",
        "text/calendar",
    ]
    method, inline, attached = ics_of(message)
    assert method == "REQUEST"
    assert inline.replace(b"\r\n", b"\n") == attached.replace(b"\r\n", b"\n")
    assert "邀请" in message["Subject"] and "Invitation" in message["Subject"]
    text = alternative.get_body(("plain",)).get_content()
    assert "李四" in text and "Dear 李四" in text and "12368" in text

    calendar = parse_invite(attached)
    assert calendar["METHOD"] == "REQUEST"
    event = event_of(calendar)
    assert event["UID"] == f"hearings-session-{response.json['id']}@127.0.0.1"
    assert event["SEQUENCE"] == 0
    assert "DTSTAMP" in event
    assert event.start.isoformat() == "2026-09-10T09:00:00+08:00"
    assert event["DTSTART"].params["TZID"] == "Asia/Shanghai"
    assert event.end - event.start == timedelta(hours=1)
    assert "洛阳市中级人民法院" in event["ORGANIZER"].params["CN"]
    assert "视频" in str(event["LOCATION"])
    # The invite's URL is the participant's own join link; the description has both links.
    url = str(event["URL"])
    assert url.startswith("http://127.0.0.1:5000/join/ey")
    assert url in str(event["DESCRIPTION"]) and "/progress/" in str(event["DESCRIPTION"])
    alarm = event.walk("VALARM")[0]
    assert alarm["TRIGGER"].dt == timedelta(minutes=-30)
    description = str(event["DESCRIPTION"])
    assert description.index("视频调解") < description.index("Video mediation")
    assert "(2026)豫03民初1号" in description and "12368" in description
    assert "08:00–12:00, 15:00–18:00" in description


def test_outside_person_sees_only_organizer_and_self(make_session, smtp, court_staff):
    make_session("mediation")
    deliver_outbox()
    by_address = invites_by_address(smtp, 2)
    _, _, party_ics = ics_of(by_address["lisi@example.com"])
    attendees = event_of(parse_invite(party_ics)).get("ATTENDEE")
    attendees = attendees if isinstance(attendees, list) else [attendees]
    assert [str(a) for a in attendees] == ["mailto:lisi@example.com"]
    assert attendees[0].params["ROLE"] == "REQ-PARTICIPANT"
    assert attendees[0].params["PARTSTAT"] == "NEEDS-ACTION"
    assert attendees[0].params["RSVP"] == "TRUE"

    mediator = court_staff["luoyang-mediator1"]
    _, _, staff_ics = ics_of(by_address[mediator.email])
    staff_attendees = event_of(parse_invite(staff_ics))["ATTENDEE"]
    roles = {str(a): a.params["ROLE"] for a in staff_attendees}
    assert roles == {
        f"mailto:{mediator.email}": "CHAIR",
        "mailto:lisi@example.com": "REQ-PARTICIPANT",
    }


def test_reschedule_sends_update_with_same_uid_and_next_sequence(
    make_session, smtp, client, auth, court_staff
):
    session = make_session("hearing", participants=[
        {"role": "presiding_judge", "staff_id": court_staff["luoyang-judge1"].id},
        {"role": "clerk", "staff_id": court_staff["luoyang-clerk1"].id},
        {"role": "party", "name": "王五", "side": "plaintiff", "email": "wangwu@example.com"},
    ])  # fmt: skip
    deliver_outbox()
    first = smtp.mailbox.wait_for(3)
    uid = event_of(parse_invite(ics_of(first[0])[2]))["UID"]
    response = client.patch(
        f"/api/v1/sessions/{session['id']}",
        json={"starts_at": "2026-09-11T15:00:00", "ends_at": "2026-09-11T16:30:00"},
        headers=auth(court_staff["luoyang-admin"]),
    )
    assert response.status_code == 200, response.json
    deliver_outbox()
    updates = smtp.mailbox.wait_for(3, lambda m: "Updated" in m["Subject"])
    assert len(smtp.mailbox.messages) == 6
    for message in updates:
        method, _, data = ics_of(message)
        event = event_of(parse_invite(data))
        assert method == "REQUEST"
        assert event["UID"] == uid
        assert event["SEQUENCE"] == 1
        assert event.start.isoformat() == "2026-09-11T15:00:00+08:00"


def test_cancel_sends_cancel_with_same_uid(make_session, smtp, client, auth, court_staff):
    session = make_session("mediation")
    deliver_outbox()
    smtp.mailbox.wait_for(2)
    response = client.post(
        f"/api/v1/sessions/{session['id']}/cancel",
        json={"reason": "当事人撤回申请"},
        headers=auth(court_staff["luoyang-admin"]),
    )
    assert response.status_code == 200
    deliver_outbox()
    cancels = smtp.mailbox.wait_for(2, lambda m: "Cancelled" in m["Subject"])
    for message in cancels:
        method, _, data = ics_of(message)
        calendar = parse_invite(data)
        event = event_of(calendar)
        assert method == "CANCEL" and calendar["METHOD"] == "CANCEL"
        assert event["UID"] == f"hearings-session-{session['id']}@127.0.0.1"
        assert event["SEQUENCE"] == 1
        assert event["STATUS"] == "CANCELLED"
        assert "当事人撤回申请" in message.get_body(("plain",)).get_content()


def test_removed_participant_gets_cancel_and_added_one_an_invite(
    make_session, smtp, client, auth, court_staff
):
    session = make_session("mediation")
    deliver_outbox()
    smtp.mailbox.wait_for(2)
    admin = auth(court_staff["luoyang-admin"])
    lisi = next(p for p in session["participants"] if p["name"] == "李四")
    removed = client.delete(
        f"/api/v1/sessions/{session['id']}/participants/{lisi['id']}", headers=admin
    )
    assert removed.status_code == 200
    added = client.post(
        f"/api/v1/sessions/{session['id']}/participants",
        json={
            "role": "attorney",
            "name": "钱律师",
            "side": "applicant",
            "email": "qian@law.example",
        },
        headers=admin,
    )
    assert added.status_code == 201
    deliver_outbox()
    smtp.mailbox.wait_for(1, lambda m: "qian@law.example" in m["To"])
    (cancel,) = smtp.mailbox.to("lisi@example.com")[1:]
    assert ics_of(cancel)[0] == "CANCEL"
    (invite,) = smtp.mailbox.to("qian@law.example")
    event = event_of(parse_invite(ics_of(invite)[2]))
    assert event["SEQUENCE"] == 2
    # The mediator (staff) hears of both changes; the party without email hears nothing.
    mediator = court_staff["luoyang-mediator1"].email
    assert len(smtp.mailbox.to(mediator)) == 3


def test_chinese_text_survives_line_folding(make_session, smtp):
    title = (
        "关于洛阳市某某房地产开发有限公司与漯河市某某建筑工程有限公司"
        "建设工程施工合同纠纷一案的视频调解"
    )
    make_session("mediation", title=title)
    deliver_outbox()
    message = smtp.mailbox.wait_for(2)[0]
    data = ics_of(message)[2]
    assert max(len(line) for line in data.split(b"\r\n")) <= 75
    event = event_of(parse_invite(data))
    assert title in str(event["SUMMARY"])
    assert title in str(event["DESCRIPTION"])
    parsed = vobject.readOne(data.decode("utf-8"))
    assert title in parsed.vevent.summary.value


def test_invite_ics_endpoint(make_session, client, auth, court_staff):
    session = make_session("witness")
    response = download_invite(client, auth(court_staff["luoyang-clerk1"]), session, "principal")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/calendar; method=REQUEST")
    event = event_of(parse_invite(response.data))
    assert "居民身份证" in str(event["DESCRIPTION"])  # the principal's identity check
    assert "ID card" in str(event["DESCRIPTION"])
    assert "ATTENDEE" not in event  # no email given: nobody to list but the organizer
    other_court = download_invite(client, auth(court_staff["luohe-judge1"]), session, "principal")
    assert other_court.status_code == 403
    missing = client.get(
        f"/api/v1/sessions/{session['id']}/participants/999999/invite.ics",
        headers=auth(court_staff["luoyang-clerk1"]),
    )
    assert missing.status_code == 404
    assert missing.mimetype == "application/problem+json"


@pytest.mark.parametrize("method", ["PUBLISH", "REPLY"])
def test_only_request_and_cancel_are_built(app, method):
    from hearings.notify.invites import build_invite

    with pytest.raises(ValueError):
        build_invite(None, None, method, None)  # type: ignore[arg-type]


def test_the_invites_join_link_opens_that_persons_join_page(make_session, smtp, client):
    make_session("mediation")
    deliver_outbox()
    message = invites_by_address(smtp, 2)["lisi@example.com"]
    _, _, data = ics_of(message)
    url = str(event_of(parse_invite(data))["URL"])
    page = client.get(url.removeprefix("http://127.0.0.1:5000"))
    assert page.status_code == 200
    assert "李四" in page.text and "视频调解" in page.text


def test_a_reissued_link_goes_out_as_an_update_to_that_person_only(
    make_session, smtp, client, auth, court_staff
):
    session = make_session("mediation")
    deliver_outbox()
    first = invites_by_address(smtp, 2)["lisi@example.com"]
    old = event_of(parse_invite(ics_of(first)[2]))
    old_path = str(old["URL"]).removeprefix("http://127.0.0.1:5000")
    lisi = next(p for p in session["participants"] if p.get("email") == "lisi@example.com")

    response = client.post(
        f"/api/v1/sessions/{session['id']}/participants/{lisi['id']}/link",
        headers=auth(court_staff["luoyang-admin"]),
    )
    assert response.status_code == 201, response.json
    assert response.json["participant_id"] == lisi["id"]
    deliver_outbox()
    (update,) = smtp.mailbox.wait_for(1, lambda m: "New link" in m["Subject"])
    assert update["To"].addresses[0].addr_spec == "lisi@example.com"
    method, _, data = ics_of(update)
    event = event_of(parse_invite(data))
    assert (method, event["UID"], event["SEQUENCE"]) == ("REQUEST", old["UID"], 1)
    assert len(smtp.mailbox.messages) == 3  # nobody else was told
    # The link the invite carried before no longer opens the room; the new ones do.
    assert client.get(old_path).status_code == 403
    new_path = str(event["URL"]).removeprefix("http://127.0.0.1:5000")
    assert new_path != old_path
    for path in (new_path, response.json["url"].removeprefix("http://127.0.0.1:5000")):
        page = client.get(path)
        assert page.status_code == 200 and "李四" in page.text


def test_only_the_sessions_staff_may_reissue_a_link(make_session, client, auth, court_staff):
    session = make_session("mediation")
    lisi = next(p for p in session["participants"] if p.get("email") == "lisi@example.com")
    url = f"/api/v1/sessions/{session['id']}/participants/{lisi['id']}/link"
    refused = client.post(url, headers=auth(court_staff["luohe-clerk1"]))
    assert refused.status_code == 403
    assert refused.mimetype == "application/problem+json"
    missing = client.post(
        f"/api/v1/sessions/{session['id']}/participants/999999/link",
        headers=auth(court_staff["luoyang-admin"]),
    )
    assert missing.status_code == 404


def test_emails_are_written_when_they_are_sent(make_session, smtp, client, auth, court_staff, app):
    session = make_session("mediation")
    # The booking stored what to say, not MIME: that is written by the outbox worker.
    stored = db.session.execute(
        sa.select(OutboxMessage.body, OutboxMessage.draft).where(
            OutboxMessage.channel == "email", OutboxMessage.state == "pending"
        )
    ).all()
    db.session.rollback()
    assert len(stored) == 2
    assert all(body == "" and draft["method"] == "REQUEST" for body, draft in stored)

    # Moved before the worker ran: the invite already tells the new time, at its own SEQUENCE.
    moved = client.patch(
        f"/api/v1/sessions/{session['id']}",
        json={"starts_at": "2026-09-11T15:00:00", "ends_at": "2026-09-11T16:00:00"},
        headers=auth(court_staff["luoyang-admin"]),
    )
    assert moved.status_code == 200, moved.json
    deliver_outbox()
    to_lisi = [
        m for m in smtp.mailbox.wait_for(4) if m["To"].addresses[0].addr_spec == "lisi@example.com"
    ]
    assert len(to_lisi) == 2
    for message, sequence in zip(to_lisi, (0, 1), strict=True):
        event = event_of(parse_invite(ics_of(message)[2]))
        assert event["SEQUENCE"] == sequence
        assert event.start.isoformat() == "2026-09-11T15:00:00+08:00"
        # One link per email: the invite's URL is the one in the text.
        assert str(event["URL"]) in message.get_body(("plain",)).get_content()
    # What went out is kept with the message.
    bodies = db.session.scalars(
        sa.select(OutboxMessage.body).where(OutboxMessage.state == "sent")
    ).all()
    assert len(bodies) == 4 and all("text/calendar" in body for body in bodies)


def test_the_join_link_in_a_downloaded_invite_works(make_session, client, auth, court_staff):
    # The invite issues a fresh personal link: it must be kept, or the link is unknown.
    session = make_session("witness")
    response = download_invite(client, auth(court_staff["luoyang-clerk1"]), session, "principal")
    text = str(event_of(parse_invite(response.data))["DESCRIPTION"])
    path = re.search(r"/join/[A-Za-z0-9_.-]+", text)
    assert path, text
    page = client.get(path.group(0))
    assert page.status_code == 200
