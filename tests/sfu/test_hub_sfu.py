"""The hub's SFU mode through a real Janus, with real aiortc participants speaking our
WebSocket protocol (``publish``, ``subscription`` per feed): the waiting room publishes and
receives nothing, a caucus sees only its own feeds, mute stops a feed at the SFU, a peer
that leaves is unsubscribed; and a Janus that is not there is a clear ``error`` frame.

The media tests run in the namespace ``.ci/run`` makes for ``tests/sfu`` (FACTS.md, Janus).
"""

from __future__ import annotations

import asyncio
import json
import threading

import pytest
from websockets.sync.client import connect

from hearings.sfu.janus import JanusClient
from tests.fixtures.janus import JanusServer
from tests.fixtures.sfu import SfuPeer, until


async def room_exists(janus: JanusServer, room: int) -> bool:
    """Whether Janus has the VideoRoom ``room`` (asked on a session of the test's own)."""
    async with JanusClient(janus.url, janus.api_secret) as client:
        session = await client.create_session()
        handle = await session.attach()
        answer = await handle.message({"request": "exists", "room": room})
        await session.destroy()
        return bool(answer["exists"])


@pytest.mark.media
def test_a_mediation_through_janus_waiting_room_caucus_mute_and_leave(
    janus: JanusServer, sfu_server, now_session
):
    s = now_session("mediation")
    server = sfu_server(janus.url, janus.api_secret)
    url = server.url(s["id"])
    mediator = SfuPeer(url, s["tokens"]["mediator"])
    applicant = SfuPeer(url, s["tokens"]["applicant"])
    respondent = SfuPeer(url, s["tokens"]["respondent"])
    everyone = [mediator, applicant, respondent]

    async def scenario() -> None:
        try:
            mediator.start()
            await until(lambda: mediator.of_type("published"), 15, "the mediator's published")
            assert mediator.welcome["media"] == "sfu"
            applicant.start()
            respondent.start()
            await until(lambda: len(mediator.waiting) == 2, 10, "both parties waiting")
            # The waiting room publishes nothing.
            await respondent.send({"type": "publish", "sdp": {"type": "offer", "sdp": "v=0"}})
            await until(lambda: respondent.of_type("error"), 10, "the refusal")
            assert "admitted" in respondent.of_type("error")[0]["error"]

            await mediator.send({"type": "admit", "peer_id": applicant.peer_id})
            await applicant.frames_of(mediator.peer_id, 10)
            await mediator.frames_of(applicant.peer_id, 10)
            # Feeds flow between the admitted two; the one still waiting is offered none.
            assert respondent.of_type("subscription") == []

            await mediator.send({"type": "admit", "peer_id": respondent.peer_id})
            for peer in everyone:
                for other in everyone:
                    if other is not peer:
                        await peer.frames_of(other.peer_id, 10)
            for peer in everyone:  # one connection per feed
                assert len(peer.subscriptions) == 2
                assert all(len(f["feeds"]) == 1 for f in peer.of_type("subscription"))

            # Mute at the SFU: the respondent's frames stop at the applicant, then resume.
            await mediator.send({"type": "mute", "peer_id": respondent.peer_id, "media": "video"})
            await until(lambda: respondent.of_type("mute"), 5, "the mute frame")
            await asyncio.sleep(1.0)  # what was in flight when the mute took effect
            assert await applicant.gained(respondent.peer_id, 2.0) <= 2
            assert await applicant.gained(mediator.peer_id, 1.0) >= 5  # others still flow
            await mediator.send({"type": "unmute", "peer_id": respondent.peer_id, "media": "video"})
            seen = applicant.counters[respondent.peer_id].frames
            await applicant.frames_of(respondent.peer_id, seen + 20)

            # A caucus (背对背): the mediator and the applicant apart; each side sees only
            # its own sub-room's feeds.
            for who in (applicant, mediator):
                await mediator.send({"type": "move", "peer_id": who.peer_id, "subroom": "a"})
            await until(lambda: not respondent.subscriptions, 10, "the respondent unsubscribed")
            await until(
                lambda: (
                    applicant.receiving() == {mediator.peer_id}
                    and mediator.receiving() == {applicant.peer_id}
                ),
                10,
                "the caucus seeing only each other",
            )
            assert len(respondent.of_type("unsubscribed")) == 2
            assert await applicant.gained(mediator.peer_id, 1.0) >= 5

            # The applicant leaves: the mediator's connection for its feed goes.
            before = len(mediator.of_type("unsubscribed"))
            await applicant.send({"type": "leave"})
            await until(lambda: len(mediator.of_type("unsubscribed")) == before + 1, 10,
                        "the mediator's unsubscribed")  # fmt: skip
            assert mediator.subscriptions == {}

            # Back in the main room with the respondent, who is then removed: its feed goes.
            await mediator.send({"type": "move", "peer_id": mediator.peer_id, "subroom": "main"})
            await mediator.frames_of(respondent.peer_id, 10)
            await respondent.frames_of(mediator.peer_id, 10)
            await mediator.send({"type": "remove", "peer_id": respondent.peer_id})
            await until(lambda: mediator.subscriptions == {}, 10, "the removed peer's feed gone")

            # The end: the session's VideoRoom is destroyed at Janus.
            driver = server.app.extensions["hearings.hub"].sfu
            (videoroom,) = driver.videorooms().values()
            assert await room_exists(janus, videoroom)
            await mediator.send({"type": "end"})
            await until(lambda: mediator.task is not None and mediator.task.done(), 10,
                        "the mediator's socket closed")  # fmt: skip
            await until(lambda: driver.videorooms() == {}, 10, "the driver letting go")
            assert not await room_exists(janus, videoroom)
        finally:
            for peer in everyone:
                await peer.close()

    asyncio.run(scenario())


