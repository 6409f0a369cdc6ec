"""Booking and availability latency against a populated schedule.

Seeds ``--sessions`` sessions (100,000 by default) with bulk inserts, then times
``book_session`` + commit, a bare insert of the same rows (everything a booking writes: the
session, its rooms, participants, reservations, audit event, outbox messages and reminder
jobs, with SQLAlchemy Core in one transaction), and ``find_free_slots``.
Run: ``.venv/bin/python bench/booking.py [--sessions N] [--database-url URL]``.
SQLite in a temporary folder by default; a PostgreSQL URL has its schema ``public`` dropped.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask_migrate import upgrade

from hearings import create_app
from hearings.courts.calendar import Period, common_open_periods, load_calendars
from hearings.courts.models import Room, Staff
from hearings.courts.seed import ensure_courts
from hearings.courts.services import hash_password
from hearings.extensions import db
from hearings.scheduling.availability import find_free_slots
from hearings.scheduling.models import Session
from hearings.scheduling.schemas import SessionIn
from hearings.scheduling.services import book_session
from hearings.timekeeping import local, local_dates, utcnow

NOW = "2026-09-01T09:00:00+08:00"
COURTS = ("luoyang", "luohe")
ROLES = ("judge", "clerk", "mediator")
STAFF, ROOMS, WARMUP, BATCH = 40, 12, 5, 10_000
#: The tables a booking fills, parents first (the seed leaves reminder jobs out: most have run).
TABLES = (
    "sessions",
    "participants",
    "reservations",
    "session_rooms",
    "audit_events",
    "outbox_messages",
)
#: A reminder job row's pickled state is about this long.
JOB_STATE = bytes(600)
HOUR = timedelta(hours=1)


def percentiles(samples: list[float]) -> tuple[float, float]:
    """p50 and p99 of samples in seconds, as milliseconds."""
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return cuts[49] * 1000, cuts[98] * 1000


def make_app(url: str | None, folder: str) -> Any:
    """The app on ``url`` (PostgreSQL: schema ``public`` reset) or a fresh SQLite file."""
    if url and url.startswith("postgresql"):
        engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
        engine.dispose()
    config = {
        "DATABASE_URL": url or f"sqlite:///{folder}/bench.sqlite3",
        "INSTANCE_PATH": folder,
        "NOW": NOW,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "SECRET_KEY": "bench-signing-key-0123456789abcdef-0123456789",
        # a service refuses to start without its own ID-number and manifest keys
        "WITNESS_ID_KEY": "YmVuY2gtd2l0bmVzcy1pZC1rZXktMDEyMzQ1Njc4OWE=",
        "MANIFEST_SIGNING_KEY": "YmVuY2gtbWFuaWZlc3Qtc2VlZC0wMTIzNDU2Nzg5YWI=",
    }
    return create_app(config)


def make_people() -> tuple[Staff, list[tuple[int, str, str]], list[tuple[int, str]]]:
    """An admin actor, STAFF staff (id, court, role) and ROOMS rooms (id, court)."""
    who = {"password_hash": hash_password("bench-password")}
    actor = Staff(court_id="luoyang", role="admin", username="bench-admin", name="管理员", **who)
    staff = [
        Staff(court_id=COURTS[i % 2], role=ROLES[i // 2 % 3], username=f"b{i}", name=f"{i}", **who)
        for i in range(STAFF)
    ]
    for member in staff:  # as in the directory: every staff member has an address
        member.email = f"{member.username}@court.example"
    rooms = [Room(court_id=COURTS[i % 2], kind="courtroom", name=f"{i}") for i in range(ROOMS)]
    db.session.add_all([actor, *staff, *rooms])
    db.session.commit()
    return actor, [(s.id, s.court_id, s.role) for s in staff], [(r.id, r.court_id) for r in rooms]


def working_slots(start: datetime, days: int) -> list[Period]:
    """One-hour slots inside both courts' common hours, from ``start``'s day on."""
    calendars = list(load_calendars(COURTS).values())
    slots = []
    for day in local_dates(start, start + timedelta(days=days)):
        for opens, closes in common_open_periods(calendars, day):
            t = opens
            while t + HOUR <= closes:
                slots.append((t, t + HOUR))
                t += HOUR
    return slots


def session_rows(
    sid: int,
    member: tuple[int, str, str],
    room: int | None,
    span: Period,
    now: datetime,
    first_participant: int,
) -> dict[str, list[dict[str, Any]]]:
    """The rows of one mediation (judge, mediator) or witnessing (clerk) session, its
    participants numbered from ``first_participant``."""
    staff_id, court, role = member
    kind = "witness" if role == "clerk" else "mediation"
    when = {"starts_at": span[0], "ends_at": span[1]}
    session = {"id": sid, "kind": kind, "title": f"案件{sid}", "host_court_id": court, **when}
    session |= {"status": "scheduled", "sequence": 0}
    session |= {"case_number": f"(2026)豫03民初{sid}号", "created_at": now, "updated_at": now}
    people: list[tuple[str, int | None, str | None]] = (
        [("clerk", staff_id, None), ("principal", None, "赵六"), ("agent", None, "钱律师")]
        if kind == "witness"
        else [("mediator", staff_id, None), ("party", None, "张三")]
    )
    keys = [f"staff:{staff_id}"] + ([f"room:{room}"] if room is not None else [])
    participants = [
        {"id": first_participant + i, "session_id": sid, "role": r, "staff_id": s, "name": n}
        | {"court_id": court}
        for i, (r, s, n) in enumerate(people)
    ]
    outbox = [
        {"dedupe_key": f"{sid}:p{p['id']}:0:invite", "session_id": sid, "participant_id": p["id"]}
        | {"channel": "email", "kind": "invite", "sequence": 0, "recipient": "a@example.com"}
        | {"subject": f"【调解】案件{sid} · 邀请 Invitation", "state": "pending", "body": ""}
        | {"draft": {"text": "invite", "method": "REQUEST", "reason": None}}
        | {"attempts": 0, "next_attempt_at": now, "created_at": now}
        for p in participants
    ]
    audit = {"at": now, "session_id": sid, "action": "session.booked", "detail": {"kind": kind}}
    return {
        "sessions": [session],
        "participants": participants,
        "reservations": [{"session_id": sid, "resource": k, "active": True, **when} for k in keys],
        "session_rooms": [{"session_id": sid, "room_id": room}] if room is not None else [],
        "audit_events": [audit],
        "outbox_messages": outbox,
    }


def flush(conn: sa.Connection, batch: dict[str, list[dict[str, Any]]]) -> None:
    """Insert and empty the batched rows, parent tables first."""
    for name in TABLES:
        if batch[name]:
            conn.execute(sa.insert(db.metadata.tables[name]), batch[name])
        batch[name] = []


def seed(
    count: int, staff: list[tuple[int, str, str]], rooms: list[tuple[int, str]], slots: list[Period]
) -> dict[int, list[Period]]:
    """Bulk-insert ``count`` sessions spread evenly over each staff member's slots.

    Staff member i (i < ROOMS) always uses room i, so rooms never overlap either.
    Returns each staff member's free slots.
    """
    shares = [count // len(staff) + (i < count % len(staff)) for i in range(len(staff))]
    if max(shares) > len(slots):
        raise SystemExit(f"{count} sessions don't fit in {len(slots)} slots per staff member")
    batch: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES}
    free: dict[int, list[Period]] = {}
    now = utcnow()
    with db.engine.begin() as conn:
        sid: int = conn.scalar(sa.select(sa.func.coalesce(sa.func.max(Session.id), 0))) or 0
        pid = sid * 3
        for i, member in enumerate(staff):
            used = {j * len(slots) // shares[i] for j in range(shares[i])} if shares[i] else set()
            free[member[0]] = [s for k, s in enumerate(slots) if k not in used]
            room = rooms[i][0] if i < len(rooms) else None
            for k in sorted(used):
                sid += 1
                rows = session_rows(sid, member, room, slots[k], now, pid + 1)
                pid += len(rows["participants"])
                for name, table_rows in rows.items():
                    batch[name].extend(table_rows)
                if len(batch["sessions"]) >= BATCH:
                    flush(conn, batch)
        flush(conn, batch)
        if conn.dialect.name == "postgresql":
            for table in ("sessions", "participants"):
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"
                )
        conn.exec_driver_sql("ANALYZE")
    return free


def timed(action: Callable[[], object], count: int) -> list[float]:
    """Run ``action`` WARMUP + count times; the durations of the last ``count`` runs."""
    samples = []
    for _ in range(WARMUP + count):
        t0 = time.perf_counter()
        action()
        samples.append(time.perf_counter() - t0)
    return samples[WARMUP:]


def payload(staff_id: int, room: int, span: Period) -> dict[str, Any]:
    """A mediation booking request at ``span`` (local times without offset)."""
    starts, ends = (local(t).replace(tzinfo=None).isoformat() for t in span)
    request: dict[str, Any] = {
        "kind": "mediation",
        "title": "基准调解",
        "case_number": "(2026)豫03民初9号",
    }
    request |= {"host_court": "luoyang", "starts_at": starts, "ends_at": ends, "room_ids": [room]}
    return request | {
        "participants": [
            {"role": "mediator", "staff_id": staff_id},
            {"role": "party", "name": "张三", "side": "applicant", "email": "zs@example.com"},
        ],
    }


def main() -> None:
    """Seed, measure, and print the figures against the targets."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--bookings", type=int, default=300, help="booking and bare inserts")
    parser.add_argument("--queries", type=int, default=200, help="availability queries")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app = make_app(args.database_url, folder)
        with app.app_context():
            upgrade()
            ensure_courts()
            actor, staff, rooms = make_people()
            start = utcnow()
            slots = working_slots(start, 730)
            db.session.rollback()  # SQLite: free the write lock for the seeding connection
            t0 = time.perf_counter()
            free = seed(args.sessions, staff, rooms, slots)
            print(
                f"{db.engine.dialect.name}: seeded {args.sessions:,} sessions in "
                f"{time.perf_counter() - t0:.1f} s ({len(slots)} slots per staff member)"
            )
            # Luoyang judges and mediators with a room of their own: the busiest calendars.
            targets = [
                (s[0], rooms[i][0])
                for i, s in enumerate(staff[:ROOMS])
                if s[1] == "luoyang" and s[2] != "clerk"
            ]
            future = {s: iter([p for p in free[s] if p[0] > start + HOUR]) for s, _ in targets}
            turn = iter(range(10**9))

            def next_slot() -> tuple[int, int, Period]:
                staff_id, room = targets[next(turn) % len(targets)]
                return staff_id, room, next(future[staff_id])

            def book() -> None:
                staff_id, room, span = next_slot()
                book_session(actor, SessionIn.model_validate(payload(staff_id, room, span)))
                db.session.commit()

            def bare() -> None:
                staff_id, room, span = next_slot()
                rows = session_rows(0, (staff_id, "luoyang", "mediator"), room, span, start, 0)
                del rows["sessions"][0]["id"]
                tables = db.metadata.tables
                with db.engine.begin() as conn:
                    insert = sa.insert(tables["sessions"]).returning(tables["sessions"].c.id)
                    new_id = conn.execute(insert, rows["sessions"][0]).scalar_one()
                    people = []
                    for person in rows.pop("participants"):
                        del person["id"]
                        insert = sa.insert(tables["participants"]).returning(
                            tables["participants"].c.id
                        )
                        people.append(conn.execute(insert, person | {"session_id": new_id}))
                    for message, person in zip(rows["outbox_messages"], people, strict=True):
                        message["participant_id"] = person.scalar_one()
                        message["dedupe_key"] = f"{new_id}:p{message['participant_id']}:0:invite"
                    for name in TABLES[2:]:
                        for row in rows[name]:
                            row["session_id"] = new_id
                        if rows[name]:
                            conn.execute(sa.insert(tables[name]), rows[name])
                    jobs = [
                        {"id": f"reminder-{new_id}-{m}", "next_run_time": 0.0}
                        | {"job_state": JOB_STATE}
                        for m in (1440, 30)
                    ]
                    conn.execute(sa.insert(tables["apscheduler_jobs"]), jobs)

            rng = random.Random(7)
            calendars_of = list(COURTS)
            found: list[int] = []

            def availability() -> None:
                keys = [f"staff:{s[0]}" for s in rng.sample(staff, 6)]
                keys += [f"room:{r[0]}" for r in rng.sample(rooms, 2)]
                calendars = list(load_calendars(calendars_of).values())
                window = (start, start + timedelta(days=30))
                found.append(len(find_free_slots(calendars, keys, HOUR, *window, limit=10)))
                db.session.rollback()  # end the read transaction, as a request's teardown does

            booking_ms = percentiles(timed(book, args.bookings))
            db.session.rollback()
            bare_ms = percentiles(timed(bare, args.bookings))
            avail_ms = percentiles(timed(availability, args.queries))
            db.session.remove()
            db.engine.dispose()
    ratio = booking_ms[0] / bare_ms[0]
    print(f"\n{'measure':<28}{'p50':>10}{'p99':>10}   target        result")
    rows = [
        ("book_session + commit", booking_ms, "p50 ≤ 5 ms", booking_ms[0] <= 5),
        ("bare insert (Core)", bare_ms, "", None),
        ("find_free_slots (6+2, 30 d)", avail_ms, "p50 ≤ 10 ms", avail_ms[0] <= 10),
    ]
    for name, (p50, p99), target, ok in rows:
        result = "" if ok is None else ("PASS" if ok else "MISS")
        print(f"{name:<28}{p50:>8.2f}ms{p99:>8.2f}ms   {target:<13} {result}")
    verdict = "PASS" if ratio <= 4 else "MISS"
    print(f"{'booking p50 / bare p50':<28}{ratio:>9.1f}×{'':>10}   {'≤ 4×':<13} {verdict}")
    print(
        f"(n={args.bookings} bookings/inserts, {args.queries} availability queries, "
        f"{WARMUP} warm-up each; mean free slots found {statistics.mean(found):.1f})"
    )


if __name__ == "__main__":
    main()
