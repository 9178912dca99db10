"""Providers' failure words into what they mean: where the request stopped, whether it was billed,
which input a content refusal flagged.

Each target declares its failure words as data (``FailureWords``). A failure is *refused at submit*
when the service answered the submit with an error: no task exists, so nothing is billed, whatever
the word. A task that ends FAILED *failed after the render*; whether that is billed is the target's
declaration (DashScope: "failed tasks are free", official; a gateway's pages say nothing, so the
decision there is ours and marked a guess). A content refusal names the flagged input when the
service's code or message says which (``InputImageSensitiveContentDetected``: a reference image;
DashScope's ``DataInspectionFailed`` "Input text data ...": the prompt; "Output audio ...": the
output's sound); else it says the service did not say which.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Stage = Literal["submit", "render"]
Basis = Literal["official", "third-party", "guess"]

PROMPT, IMAGE, VIDEO, VOICE = "the prompt", "a reference image", "a reference video", \
    "a reference voice"
PERSON = "a real person's face in a reference image"
OUT_VIDEO, OUT_AUDIO = "the output video", "the output audio"
OUT_IMAGE = "the output picture"  # a board's (an image model's)
UNSAID = "an input or the output (the service did not say which)"


@dataclass(frozen=True)
class Word:
    """One failure code as a target spells it: a content refusal (and of which input)?"""

    content: bool = False
    flagged: str = ""  # the input, when the code itself names it
    basis: Basis = "official"


@dataclass(frozen=True)
class FailureWords:
    """A target's failure words and its billing of tasks that fail after the render."""

    codes: Mapping[str, Word] = field(default_factory=dict)  # compared case-insensitively
    render_billed: bool = False  # a task that ran and failed (not a content refusal)
    content_billed: bool = False  # a task whose output was refused on content grounds
    billing_basis: Basis = "guess"
    paid: bool = True  # False: your own machines, nothing is ever billed


@dataclass(frozen=True)
class Failure:
    """One classified failure: what ``status``, the studio and the MCP answers say of it."""

    code: str
    stage: Stage
    billed: bool
    content: bool
    flagged: str  # "" for a failure that is not a content refusal
    basis: Basis  # of the billing decision

    def words(self) -> str:
        """``refused at submit, nothing billed: content refusal of the prompt``."""
        where = "refused at submit" if self.stage == "submit" else "failed after the render"
        money = "billed" if self.billed else "nothing billed"
        if self.basis == "guess" and self.stage == "render":
            money += " (a guess: the service does not document it)"
        said = f"{where}, {money}"
        return f"{said}: content refusal of {self.flagged}" if self.content else said

    def to_dict(self) -> dict[str, object]:
        return {"code": self.code, "stage": self.stage, "billed": self.billed,
                "content": self.content, "flagged": self.flagged or None,
                "basis": self.basis, "words": self.words()}


# DashScope's moderation code carries no input; its message does (third-party reading of it).
_MESSAGE_INPUTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\binput\s+(text|prompt)\b", re.I), PROMPT),
    (re.compile(r"\binput\s+image\b", re.I), IMAGE),
    (re.compile(r"\binput\s+video\b", re.I), VIDEO),
    (re.compile(r"\binput\s+(audio|voice)\b", re.I), VOICE),
    (re.compile(r"\boutput\s+(audio|sound)\b", re.I), OUT_AUDIO),
    (re.compile(r"\boutput\s+(image|picture)\b", re.I), OUT_IMAGE),
    (re.compile(r"\boutput\s+(video|data)\b", re.I), OUT_VIDEO),
)

# The moderation family the resellers pass on (vendors.md, B9: third-party).
_SENSITIVE: dict[str, Word] = {
    "InputTextSensitiveContentDetected": Word(True, PROMPT, "third-party"),
    "InputImageSensitiveContentDetected": Word(True, IMAGE, "third-party"),
    "InputImageSensitiveContentDetected.PrivacyInformation": Word(True, PERSON, "third-party"),
    "InputVideoSensitiveContentDetected": Word(True, VIDEO, "guess"),
    "InputAudioSensitiveContentDetected": Word(True, VOICE, "guess"),
    "OutputVideoSensitiveContentDetected": Word(True, OUT_VIDEO, "third-party"),
    "OutputVideoSensitiveContentDetected.PolicyViolation": Word(True, OUT_VIDEO, "third-party"),
    "OutputAudioSensitiveContentDetected": Word(True, OUT_AUDIO, "guess"),
    "OutputAudioSensitiveContentDetected.PolicyViolation": Word(True, OUT_AUDIO, "third-party"),
    "OutputImageSensitiveContentDetected": Word(True, OUT_IMAGE, "guess"),  # Seedream's picture
}

DASHSCOPE_FAILURES = FailureWords(
    codes={"DataInspectionFailed": Word(True), "IPInfringementSuspect": Word(True, "", "guess"),
           **_SENSITIVE},
    render_billed=False, content_billed=False, billing_basis="official")  # "failed tasks are free"

# Gateways: no page says what a failed task costs. Decided: a refused output is billed (the render
# ran to its end before the check, and counting it errs on the side of the budget); any other
# failure after the render is free, as the model's own service bills it.
GATEWAY_FAILURES = FailureWords(
    codes={"DataInspectionFailed": Word(True), "content_policy_violation": Word(True, "", "guess"),
           "moderation_blocked": Word(True, "", "guess"), **_SENSITIVE},
    render_billed=False, content_billed=True, billing_basis="guess")

# ComfyUI (your GPUs) and the animatic: nothing is billed; ComfyUI refuses a bad workflow at submit
# (``InvalidPrompt``: its node_errors) and fails a job after it ran (``ExecutionError``).
FREE_FAILURES = FailureWords(paid=False, billing_basis="official")

def classify(words: FailureWords, code: str, message: str, *, stage: Stage) -> Failure:
    """One failure under a target's ``words``, in our words. ``stage``: ``submit`` when the
    submit was answered with an error (no task), ``render`` when a task ended FAILED."""
    word = _word(words, code)
    flagged = (word.flagged or _flagged_by(message) or UNSAID) if word.content else ""
    billed = words.paid and stage == "render" and (
        words.content_billed if word.content else words.render_billed)
    basis: Basis = "official" if not words.paid else words.billing_basis
    return Failure(code, stage, billed, word.content, flagged, basis)


def _word(words: FailureWords, code: str) -> Word:
    wanted = code.strip().upper()
    return next((w for c, w in words.codes.items() if c.upper() == wanted), Word())


def _flagged_by(message: str) -> str:
    return next((what for pattern, what in _MESSAGE_INPUTS if pattern.search(message)), "")

