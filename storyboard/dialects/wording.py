"""A prompt's timed scenes into the wording its model follows: each ``Scene K [A-Bs]: `` head rewritten.

The language writes a shot's timed scenes one a line, each headed ``Scene K [A-Bs]: `` (prose);
the model declares how it follows them (``storyboard.targets.video.wording``), and this rewrite puts each
head in that spelling as a body is written (``Seedance 2.0``: ``Shot 1: ... Cut to Shot 2: ...``).
The request, its hash and what was already rendered are untouched: only the words sent change.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from storyboard.language.request import Scene
from storyboard.targets.video.wording import Style, Wording, wording_of

HEAD = re.compile(r"^Scene (\d+) \[[^\]\n]*\]: ?", re.MULTILINE)
# Storyboard's own heads stay: prose is them, and a list of shots carries its scenes in the body
# (the prompt beside it is ignored). A model that follows no timed scenes loses the head of its one
# scene (``check`` refuses more than one).
KEPT: tuple[Style, ...] = ("prose", "multi_prompt")


def worded(prompt: str, scenes: Sequence[Scene], wording: Wording) -> str:
    """``prompt`` with each timed scene's head spelled as ``wording`` says (``KEPT``: as it is; a
    head whose scene is unknown is kept)."""
    if wording.style in KEPT or not scenes:
        return prompt
    by_index = {scene.index: scene for scene in scenes}

    def head(match: re.Match[str]) -> str:
        scene = by_index.get(int(match.group(1)))
        if scene is None:
            return match.group(0)
        return wording.head_of(scene.index, scene.start, scene.end)
    return HEAD.sub(head, prompt)


def for_model(prompt: str, scenes: Sequence[Scene], model: str) -> str:
    """``prompt`` worded as ``model`` follows timed scenes."""
    return worded(prompt, scenes, wording_of(model))
