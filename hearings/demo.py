"""Demo data: both courts' staff and rooms, and a week of sessions of all four kinds."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from hearings.courts.calendar import load_calendars
from hearings.courts.models import Room, Staff
from hearings.courts.seed import ensure_courts
from hearings.courts.services import hash_password
from hearings.errors import HearingsError
from hearings.extensions import db
from hearings.scheduling.schemas import SessionIn
from hearings.scheduling.services import book_session
from hearings.timekeeping import COURT_TZ, local, utcnow

# Fictional people: (role, name, department).
STAFF = {
    "luoyang": [
        ("judge", "王建国", "立案庭"), ("judge", "李明华", "民事审判第一庭"),
        ("judge", "张丽娟", "民事审判第二庭"), ("clerk", "赵小燕", "立案庭"),
        ("clerk", "刘思远", "民事审判第一庭"), ("mediator", "陈淑芬", "诉调对接中心"),
        ("liaison", "杨志强", "研究室"), ("admin", "周文博", "信息技术处"),
    ],
    "luohe": [
        ("judge", "孙国庆", "立案庭"), ("judge", "马玉兰", "民事审判第一庭"),
        ("judge", "胡海涛", "商事审判庭"), ("clerk", "郭佳怡", "立案庭"),
        ("clerk", "何俊杰", "商事审判庭"), ("mediator", "高秀英", "诉调对接中心"),
        ("liaison", "林晓东", "研究室"), ("admin", "罗新宇", "信息技术处"),
    ],
}  # fmt: skip
PHONE_PREFIX = {"luoyang": "0379-6", "luohe": "0395-3"}
ROOMS = [
    ("courtroom", "第一法庭"), ("courtroom", "第二法庭"),
    ("mediation_room", "调解室"), ("service_window", "跨域立案窗口"),
]  # fmt: skip


def seed_staff_and_rooms(password: str) -> None:
    """Create each court's demo staff (``<court>-<role><n>``) and rooms."""
    password_hash = hash_password(password)
    for court_id, people in STAFF.items():
        counts: dict[str, int] = {}
        for index, (role, name, department) in enumerate(people, start=1):
            counts[role] = counts.get(role, 0) + 1
            username = f"{court_id}-{role}{counts[role]}"
            db.session.add(
                Staff(
                    court_id=court_id,
                    username=username,
                    password_hash=password_hash,
                    name=name,
                    role=role,
                    department=department,
                    phone=f"{PHONE_PREFIX[court_id]}312{index:04d}",  # a line each
                    email=f"{username}@{court_id}.court.example",
                )
            )
        for kind, name in ROOMS:
            db.session.add(Room(court_id=court_id, kind=kind, name=name))
    db.session.commit()


def _working_days(start: date, count: int) -> list[date]:
    calendars = load_calendars(["luoyang", "luohe"]).values()
    days: list[date] = []
    day = start
    while len(days) < count:
        if all(c.open_periods(day) for c in calendars):
            days.append(day)
        day += timedelta(days=1)
    return days


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=COURT_TZ)


def seed_sessions() -> int:
    """Book a week of realistic sessions through the same rules as any booking."""
    who = {s.username: s for s in db.session.scalars(sa.select(Staff))}
    room = {(r.court_id, r.name): r.id for r in db.session.scalars(sa.select(Room))}
    admin = who["luoyang-admin1"]
    days = _working_days(local(utcnow()).date() + timedelta(days=1), 6)
    year = days[0].year
    bookings: list[dict] = []
    for n, day in enumerate(days[:5]):
        bookings.append(
            {
                "kind": "mediation",
                "title": f"买卖合同纠纷视频调解（{n + 1}）",
                "case_number": f"({year})豫03民初{1201 + n}号",
                "host_court": "luoyang",
                "starts_at": _at(day, 9),
                "ends_at": _at(day, 10),
                "room_ids": [room[("luoyang", "调解室")]],
                "participants": [
                    {"role": "mediator", "staff_id": who["luoyang-mediator1"].id},
                    {
                        "role": "party",
                        "name": "张三",
                        "side": "plaintiff",
                        "court": "luoyang",
                        "phone": "13800000001",
                    },
                    {
                        "role": "party",
                        "name": "李四",
                        "side": "defendant",
                        "court": "luohe",
                        "phone": "13800000002",
                    },
                ],
            }
        )
        bookings.append(
            {
                "kind": "witness",
                "title": "房屋买卖合同纠纷授权委托",
                "case_number": f"({year})豫11民初{301 + n}号",
                "host_court": "luohe",
                "starts_at": _at(day, 10, 30),
                "ends_at": _at(day, 11, 15),
                "room_ids": [room[("luohe", "跨域立案窗口")]],
                "participants": [
                    {"role": "clerk", "staff_id": who["luohe-clerk1"].id},
                    {
                        "role": "principal",
                        "name": "王五",
                        "court": "luoyang",
                        "phone": "13800000003",
                    },
                    {
                        "role": "agent",
                        "name": "赵律师",
                        "court": "luohe",
                        "email": "lawyer@example.com",
                    },
                ],
            }
        )
    for n, day in enumerate(days[3:6]):
        bookings.append(
            {
                "kind": "hearing",
                "title": "借款合同纠纷网上开庭",
                "case_number": f"({year})豫03民终{88 + n}号",
                "host_court": "luoyang",
                "starts_at": _at(day, 15),
                "ends_at": _at(day, 17),
                "room_ids": [room[("luoyang", "第一法庭")]],
                "participants": [
                    {"role": "presiding_judge", "staff_id": who[f"luoyang-judge{n + 1}"].id},
                    {"role": "clerk", "staff_id": who["luoyang-clerk2"].id},
                    {"role": "party", "name": "孙六", "side": "plaintiff", "phone": "13800000004"},
                    {
                        "role": "party",
                        "name": "周七",
                        "side": "defendant",
                        "court": "luohe",
                        "phone": "13800000005",
                    },
                    {"role": "witness", "name": "吴八", "phone": "13800000006"},
                ],
            }
        )
    bookings.append(
        {
            "kind": "liaison",
            "title": "洛漯司法协作联络办公室例会",
            "host_court": "luoyang",
            "starts_at": _at(days[1], 16),
            "ends_at": _at(days[1], 17),
            "rrule": "FREQ=WEEKLY;COUNT=4",
            "outside_hours_reason": None,
            "participants": [
                {"role": "liaison", "staff_id": who["luoyang-liaison1"].id},
                {"role": "liaison", "staff_id": who["luohe-liaison1"].id},
            ],
        }
    )
    booked = 0
    for data in bookings:
        try:
            book_session(admin, SessionIn.model_validate(data))
            db.session.commit()
            booked += 1
        except HearingsError as error:  # a demo week may meet a holiday: log it, go on
            db.session.rollback()
            current_app.logger.warning("demo booking %r skipped: %s", data["title"], error)
    return booked


def seed_demo(password: str) -> bool:
    """Seed the demo once; False if the database already holds staff."""
    ensure_courts()
    if db.session.scalar(sa.select(sa.func.count(Staff.id))):
        return False
    seed_staff_and_rooms(password)
    seed_sessions()
    return True
