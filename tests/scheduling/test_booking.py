"""Booking rules: required roles, times, working hours and holidays, hearing notice."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from hearings.extensions import db
from hearings.scheduling.models import AuditEvent, Reservation, Session


def problem_codes(response) -> set[str]:
    return {p["code"] for p in response.json.get("problems", [])}


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.mark.parametrize("kind", ["mediation", "hearing", "witness", "liaison"])
def test_each_kind_books(book, kind):
    response = book(kind, short_notice_reason=None)
    assert response.status_code == 201, response.json
    body = response.json
    assert body["kind"] == kind
    assert body["status"] == "scheduled"
    assert body["starts_at"] == "2026-09-10T09:00:00+08:00"
    assert all(isinstance(p["id"], int) for p in body["participants"])
    stored = db.session.get(Session, body["id"])
    assert stored.starts_at.utcoffset().total_seconds() == 0
    assert stored.starts_at.hour == 1  # 09:00 in Beijing is 01:00 UTC


@pytest.mark.parametrize(
    ("kind", "drop_roles", "missing"),
    [
        ("mediation", {"mediator"}, "a mediator"),
        ("hearing", {"presiding_judge"}, "a presiding judge"),
        ("hearing", {"clerk"}, "a clerk"),
        ("witness", {"clerk"}, "an officer"),
        ("witness", {"principal"}, "a principal"),
        ("witness", {"agent"}, "an agent"),
    ],
)
def test_required_roles_per_kind(book, court_staff, kind, drop_roles, missing):
    from tests.conftest import session_payload

    people = [
        p for p in session_payload(kind, court_staff)["participants"] if p["role"] not in drop_roles
    ]
    response = book(kind, participants=people)
    assert response.status_code == 422
    assert "missing-role" in problem_codes(response)
    assert missing in response.json["detail"]
    assert count(Session) == 0


def test_liaison_needs_both_courts_and_staff_only(book, court_staff):
    one_court = [{"role": "liaison", "staff_id": court_staff["luoyang-liaison1"].id}]
    response = book("liaison", participants=one_court)
    assert response.status_code == 422
    assert "each court" in response.json["detail"]
    with_outsider = [
        {"role": "liaison", "staff_id": court_staff["luoyang-liaison1"].id},
        {"role": "judge", "staff_id": court_staff["luohe-judge1"].id},
        {"role": "observer", "name": "记者"},
    ]
    response = book("liaison", participants=with_outsider)
    assert response.status_code == 422
    assert "staff-only" in problem_codes(response)


def test_roles_must_fit_the_person(book, court_staff):
    people = [
        {"role": "presiding_judge", "staff_id": court_staff["luoyang-clerk1"].id},
        {"role": "clerk", "staff_id": court_staff["luoyang-clerk1"].id},
        {"role": "party"},
        {"role": "witness", "name": "证人", "side": "plaintiff"},
    ]
    response = book("hearing", participants=people)
    assert response.status_code == 422
    assert {"role-mismatch", "name-required", "side-not-allowed", "duplicate-staff"} <= (
        problem_codes(response)
    )


def test_end_before_start_and_too_long(book):
    backwards = book(starts_at="2026-09-10T10:00:00", ends_at="2026-09-10T09:00:00")
    assert backwards.status_code == 422
    assert "end-before-start" in problem_codes(backwards)
    long = book(
        starts_at="2026-09-10T06:00:00",
        ends_at="2026-09-10T17:00:00",
        outside_hours_reason="全天开庭",
    )
    assert long.status_code == 422
    assert "too-long" in problem_codes(long)


def test_no_booking_in_the_past(book):
    response = book("mediation", starts_at="2026-08-31T09:00:00", ends_at="2026-08-31T10:00:00")
    assert response.status_code == 422
    assert "in-the-past" in problem_codes(response)


def test_hearing_needs_three_days_notice(book):
    # Now is Tuesday 2026-09-01 09:00; Thursday 09:00 is two days ahead.
    soon = {"starts_at": "2026-09-03T09:00:00", "ends_at": "2026-09-03T10:00:00"}
    refused = book("hearing", **soon)
    assert refused.status_code == 422
    assert "short-notice" in problem_codes(refused)
    assert "Art. 139" in refused.json["detail"]
    # Mediation has no such rule.
    assert book("mediation", **soon).status_code == 201
    allowed = book("hearing", short_notice_reason="当事人申请并同意缩短", **soon)
    assert allowed.status_code == 201
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.session_id == allowed.json["id"])
    )
    assert event.action == "session.booked"
    assert event.detail["short_notice_reason"] == "当事人申请并同意缩短"
    # Three days and one minute ahead needs no reason.
    later = book(
        "hearing",
        starts_at="2026-09-04T09:15:00",
        ends_at="2026-09-04T10:00:00",
    )
    assert later.status_code == 201


@pytest.mark.parametrize(
    ("day", "open_"),
    [("2026-10-01", False), ("2026-10-10", True), ("2026-10-11", False)],
)
def test_holidays_and_adjusted_days_bound_bookings(book, day, open_):
    times = {"starts_at": f"{day}T09:00:00", "ends_at": f"{day}T10:00:00"}
    response = book("mediation", **times)
    assert response.status_code == (201 if open_ else 422), response.json
    if not open_:
        assert "outside-hours" in problem_codes(response)
        with_reason = book("mediation", outside_hours_reason="周末法庭", **times)
        assert with_reason.status_code == 201
        assert with_reason.json["outside_hours_reason"] == "周末法庭"
        event = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.session_id == with_reason.json["id"])
        )
        assert event.detail["outside_hours_reason"] == "周末法庭"


def test_summer_and_winter_hours_bound_bookings(book):
    # 08:00 is open in summer (September) ...
    assert (
        book("mediation", starts_at="2026-09-10T08:00", ends_at="2026-09-10T08:45").status_code
        == 201
    )
    # ... but not in winter (from October 1st, the court opens at 08:30).
    winter = book("mediation", starts_at="2026-12-03T08:00", ends_at="2026-12-03T08:45")
    assert winter.status_code == 422
    assert "08:30–12:00" in winter.json["detail"]
    # Across the midday break is outside hours too.
    lunch = book("mediation", starts_at="2026-09-10T11:30", ends_at="2026-09-10T15:30")
    assert lunch.status_code == 422


def test_cross_court_session_must_fit_both_courts(book, court_staff):
    # Luoyang's winter afternoon starts 14:00, Luohe's 14:30.
    people = [
        {"role": "liaison", "staff_id": court_staff["luoyang-liaison1"].id},
        {"role": "liaison", "staff_id": court_staff["luohe-liaison1"].id},
    ]
    refused = book(
        "liaison", participants=people, starts_at="2026-12-03T14:00", ends_at="2026-12-03T15:00"
    )
    assert refused.status_code == 422
    assert [p["court"] for p in refused.json["problems"]] == ["luohe"]
    fits = book(
        "liaison", participants=people, starts_at="2026-12-03T14:30", ends_at="2026-12-03T15:30"
    )
    assert fits.status_code == 201


def test_rooms_bind_their_courts_hours(book, make_room):
    luohe_room = make_room("luohe", "service_window", "跨域立案窗口")
    # A Luoyang mediation using a Luohe room must also fit Luohe's winter hours (14:30 start).
    response = book(
        "mediation",
        room_ids=[luohe_room.id],
        starts_at="2026-12-03T14:00",
        ends_at="2026-12-03T14:45",
    )
    assert response.status_code == 422
    assert response.json["problems"][0]["court"] == "luohe"


def test_booking_writes_reservations_and_audit(book, court_staff, make_room):
    room = make_room()
    response = book("hearing", room_ids=[room.id])
    assert response.status_code == 201
    resources = set(
        db.session.scalars(
            sa.select(Reservation.resource).where(Reservation.session_id == response.json["id"])
        )
    )
    assert resources == {
        f"staff:{court_staff['luoyang-judge1'].id}",
        f"staff:{court_staff['luoyang-clerk1'].id}",
        f"room:{room.id}",
    }
    event = db.session.scalar(sa.select(AuditEvent))
    assert (event.action, event.actor_id) == ("session.booked", court_staff["luoyang-admin"].id)


def test_audit_trail_is_append_only(book):
    assert book().status_code == 201
    with pytest.raises(sa.exc.DatabaseError):
        db.session.execute(sa.update(AuditEvent).values(action="tampered"))
        db.session.flush()
    db.session.rollback()
    with pytest.raises(sa.exc.DatabaseError):
        db.session.execute(sa.delete(AuditEvent))
        db.session.flush()
    db.session.rollback()
    assert db.session.scalar(sa.select(AuditEvent.action)) == "session.booked"
