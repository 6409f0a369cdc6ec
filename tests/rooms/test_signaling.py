"""The signaling hub over a real WebSocket: handshake, waiting room, relay, controls."""

from __future__ import annotations

import json
from datetime import datetime

import jwt
import pytest

from hearings.extensions import db
from hearings.rooms.tokens import issue_recorder_token
from hearings.scheduling.models import Session
from hearings.timekeeping import COURT_TZ
from tests.fixtures.rooms import Peer


def test_waiting_room_admit_and_relay(now_session, join, status_of):
    s = now_session("mediation")
    mediator = join(s["id"], s["tokens"]["mediator"])
    assert mediator.welcome["state"] == "admitted"
    assert mediator.welcome["role"] == "mediator"
    assert mediator.welcome["peers"] == []
    assert isinstance(mediator.welcome["ice_servers"], list)

    applicant = join(s["id"], s["tokens"]["applicant"])
    assert applicant.welcome["state"] == "waiting"
    waiting = mediator.expect("waiting")
    assert waiting["peer"]["peer_id"] == applicant.peer_id
    assert waiting["peer"]["name"] == "张三"

    # Not admitted yet: relaying is refused.
    applicant.send(
        {"type": "offer", "to": mediator.peer_id, "sdp": {"type": "offer", "sdp": "v=0"}}
    )
    assert "admitted" in applicant.expect("error")["error"]

    mediator.send({"type": "admit", "peer_id": applicant.peer_id})
    admitted = applicant.expect("admitted")
    assert [(p["peer_id"], p["role"]) for p in admitted["peers"]] == [
        (mediator.peer_id, "mediator")
    ]
    assert mediator.expect("peer-joined")["peer"]["peer_id"] == applicant.peer_id

    respondent = join(s["id"], s["tokens"]["respondent"])
    mediator.expect("waiting")
    mediator.send({"type": "admit", "peer_id": respondent.peer_id})
    respondent.expect("admitted")

    # An offer reaches only the addressed peer, with "from" added.
    offer = {"type": "offer", "to": mediator.peer_id, "sdp": {"type": "offer", "sdp": "v=0\r\n"}}
    applicant.send(offer)
    got = mediator.expect("offer")
    assert got["from"] == applicant.peer_id and got["sdp"] == offer["sdp"]
    candidate = {
        "candidate": "candidate:1 1 udp 1 10.0.0.1 9 typ host",
        "sdpMid": "0",
        "sdpMLineIndex": 0,
    }
    mediator.send({"type": "candidate", "to": applicant.peer_id, "candidate": candidate})
    assert applicant.expect("candidate")["candidate"] == candidate
    respondent.send({"type": "ping"})
    # The respondent sees pong and peer-joined frames but never the relayed offer.
    frames = []
    while True:
        frame = respondent.recv()
        frames.append(frame["type"])
        if frame["type"] == "pong":
            break
    assert "offer" not in frames and "candidate" not in frames

    applicant.send({"type": "leave"})
    assert mediator.expect("peer-left")["peer_id"] == applicant.peer_id
    assert status_of(s["id"]) == "in_progress"


def test_handshake_refusals(now_session, open_ws, join, app):
    s = now_session("mediation")
    other = now_session("mediation", starts_at="2026-09-01T10:30", ends_at="2026-09-01T11:00")

    def first_frame_closes(frame: str | None) -> int:
        ws = open_ws(s["id"])
        if frame is not None:
            ws.send(frame)
        return Peer(ws, {}).close_code(timeout=10)

    assert first_frame_closes(json.dumps({"type": "join"})) == 4401
    assert first_frame_closes(json.dumps({"type": "join", "token": "garbage"})) == 4401
    assert first_frame_closes(json.dumps({"type": "hello"})) == 4401
    assert first_frame_closes("not json") == 4401
    assert (
        first_frame_closes(json.dumps({"type": "join", "token": other["tokens"]["applicant"]}))
        == 4403
    )
    app.config["ROOM_JOIN_TIMEOUT"] = 0.5
    assert first_frame_closes(None) == 4401


def test_token_before_its_window_gets_4408(now_session, open_ws, app):
    s = now_session("mediation")
    app.config["NOW"] = "2026-09-01T08:30:00+08:00"  # the room opens at 08:45
    ws = open_ws(s["id"])
    ws.send(json.dumps({"type": "join", "token": s["tokens"]["applicant"]}))
    assert Peer(ws, {}).close_code() == 4408


