"""Sent ComfyUI prompts into files: what each job was, where it went, and how fast instances are.

A ComfyUI server keeps its history in memory: after a restart it knows nothing of a prompt it
was running. So each job's graph is written here before it is sent (``.storyboard/comfyui/jobs/
<prompt_id>.json``: the instance, the graph, the media to upload again, how often it was
re-queued), and a job its server no longer knows can be sent again, once, even by a later process.
``Throughput`` keeps the recent seconds of GPU time per second of video of each instance, for the
plan's wall time estimate.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from storyboard.files import write_atomic

RECENT = 20  # jobs per instance the estimate remembers


@dataclass
class Job:
    prompt_id: str
    shot: str
    instance: str  # the base URL it was sent to ("" until it is)
    workflow: str  # the workflow file
    values: dict[str, Any]  # the scalar placeholders' values
    uploads: dict[str, str] = field(default_factory=dict)  # name in the graph -> local file
    seconds: float = 0.0  # seconds of video it makes
    requeued: int = 0
    canceled: bool = False  # ``cancel`` removed or interrupted it: never re-queued
    notes: list[str] = field(default_factory=list)
    image: bool = False  # a picture (a board), not a video: its first saved image is the result


def write_json(path: Path, data: Any) -> None:
    """Write ``path`` whole or not at all (a temporary file renamed over it). Not synced: a
    killed process leaves it whole; only a machine's crash may lose it, and then its job is
    sent anew (the journal, which is synced, says whether it ran)."""
    write_atomic(path, json.dumps(data, sort_keys=True), durable=False)


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


class Jobs:
    """The job files of one series; a dict in front of them for this process."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._known: dict[str, Job] = {}

    def path(self, prompt_id: str) -> Path:
        return self.folder / f"{prompt_id}.json"

    def save(self, job: Job) -> None:
        write_json(self.path(job.prompt_id), asdict(job))
        self._known[job.prompt_id] = job

    def get(self, prompt_id: str) -> Job | None:
        if prompt_id in self._known:
            return self._known[prompt_id]
        data = read_json(self.path(prompt_id))
        if not isinstance(data, dict):
            return None
        try:
            job = Job(**data)
        except TypeError:
            return None
        self._known[prompt_id] = job
        return job


class Throughput:
    """Seconds of GPU time per second of video, per instance, over its recent jobs."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _read(self) -> dict[str, list[float]]:
        data = read_json(self.path)
        if not isinstance(data, dict):
            return {}
        return {str(k): [float(x) for x in v if isinstance(x, int | float) and x > 0]
                for k, v in data.items() if isinstance(v, list)}

    def add(self, instance: str, gpu_seconds: float, video_seconds: float) -> None:
        if gpu_seconds <= 0 or video_seconds <= 0:
            return
        data = self._read()
        data[instance] = [*data.get(instance, []), gpu_seconds / video_seconds][-RECENT:]
        write_json(self.path, data)

    def wall_seconds(self, instances: list[str], video_seconds: float) -> float | None:
        """How long ``video_seconds`` of shots take over ``instances`` working at once, from
        their recent rates (an instance with none counts at the others' median); None when no
        instance has finished a job yet."""
        data = self._read()
        rates = {i: statistics.median(data[i]) for i in instances if data.get(i)}
        if not rates:
            return None
        typical = statistics.median(rates.values())
        speed = sum(1.0 / rates.get(i, typical) for i in instances)
        return video_seconds / speed
