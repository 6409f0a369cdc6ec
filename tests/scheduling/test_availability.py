"""Availability: the earliest common free slots, checked against a brute-force search."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hearings.courts.calendar import CourtCalendar, Timetable
from hearings.scheduling.availability import free_slots
from hearings.timekeeping import COURT_TZ, GRID


def test_finds_the_earliest_common_slot(make_session, client, auth, court_staff, make_room):
    room = make_room()
    # judge1 and clerk1 are busy 09:00–10:00 on Thursday 2026-09-10.
    make_session(room_ids=[room.id])
    judge1, judge2 = court_staff["luoyang-judge1"], court_staff["luohe-judge1"]
    response = client.get(
        "/api/v1/availability",
        query_string={
            "staff_ids": f"{judge1.id},{judge2.id}",
            "room_ids": str(room.id),
            "duration_minutes": 90,
            "from": "2026-09-10T08:00",
            "limit": 4,
        },
        headers=auth(court_staff["luoyang-admin"]),
    )
    assert response.status_code == 200, response.json
    assert response.json["items"] == [
        {"starts_at": "2026-09-10T10:00:00+08:00", "ends_at": "2026-09-10T11:30:00+08:00"},
        {"starts_at": "2026-09-10T10:15:00+08:00", "ends_at": "2026-09-10T11:45:00+08:00"},
        {"starts_at": "2026-09-10T10:30:00+08:00", "ends_at": "2026-09-10T12:00:00+08:00"},
        {"starts_at": "2026-09-10T15:00:00+08:00", "ends_at": "2026-09-10T16:30:00+08:00"},
    ]


def test_slots_skip_holidays_and_respect_both_courts(client, auth, court_staff):
    # From the eve of National Day: Oct 1–7 are off, Sat Oct 10 is a working day (调休).
    response = client.get(
        "/api/v1/availability",
        query_string={
            "courts": "luoyang,luohe",
            "duration_minutes": 180,
            "from": "2026-09-30T17:00",
            "limit": 3,
        },
        headers=auth(court_staff["luoyang-admin"]),
    )
    items = response.json["items"]
    # Luohe opens 14:30 in winter, Luoyang closes 17:30: no 3-hour afternoon slot.
    assert items[0]["starts_at"] == "2026-10-08T08:30:00+08:00"
    assert items[1]["starts_at"] == "2026-10-08T08:45:00+08:00"
    assert items[2]["starts_at"] == "2026-10-08T09:00:00+08:00"


def test_slots_never_start_in_the_past(client, auth, court_staff):
    # The frozen clock says 09:00 on 2026-09-01.
    response = client.get(
        "/api/v1/availability",
        query_string={
            "courts": "luoyang",
            "duration_minutes": 60,
            "from": "2026-08-01",
            "limit": 1,
        },
        headers=auth(court_staff["luoyang-admin"]),
    )
    assert response.json["items"][0]["starts_at"] == "2026-09-01T09:00:00+08:00"


# --- property: the fast search equals a brute-force scan ------------------------------

START = datetime(2026, 9, 28, 0, 0, tzinfo=COURT_TZ).astimezone(UTC)  # spans National Day
DAYS = 14


@st.composite
def calendars(draw):
    """A court with a random timetable (two periods) and a few random closures."""

    def clock(minutes: int) -> time:
        return time(minutes // 60, minutes % 60)

    a = draw(st.integers(6 * 4, 11 * 4)) * 15
    b = draw(st.integers(a // 15 + 1, 12 * 4)) * 15
    c = draw(st.integers(b // 15, 16 * 4)) * 15
    d = draw(st.integers(c // 15 + 1, 21 * 4)) * 15
    closures = draw(st.sets(st.integers(0, DAYS - 1), max_size=3))
    return CourtCalendar(
        court_id=draw(st.text("abc", min_size=1, max_size=3)),
        timetables=[Timetable("any", (1, 1), ((clock(a), clock(b)), (clock(c), clock(d))))],
        closures={date(2026, 9, 28) + timedelta(days=n): "closed" for n in closures},
    )


@st.composite
def busy_spans(draw):
    """Random busy spans, on any minute (not only on the grid)."""
    spans = []
    for _ in range(draw(st.integers(0, 25))):
        start = START + timedelta(minutes=draw(st.integers(0, DAYS * 24 * 60)))
        spans.append((start, start + timedelta(minutes=draw(st.integers(1, 300)))))
    return spans


def brute_force(cals, busy, duration, start, end, limit):
    """Every grid start in order; keep those inside every court's hours and outside busy."""
    found = []
    t = START
    while t < end and len(found) < limit:
        slot_end = t + duration
        if t >= start and slot_end <= end:
            open_everywhere = all(
                any(
                    o <= t and slot_end <= c
                    for o, c in cal.open_periods(t.astimezone(COURT_TZ).date())
                )
                for cal in cals
            )
            free = all(slot_end <= b0 or b1 <= t for b0, b1 in busy)
            if open_everywhere and free:
                found.append((t, slot_end))
        t += GRID
    return found


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cals=st.lists(calendars(), min_size=1, max_size=3),
    busy=busy_spans(),
    duration_steps=st.integers(1, 16),
    offset_minutes=st.integers(0, 3 * 24 * 60),
    limit=st.integers(1, 40),
)
def test_free_slots_equal_brute_force(cals, busy, duration_steps, offset_minutes, limit):
    duration = duration_steps * GRID
    start = START + timedelta(minutes=offset_minutes)
    end = START + timedelta(days=DAYS)
    fast = free_slots(cals, busy, duration, start, end, limit)
    assert fast == brute_force(cals, busy, duration, start, end, limit)


def test_one_per_period_gives_the_earliest_of_each_morning_and_afternoon():
    court = CourtCalendar(
        court_id="c",
        timetables=[Timetable("any", (1, 1), ((time(8), time(12)), (time(14, 30), time(17, 30))))],
        closures={},
    )
    monday = datetime(2026, 9, 28, 8, tzinfo=COURT_TZ)
    busy = [(monday, monday + timedelta(minutes=90))]  # Monday 08:00–09:30
    slots = free_slots([court], busy, timedelta(hours=1), monday, monday + timedelta(days=7), 4,
                       one_per_period=True)  # fmt: skip
    assert [s.astimezone(COURT_TZ).strftime("%a %H:%M") for s, _ in slots] == [
        "Mon 09:30", "Mon 14:30", "Tue 08:00", "Tue 14:30",
    ]  # fmt: skip
    everything = free_slots([court], busy, timedelta(hours=1), monday, monday + timedelta(days=7),
                            1000)  # fmt: skip
    assert set(slots) <= set(everything)
