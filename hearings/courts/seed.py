"""The two courts of the agreement and their default timetables, loaded on first start."""

from __future__ import annotations

from datetime import time

import sqlalchemy as sa

from hearings.courts.models import Court, WorkingHours
from hearings.extensions import db

#: Courts of the 2021-12-20 cooperation agreement (跨域诉讼服务司法协作框架协议).
COURTS = [
    {
        "id": "luoyang",
        "name_zh": "洛阳市中级人民法院",
        "name_en": "Luoyang Intermediate People's Court",
        "case_prefix": "豫03",
        "phone": "12368",
        "address": "河南省洛阳市",
    },
    {
        "id": "luohe",
        "name_zh": "漯河市中级人民法院",
        "name_en": "Luohe Intermediate People's Court",
        "case_prefix": "豫11",
        "phone": "12368",
        "address": "河南省漯河市",
    },
]

#: Default seasonal hours (editable per court): summer from May, winter from October.
TIMETABLES = {
    "luoyang": [
        ("summer", 5, 1, time(8, 0), time(12, 0), time(15, 0), time(18, 0)),
        ("winter", 10, 1, time(8, 30), time(12, 0), time(14, 0), time(17, 30)),
    ],
    "luohe": [
        ("summer", 5, 1, time(8, 0), time(12, 0), time(15, 0), time(18, 0)),
        ("winter", 10, 1, time(8, 30), time(12, 0), time(14, 30), time(18, 0)),
    ],
}


def ensure_courts() -> None:
    """Create the agreement's courts and their timetables if they are missing."""
    known = set(db.session.scalars(sa.select(Court.id)))
    for data in COURTS:
        if data["id"] in known:
            continue
        db.session.add(Court(**data))
        for season, month, day, mo, mc, ao, ac in TIMETABLES[data["id"]]:
            db.session.add(
                WorkingHours(
                    court_id=data["id"],
                    season=season,
                    starts_month=month,
                    starts_day=day,
                    morning_opens=mo,
                    morning_closes=mc,
                    afternoon_opens=ao,
                    afternoon_closes=ac,
                )
            )
    db.session.commit()
