"""The witnessing over the API: identity check, recording, the script, sealing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from hearings.extensions import db
from hearings.witness.identity import decrypt_id_number
from tests.fixtures.witness import valid_id


def test_identity_check_verifies_the_number_and_stores_it_encrypted(app, witness):
    call, principal = witness["call"], witness["principal"]
    path = f"/sessions/{witness['id']}/identity-checks"
    body = {"participant_id": principal["id"], "name": "赵六", "method": "visual"}

    wrong = call("POST", path, json={**body, "id_number": "410302199003071230"})
    assert wrong.status_code == 422
    assert wrong.mimetype == "application/problem+json"
    assert "check digit" in wrong.json["detail"]
    assert (
        call("POST", path, json={**body, "id_number": valid_id(), "name": "别人"}).status_code
        == 422
    )
    face = call("POST", path, json={**body, "id_number": valid_id(), "face_confirmed": False})
    assert face.status_code == 422

    ok = call("POST", path, json={**body, "id_number": valid_id()})
    assert ok.status_code == 201
    assert ok.json["masked_id_number"] == valid_id()[:4] + "*" * 10 + valid_id()[-4:]
    assert set(ok.json) >= {"id", "participant_id", "masked_id_number", "checked_at"}
    assert ok.json["checked_at"].endswith("+08:00")

    # At rest: not the number, nor any run of its digits; only the key opens it.
    stored = db.session.execute(
        sa.text("SELECT id_number_encrypted FROM witness_identity_checks")
    ).scalar_one()
    assert valid_id() not in stored and valid_id()[6:14] not in stored
    context = f"{witness['id']}:{principal['id']}"
    assert decrypt_id_number(stored, context) == valid_id()
    app.config["WITNESS_ID_KEY"] = "A" * 43 + "="
    with pytest.raises(ValueError):
        decrypt_id_number(stored, context)

    listed = call("GET", path).json["items"]
    assert [c["masked_id_number"] for c in listed] == [ok.json["masked_id_number"]]
    assert valid_id() not in str(listed)


def test_recording_needs_the_principals_identity_check_first(witness, recording):
    call = witness["call"]
    refused = call("POST", f"/sessions/{witness['id']}/recordings", json={})
    assert refused.status_code == 409
    assert "identity" in refused.json["detail"]
    started = recording()
    assert started["status"] == "recording" and started["powers"] == ["general"]
    again = call("POST", f"/sessions/{witness['id']}/recordings", json={})
    assert again.status_code == 409


def test_the_script_is_driven_in_order_and_sealed(witness, recording):
    call = witness["call"]
    rid = recording(["admit_claims", "settle"])["id"]

    def step(step, power=None):
        return call("POST", f"/recordings/{rid}/steps", json={"step": step, "power": power})

    skipped = step("power", "admit_claims")
    assert skipped.status_code == 409 and "undertaking" in skipped.json["detail"]
    assert step("undertaking").status_code == 201
    assert step("power", "settle").status_code == 409  # in the order granted
    assert step("power", "admit_claims").status_code == 201
    assert call("GET", f"/recordings/{rid}/script").json["next"] == {
        "step": "power",
        "power": "settle",
    }
    # Paused: nothing is marked off the record; every pause has its reason.
    assert call("POST", f"/recordings/{rid}/pause", json={}).status_code == 422
    assert call("POST", f"/recordings/{rid}/pause", json={"reason": "网络中断"}).status_code == 200
    assert step("power", "settle").status_code == 409
    assert call("POST", f"/recordings/{rid}/resume").status_code == 200
    assert step("power", "settle").status_code == 201
    # Stopping before the end needs a reason.
    assert call("POST", f"/recordings/{rid}/stop", json={}).status_code == 422
    assert step("agent_accepts").status_code == 201
    attested = step("attestation")
    assert attested.status_code == 201
    assert attested.json["elapsed_seconds"] >= 0

    stopped = call("POST", f"/recordings/{rid}/stop", json={})
    assert stopped.status_code == 200, stopped.json
    assert stopped.json["status"] == "sealed"
    manifest = stopped.json["manifest"]
    assert manifest["script_complete"] is True
    assert [(m["step"], m["power"]) for m in manifest["script"]] == [
        ("undertaking", None), ("power", "admit_claims"), ("power", "settle"),
        ("agent_accepts", None), ("attestation", None),
    ]  # fmt: skip
    assert manifest["identity_checks"][0]["masked_id_number"].startswith("4103****")
    actions = [e["action"] for e in stopped.json["custody"]]
    assert actions[0] == "started" and actions[-1] == "sealed"
    assert "paused" in actions and "resumed" in actions
    assert step("undertaking").status_code == 409  # sealed: nothing more
    verified = call("GET", f"/recordings/{rid}/verify")
    assert verified.json == {"ok": True, "faults": [], "sealed": True}


def test_the_custody_log_is_append_only_in_the_database(witness, recording):
    recording()
    db.session.commit()
    for statement in (
        "UPDATE witness_custody_entries SET action = 'viewed'",
        "DELETE FROM witness_custody_entries",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(sa.text(statement))
        db.session.rollback()
    assert db.session.execute(sa.text("SELECT count(*) FROM witness_custody_entries")).scalar() == 1


def test_errors_are_problem_details(witness):
    call = witness["call"]
    assert call("GET", "/recordings/999").status_code == 404
    bad = call("POST", f"/sessions/{witness['id']}/recordings", json={"powers": ["sell"]})
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    malformed = call(
        "POST", f"/sessions/{witness['id']}/recordings", data="{", content_type="application/json"
    )
    assert malformed.status_code == 400


def test_the_principal_and_the_agent_must_be_in_the_room(witness, recording):
    """No identity check, recording or step of a witnessing without the people witnessed in
    the room (let in); who was there goes into the chain of custody."""
    call, principal, agent = witness["call"], witness["principal"], witness["agent"]
    witness["leave"]("principal")
    check = call("POST", f"/sessions/{witness['id']}/identity-checks", json={
        "participant_id": principal["id"], "name": "赵六", "id_number": valid_id(),
        "method": "visual",
    })  # fmt: skip
    assert check.status_code == 409
    assert check.json["missing"] == [
        {"participant_id": principal["id"], "role": "principal", "name": "赵六"}
    ]
    assert "委托人赵六不在视频室中" in check.json["detail"]
    witness["enter"]("principal")

    witness["leave"]("agent")
    with pytest.raises(AssertionError, match="受托代理人钱律师不在视频室中"):
        recording()
    witness["enter"]("agent")
    rid = recording()["id"]

    witness["leave"]("principal")
    step = call("POST", f"/recordings/{rid}/steps", json={"step": "undertaking"})
    assert step.status_code == 409
    assert step.json["missing"] == [
        {"participant_id": principal["id"], "role": "principal", "name": "赵六"}
    ]
    witness["enter"]("principal")
    assert call("POST", f"/recordings/{rid}/steps", json={"step": "undertaking"}).status_code == 201

    custody = call("GET", f"/recordings/{rid}").json["custody"]
    both = sorted([principal["id"], agent["id"]])
    assert [sorted(e["detail"]["present"]) for e in custody if "present" in e["detail"]] == [
        both,
        both,
    ]  # started, marked


def test_presence_is_who_the_room_has_let_in(witness, join, recording):
    """With real peers: waiting in the lobby is not being there; being let in is; leaving
    ends it."""
    call, tokens = witness["call"], witness["session"]["tokens"]
    for role in ("principal", "agent"):
        witness["leave"](role)
    clerk = join(witness["id"], tokens["clerk"])
    principal = join(witness["id"], tokens["principal"])
    agent = join(witness["id"], tokens["agent"])
    for _ in range(2):
        clerk.expect("waiting")
    with pytest.raises(AssertionError, match="不在视频室中"):
        recording()  # both still in the lobby
    for peer in (principal, agent):
        clerk.send({"type": "admit", "peer_id": peer.peer_id})
        peer.expect("admitted")
    rid = recording()["id"]
    agent.send({"type": "leave"})
    assert clerk.expect("peer-left")["peer_id"] == agent.peer_id
    step = call("POST", f"/recordings/{rid}/steps", json={"step": "undertaking"})
    assert step.status_code == 409
    assert [m["role"] for m in step.json["missing"]] == ["agent"]
