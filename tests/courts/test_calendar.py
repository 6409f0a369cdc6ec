"""The court calendar: holidays and 调休, seasonal hours, closures, the hours notice."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
import sqlalchemy as sa

from hearings.courts.calendar import (
    CourtCalendar,
    Timetable,
    common_open_periods,
    load_calendars,
)
from hearings.courts.models import CourtClosure
from hearings.extensions import db
from hearings.timekeeping import COURT_TZ, local


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=COURT_TZ)


@pytest.fixture
def luoyang(app) -> CourtCalendar:
    return load_calendars(["luoyang"])["luoyang"]


@pytest.mark.parametrize(
    ("day", "open_"),
    [
        (date(2026, 10, 1), False),  # National Day
        (date(2026, 10, 7), False),  # substituted day off
        (date(2026, 10, 10), True),  # Saturday made a working day (调休)
        (date(2026, 10, 11), False),  # an ordinary Sunday
        (date(2026, 10, 12), True),  # Monday
        (date(2027, 2, 8), False),  # Spring Festival 2027
    ],
)
def test_holidays_and_adjusted_working_days(luoyang: CourtCalendar, day: date, open_: bool):
    assert bool(luoyang.open_periods(day)) is open_
    assert (luoyang.closed_reason(day) is None) is open_


def test_summer_and_winter_hours(luoyang: CourtCalendar):
    summer = [(local(o).time(), local(c).time()) for o, c in luoyang.open_periods(date(2026, 9, 1))]
    winter = [
        (local(o).time(), local(c).time()) for o, c in luoyang.open_periods(date(2026, 12, 1))
    ]
    assert summer == [(time(8, 0), time(12, 0)), (time(15, 0), time(18, 0))]
    assert winter == [(time(8, 30), time(12, 0)), (time(14, 0), time(17, 30))]
    # January still has the winter timetable that started the October before.
    assert luoyang.timetable(date(2027, 1, 5)).season == "winter"
    assert luoyang.timetable(date(2027, 5, 1)).season == "summer"


def test_hours_problem_names_the_reason(luoyang: CourtCalendar):
    assert luoyang.hours_problem(at("2026-09-01T08:00"), at("2026-09-01T09:00")) is None
    assert "outside working hours" in luoyang.hours_problem(
        at("2026-09-01T11:30"), at("2026-09-01T12:30")
    )
    assert "National Day" in luoyang.hours_problem(
        at("2026-10-01T09:00"), at("2026-10-01T10:00")
    ) or "国庆" in luoyang.hours_problem(at("2026-10-01T09:00"), at("2026-10-01T10:00"))
    assert "midnight" in luoyang.hours_problem(at("2026-09-01T23:00"), at("2026-09-02T01:00"))


def test_court_closure_closes_one_court_only(app):
    db.session.add(CourtClosure(court_id="luohe", day=date(2026, 9, 8), reason="院庆"))
    db.session.commit()
    calendars = load_calendars(["luoyang", "luohe"])
    assert calendars["luoyang"].open_periods(date(2026, 9, 8))
    assert calendars["luohe"].open_periods(date(2026, 9, 8)) == []
    assert "院庆" in calendars["luohe"].closed_reason(date(2026, 9, 8))
    assert common_open_periods(calendars.values(), date(2026, 9, 8)) == []


def test_loaded_calendars_follow_every_change_to_hours_and_closures(app):
    day = date(2026, 9, 8)
    first = load_calendars(["luoyang", "luohe"])
    assert load_calendars(["luoyang"])["luoyang"] is first["luoyang"]  # cached
    db.session.rollback()

    # An edit through the ORM, and one through plain SQL (another tool): both are seen.
    db.session.add(CourtClosure(court_id="luohe", day=day, reason="院庆"))
    db.session.commit()
    assert load_calendars(["luohe"])["luohe"].open_periods(day) == []
    assert load_calendars(["luoyang"])["luoyang"] is first["luoyang"]  # the other court's stays
    later = date(2026, 9, 9)
    db.session.execute(sa.update(CourtClosure).values(day=later))
    db.session.commit()
    luohe = load_calendars(["luohe"])["luohe"]
    assert luohe.open_periods(day) and luohe.open_periods(later) == []
    db.session.execute(sa.delete(CourtClosure).where(CourtClosure.court_id == "luohe"))
    db.session.commit()
    assert load_calendars(["luohe"])["luohe"].open_periods(later)

    # A change seen inside a transaction that is rolled back is not served afterwards.
    db.session.add(CourtClosure(court_id="luohe", day=day, reason="演练"))
    db.session.flush()
    assert load_calendars(["luohe"])["luohe"].open_periods(day) == []
    db.session.rollback()
    assert load_calendars(["luohe"])["luohe"].open_periods(day)


def test_common_periods_are_the_intersection():
    a = CourtCalendar("a", [Timetable("s", (1, 1), ((time(8), time(12)), (time(14), time(18))))])
    b = CourtCalendar("b", [Timetable("s", (1, 1), ((time(9), time(12)), (time(15), time(17))))])
    periods = common_open_periods([a, b], date(2026, 9, 1))
    assert [(local(o).time(), local(c).time()) for o, c in periods] == [
        (time(9), time(12)),
        (time(15), time(17)),
    ]


def test_hours_endpoint_on_an_adjusted_saturday(client):
    response = client.get("/api/v1/courts/luoyang/hours?date=2026-10-10")
    assert response.status_code == 200
    body = response.json
    assert body["working_day"] is True
    assert body["adjusted_working_day"] is True
    assert body["season"] == "winter"
    assert body["periods"][0] == {
        "opens": "2026-10-10T08:30:00+08:00",
        "closes": "2026-10-10T12:00:00+08:00",
    }


def test_hours_endpoint_now_and_next_opening(client):
    # The frozen clock says Tuesday 2026-09-01 09:00 in Beijing: open, summer hours.
    body = client.get("/api/v1/courts/luohe/hours").json
    assert body["date"] == "2026-09-01"
    assert body["open_now"] is True
    assert body["next_opening"] == "2026-09-01T15:00:00+08:00"


def test_hours_endpoint_errors(client):
    missing = client.get("/api/v1/courts/kaifeng/hours")
    assert missing.status_code == 404
    assert missing.mimetype == "application/problem+json"
    # A query that breaks its schema is 422, as every query's is (the document says so).
    bad = client.get("/api/v1/courts/luoyang/hours?date=2026-13-01")
    assert bad.status_code == 422
    assert bad.json["title"] == "Invalid request"