def test_a_link_issued_before_a_reschedule_works_in_the_new_window(
    now_session, open_ws, join, app, client, auth, court_staff
):
    # Moved later than the window signed into the token: the page and the socket both judge
    # the link by the session's current window.
    s = now_session("mediation")
    moved = client.patch(
        f"/api/v1/sessions/{s['id']}",
        json={"starts_at": "2026-09-02T15:00", "ends_at": "2026-09-02T16:00"},
        headers=auth(court_staff["luoyang-admin"]),
    )
    assert moved.status_code == 200, moved.json
    token = s["tokens"]["applicant"]
    assert jwt.decode(token, options={"verify_signature": False})["exp"] < int(
        datetime(2026, 9, 2, 15, tzinfo=COURT_TZ).timestamp()
    )
    app.config["NOW"] = "2026-09-02T15:05:00+08:00"
    page = client.get(f"/join/{token}")
    assert page.status_code == 200
    assert 'id="prejoin"' in page.text and 'id="come-back"' not in page.text
    applicant = join(s["id"], token)
    assert applicant.welcome["state"] == "waiting"
    # ... and in the old window, now outside the session's, both refuse.
    app.config["NOW"] = "2026-09-01T09:20:00+08:00"
    ws = open_ws(s["id"])
    ws.send(json.dumps({"type": "join", "token": token}))
    assert Peer(ws, {}).close_code() == 4408


def test_cross_site_origin_is_refused(now_session, open_ws):
    s = now_session("mediation")
    ws = open_ws(s["id"], origin="https://evil.example")
    # Refused before the token is even read.
    assert Peer(ws, {}).close_code() == 4403


def test_moderator_controls(now_session, join, client, auth, court_staff, status_of):
    s = now_session("mediation")
    mediator = join(s["id"], s["tokens"]["mediator"])
    applicant = join(s["id"], s["tokens"]["applicant"])
    mediator.expect("waiting")
    # Parties can't moderate.
    applicant.send({"type": "admit", "peer_id": applicant.peer_id})
    assert "only" in applicant.expect("error")["error"]
    mediator.send({"type": "admit", "peer_id": applicant.peer_id})
    applicant.expect("admitted")
    mediator.send({"type": "mute", "peer_id": applicant.peer_id, "media": "audio"})
    assert applicant.expect("mute") == {"type": "mute", "media": "audio", "by": mediator.peer_id}
    mediator.send({"type": "remove", "peer_id": applicant.peer_id})
    assert applicant.close_code() == 4403
    assert mediator.expect("peer-left")["peer_id"] == applicant.peer_id

    respondent = join(s["id"], s["tokens"]["respondent"])
    mediator.expect("waiting")
    mediator.send({"type": "admit", "peer_id": respondent.peer_id})
    respondent.expect("admitted")
    mediator.send({"type": "end"})
    assert respondent.expect("ended")["by"] == mediator.peer_id
    assert respondent.close_code() == 1000
    assert status_of(s["id"]) == "completed"

    events = client.get(
        f"/api/v1/sessions/{s['id']}/attendance", headers=auth(court_staff["luoyang-admin"])
    ).json["items"]
    seen = [(e["name"], e["event"]) for e in events]
    assert ("张三", "joined") in seen and ("张三", "admitted") in seen
    assert ("张三", "removed") in seen
    assert ("李四", "ended") in seen or ("李四", "dropped") in seen
    assert all(e["at"].endswith("+08:00") for e in events)


def test_dropped_connection_is_a_drop_not_a_leave(
    now_session, join, open_ws, client, auth, court_staff
):
    s = now_session("mediation")
    mediator = join(s["id"], s["tokens"]["mediator"])
    applicant = join(s["id"], s["tokens"]["applicant"])
    mediator.expect("waiting")
    applicant.ws.close()  # no "leave": the network went away
    assert mediator.expect("peer-left")["peer_id"] == applicant.peer_id
    events = client.get(
        f"/api/v1/sessions/{s['id']}/attendance", headers=auth(court_staff["luoyang-admin"])
    ).json["items"]
    assert [e["event"] for e in events if e["name"] == "张三"] == ["joined", "dropped"]


