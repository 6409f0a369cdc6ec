"""The witnessing script as a state machine: steps in order, none skipped."""

from __future__ import annotations

import pytest

from hearings.witness.script import Done, ScriptError, advance, check_powers, is_complete

SPECIAL = ["admit_claims", "settle", "appeal"]


def run(powers, steps):
    done: list[Done] = []
    for step, power in steps:
        done.append(advance(powers, done, step, power))
    return done


def test_full_script_with_special_authorities_one_by_one():
    steps = [("undertaking", None), *(("power", p) for p in SPECIAL),
             ("agent_accepts", None), ("attestation", None)]  # fmt: skip
    done = run(SPECIAL, steps)
    assert is_complete(SPECIAL, done)
    with pytest.raises(ScriptError, match="complete"):
        advance(SPECIAL, done, "attestation", None)


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ([("power", "admit_claims")], "undertaking"),
        ([("undertaking", None), ("agent_accepts", None)], "power confirmed: admit_claims"),
        ([("undertaking", None), ("power", "settle")], "admit_claims"),
        ([("undertaking", None), ("power", "counterclaim")], "not among the powers"),
        ([("undertaking", None), ("undertaking", None)], "next step"),
        ([("undertaking", "settle")], "only the step 'power'"),
        ([("sealed", None)], "unknown step"),
    ],
)
def test_skipping_or_repeating_a_step_is_refused(steps, message):
    *before, (step, power) = steps
    done = run(SPECIAL, before)
    with pytest.raises(ScriptError, match=message):
        advance(SPECIAL, done, step, power)
    assert not is_complete(SPECIAL, done)


@pytest.mark.parametrize(
    ("powers", "message"),
    [([], "name the powers"), (["general", "settle"], "alone"), (["settle", "settle"], "once"),
     (["sell_the_house"], "unknown")],
)  # fmt: skip
def test_grants_are_general_alone_or_distinct_special_authorities(powers, message):
    with pytest.raises(ScriptError, match=message):
        check_powers(powers)
    assert check_powers(["general"]) == ["general"]
