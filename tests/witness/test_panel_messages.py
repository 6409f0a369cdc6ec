"""The officer's witnessing panel and the witness record speak plainly: refusals in the
officer's language (the problem's ``message``), stored values as words, not codes."""

from __future__ import annotations

import pytest

from tests.conftest import sign_in
from tests.fixtures.witness import valid_id
from tests.witness.test_record_pdf import sealed  # noqa: F401  (a fixture)


@pytest.fixture
def panel(client, witness):
    """The officer's browser, signed in."""
    sign_in(client, witness["officer"])
    return client


@pytest.mark.parametrize(
    ("lang", "wrong_digit", "skipped", "no_reason"),
    [
        ("zh", "身份证号码校验位不正确，请核对。", "步骤须按顺序进行，不能跳过。",
         "见证流程尚未完成：请填写停止录像的原因（《庭审录音录像规定》第4条）。"),
        ("en", "The ID number's check digit is wrong; please check it.",
         "Steps are taken in order; none may be skipped.",
         "The witnessing script isn't complete: give the reason for stopping (Provisions on "
         "Audio and Video Recording of Trials, Art. 4)."),
    ],
)  # fmt: skip
def test_panel_refusals_in_the_officers_language(panel, witness, lang, wrong_digit, skipped,
                                                  no_reason):  # fmt: skip
    client, base = panel, f"/sessions/{witness['id']}/witness"
    client.get(f"/lang/{lang}")
    early = client.post(f"{base}/recording", json={"powers": ["general"]})
    assert early.json["message"] == (
        "请先核对委托人身份，再开始录像。" if lang == "zh"
        else "Check the principal's identity before starting the recording."
    )  # fmt: skip
    wrong = client.post(f"{base}/identity-check", json={
        "name": "赵六", "id_number": "410302199003071230", "method": "visual",
        "face_confirmed": True})  # fmt: skip
    assert wrong.status_code == 422 and wrong.json["message"] == wrong_digit
    # The problem document keeps its developer's detail.
    assert "check digit" in wrong.json["detail"]
    not_the_name = client.post(
        f"{base}/identity-check",
        json={"name": "别人", "id_number": valid_id(), "method": "visual", "face_confirmed": True},
    )
    assert not_the_name.json["message"] == (
        "身份证上的姓名与委托人姓名不一致，请核对。" if lang == "zh"
        else "The name on the ID card differs from the principal's name; please check it."
    )  # fmt: skip
    client.post(
        f"{base}/identity-check",
        json={"name": "赵六", "id_number": valid_id(), "method": "visual", "face_confirmed": True},
    )
    assert client.post(f"{base}/recording", json={"powers": ["general"]}).status_code == 201
    out_of_order = client.post(f"{base}/steps", json={"step": "agent_accepts"})
    assert out_of_order.status_code == 409 and out_of_order.json["message"] == skipped
    stop = client.post(f"{base}/stop", json={})
    assert stop.status_code == 422 and stop.json["message"] == no_reason


def test_witness_record_shows_words_not_codes(client, witness, sealed):  # noqa: F811
    with client.session_transaction() as cookie:
        cookie["_user_id"] = str(witness["officer"].id)
    page = client.get(f"/recordings/{sealed['id']}/record")
    assert page.status_code == 200
    for words in ("已封存 sealed", "洛阳中院", "目视核对", "已关闭 closed"):
        assert words in page.text, words
    assert "<td>sealed" not in page.text and "<td>luoyang</td>" not in page.text
    assert "<td>visual</td>" not in page.text and "<td>closed</td>" not in page.text


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("zh", "受托代理人 钱律师还不在视频室中（或尚未准许入会）：请等其进入并准许入会后再继续。"),
        ("en", "not in the room yet (or not let in): wait until they have joined and been let in."),
    ],
)
def test_panel_names_who_is_not_in_the_room(panel, witness, lang, said):
    client, base = panel, f"/sessions/{witness['id']}/witness"
    client.get(f"/lang/{lang}")
    check = client.post(f"{base}/identity-check", json={
        "participant_id": witness["principal"]["id"], "name": "赵六", "id_number": valid_id(),
        "method": "visual", "face_confirmed": True,
    })  # fmt: skip
    assert check.status_code == 201, check.json
    witness["leave"]("agent")
    refused = client.post(f"{base}/recording", json={"powers": ["general"]})
    assert refused.status_code == 409
    assert said in refused.json["message"] and "钱律师" in refused.json["message"]
