"""Recurring liaison meetings: every occurrence obeys the rules; problems reported by date."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from hearings.errors import RuleViolation
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


def test_cancel_the_rest_of_a_series(make_session, client, auth, court_staff):
    first = make_session("liaison", rrule="FREQ=WEEKLY;COUNT=3", **WEEKLY_THURSDAY)
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


def _codes(response) -> list[str]:
    return [p["code"] for p in response.json.get("problems", [])]


def test_a_rule_that_never_matches_is_refused_without_walking_the_calendar(book, monkeypatch):
    # dateutil looks for the next 30 February until year 9999 (seconds, under the write
    # lock); the series is expanded on an equivalent calendar that ends near 9999 instead.
    from dateutil import rrule as dateutil_rrule

    rebuilds = {"n": 0}
    rebuild = dateutil_rrule._iterinfo.rebuild

    def counting(self, year, month):  # type: ignore[no-untyped-def]
        rebuilds["n"] += 1
        return rebuild(self, year, month)

    monkeypatch.setattr(dateutil_rrule._iterinfo, "rebuild", counting)
    response = book(
        "liaison", rrule="FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30;COUNT=1", **WEEKLY_THURSDAY
    )
    assert response.status_code == 422
    assert _codes(response) == ["rrule-empty"]
    assert rebuilds["n"] < 1000  # months looked at: a walk to 9999 is about 96,000


def test_a_series_that_overlaps_itself_is_a_rule_break_not_a_conflict(book):
    for rrule, code in (
        ("FREQ=SECONDLY;COUNT=50", "rrule-frequency"),
        ("FREQ=DAILY;INTERVAL=0;COUNT=3", "rrule-invalid"),
        ("FREQ=DAILY;BYHOUR=15,16;COUNT=2", "series-overlaps-itself"),
    ):
        response = book(
            "liaison", rrule=rrule, starts_at="2026-09-10T15:00", ends_at="2026-09-10T16:30"
        )
        assert response.status_code == 422, rrule
        assert _codes(response) == [code], rrule
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Session)) == 0


def test_the_rule_broken_by_a_long_series_is_named(book):
    span = book("liaison", rrule="FREQ=YEARLY;COUNT=3", **WEEKLY_THURSDAY)
    assert span.status_code == 422
    assert _codes(span) == ["series-too-long"]
    assert "366 days" in span.json["detail"]
    many = book("liaison", rrule="FREQ=DAILY;COUNT=500", **WEEKLY_THURSDAY)
    assert _codes(many) == ["series-too-many"]
    assert "60 occurrences" in many.json["detail"]
    until = book("liaison", rrule="FREQ=MONTHLY;UNTIL=20300101T000000", **WEEKLY_THURSDAY)
    assert _codes(until) == ["series-too-long"]


def test_pages_say_a_series_refusal_in_words(app):
    from hearings.errors import refusal
    from hearings.scheduling.recurrence import expand
    from hearings.timekeeping import parse_api_time

    starts = parse_api_time("2026-09-10T15:00", "starts_at")
    ends = parse_api_time("2026-09-10T16:00", "ends_at")
    with pytest.raises(RuleViolation) as refused:
        expand("FREQ=YEARLY;COUNT=3", starts, ends)
    with app.test_request_context():
        assert refusal(refused.value.to_problem()) == ["系列会议的时间跨度最长366天，请缩短。"]
