"""50 processes book the same judge and slot at once: exactly one wins, the rest get 409."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

import pytest

from hearings import create_app
from hearings.courts.auth import issue_api_token
from hearings.courts.models import Staff
from hearings.extensions import db
from tests.conftest import base_config, session_payload

CONTENDERS = 50


def _contend(
    url: str, instance: str, staff_id: int, payload: dict[str, Any], barrier: Any, results: Any
) -> None:
    """One process: its own app and connection; wait for the others, then book."""
    try:
        app = create_app(base_config(url, Path(instance)))
        with app.app_context():
            token, _ = issue_api_token(db.session.get(Staff, staff_id))
            db.session.remove()
            client = app.test_client()
            barrier.wait(timeout=120)
            response = client.post(
                "/api/v1/sessions", json=payload, headers={"Authorization": f"Bearer {token}"}
            )
            results.put((response.status_code, response.get_json()))
            db.engine.dispose()
    except BaseException as error:  # report to the parent rather than die silently
        results.put((-1, repr(error)))


@pytest.mark.slow
def test_fifty_processes_one_booking(app, database_url, court_staff, tmp_path):
    admin = court_staff["luoyang-admin"]
    # Each contender brings its own clerk, so the shared judge is the only contested resource.
    from hearings.courts.services import hash_password

    clerks = []
    for n in range(CONTENDERS):
        clerk = Staff(
            court_id="luoyang", role="clerk", username=f"c{n}", name=f"书记员{n}",
            password_hash=hash_password("x"),
        )  # fmt: skip
        db.session.add(clerk)
        clerks.append(clerk)
    db.session.commit()
    payloads = []
    for clerk in clerks:
        payload = session_payload("hearing", court_staff)
        payload["participants"][1]["staff_id"] = clerk.id
        payloads.append(payload)
    admin_id = admin.id
    db.session.remove()

    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(CONTENDERS)
    results = context.Queue()
    processes = [
        context.Process(
            target=_contend,
            args=(database_url, str(tmp_path), admin_id, payloads[n], barrier, results),
        )
        for n in range(CONTENDERS)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=180) for _ in processes]
    for process in processes:
        process.join(timeout=60)

    statuses = sorted(status for status, _ in outcomes)
    assert statuses == [201] + [409] * (CONTENDERS - 1), [
        o for o in outcomes if o[0] not in (201, 409)
    ]
    winner = next(body["id"] for status, body in outcomes if status == 201)
    for status, body in outcomes:
        if status == 409:
            assert [c["session_id"] for c in body["conflicts"]] == [winner]
