"""Court scoping: staff act on their court's sessions and those they take part in."""

from __future__ import annotations

import sqlalchemy as sa

from hearings.extensions import db
from hearings.scheduling.models import AuditEvent, Session


def denials() -> list[AuditEvent]:
    return list(
        db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "access.denied"))
    )


def test_staff_of_another_court_are_refused_and_audited(make_session, client, auth, court_staff):
    session_id = make_session("hearing")["id"]
    outsider = court_staff["luohe-judge2"]
    headers = auth(outsider)
    url = f"/api/v1/sessions/{session_id}"
    attempts = [
        client.get(url, headers=headers),
        client.patch(url, json={"title": "改"}, headers=headers),
        client.post(f"{url}/cancel", json={"reason": "x"}, headers=headers),
        client.post(f"{url}/participants", json={"role": "observer", "name": "x"}, headers=headers),
    ]
    assert [a.status_code for a in attempts] == [403, 403, 403, 403]
    assert all(a.mimetype == "application/problem+json" for a in attempts)
    assert [(e.actor_id, e.session_id) for e in denials()] == [(outsider.id, session_id)] * 4
    assert db.session.get(Session, session_id).title == "测试 hearing"


def test_booking_for_another_court_is_refused(book, court_staff):
    response = book("mediation", as_=court_staff["luohe-judge1"], host_court="luoyang")
    assert response.status_code == 403
    assert denials()[0].detail == {"what": "book sessions for court luoyang"}
    assert db.session.scalar(sa.select(sa.func.count(Session.id))) == 0


def test_participants_of_another_court_may_act(make_session, client, auth, court_staff):
    # The Luohe liaison takes part in a Luoyang-hosted meeting, so may read and change it.
    session_id = make_session("liaison")["id"]
    headers = auth(court_staff["luohe-liaison1"])
    assert client.get(f"/api/v1/sessions/{session_id}", headers=headers).status_code == 200
    listed = client.get("/api/v1/sessions", headers=headers).json["items"]
    assert [s["id"] for s in listed] == [session_id]


def test_lists_show_only_what_one_may_see(make_session, client, auth, court_staff):
    luoyang = make_session("mediation")["id"]
    luohe = make_session(
        "witness",
        host_court="luohe",
        participants=[
            {"role": "clerk", "staff_id": court_staff["luohe-clerk1"].id},
            {"role": "principal", "name": "甲"},
            {"role": "agent", "name": "乙"},
        ],
        as_=court_staff["luohe-admin"],
    )["id"]

    def ids(who):
        response = client.get("/api/v1/sessions", headers=auth(who))
        return [s["id"] for s in response.json["items"]]

    assert ids(court_staff["luoyang-judge2"]) == [luoyang]
    assert ids(court_staff["luohe-judge2"]) == [luohe]
    assert sorted(ids(court_staff["luoyang-admin"])) == sorted([luoyang, luohe])


def test_list_filters(make_session, client, auth, court_staff):
    hearing = make_session("hearing")["id"]
    mediation = make_session("mediation", starts_at="2026-09-11T09:00", ends_at="2026-09-11T10:00")[
        "id"
    ]
    headers = auth(court_staff["luoyang-admin"])

    def ids(**query):
        return [
            s["id"]
            for s in client.get("/api/v1/sessions", query_string=query, headers=headers).json[
                "items"
            ]
        ]

    assert ids(kind="hearing") == [hearing]
    assert ids(staff_id=court_staff["luoyang-mediator1"].id) == [mediation]
    assert ids(**{"from": "2026-09-11T00:00"}) == [mediation]
    assert ids(to="2026-09-10T23:59") == [hearing]
    assert ids(status="cancelled") == []
    assert ids(court="luohe") == []
    assert client.get("/api/v1/sessions?kind=party", headers=headers).status_code == 422
    assert client.get("/api/v1/sessions/424242", headers=headers).status_code == 404
