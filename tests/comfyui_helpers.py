"""Shared set-up for the ComfyUI tests: the example series wired to emulated instances."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import yaml

from storyboard.emulator.comfyui import ComfyUIServer

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "coffee-shop"
WORKFLOWS = ROOT / "examples" / "comfyui"


def series_on(tmp: Path, servers: Iterable[ComfyUIServer], workflow: str, **extra: Any) -> Path:
    """A copy of the coffee-shop series whose provider is ComfyUI on ``servers``."""
    series = tmp / "coffee-shop"
    shutil.copytree(EXAMPLE, series, ignore=shutil.ignore_patterns(".storyboard", "out"))
    (series / "workflows").mkdir()
    for source in WORKFLOWS.glob("*.json"):
        shutil.copyfile(source, series / "workflows" / source.name)
    doc = yaml.safe_load((series / "storyboard.yaml").read_text())
    doc["provider"] = {"name": "comfyui", "instances": [s.url for s in servers],
                       "workflow": f"workflows/{workflow}", "poll": [0.05], **extra}
    (series / "storyboard.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return series


def prompts(*servers: ComfyUIServer) -> dict[str, int]:
    """Every prompt id the instances were sent, with how often (over all of them)."""
    total: dict[str, int] = {}
    for server in servers:
        for prompt_id, count in server.stats()["prompts"].items():
            total[prompt_id] = total.get(prompt_id, 0) + count
    return total


def wait_until(check: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)
