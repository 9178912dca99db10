"""Retired model ids into their declarations: the date a vendor stopped serving each, and its successor.

A model a vendor has withdrawn is refused by ``check`` where a series names it, naming its
successor (a model storyboard declares) or, where the vendor names none that storyboard declares,
what the vendor says instead; ``plan --compare`` leaves it out. Only retirements of models a
series could name on a target storyboard speaks are declared (``../shared/spec/models-2026-11.md``):
Sora 2 and Sora 2 Pro, the models OpenAI's own Videos API served in the shape the ``openai-video``
target speaks. Veo 3.1's preview ids and Wan 2.6 are not declared: no target here sells them.
"""

from __future__ import annotations

from dataclasses import dataclass

from storyboard.targets.capabilities import SNAPSHOT
from storyboard.targets.video.models import FactSource


@dataclass(frozen=True)
class Retirement:
    """One withdrawn model: since when, what replaces it, and on whose word."""

    model: str
    date: str  # ISO date the vendor stopped serving it
    successor: str = ""  # a model id storyboard declares ("": the vendor names none declared here)
    vendor_says: str = ""  # the vendor's own word on a replacement, where no successor is declared
    source: FactSource = "official"

    def sentence(self) -> str:
        """``sora-2 was retired on 2026-09-24 (...)``: the refusal's first half."""
        said = f"; {self.vendor_says}" if self.vendor_says else ""
        return f"{self.model} was retired on {self.date}{said}"

    def instead(self, alternatives: tuple[str, ...]) -> str:
        """What to write instead: the successor, else the models still declared."""
        if self.successor:
            return f"its successor is {self.successor}: set model: {self.successor}"
        return f"no successor is declared; expected one of: {', '.join(alternatives)}"


# OpenAI's model page (official): the Videos API and both Sora 2 models shut on 2026-09-24.
_SORA = "OpenAI shut its Videos API and names no direct replacement"
RETIRED: dict[str, Retirement] = {r.model: r for r in (
    Retirement("sora-2", "2026-09-24", vendor_says=_SORA),
    Retirement("sora-2-pro", "2026-09-24", vendor_says=_SORA),
)}


def retirement(model_id: str) -> Retirement | None:
    """The retirement of ``model_id`` (a snapshot id by its model's), or None while it is served."""
    match = SNAPSHOT.match(model_id)
    return RETIRED.get(model_id) or (RETIRED.get(match.group("family")) if match else None)
