"""A series' ComfyUI settings and shots into the problems its workflows show with no server.

What ``check --provider comfyui`` and ``plan`` find before anything is sent: every workflow the
settings name is read (a ``{{promt}}`` typo, the UI format, a placeholder inside text), and each
shot (cast assets aside: a render refuses them) is checked against the workflow it would use (what
the shot has that its workflow has no placeholder for). The nodes, against each server's
``/object_info``, are checked by ``render``, which reaches the servers. Light: no HTTP library.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from storyboard.errors import Diagnostic, ProblemsFound
from storyboard.language.request import CompiledShot
from storyboard.providers.base import makes
from storyboard.providers.comfyui import workflow as wf
from storyboard.providers.comfyui.settings import ComfySettings
from storyboard.targets.kinds import COMFYUI


def workflow_path(settings: ComfySettings, shot: CompiledShot) -> Path:
    """The workflow ``shot`` renders with: its own, its model's, else the default one."""
    chosen = settings.workflows
    path = (chosen.get(f"{shot.episode}/{shot.name}") or chosen.get(shot.request.model)
            or settings.workflow)
    if path is None:
        raise ProblemsFound([Diagnostic(shot.span, (
            f"shot {shot.episode}/{shot.id}: no workflow for model {shot.request.model}: "
            "add it under provider.workflows, or set provider.workflow"))])
    return path


def load_all(settings: ComfySettings, loaded: dict[Path, wf.Workflow]) -> list[Diagnostic]:
    """Every workflow the settings name, read into ``loaded``; all their problems."""
    problems = []
    for path in sorted({*settings.workflows.values(), *filter(None, [settings.workflow])}):
        try:
            loaded[path] = wf.load_workflow(path)
        except ProblemsFound as found:
            problems += found.diagnostics
    return problems


def offline_problems(block: Mapping[str, Any], root: Path,
                     shots: list[CompiledShot]) -> list[Diagnostic]:
    """Every problem the workflows of the series' ``provider:`` block show for ``shots``."""
    settings = ComfySettings.from_mapping(block, root)
    loaded: dict[Path, wf.Workflow] = {}
    problems = load_all(settings, loaded)

    def pick(shot: CompiledShot) -> wf.Workflow:
        path = workflow_path(settings, shot)
        if path not in loaded:
            raise ProblemsFound([])  # unreadable: reported once above, not once per shot
        return loaded[path]

    try:
        wf.check_shots([s for s in shots if s.asset is None or makes(COMFYUI.name, s.asset)], pick,
                       settings.fps, {})
    except ProblemsFound as found:
        problems += found.diagnostics
    return problems
