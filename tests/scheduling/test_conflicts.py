"""No double-booking: the conflict matrix, rescheduling, cancelling, participant changes."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from hearings.extensions import db
from hearings.scheduling.models import AuditEvent, Session
from hearings.timekeeping import local


@pytest.fixture
def rooms(make_room):
    return make_room(name="第一法庭"), make_room(name="第二法庭")


def hearing(court_staff, judge="luoyang-judge1", clerk="luoyang-clerk1"):
    return [
        {"role": "presiding_judge", "staff_id": court_staff[judge].id},
        {"role": "clerk", "staff_id": court_staff[clerk].id},
    ]


def test_same_judge_in_another_room_conflicts(book, court_staff, rooms, make_staff):
    first = book(room_ids=[rooms[0].id])
    assert first.status_code == 201
    other_clerk = make_staff("luoyang", "clerk")
    people = [
        {"role": "presiding_judge", "staff_id": court_staff["luoyang-judge1"].id},
        {"role": "clerk", "staff_id": other_clerk.id},
    ]
    second = book(
        room_ids=[rooms[1].id],
        participants=people,
        starts_at="2026-09-10T09:30",
        ends_at="2026-09-10T10:30",
    )
    assert second.status_code == 409
    body = second.json
    assert body["conflicts"] == [
        {
            "resource": f"staff:{court_staff['luoyang-judge1'].id}",
            "resource_name": court_staff["luoyang-judge1"].name,
            "session_id": first.json["id"],
            "starts_at": "2026-09-10T09:00:00+08:00",
            "ends_at": "2026-09-10T10:00:00+08:00",
        }
    ]
    assert second.mimetype == "application/problem+json"


def test_same_room_with_another_judge_conflicts(book, court_staff, rooms):
    assert book(room_ids=[rooms[0].id]).status_code == 201
    second = book(
        room_ids=[rooms[0].id],
        participants=hearing(court_staff, "luoyang-judge2", "luohe-clerk1"),
    )
    assert second.status_code == 409
    assert [c["resource"] for c in second.json["conflicts"]] == [f"room:{rooms[0].id}"]


def test_every_conflict_is_listed(book, court_staff, rooms):
    assert book(room_ids=[rooms[0].id]).status_code == 201
    again = book(room_ids=[rooms[0].id])
    assert again.status_code == 409
    assert {c["resource"] for c in again.json["conflicts"]} == {
        f"staff:{court_staff['luoyang-judge1'].id}",
        f"staff:{court_staff['luoyang-clerk1'].id}",
        f"room:{rooms[0].id}",
    }


def test_adjacent_sessions_are_allowed(book):
    assert book(starts_at="2026-09-10T09:00", ends_at="2026-09-10T10:00").status_code == 201
    assert book(starts_at="2026-09-10T10:00", ends_at="2026-09-10T11:00").status_code == 201
    assert book(starts_at="2026-09-10T08:00", ends_at="2026-09-10T09:00").status_code == 201


def test_cancelling_frees_the_slot(book, client, auth, court_staff):
    first = book()
    assert book().status_code == 409
    admin = auth(court_staff["luoyang-admin"])
    no_reason = client.post(f"/api/v1/sessions/{first.json['id']}/cancel", json={}, headers=admin)
    assert no_reason.status_code == 422
    cancelled = client.post(
        f"/api/v1/sessions/{first.json['id']}/cancel", json={"reason": "当事人撤诉"}, headers=admin
    )
    assert cancelled.status_code == 200
    assert cancelled.json["status"] == "cancelled"
    assert cancelled.json["sequence"] == 1
    assert book().status_code == 201
    again = client.post(
        f"/api/v1/sessions/{first.json['id']}/cancel", json={"reason": "again"}, headers=admin
    )
    assert again.status_code == 409


def test_reschedule_into_an_overlap_is_refused(book, client, auth, court_staff):
    first = book(starts_at="2026-09-10T09:00", ends_at="2026-09-10T10:00")
    second = book(starts_at="2026-09-10T10:00", ends_at="2026-09-10T11:00")
    admin = auth(court_staff["luoyang-admin"])
    url = f"/api/v1/sessions/{second.json['id']}"
    overlap = client.patch(url, json={"starts_at": "2026-09-10T09:30"}, headers=admin)
    assert overlap.status_code == 409
    assert {c["session_id"] for c in overlap.json["conflicts"]} == {first.json["id"]}
    assert db.session.get(Session, second.json["id"]).sequence == 0
    # Moving within its own old slot never conflicts with itself.
    moved = client.patch(
        url,
        json={"starts_at": "2026-09-10T10:15", "ends_at": "2026-09-10T11:15", "title": "改期"},
        headers=admin,
    )
    assert moved.status_code == 200, moved.json
    assert moved.json["starts_at"] == "2026-09-10T10:15:00+08:00"
    assert moved.json["sequence"] == 1
    # The old slot is free again.
    third = book(starts_at="2026-09-10T10:00", ends_at="2026-09-10T10:15")
    assert third.status_code == 201
    event = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "session.rescheduled")
    ).one()
    assert event.detail["changes"]["starts_at"] == [
        "2026-09-10T10:00:00+08:00",
        "2026-09-10T10:15:00+08:00",
    ]


def test_reschedule_follows_the_booking_rules(make_session, client, auth, court_staff):
    session_id = make_session()["id"]
    admin = auth(court_staff["luoyang-admin"])
    url = f"/api/v1/sessions/{session_id}"
    holiday = client.patch(
        url, json={"starts_at": "2026-10-01T09:00", "ends_at": "2026-10-01T10:00"}, headers=admin
    )
    assert holiday.status_code == 422
    backwards = client.patch(url, json={"ends_at": "2026-09-10T08:00"}, headers=admin)
    assert backwards.status_code == 422


def test_adding_a_busy_judge_conflicts_and_removal_frees(book, client, auth, court_staff):
    busy = book("hearing")  # judge1 and clerk1 are now busy 09:00–10:00
    mediation = book("mediation")
    admin = auth(court_staff["luoyang-admin"])
    url = f"/api/v1/sessions/{mediation.json['id']}/participants"
    add = client.post(
        url,
        json={"role": "judge", "staff_id": court_staff["luoyang-judge1"].id},
        headers=admin,
    )
    assert add.status_code == 409
    assert add.json["conflicts"][0]["session_id"] == busy.json["id"]
    # Remove the judge from the hearing? Not possible: a hearing needs its presiding judge.
    judge_pid = next(p["id"] for p in busy.json["participants"] if p["role"] == "presiding_judge")
    refused = client.delete(
        f"/api/v1/sessions/{busy.json['id']}/participants/{judge_pid}", headers=admin
    )
    assert refused.status_code == 422
    # Add a second judge to the hearing, then remove the first: the slot frees for judge1.
    judge2 = client.post(
        f"/api/v1/sessions/{busy.json['id']}/participants",
        json={"role": "presiding_judge", "staff_id": court_staff["luoyang-judge2"].id},
        headers=admin,
    )
    assert judge2.status_code == 201
    removed = client.delete(
        f"/api/v1/sessions/{busy.json['id']}/participants/{judge_pid}", headers=admin
    )
    assert removed.status_code == 200
    assert removed.json["removed_at"] is not None
    assert (
        client.post(
            url, json={"role": "judge", "staff_id": court_staff["luoyang-judge1"].id}, headers=admin
        ).status_code
        == 201
    )
    missing = client.delete(f"/api/v1/sessions/{busy.json['id']}/participants/99999", headers=admin)
    assert missing.status_code == 404


def test_adding_an_outsider(make_session, client, auth, court_staff):
    session = make_session("mediation")
    response = client.post(
        f"/api/v1/sessions/{session['id']}/participants",
        json={"role": "interpreter", "name": "翻译", "phone": "13900000000"},
        headers=auth(court_staff["luoyang-admin"]),
    )
    assert response.status_code == 201
    assert response.json["name"] == "翻译"
    read = client.get(
        f"/api/v1/sessions/{session['id']}", headers=auth(court_staff["luoyang-admin"])
    )
    assert len(read.json["participants"]) == len(session["participants"]) + 1
    assert read.json["sequence"] == 1


def test_the_database_itself_refuses_overlaps(app, database_url, make_session):
    """PostgreSQL's exclusion constraint (SQLite's triggers) hold even for a write that
    skips the service."""
    from datetime import timedelta

    from hearings.scheduling.models import Reservation

    first = make_session()
    row = db.session.scalars(
        sa.select(Reservation).where(Reservation.session_id == first["id"])
    ).first()
    db.session.add(
        Reservation(
            session_id=first["id"],
            resource=row.resource,
            starts_at=row.starts_at + timedelta(minutes=30),
            ends_at=row.ends_at + timedelta(minutes=30),
        )
    )
    with pytest.raises(sa.exc.IntegrityError, match="ex_reservations_no_overlap"):
        db.session.flush()
    db.session.rollback()


def test_the_database_guard_allows_what_the_rules_allow(app, make_session):
    """Back to back and cancelled reservations pass the guard; reviving an overlapping one
    does not."""

    from hearings.scheduling.models import Reservation

    first = make_session()
    row = db.session.scalars(
        sa.select(Reservation).where(Reservation.session_id == first["id"])
    ).first()
    hour = row.ends_at - row.starts_at
    after = Reservation(
        session_id=first["id"],
        resource=row.resource,
        starts_at=row.ends_at,
        ends_at=row.ends_at + hour,
    )
    cancelled = Reservation(
        session_id=first["id"],
        resource=row.resource,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        active=False,
    )
    db.session.add_all([after, cancelled])
    db.session.flush()
    cancelled.active = True
    with pytest.raises(sa.exc.IntegrityError, match="ex_reservations_no_overlap"):
        db.session.flush()
    db.session.rollback()


def test_a_refused_booking_leaves_nothing_behind(book, court_staff, rooms):
    """The database's guard refuses the overlap after the session's rows are written; the
    refusal rolls all of them back (no session, message, job or audit entry)."""
    from hearings.notify.models import OutboxMessage

    assert book(room_ids=[rooms[0].id]).status_code == 201

    def counts():
        tables = (Session, OutboxMessage, AuditEvent)
        found = [db.session.scalar(sa.select(sa.func.count()).select_from(t)) for t in tables]
        jobs = db.session.execute(sa.text("SELECT count(*) FROM apscheduler_jobs")).scalar()
        db.session.rollback()
        return [*found, jobs]

    before = counts()
    again = book(room_ids=[rooms[0].id], title="第二次")
    assert again.status_code == 409
    assert again.json["title"] == "Double booking"
    assert again.json["detail"].startswith("Already booked at that time:")
    assert counts() == before


def test_ending_early_frees_the_rest_of_the_booked_time(app, book, client, auth, court_staff):
    """The mediator ends at 09:20 a mediation booked until 10:00: from 09:20 the mediator is
    free again; a session ended before it began frees all of it."""
    from hearings.scheduling.services import advance_status

    first = book("mediation").json
    ended_before = book("mediation", starts_at="2026-09-10T15:30", ends_at="2026-09-10T16:30")
    app.config["NOW"] = "2026-09-10T09:20:00+08:00"
    for sid in (first["id"], ended_before.json["id"]):
        assert advance_status(db.session.get(Session, sid), "completed", None)
    db.session.commit()

    again = dict(starts_at="2026-09-10T09:20", ends_at="2026-09-10T10:00")
    assert book("mediation", **again).status_code == 201
    assert (
        book("mediation", starts_at="2026-09-10T15:30", ends_at="2026-09-10T16:30").status_code
        == 201
    )
    # The time it was used stays taken, and the session keeps its booked times.
    from hearings.scheduling.models import Reservation

    held = db.session.scalars(
        sa.select(Reservation).where(
            Reservation.session_id.in_([first["id"], ended_before.json["id"]])
        )
    ).all()
    spans = sorted((r.session_id, r.active, local(r.starts_at), local(r.ends_at)) for r in held)
    assert [(a, s.strftime("%H:%M"), e.strftime("%H:%M")) for _, a, s, e in spans] == [
        (True, "09:00", "09:20"),
        (False, "15:30", "16:30"),
    ]
    read = client.get(f"/api/v1/sessions/{first['id']}", headers=auth(court_staff["luoyang-admin"]))
    assert read.json["ends_at"] == "2026-09-10T10:00:00+08:00"
    events = db.session.scalars(
        sa.select(AuditEvent).where(
            AuditEvent.session_id == first["id"], AuditEvent.action == "session.status"
        )
    ).all()
    assert events[-1].detail["released_from"] == "2026-09-10T09:20:00+08:00"


def test_a_null_title_leaves_the_title_as_it_is(make_session, client, auth, court_staff):
    # The document lets every field of a change be null; the title column can't be.
    booked = make_session(starts_at="2026-09-10T09:00", ends_at="2026-09-10T10:00")
    changed = client.patch(
        f"/api/v1/sessions/{booked['id']}",
        json={"title": None, "case_number": None, "room_ids": None},
        headers=auth(court_staff["luoyang-admin"]),
    )
    assert changed.status_code == 200, changed.json
    assert changed.json["title"] == booked["title"]
    assert changed.json["case_number"] is None