def test_limits_and_bad_frames(now_session, join, app):
    s = now_session("mediation")
    mediator = join(s["id"], s["tokens"]["mediator"])
    applicant = join(s["id"], s["tokens"]["applicant"])
    mediator.expect("waiting")

    applicant.send("{not json")
    assert applicant.expect("error")["error"] == "malformed JSON"
    applicant.send({"type": "teleport"})
    assert "unknown" in applicant.expect("error")["error"]
    applicant.send("x" * (65 * 1024))
    assert applicant.close_code() == 4413
    # The mediator is still served.
    mediator.send({"type": "ping"})
    assert mediator.expect("pong") == {"type": "pong"}

    respondent = join(s["id"], s["tokens"]["respondent"])
    mediator.expect("waiting")
    for _ in range(app.config["ROOM_FRAME_BURST"] + 50):
        try:
            respondent.send({"type": "ping"})
        except Exception:
            break
    assert respondent.close_code() == 4429
    mediator.send({"type": "ping"})
    assert mediator.expect("pong") == {"type": "pong"}


def test_cancelling_closes_the_room(now_session, join, client, auth, court_staff):
    s = now_session("mediation")
    mediator = join(s["id"], s["tokens"]["mediator"])
    response = client.post(
        f"/api/v1/sessions/{s['id']}/cancel",
        json={"reason": "当事人和解"},
        headers=auth(court_staff["luoyang-admin"]),
    )
    assert response.status_code == 200
    assert mediator.close_code() == 4403


def test_removed_participant_is_cut_off(now_session, join, open_ws, client, auth, court_staff):
    s = now_session("mediation")
    mediator = join(s["id"], s["tokens"]["mediator"])
    applicant = join(s["id"], s["tokens"]["applicant"])
    mediator.expect("waiting")
    pid = next(p["id"] for p in s["participants"] if p.get("side") == "applicant")
    removed = client.delete(
        f"/api/v1/sessions/{s['id']}/participants/{pid}", headers=auth(court_staff["luoyang-admin"])
    )
    assert removed.status_code == 200
    assert applicant.close_code() == 4403
    # The same token can't come back.
    ws = open_ws(s["id"])
    ws.send(json.dumps({"type": "join", "token": s["tokens"]["applicant"]}))
    assert Peer(ws, {}).close_code() == 4403


def test_a_replaced_link_is_cut_off(now_session, join, open_ws, client, auth, court_staff):
    s = now_session("mediation")
    mediator = join(s["id"], s["tokens"]["mediator"])
    applicant = join(s["id"], s["tokens"]["applicant"])
    mediator.expect("waiting")
    pid = next(p["id"] for p in s["participants"] if p.get("side") == "applicant")
    reissued = client.post(
        f"/api/v1/sessions/{s['id']}/participants/{pid}/link",
        headers=auth(court_staff["luoyang-admin"]),
    )
    assert reissued.status_code == 201
    assert applicant.close_code() == 4403
    ws = open_ws(s["id"])
    ws.send(json.dumps({"type": "join", "token": s["tokens"]["applicant"]}))
    assert Peer(ws, {}).close_code() == 4403
    # The new link lets the same person in.
    again = join(s["id"], reissued.json["url"].rsplit("/", 1)[1])
    assert mediator.expect("waiting")["peer"]["peer_id"] == again.peer_id


def test_caucus_rooms_keep_parties_apart(now_session, join):
    s = now_session("mediation")
    mediator = join(s["id"], s["tokens"]["mediator"])
    a = join(s["id"], s["tokens"]["applicant"])
    b = join(s["id"], s["tokens"]["respondent"])
    for _ in (a, b):
        mediator.expect("waiting")
    for p in (a, b):
        mediator.send({"type": "admit", "peer_id": p.peer_id})
        p.expect("admitted")
    mediator.send({"type": "move", "peer_id": b.peer_id, "subroom": "caucus-b"})
    moved = b.expect("moved")
    assert moved == {"type": "moved", "subroom": "caucus-b", "peers": []}
    assert a.expect("peer-left")["peer_id"] == b.peer_id
    # Across sub-rooms nothing is relayed.
    a.send({"type": "offer", "to": b.peer_id, "sdp": {"type": "offer", "sdp": "v=0"}})
    assert a.expect("error")["error"] == "no such peer here"
    # The mediator joins b's caucus: now they talk privately.
    mediator.send({"type": "move", "peer_id": mediator.peer_id, "subroom": "caucus-b"})
    assert mediator.expect("moved")["peers"][0]["peer_id"] == b.peer_id
    mediator.send({"type": "offer", "to": b.peer_id, "sdp": {"type": "offer", "sdp": "v=0"}})
    assert b.expect("offer")["from"] == mediator.peer_id
    a.send({"type": "ping"})
    frames = []
    while (frame := a.recv())["type"] != "pong":
        frames.append(frame["type"])
    assert "offer" not in frames


