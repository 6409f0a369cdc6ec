"""Every hearing and mediation recorded: the recordings API for them, and the session's start
(``POST /sessions/{id}/start``, the chair's ``start`` frame) and end driving the recording."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from hearings.extensions import db
from hearings.scheduling.models import AuditEvent, Session


@pytest.fixture
def staff_call(app, client, auth):
    """Call the API as a staff member; the recorder peer is off (API tests)."""
    app.config["RECORDER_ENABLED"] = False

    def call(method: str, path: str, as_, **kwargs: Any):
        return client.open(f"/api/v1{path}", method=method, headers=auth(as_), **kwargs)

    return call


def announced(peer, state: str, timeout: float = 10) -> dict[str, Any]:
    """The next ``recording`` frame in that state (earlier announcements are passed)."""
    while True:
        frame = peer.expect("recording", timeout)
        if frame["state"] == state:
            return frame


def status_of(session_id: int) -> str:
    db.session.expire_all()
    session = db.session.get(Session, session_id)
    assert session is not None
    return session.status


@pytest.mark.parametrize(
    ("kind", "chair", "also"),
    [("hearing", "luoyang-judge1", "luoyang-clerk1"), ("mediation", "luoyang-mediator1", None)],
)
def test_a_hearing_or_mediation_is_recorded_like_a_witnessing(
    kind, chair, also, now_session, staff_call, court_staff, client
):
    session = now_session(kind)
    sid = session["id"]
    judge = court_staff[chair]

    # Someone else of the court, not driving this session, may not start it; nor a party.
    assert staff_call("POST", f"/sessions/{sid}/recordings", court_staff["luoyang-judge2"],
                      json={}).status_code == 403  # fmt: skip
    party_token = next(t for r, t in session["tokens"].items() if r not in ("presiding_judge",
                       "clerk", "mediator"))  # fmt: skip
    as_party = client.post(f"/api/v1/sessions/{sid}/recordings", json={},
                           headers={"Authorization": f"Bearer {party_token}"})  # fmt: skip
    assert as_party.status_code == 403
    # Powers belong to a witnessing.
    powers = staff_call("POST", f"/sessions/{sid}/recordings", judge, json={"powers": ["general"]})
    assert powers.status_code == 422 and powers.json["code"] == "powers-only-witnessing"

    # No identity check, no script: whoever is there is recorded.
    started = staff_call("POST", f"/sessions/{sid}/recordings", judge, json={})
    assert started.status_code == 201, started.json
    assert started.json["status"] == "recording" and started.json["powers"] == []
    rid = started.json["id"]
    again = staff_call("POST", f"/sessions/{sid}/recordings", (also and court_staff[also]) or judge,
                       json={})  # fmt: skip
    assert again.status_code == 409 and again.json["code"] == "already-recording"

    # A pause needs its reason (庭审录音录像规定 Art. 3), kept in custody.
    assert staff_call("POST", f"/recordings/{rid}/pause", judge, json={}).status_code == 422
    paused = staff_call("POST", f"/recordings/{rid}/pause", judge, json={"reason": "休庭十分钟"})
    assert paused.status_code == 200 and paused.json["status"] == "paused"
    assert staff_call("POST", f"/recordings/{rid}/resume", judge).status_code == 200
    # A hearing has no script: no step to mark, and its stop needs no reason.
    step = staff_call("POST", f"/recordings/{rid}/steps", judge, json={"step": "undertaking"})
    assert step.status_code == 422 and step.json["code"] == "not-a-witnessing"
    driver = court_staff[also] if also else judge  # the clerk runs a hearing's recording too
    stopped = staff_call("POST", f"/recordings/{rid}/stop", driver, json={})
    assert stopped.status_code == 200, stopped.json
    assert stopped.json["status"] == "sealed"
    manifest = stopped.json["manifest"]
    assert manifest["session"]["kind"] == kind and manifest["script_complete"] is None
    actions = [e["action"] for e in stopped.json["custody"]]
    assert actions[:4] == ["started", "paused", "resumed", "stopped"] and "sealed" in actions
    assert (
        next(e for e in stopped.json["custody"] if e["action"] == "paused")["detail"]["reason"]
        == "休庭十分钟"
    )

    listed = staff_call("GET", f"/sessions/{sid}/recordings", judge)
    assert listed.status_code == 200 and [r["id"] for r in listed.json["items"]] == [rid]
    verified = staff_call("GET", f"/recordings/{rid}/verify", judge)
    assert verified.status_code == 200 and verified.json["ok"] is True, verified.json
    outsider = staff_call("GET", f"/sessions/{sid}/recordings", court_staff["luohe-clerk1"])
    assert outsider.status_code == 403
    # Its record is the hearing's own (笔录), not a witness record.
    no_record = staff_call("GET", f"/recordings/{rid}/record.pdf", judge)
    assert no_record.status_code == 404 and no_record.json["code"] == "no-witness-record"
    # A legal hold as for a witnessing: the involved court's admin places it, nobody else.
    hold = {"json": {"reason": "上诉审查"}}
    assert staff_call("PUT", f"/recordings/{rid}/hold", judge, **hold).status_code == 403
    held = staff_call("PUT", f"/recordings/{rid}/hold", court_staff["luoyang-admin"], **hold)
    assert held.status_code == 200 and held.json["legal_hold"] is True


def test_a_liaison_meeting_is_not_recorded(now_session, staff_call, court_staff):
    session = now_session("liaison")
    refused = staff_call("POST", f"/sessions/{session['id']}/recordings",
                         court_staff["luoyang-admin"], json={})  # fmt: skip
    assert refused.status_code in (403, 422)


def test_the_chair_starts_the_session_and_its_recording(now_session, staff_call, court_staff):
    session = now_session("hearing")
    sid = session["id"]
    path = f"/sessions/{sid}/start"
    # The clerk runs the recording but does not open the hearing: the presiding judge does.
    assert staff_call("POST", path, court_staff["luoyang-clerk1"]).status_code == 403
    assert status_of(sid) != "in_progress"

    started = staff_call("POST", path, court_staff["luoyang-judge1"])
    assert started.status_code == 200, started.json
    assert started.json["state"] == "in_progress"
    recording = started.json["recording"]
    assert recording["status"] == "recording"
    assert status_of(sid) == "in_progress"
    # Started twice: the same recording goes on.
    twice = staff_call("POST", path, court_staff["luoyang-judge1"])
    assert twice.status_code == 200 and twice.json["recording"]["id"] == recording["id"]


def test_a_witnessing_is_not_started_so(witness, staff_call):
    refused = staff_call("POST", f"/sessions/{witness['id']}/start", witness["officer"])
    assert refused.status_code == 422 and refused.json["code"] == "not-started-by-chair"


def test_the_start_frame_records_until_the_end_frame(app, now_session, join, staff_call,
                                                      court_staff):  # fmt: skip
    session = now_session("mediation")
    sid = session["id"]
    mediator = join(sid, session["tokens"]["mediator"])
    party = join(sid, session["tokens"]["applicant"])
    mediator.send({"type": "admit", "peer_id": party.peer_id})
    party.expect("admitted")
    party.send({"type": "start"})  # a party can't
    assert party.expect("error")["type"] == "error"

    mediator.send({"type": "start"})
    announced = party.expect("recording")
    assert announced["state"] == "started"
    assert status_of(sid) == "in_progress"
    listed = staff_call("GET", f"/sessions/{sid}/recordings", court_staff["luoyang-mediator1"])
    [recording] = listed.json["items"]
    assert recording["id"] == announced["recording_id"] and recording["status"] == "recording"

    mediator.send({"type": "end"})
    assert party.expect("recording", timeout=30)["state"] == "stopped"
    assert status_of(sid) == "completed"
    read = staff_call("GET", f"/recordings/{recording['id']}", court_staff["luoyang-mediator1"])
    assert read.json["status"] == "sealed" and read.json["stop_reason"] == "the session ended"
    assert read.json["manifest"]["sealed_by"] is None


def test_a_recording_that_cannot_start_is_logged_and_said(app, now_session, join, staff_call,
                                                           court_staff):  # fmt: skip
    session = now_session("hearing")
    sid = session["id"]
    judge = join(sid, session["tokens"]["presiding_judge"])
    app.config.update(RECORDER_ENABLED=True, RECORDER_MODE="sideways")  # a broken setting
    judge.send({"type": "start"})
    assert judge.expect("recording")["state"] == "started"
    failed = judge.expect("recording")
    assert failed["state"] == "failed" and "RECORDER_MODE" in failed["reason"]
    [recording] = staff_call("GET", f"/sessions/{sid}/recordings",
                             court_staff["luoyang-judge1"]).json["items"]  # fmt: skip
    assert recording["status"] == "interrupted"
    read = staff_call("GET", f"/recordings/{recording['id']}", court_staff["luoyang-judge1"])
    gap = next(e for e in read.json["custody"] if e["action"] == "interrupted")
    assert "RECORDER_MODE" in gap["detail"]["reason"]


def test_a_start_refused_is_in_the_audit_trail_and_said(app, now_session, join, staff_call,
                                                         court_staff):  # fmt: skip
    session = now_session("hearing")
    sid = session["id"]
    judge = join(sid, session["tokens"]["presiding_judge"])
    first = staff_call("POST", f"/sessions/{sid}/recordings", court_staff["luoyang-clerk1"],
                       json={})  # fmt: skip
    assert first.status_code == 201
    # Already recording: the start frame moves the session on and the recording goes on.
    judge.send({"type": "start"})
    judge.send({"type": "ping"})
    judge.expect("pong")
    assert status_of(sid) == "in_progress"
    # The session over (cancelled): a start records nothing, and says why.
    assert staff_call("POST", f"/recordings/{first.json['id']}/stop",
                      court_staff["luoyang-clerk1"], json={}).status_code == 200  # fmt: skip
    db.session.execute(sa.update(Session).where(Session.id == sid).values(status="adjourned"))
    db.session.commit()
    judge.send({"type": "start"})
    failed = announced(judge, "failed")
    assert failed == {"type": "recording", "state": "failed", "reason": "session-not-recordable"}
    db.session.expire_all()
    audit = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "recording.failed")
    ).all()
    assert [a.detail["reason"] for a in audit] == ["session-not-recordable"]
    db.session.rollback()  # end the test's read before the room's last writes (SQLite)


def test_the_room_page_shows_a_hearings_recording(now_session, staff_call, court_staff):
    from hearings.rooms.panels import room_state

    session = now_session("hearing")
    sid = session["id"]
    db.session.expire_all()
    assert room_state(db.session.get(Session, sid)) == {"recording": None}
    assert (
        staff_call("POST", f"/sessions/{sid}/start", court_staff["luoyang-judge1"]).status_code
        == 200
    )
    db.session.expire_all()
    assert room_state(db.session.get(Session, sid)) == {"recording": "started"}
    assert room_state(db.session.get(Session, now_session("liaison")["id"])) == {}
