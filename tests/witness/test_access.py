"""Who may see a recording (every access logged), retention and legal hold."""

from __future__ import annotations

import sqlalchemy as sa

from hearings.extensions import db
from hearings.scheduling.models import AuditEvent
from tests.conftest import sign_in


def test_only_officer_judges_of_the_case_and_involved_admins_see_it(
    app, witness, recording, court_staff, make_session, client
):
    call = witness["call"]
    rid = recording()["id"]
    call("POST", f"/recordings/{rid}/stop", json={"reason": "测试"})
    # A judge of the same case (a hearing of 豫03民初1号) may; another judge may not.
    make_session("hearing", starts_at="2026-09-15T09:00", ends_at="2026-09-15T10:00")
    allowed = [witness["officer"], court_staff["luoyang-judge1"], court_staff["luoyang-admin"]]
    refused = [court_staff["luohe-clerk1"], court_staff["luoyang-judge2"],
               court_staff["luohe-admin"], court_staff["luoyang-mediator1"]]  # fmt: skip
    for staff in allowed:
        assert call("GET", f"/recordings/{rid}", as_=staff).status_code == 200, staff.username
    for staff in refused:
        paths = (f"/recordings/{rid}", f"/recordings/{rid}/segments/1",
                 f"/recordings/{rid}/verify", f"/sessions/{witness['id']}/recordings")  # fmt: skip
        for path in paths:
            response = call("GET", path, as_=staff)
            assert response.status_code == 403, (staff.username, path)
            assert response.mimetype == "application/problem+json"

    # The principal and the agent, with their room tokens: known, and refused.
    for role in ("principal", "agent"):
        token = witness["session"]["tokens"][role]
        response = client.get(
            f"/api/v1/recordings/{rid}", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 403, role
    assert client.get(f"/api/v1/recordings/{rid}").status_code == 401

    log = call("GET", f"/recordings/{rid}").json["custody"]
    denied = [e for e in log if e["action"] == "access_denied"]
    # Custody keeps the refusals of the session's own people; staff outside it go to the
    # audit trail only (below).
    assert {e["detail"].get("role") for e in denied} == {"principal", "agent"}
    assert {e["actor_id"] for e in denied} == {None}
    viewers = {e["actor_id"] for e in log if e["action"] == "viewed"}
    assert viewers == {s.id for s in allowed}
    refusals = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "access.denied")
    ).all()
    assert len(refusals) >= len(refused) * 4 + 2


def test_downloads_are_logged(app, witness, recording):
    from tests.witness.test_integrity import write_segment

    rid = recording()["id"]
    db.session.commit()
    write_segment(app, rid, 1, b"\x00" * 2048)
    response = witness["call"]("GET", f"/recordings/{rid}/segments/1")
    assert response.status_code == 200 and response.data == b"\x00" * 2048
    response.close()
    assert witness["call"]("GET", f"/recordings/{rid}/segments/9").status_code == 404
    log = witness["call"]("GET", f"/recordings/{rid}").json["custody"]
    assert [e["detail"] for e in log if e["action"] == "downloaded"] == [{"n": 1}]


def test_retention_and_legal_hold_refuse_deletion(app, witness, recording, court_staff):
    call, admin = witness["call"], court_staff["luoyang-admin"]
    app.config["RETENTION_YEARS"] = "luoyang=10,luohe=30"
    rid = recording()["id"]
    stopped = call("POST", f"/recordings/{rid}/stop", json={"reason": "测试"}).json
    assert stopped["retain_until"].startswith("2036-09-01")
    early = call("DELETE", f"/recordings/{rid}", as_=admin)
    assert early.status_code == 409 and "2036-09-01" in early.json["detail"]
    assert call("DELETE", f"/recordings/{rid}").status_code == 403  # the clerk
    assert call("PUT", f"/recordings/{rid}/hold", json={"reason": "x"}).status_code == 403
    held = call("PUT", f"/recordings/{rid}/hold", as_=admin, json={"reason": "再审审查中"})
    assert held.json["legal_hold"] is True

    app.config["NOW"] = "2036-09-02T09:00:00+08:00"
    on_hold = call("DELETE", f"/recordings/{rid}", as_=admin)
    assert on_hold.status_code == 409 and "legal hold" in on_hold.json["detail"]
    assert call("DELETE", f"/recordings/{rid}/hold", as_=admin).json["legal_hold"] is False
    deleted = call("DELETE", f"/recordings/{rid}", as_=admin)
    assert deleted.status_code == 200 and deleted.json["status"] == "deleted"
    log = call("GET", f"/recordings/{rid}", as_=admin).json["custody"]
    assert [e["action"] for e in log if "hold" in e["action"] or e["action"] == "deleted"] == [
        "hold_placed", "hold_lifted", "deleted",
    ]  # fmt: skip


def test_witness_record_page(app, witness, recording, client):
    rid = recording(["admit_claims"])["id"]
    call = witness["call"]
    for step, power in (("undertaking", None), ("power", "admit_claims"),
                        ("agent_accepts", None), ("attestation", None)):  # fmt: skip
        assert call("POST", f"/recordings/{rid}/steps",
                    json={"step": step, "power": power}).status_code == 201  # fmt: skip
    call("POST", f"/recordings/{rid}/stop", json={})
    assert client.get(f"/recordings/{rid}/record").status_code == 302  # sign in first
    sign_in(client, witness["officer"])
    page = client.get(f"/recordings/{rid}/record")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for text in ("见证笔录", "赵六", "4103**********", "承认诉讼请求", "受托人接受委托",
                 "见证人员确认", "签名 Signature"):  # fmt: skip
        assert text in html, text


def test_refusals_from_outside_the_session_never_reach_its_custody_log(
    witness, recording, now_session, client
):
    rid = recording()["id"]
    before = witness["call"]("GET", f"/recordings/{rid}").json["custody"]
    other = now_session("mediation", starts_at="2026-09-01T10:30", ends_at="2026-09-01T11:00")
    token = other["tokens"]["applicant"]
    paths = (f"/recordings/{rid}", f"/recordings/{rid}/verify", f"/recordings/{rid}/segments/1")
    for path in paths:
        response = client.get(f"/api/v1{path}", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 403, path
    after = witness["call"]("GET", f"/recordings/{rid}").json["custody"]
    assert [e for e in after if e["action"] == "access_denied"] == []
    assert len(after) == len(before) + 1  # the officer's own look ("viewed") and nothing else
    refusals = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "access.denied")
    ).all()
    assert len(refusals) == 3 and {r.session_id for r in refusals} == {other["id"]}