def test_moderators_see_who_is_in_which_caucus(now_session, join):
    s = now_session("mediation")
    mediator = join(s["id"], s["tokens"]["mediator"])
    a = join(s["id"], s["tokens"]["applicant"])
    b = join(s["id"], s["tokens"]["respondent"])
    for p in (a, b):
        mediator.expect("waiting")
        mediator.send({"type": "admit", "peer_id": p.peer_id})
        p.expect("admitted")

    def rooms(frame: dict) -> dict[str, str]:
        return {p["name"]: p["subroom"] for p in frame["peers"]}

    mediator.send({"type": "move", "peer_id": a.peer_id, "subroom": "caucus-a"})
    assert a.expect("moved")["subroom"] == "caucus-a"
    # The party's tile leaves the mediator's room, but the mediator still sees where it is.
    assert mediator.expect("peer-left")["peer_id"] == a.peer_id
    seen = mediator.expect("subrooms")
    assert rooms(seen) == {"张三": "caucus-a", "李四": "main", seen["peers"][0]["name"]: "main"}
    assert {p["role"] for p in seen["peers"]} == {"mediator", "party"}

    # The mediator follows into the caucus and comes back; then brings the party back.
    mediator.send({"type": "move", "peer_id": mediator.peer_id, "subroom": "caucus-a"})
    assert [p["peer_id"] for p in mediator.expect("moved")["peers"]] == [a.peer_id]
    assert a.expect("peer-joined")["peer"]["role"] == "mediator"
    while (left := b.expect("peer-left"))["peer_id"] == a.peer_id:
        pass
    assert left["peer_id"] == mediator.peer_id
    assert rooms(mediator.expect("subrooms"))["李四"] == "main"
    mediator.send({"type": "move", "peer_id": mediator.peer_id, "subroom": "main"})
    assert [p["peer_id"] for p in mediator.expect("moved")["peers"]] == [b.peer_id]
    mediator.expect("subrooms")
    mediator.send({"type": "move", "peer_id": a.peer_id, "subroom": "main"})
    assert {p["peer_id"] for p in a.expect("moved")["peers"]} == {mediator.peer_id, b.peer_id}
    assert set(rooms(mediator.expect("subrooms")).values()) == {"main"}

    # A party in a caucus who drops out is taken off the moderator's list too.
    mediator.send({"type": "move", "peer_id": b.peer_id, "subroom": "caucus-b"})
    assert rooms(mediator.expect("subrooms"))["李四"] == "caucus-b"
    b.ws.close()
    assert "李四" not in rooms(mediator.expect("subrooms"))

    # Parties never hear where anyone else is.
    a.send({"type": "ping"})
    frames = []
    while (frame := a.recv())["type"] != "pong":
        frames.append(frame["type"])
    assert "subrooms" not in frames


def test_a_party_admitted_while_the_mediator_is_in_a_caucus_waits_in_the_main_room(
    now_session, join
):
    s = now_session("mediation")
    mediator = join(s["id"], s["tokens"]["mediator"])
    a = join(s["id"], s["tokens"]["applicant"])
    mediator.expect("waiting")
    mediator.send({"type": "admit", "peer_id": a.peer_id})
    a.expect("admitted")
    mediator.send({"type": "move", "peer_id": a.peer_id, "subroom": "caucus-a"})
    mediator.send({"type": "move", "peer_id": mediator.peer_id, "subroom": "caucus-a"})
    mediator.expect("moved")
    b = join(s["id"], s["tokens"]["respondent"])
    mediator.expect("waiting")
    mediator.send({"type": "admit", "peer_id": b.peer_id})
    # The respondent never enters the applicant's caucus.
    assert b.expect("admitted")["peers"] == []
    while (frame := mediator.recv())["type"] != "subrooms" or len(frame["peers"]) < 3:
        assert frame["type"] != "peer-joined"
    assert {p["name"]: p["subroom"] for p in frame["peers"]}["李四"] == "main"


