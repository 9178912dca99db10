"""Each model's multi-shot wording into data: how the timed scenes of one shot are written for it.

A shot's timed scenes (``Scene 1 [0-3s]: ...``, one a line) are the shots of one call. Each model
follows them worded its own way, declared here once per model (one value: the facts are partly
third-party, ``../shared/spec/models-2026-11.md``), and rewritten by ``storyboard.dialects.wording``
as each body is written:

- ``prose``: storyboard's own ``Scene 1 [0-3s]: ...`` (Wan, HappyHorse: today's);
- ``shot_order``: ``Shot 1: ...`` then ``Cut to Shot 2: ...``, no seconds (Seedance 2.0, whose guide
  calls second ranges unstable);
- ``timestamps``: whole-second stamps, ``[0s-3s] ...`` (Seedance 2.5; windows must be whole seconds);
- ``timed_list``: a numbered list of timed items, ``1. [0-3s] ...`` (MiniMax H3);
- ``multi_prompt``: the body's own list of shots (Kling; the prompt stays prose);
- ``none``: the model follows no timed scenes (``check`` refuses two or more at their line; one
  scene is sent as its text alone).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from storyboard.targets.video.models import MODELS, FactSource, family

Style = Literal["prose", "shot_order", "timestamps", "timed_list", "multi_prompt", "none"]


@dataclass(frozen=True)
class Wording:
    """How one model follows timed scenes: the style, each head's spelling, and its limits."""

    style: Style
    head: str = "Scene {index} [{start}-{end}s]: "  # the first scene's head
    next_head: str = ""  # every later scene's ("": as ``head``)
    whole_seconds: bool = False  # windows must start and end on whole seconds
    max_shots: int = 0  # at most this many scenes (0: the target's limit, else none)
    max_seconds: int = 0  # each scene at most this long (0: no limit of the model's)
    source: FactSource = "third-party"

    @property
    def timed(self) -> bool:
        """Whether the model follows timed scenes at all."""
        return self.style != "none"

    def head_of(self, index: int, start: float, end: float) -> str:
        """Scene ``index``'s head (1-based), its window written as ``{start}``/``{end}``."""
        spelling = self.next_head if index > 1 and self.next_head else self.head
        return spelling.format(index=index, start=f"{start:g}", end=f"{end:g}")


PROSE = Wording("prose", source="official")  # wan2.7-t2v's own form (A5); the default
SHOT_ORDER = Wording("shot_order", "Shot {index}: ", "Cut to Shot {index}: ")
TIMESTAMPS = Wording("timestamps", "[{start}s-{end}s] ", whole_seconds=True)
TIMED_LIST = Wording("timed_list", "{index}. [{start}-{end}s] ")
# Kling 3.0's multi_prompt: at most 5 shots of 1..12 s each (models-2026-11.md, third-party).
MULTI_PROMPT = Wording("multi_prompt", whole_seconds=True, max_shots=5, max_seconds=12)
NONE = Wording("none", head="")

# By model id (a snapshot by its model's); a model not named here words its scenes as prose.
WORDINGS: dict[str, Wording] = {
    "doubao-seedance-2-0-260128": SHOT_ORDER, "dreamina-seedance-2-0-260128": SHOT_ORDER,
    "doubao-seedance-2-5-260628": TIMESTAMPS, "dreamina-seedance-2-5-260628": TIMESTAMPS,
    "MiniMax/MiniMax-H3": TIMED_LIST, "MiniMax-H3": TIMED_LIST,
    "kling-v3-omni": MULTI_PROMPT,
    # Hailuo 2.3 renders one shot from one prompt: no source says it follows timed scenes.
    "MiniMax-Hailuo-2.3": NONE,
}


def wording_of(model_id: str) -> Wording:
    """The multi-shot wording ``model_id`` follows (prose where none is declared)."""
    return WORDINGS.get(family(model_id), PROSE)


def timed_models() -> tuple[str, ...]:
    """The declared models that follow timed scenes (the alternatives to one that does not)."""
    return tuple(m for m in MODELS if wording_of(m).timed)
