"""Recurring liaison meetings: every occurrence obeys the rules; problems reported by date."""

from __future__ import annotations

import sqlalchemy as sa

from hearings.extensions import db
from hearings.scheduling.models import Session

WEEKLY_THURSDAY = {"starts_at": "2026-09-10T15:00", "ends_at": "2026-09-10T16:00"}


def test_one_bad_occurrence_is_reported_by_date(book):
    # The fourth Thursday is 2026-10-01, National Day.
    response = book("liaison", rrule="FREQ=WEEKLY;COUNT=4", **WEEKLY_THURSDAY)
    assert response.status_code == 422
    occurrences = response.json["occurrences"]
    assert [o["date"] for o in occurrences] == ["2026-10-01"]
    assert occurrences[0]["problems"][0]["code"] == "outside-hours"
    assert "2026-10-01" in response.json["detail"]
    assert db.session.scalar(sa.select(sa.func.count(Session.id))) == 0


def test_series_that_fits(book):
    response = book("liaison", rrule="FREQ=WEEKLY;COUNT=3", **WEEKLY_THURSDAY)
    assert response.status_code == 201
    assert response.json["rrule"] == "FREQ=WEEKLY;COUNT=3"
    series = db.session.scalars(
        sa.select(Session).where(Session.series_id == response.json["id"]).order_by(Session.id)
    ).all()
    assert [s.starts_at.isoformat() for s in series] == [
        "2026-09-10T07:00:00+00:00",
        "2026-09-17T07:00:00+00:00",
        "2026-09-24T07:00:00+00:00",
    ]


def test_conflicting_occurrence_is_a_409_by_date(book, court_staff):
    blocker = book(
        "liaison",
        starts_at="2026-09-17T15:30",
        ends_at="2026-09-17T16:30",
    )
    assert blocker.status_code == 201
    response = book("liaison", rrule="FREQ=WEEKLY;COUNT=3", **WEEKLY_THURSDAY)
    assert response.status_code == 409
    (bad,) = response.json["occurrences"]
    assert bad["date"] == "2026-09-17"
    assert {c["session_id"] for c in bad["conflicts"]} == {blocker.json["id"]}


def test_cancel_the_rest_of_a_series(book, client, auth, court_staff):
    first = book("liaison", rrule="FREQ=WEEKLY;COUNT=3", **WEEKLY_THURSDAY).json
    second = db.session.scalars(
        sa.select(Session).where(Session.series_id == first["id"]).order_by(Session.starts_at)
    ).all()[1]
    response = client.post(
        f"/api/v1/sessions/{second.id}/cancel",
        json={"reason": "联络办公室调整", "scope": "series"},
        headers=auth(court_staff["luoyang-admin"]),
    )
    assert response.status_code == 200
    statuses = db.session.scalars(
        sa.select(Session.status)
        .where(Session.series_id == first["id"])
        .order_by(Session.starts_at)
    ).all()
    assert statuses == ["scheduled", "cancelled", "cancelled"]


def test_bad_rrules(book):
    for rrule, word in (
        ("FREQ=WEEKLY", "COUNT or UNTIL"),
        ("FREQ=SOMETIMES;COUNT=2", "not a valid"),
        ("FREQ=DAILY;COUNT=500", "at most"),
    ):
        response = book("liaison", rrule=rrule, **WEEKLY_THURSDAY)
        assert response.status_code == 422, rrule
        assert word in response.json["detail"]
    only_liaison = book("mediation", rrule="FREQ=WEEKLY;COUNT=2")
    assert only_liaison.status_code == 422