def test_an_arrival_is_announced_before_its_offer(app, now_session, join):
    """The others hear ``peer-joined`` before the newcomer hears ``admitted`` (and so before
    its offers, which follow ``admitted``): a tile is named when its media comes."""
    s = now_session("mediation")
    mediator = join(s["id"], s["tokens"]["mediator"])
    party = join(s["id"], s["tokens"]["applicant"])
    mediator.expect("waiting")
    bus = app.extensions["hearings.hub"].bus
    published, publish = [], bus.publish

    def watched(session_id, envelope):  # the real bus still delivers every envelope
        if envelope.get("kind") == "frame":
            published.append(envelope["frame"]["type"])
        publish(session_id, envelope)

    bus.publish = watched
    try:
        mediator.send({"type": "admit", "peer_id": party.peer_id})
        party.expect("admitted")
    finally:
        bus.publish = publish
    assert published.index("peer-joined") < published.index("admitted")
    party.send({"type": "offer", "to": mediator.peer_id, "sdp": {"type": "offer", "sdp": "v=0"}})
    frames = []
    while (frame := mediator.recv())["type"] != "offer":
        frames.append(frame["type"])
    assert "peer-joined" in frames


def test_witness_waits_apart_in_a_hearing(now_session, join, court_staff):
    people = [
        {"role": "presiding_judge", "staff_id": court_staff["luoyang-judge1"].id},
        {"role": "clerk", "staff_id": court_staff["luoyang-clerk1"].id},
        {"role": "party", "name": "王五", "side": "plaintiff", "phone": "13800000002"},
        {"role": "witness", "name": "吴八", "phone": "13800000006"},
    ]
    s = now_session("hearing", participants=people)
    judge = join(s["id"], s["tokens"]["presiding_judge"])
    witness = join(s["id"], s["tokens"]["witness"])
    party = join(s["id"], s["tokens"]["plaintiff"])
    assert judge.expect("waiting")["peer"] == {
        "peer_id": witness.peer_id,
        "name": "吴八",
        "role": "witness",
        "apart": True,
    }
    assert judge.expect("waiting")["peer"]["apart"] is False
    judge.send({"type": "admit", "peer_id": party.peer_id})
    party.expect("admitted")
    # The witness is called in, testifies, and is sent back to wait.
    judge.send({"type": "admit", "peer_id": witness.peer_id})
    assert {p["peer_id"] for p in witness.expect("admitted")["peers"]} == {
        judge.peer_id,
        party.peer_id,
    }
    judge.send({"type": "dismiss", "peer_id": witness.peer_id})
    witness.expect("dismissed")
    assert party.expect("peer-left")["peer_id"] == witness.peer_id
    assert judge.expect("waiting")["peer"]["peer_id"] == witness.peer_id


@pytest.mark.parametrize("links_as", ["luohe-judge2"])
def test_links_need_access(now_session, client, auth, court_staff, links_as):
    s = now_session("mediation")
    response = client.post(f"/api/v1/sessions/{s['id']}/links", headers=auth(court_staff[links_as]))
    assert response.status_code == 403
    read = client.get(f"/api/v1/sessions/{s['id']}/attendance", headers=auth(court_staff[links_as]))
    assert read.status_code == 403


def test_welcome_says_what_the_token_allows(now_session, join):
    """The client shows a moderator's controls from ``welcome``'s ``can`` (the token's),
    never from its own copy of who moderates."""
    s = now_session("mediation")
    for who, can in (("mediator", ["publish", "subscribe", "moderate"]),
                     ("applicant", ["publish", "subscribe"])):  # fmt: skip
        claims = jwt.decode(s["tokens"][who], options={"verify_signature": False})
        peer = join(s["id"], s["tokens"][who])
        assert peer.welcome["can"] == claims["can"] == can


