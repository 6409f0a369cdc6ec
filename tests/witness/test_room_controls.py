"""The officer drives the witnessing from the room page (login cookie + the page's CSRF
token), through the same services as the API; nobody else sees or may use the controls."""

from __future__ import annotations

import re

import pytest

from tests.conftest import sign_in
from tests.fixtures.witness import valid_id


@pytest.fixture
def officer_client(client, witness):
    """The officer's browser: signed in, on their room page."""
    sign_in(client, witness["officer"])
    return client


def test_officer_runs_the_script_to_sealed_from_the_room(officer_client, witness):
    client, sid = officer_client, witness["id"]
    page = client.get(f"/join/{witness['session']['tokens']['clerk']}")
    assert page.status_code == 200
    assert 'id="witness"' in page.text and 'id="w-check"' in page.text
    base = f"/sessions/{sid}/witness"

    state = client.get(base).json
    assert state["identity"] is None and state["recording"] is None
    assert state["principal"]["name"] == "赵六"
    early = client.post(f"{base}/recording", json={"powers": ["general"]})
    assert early.status_code == 409 and "identity" in early.json["detail"]

    wrong = client.post(f"{base}/identity-check", json={
        "name": "赵六", "id_number": "410302199003071230", "method": "visual"})  # fmt: skip
    assert wrong.status_code == 422 and wrong.json["field"] == "id_number"
    checked = client.post(
        f"{base}/identity-check",
        json={"name": "赵六", "id_number": valid_id(), "method": "visual", "face_confirmed": True},
    )
    assert checked.status_code == 201, checked.json
    assert checked.json["identity"]["masked_id_number"] == "4103**********" + valid_id()[-4:]
    assert valid_id() not in checked.text

    started = client.post(f"{base}/recording", json={"powers": ["settle", "appeal"]})
    assert started.status_code == 201, started.json
    assert started.json["recording"]["status"] == "recording"
    assert started.json["next"] == {"step": "undertaking", "power": None}

    skipped = client.post(f"{base}/steps", json={"step": "agent_accepts"})
    assert skipped.status_code == 409
    assert skipped.content_type == "application/problem+json"
    assert "none skipped" in skipped.json["detail"] and "undertaking" in skipped.json["detail"]
    out_of_order = client.post(f"{base}/steps", json={"step": "power", "power": "appeal"})
    assert out_of_order.status_code == 409

    for step, power in [("undertaking", None), ("power", "settle"), ("power", "appeal"),
                        ("agent_accepts", None)]:  # fmt: skip
        marked = client.post(f"{base}/steps", json={"step": step, "power": power})
        assert marked.status_code == 201, marked.json
    assert [(m["step"], m["power"]) for m in marked.json["done"]][-2:] == [
        ("power", "appeal"), ("agent_accepts", None)]  # fmt: skip
    assert all(m["elapsed_seconds"] is not None for m in marked.json["done"])

    no_reason = client.post(f"{base}/pause", json={})
    assert no_reason.status_code == 422
    paused = client.post(f"{base}/pause", json={"reason": "委托人身体不适"})
    assert paused.json["recording"]["status"] == "paused"
    assert client.post(f"{base}/steps", json={"step": "attestation"}).status_code == 409
    assert client.post(f"{base}/resume", json={}).json["recording"]["status"] == "recording"
    done = client.post(f"{base}/steps", json={"step": "attestation"})
    assert done.json["complete"] is True and done.json["next"] is None

    sealed = client.post(f"{base}/stop", json={})
    assert sealed.status_code == 200, sealed.json
    assert sealed.json["recording"] is None
    record_url = sealed.json["sealed"]["record_url"]
    record = client.get(record_url)
    assert record.status_code == 200
    assert "进行和解" in record.text and "4103**********" + valid_id()[-4:] in record.text

    # The API sees the same recording: one set of services, not two.
    api = witness["call"]("GET", f"/recordings/{sealed.json['sealed']['id']}")
    assert api.json["status"] == "sealed"
    events = [e["action"] for e in api.json["custody"]]
    assert events[:3] == ["started", "marked", "marked"] and "paused" in events


def test_stopping_early_needs_a_reason(officer_client, witness, recording):
    recording()
    base = f"/sessions/{witness['id']}/witness"
    refused = officer_client.post(f"{base}/stop", json={})
    assert refused.status_code == 422 and "reason" in refused.json["detail"]
    stopped = officer_client.post(f"{base}/stop", json={"reason": "网络长时间中断"})
    assert stopped.status_code == 200 and stopped.json["sealed"] is not None


def test_others_get_no_controls_and_are_refused(client, witness, court_staff):
    sid, tokens = witness["id"], witness["session"]["tokens"]
    base = f"/sessions/{sid}/witness"
    # A party's page has no controls; their browser has no staff login: 401.
    for role in ("principal", "agent"):
        page = client.get(f"/join/{tokens[role]}")
        assert page.status_code == 200 and 'id="witness"' not in page.text
    anonymous = client.post(f"{base}/recording", json={"powers": ["general"]})
    assert anonymous.status_code == 401
    assert client.get(base).status_code == 401
    # The officer's own link opened without signing in: a note, not the controls.
    officer_page = client.get(f"/join/{tokens['clerk']}")
    assert 'id="witness"' in officer_page.text and 'id="w-check"' not in officer_page.text

    # Another court's clerk, and a judge of the court who takes no part: 403.
    for outsider in (court_staff["luohe-clerk1"], court_staff["luoyang-judge2"]):
        client.post("/logout")
        sign_in(client, outsider)
        assert client.get(base).status_code == 403
        for path, body in [
            ("identity-check", {"name": "赵六", "id_number": valid_id(), "method": "visual"}),
            ("recording", {"powers": ["general"]}),
            ("steps", {"step": "undertaking"}),
            ("stop", {"reason": "x"}),
        ]:
            refused = client.post(f"{base}/{path}", json=body)
            assert refused.status_code == 403, (path, refused.json)
            assert refused.content_type == "application/problem+json"
        # Their own room page shows no controls either (they are not its officer).
    assert witness["call"]("GET", f"/sessions/{sid}/recordings").json["items"] == []


def test_controls_need_the_pages_token(officer_client, witness):
    base = f"/sessions/{witness['id']}/witness"
    forged = officer_client.post(f"{base}/identity-check", csrf=False, json={
        "name": "赵六", "id_number": valid_id(), "method": "visual"})  # fmt: skip
    assert forged.status_code == 400
    assert officer_client.get(base).json["identity"] is None
    page = officer_client.get(f"/join/{witness['session']['tokens']['clerk']}")
    token = re.search(r'"csrf": "([^"]+)"', page.text).group(1)
    sent = officer_client.post(f"{base}/identity-check", csrf=False,
                               headers={"X-CSRF-Token": token}, json={
        "name": "赵六", "id_number": valid_id(), "method": "visual"})  # fmt: skip
    assert sent.status_code == 201


def test_controls_only_in_a_witnessing(client, now_session, court_staff):
    hearing = now_session("hearing")
    sign_in(client, court_staff["luoyang-clerk1"])
    page = client.get(f"/join/{hearing['tokens']['clerk']}")
    assert page.status_code == 200 and 'id="witness"' not in page.text
    assert client.get(f"/sessions/{hearing['id']}/witness").status_code == 422