def test_a_janus_that_is_not_there_is_a_clear_error_frame(sfu_server, now_session, janus_gone):
    s = now_session("hearing")
    server = sfu_server(janus_gone, "any-secret")
    with connect(server.url(s["id"])) as ws:
        ws.send(json.dumps({"type": "join", "token": s["tokens"]["presiding_judge"]}))
        welcome = json.loads(ws.recv(timeout=5))
        assert welcome["type"] == "welcome" and welcome["media"] == "sfu"
        offer = {"type": "offer", "sdp": "v=0\r\n"}
        ws.send(json.dumps({"type": "publish", "sdp": offer}))
        while (frame := json.loads(ws.recv(timeout=10)))["type"] != "error":
            pass
    assert frame["code"] == "media-server-unavailable"
    assert "media server" in frame["error"]
    assert "媒体服务器" in frame["words"]["zh"]
    assert "janus" not in json.dumps(frame).lower()  # where Janus is stays the server's
    # The driver's loop thread stops with the hub.
    assert "sfu-loop" in {t.name for t in threading.enumerate()}
    server.app.extensions["hearings.hub"].shutdown(wait=5)
    assert "sfu-loop" not in {t.name for t in threading.enumerate()}


def test_a_mesh_room_refuses_media_frames(join, now_session):
    s = now_session("hearing")
    judge = join(s["id"], s["tokens"]["presiding_judge"])
    assert judge.welcome["media"] == "mesh"
    judge.send({"type": "publish", "sdp": {"type": "offer", "sdp": "v=0"}})
    assert "mesh" in judge.expect("error")["error"]


@pytest.mark.media
def test_a_hearing_through_janus_the_witness_apart_until_called(
    janus: JanusServer, sfu_server, now_session, court_staff
):
    people = [
        {"role": "presiding_judge", "staff_id": court_staff["luoyang-judge1"].id},
        {"role": "clerk", "staff_id": court_staff["luoyang-clerk1"].id},  # not in the room
        {"role": "party", "name": "王五", "side": "plaintiff", "phone": "13800000002"},
        {"role": "party", "name": "赵七", "side": "defendant", "phone": "13800000007"},
        {"role": "witness", "name": "吴八", "phone": "13800000006"},
    ]
    s = now_session("hearing", participants=people)
    url = sfu_server(janus.url, janus.api_secret).url(s["id"])
    judge = SfuPeer(url, s["tokens"]["presiding_judge"])
    plaintiff = SfuPeer(url, s["tokens"]["plaintiff"])
    defendant = SfuPeer(url, s["tokens"]["defendant"])
    witness = SfuPeer(url, s["tokens"]["witness"])
    court = [judge, plaintiff, defendant]

    async def scenario() -> None:
        try:
            judge.start()
            await until(lambda: judge.peer_id, 10, "the judge's welcome")
            for peer in (plaintiff, defendant, witness):
                peer.start()
            await until(lambda: len(judge.waiting) == 3, 10, "three waiting")
            for party in (plaintiff, defendant):
                await judge.send({"type": "admit", "peer_id": party.peer_id})
            # Three participants, each receiving the two others' frames (a feed per pc).
            for peer in court:
                for other in court:
                    if other is not peer:
                        await peer.frames_of(other.peer_id, 10)
            assert witness.of_type("subscription") == []  # waiting apart: no media at all

            await judge.send({"type": "admit", "peer_id": witness.peer_id})
            for other in court:
                await witness.frames_of(other.peer_id, 10)
                await other.frames_of(witness.peer_id, 10)
            # Testified, sent back to wait: the witness's feed goes, and so do its own.
            await judge.send({"type": "dismiss", "peer_id": witness.peer_id})
            await until(lambda: not witness.subscriptions, 10, "the witness unsubscribed")
            await until(
                lambda: all(witness.peer_id not in p.receiving() for p in court),
                10,
                "the court no longer receiving the witness",
            )
            assert await plaintiff.gained(defendant.peer_id, 1.0) >= 5  # the hearing goes on
            assert [f for p in [*court, witness] for f in p.of_type("error")] == []
        finally:
            for peer in [*court, witness]:
                await peer.close()

    asyncio.run(scenario())


@pytest.mark.media
def test_an_offer_janus_refuses_is_an_error_frame_with_its_code(
    janus: JanusServer, sfu_server, now_session
):
    s = now_session("hearing")
    server = sfu_server(janus.url, janus.api_secret)
    with connect(server.url(s["id"])) as ws:
        ws.send(json.dumps({"type": "join", "token": s["tokens"]["presiding_judge"]}))
        assert json.loads(ws.recv(timeout=5))["media"] == "sfu"
        ws.send(json.dumps({"type": "publish", "sdp": {"type": "offer", "sdp": "v=0\r\n"}}))
        while (frame := json.loads(ws.recv(timeout=15)))["type"] != "error":
            pass
    assert frame["code"] == "media-refused"
    assert frame["words"]["en"] and frame["words"]["zh"]
