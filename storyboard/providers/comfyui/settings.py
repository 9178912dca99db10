"""A series' ``provider:`` block into ComfyUI settings: instances, workflows, frame rate; said plainly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storyboard.errors import StoryboardError

DEFAULT_INSTANCE = "http://127.0.0.1:8188"
DEFAULT_FPS = 16  # Wan's own rate: 5 s is 81 frames (4k+1)
KEYS = ("name", "instances", "workflow", "workflows", "fps", "timeout", "concurrency", "poll",
        "max_wait", "max_download_mb", "submit_rate", "tags")


@dataclass(frozen=True)
class ComfySettings:
    instances: tuple[str, ...]
    workflow: Path | None
    workflows: dict[str, Path]
    fps: int = DEFAULT_FPS
    timeout: float = 60.0

    @classmethod
    def from_mapping(cls, block: Mapping[str, Any], root: Path) -> ComfySettings:
        unknown = sorted(set(block) - set(KEYS))
        if unknown:
            raise StoryboardError(f"provider: {', '.join(unknown)} is not a comfyui setting; "
                                  f"expected: {', '.join(KEYS[1:])}")
        instances = block.get("instances") or [DEFAULT_INSTANCE]
        if not (isinstance(instances, list) and all(
                isinstance(u, str) and u.startswith(("http://", "https://")) for u in instances)):
            raise StoryboardError("provider.instances: expected a list of http(s) URLs, one per "
                                  "ComfyUI server")
        workflows = block.get("workflows") or {}
        if not isinstance(workflows, dict):
            raise StoryboardError("provider.workflows: expected {MODEL or EPISODE/SHOT: FILE}")
        if block.get("workflow") is None and not workflows:
            raise StoryboardError("provider.workflow: comfyui needs a workflow exported with "
                                  "\"Save (API)\" (a JSON file in the series folder)")
        fps = block.get("fps", DEFAULT_FPS)
        if isinstance(fps, bool) or not isinstance(fps, int) or not 1 <= fps <= 120:
            raise StoryboardError(f"provider.fps: expected a whole number 1..120, got {fps!r}")
        main = block.get("workflow")
        for key, name in [("workflow", main), *((f"workflows.{k}", v)
                                                for k, v in workflows.items())]:
            if name is not None and not (root / str(name)).is_file():
                raise StoryboardError(f"provider.{key}: {name} is not a file in the series "
                                      f"folder {root}")
        return cls(tuple(dict.fromkeys(u.rstrip("/") for u in instances)),
                   root / str(main) if main is not None else None,
                   {str(k): root / str(v) for k, v in workflows.items()}, fps,
                   float(block.get("timeout") or 60.0))