def test_status_follows_the_room(now_session, join, status_of):
    s = now_session("mediation")
    assert status_of(s["id"]) == "scheduled"
    mediator = join(s["id"], s["tokens"]["mediator"])
    assert mediator.welcome["state"] == "admitted"
    assert status_of(s["id"]) == "open"
    applicant = join(s["id"], s["tokens"]["applicant"])
    mediator.expect("waiting")
    assert status_of(s["id"]) == "open"
    mediator.send({"type": "admit", "peer_id": applicant.peer_id})
    applicant.expect("admitted")
    assert status_of(s["id"]) == "in_progress"


def test_the_server_recorder_joins_like_a_peer(now_session, join, open_ws, client, status_of):
    s = now_session("witness")
    other = now_session("mediation", starts_at="2026-09-01T10:30", ends_at="2026-09-01T11:00")
    recorder_token = issue_recorder_token(db.session.get(Session, s["id"]))
    db.session.commit()
    officer = join(s["id"], s["tokens"]["clerk"])
    officer_claims = jwt.decode(s["tokens"]["clerk"], options={"verify_signature": False})
    assert officer_claims["can"] == ["publish", "subscribe", "moderate", "record"]
    recorder = join(s["id"], recorder_token)
    assert recorder.welcome["state"] == "admitted"
    assert recorder.welcome["role"] == "recorder"
    assert [p["peer_id"] for p in recorder.welcome["peers"]] == [officer.peer_id]
    assert officer.expect("peer-joined")["peer"]["role"] == "recorder"
    # Recording alone does not put the session in progress.
    assert status_of(s["id"]) == "open"
    # Not for another room, and not a join link.
    ws = open_ws(other["id"])
    ws.send(json.dumps({"type": "join", "token": recorder_token}))
    assert Peer(ws, {}).close_code() == 4403
    assert client.get(f"/join/{recorder_token}").status_code == 403


def test_a_dropped_party_comes_back_in_without_waiting(now_session, join, app):
    s = now_session("mediation")
    mediator = join(s["id"], s["tokens"]["mediator"])
    applicant = join(s["id"], s["tokens"]["applicant"])
    mediator.expect("waiting")
    mediator.send({"type": "admit", "peer_id": applicant.peer_id})
    applicant.expect("admitted")
    assert mediator.expect("peer-joined")["peer"]["peer_id"] == applicant.peer_id
    applicant.ws.close()  # the network drops
    mediator.expect("peer-left")
    back = join(s["id"], s["tokens"]["applicant"])
    assert back.welcome["state"] == "admitted"
    assert [p["peer_id"] for p in back.welcome["peers"]] == [mediator.peer_id]
    assert mediator.expect("peer-joined")["peer"]["peer_id"] == back.peer_id
    # Leaving on purpose, or being sent out, means waiting again next time.
    back.send({"type": "leave"})
    mediator.expect("peer-left")
    again = join(s["id"], s["tokens"]["applicant"])
    assert again.welcome["state"] == "waiting"


def test_frames_too_deep_or_with_invalid_text(now_session, open_ws, join):
    s = now_session("mediation")
    deep = "[" * 20_000 + "]" * 20_000
    surrogate = '{"type": "join", "token": "\\ud800"}'

    for first in (deep, '{"type": "join", "token": ' + deep + "}", surrogate):
        ws = open_ws(s["id"])
        ws.send(first)
        assert Peer(ws, {}).close_code(timeout=10) == 4401

    mediator = join(s["id"], s["tokens"]["mediator"])
    applicant = join(s["id"], s["tokens"]["applicant"])
    mediator.expect("waiting")
    mediator.send({"type": "admit", "peer_id": applicant.peer_id})
    applicant.expect("admitted")
    mediator.expect("peer-joined")

    for frame in (deep, '{"type": "ping", "x": ' + "{" * 65 + "}" * 65 + "}"):
        applicant.send(frame)
        assert "nested" in applicant.expect("error")["error"]
    # An unpaired surrogate relayed on would fail the addressee's socket: refused at once.
    bad = {"type": "candidate", "to": mediator.peer_id, "candidate": {"candidate": "\udc00"}}
    applicant.send(json.dumps(bad))  # escaped: \\udc00 on the wire
    assert "candidate.candidate" in applicant.expect("error")["error"]
    # Both sockets stay up.
    applicant.send({"type": "ping"})
    assert applicant.expect("pong") == {"type": "pong"}
    mediator.send({"type": "ping"})
    assert mediator.expect("pong") == {"type": "pong"}
