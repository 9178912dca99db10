"""A shot's timed scenes against its model's multi-shot wording into located errors.

A model that follows no timed scenes (``storyboard.targets.video.wording``: ``none``) refuses a shot
written as two scenes or more, at its ``scenes:`` key (one scene is its one prompt), naming the
models that take them; a model that follows whole-second timestamps refuses a window that is not
on whole seconds, at that scene's window. (A model's own list of shots, Kling's, is checked with
its target's limits: ``limits``.)
"""

from __future__ import annotations

from typing import Protocol

from storyboard.errors import Diagnostic
from storyboard.language.document import Document, PathKey
from storyboard.language.resolving.scenes import ResolvedScene, window_path
from storyboard.targets.video.models import Model
from storyboard.targets.video.wording import timed_models, wording_of


class Shot(Protocol):
    """What the check reads of a resolved shot."""

    doc: Document
    path: PathKey
    scenes: list[ResolvedScene]

    @property
    def model(self) -> Model: ...


def wording_problems(shot: Shot) -> list[Diagnostic]:
    """Why ``shot``'s timed scenes cannot be worded for its model (none when they can)."""
    wording = wording_of(shot.model.id)
    if not shot.scenes:
        return []
    if not wording.timed and len(shot.scenes) > 1:
        return [shot.doc.diagnostic((*shot.path, "scenes"), (
            f"{shot.model.id} takes no timed scenes (it renders one shot from one prompt): "
            "write the shot as one prompt: instead, or choose a model that takes them: "
            f"{', '.join(timed_models())}"), key=True, code="model-scenes")]
    if not wording.timed or not wording.whole_seconds:
        return []
    return [shot.doc.diagnostic(window_path(shot.doc, scene), (
        f"scene {scene.index} [{scene.start:g}-{scene.end:g}s]: {shot.model.id} follows "
        "whole-second timestamps; expected a window that starts and ends on whole seconds"),
        code="model-scenes") for scene in shot.scenes
        if not (float(scene.start).is_integer() and float(scene.end).is_integer())]
