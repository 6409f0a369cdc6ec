"""The witnessing script: the steps the officer drives, in order, none skipped.

identity check → recording on → undertaking read → each power confirmed aloud, one by one →
the agent accepts → the officer attests → sealed. The first two are the preconditions of a
recording (an identity check of the principal; the recording itself); the marks of the
others are the script's state, so it is never stored twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hearings.scheduling.vocabulary import ParticipantRole

#: 民诉法 Art. 62: a general agency, or special authorities named one by one.
GENERAL = "general"
SPECIAL_POWERS = {
    "admit_claims": "承认诉讼请求 admit claims",
    "waive_claims": "放弃诉讼请求 waive claims",
    "change_claims": "变更诉讼请求 change claims",
    "settle": "进行和解 settle",
    "counterclaim": "提起反诉 counterclaim",
    "appeal": "提起上诉 appeal",
}
POWER_LABELS = {GENERAL: "一般授权 general agency", **SPECIAL_POWERS}
#: How the record names each role of a witnessing.
ROLE_LABELS: dict[str, str] = {
    ParticipantRole.PRINCIPAL: "委托人 principal",
    ParticipantRole.AGENT: "受托人 agent",
    ParticipantRole.CLERK: "见证人员（书记员） officer (clerk)",
    ParticipantRole.JUDGE: "见证人员（法官） officer (judge)",
}
#: The steps marked in the recording, in order (``power`` once per power).
STEPS = ("undertaking", "power", "agent_accepts", "attestation")
STEP_LABELS = {
    "identity": "核验身份 identity checked",
    "recording": "开始录像 recording on",
    "undertaking": "委托人宣读承诺 undertaking read",
    "power": "逐项确认授权 power confirmed",
    "agent_accepts": "受托人接受委托 agent accepts",
    "attestation": "见证人员确认 officer attests",
    "sealed": "封存 sealed",
}


class ScriptError(ValueError):
    """A step out of order, or a power that isn't granted or was confirmed already; ``code``
    names which (``witness/words.py`` says it)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def check_powers(powers: Sequence[str]) -> list[str]:
    """A valid grant: ``["general"]``, or distinct special authorities."""
    if not powers:
        raise ScriptError(
            "powers-missing", "name the powers granted: general, or special authorities"
        )
    if list(powers) == [GENERAL]:
        return [GENERAL]
    unknown = [p for p in powers if p not in SPECIAL_POWERS]
    if GENERAL in powers:
        raise ScriptError(
            "general-agency-alone",
            "a general agency is granted alone, not with special authorities",
        )
    if unknown:
        raise ScriptError("powers-unknown", f"unknown powers: {', '.join(unknown)}")
    if len(set(powers)) != len(powers):
        raise ScriptError("powers-repeated", "each power is named once")
    return list(powers)


@dataclass(frozen=True)
class Done:
    """A step done: ``(step, power)``."""

    step: str
    power: str | None = None


def expected(powers: Sequence[str], done: Sequence[Done]) -> Done | None:
    """The next step the script allows, or None once the officer has attested."""
    plan = [Done("undertaking"), *(Done("power", p) for p in powers)]
    plan += [Done("agent_accepts"), Done("attestation")]
    if list(done) != plan[: len(done)]:
        raise ScriptError("steps-out-of-order", "the marks on file are out of order")
    return plan[len(done)] if len(done) < len(plan) else None


def advance(powers: Sequence[str], done: Sequence[Done], step: str, power: str | None) -> Done:
    """Check that ``step`` (and ``power``) is the next one; return it. Skipping is refused."""
    if step not in STEPS:
        raise ScriptError(
            "step-unknown", f"unknown step {step!r}; the steps are {', '.join(STEPS)}"
        )
    nxt = expected(powers, done)
    if nxt is None:
        raise ScriptError("script-complete", "the script is complete: the officer has attested")
    if step == "power" and power not in powers:
        raise ScriptError(
            "power-not-granted", f"{power!r} is not among the powers granted ({', '.join(powers)})"
        )
    if step != "power" and power is not None:
        raise ScriptError("power-on-wrong-step", "only the step 'power' names a power")
    if Done(step, power) != nxt:
        wanted = STEP_LABELS[nxt.step] + (f": {nxt.power}" if nxt.power else "")
        raise ScriptError(
            "step-skipped", f"the next step is {wanted}; steps are taken in order, none skipped"
        )
    return nxt


def is_complete(powers: Sequence[str], done: Sequence[Done]) -> bool:
    """Whether the officer has attested (the recording may be sealed as complete)."""
    return expected(powers, done) is None
