"""A fake provider and shot builders for the runner tests (no HTTP, no patching).

``FakeProvider`` keeps its tasks as JSON files in a folder, so a second process (the SIGKILL tests)
sees the tasks the first one created, and counts every task it ever created per shot: the number
that must never exceed one. Behaviour is programmable per shot id.

Run as a script, it renders a synthetic series in a child process:
``python tests/run_fakes.py SERIES_DIR PROVIDER_DIR SAMPLE.mp4 N_SHOTS [--kill-after-submit K]
[--kill-in-download K] [--latency S]``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import signal
import sys
import time
from collections import Counter
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from storyboard.errors import ProviderError, TransportError
from storyboard.language.request import CompiledShot, MediaItem, MediaRef, ShotRequest
from storyboard.providers.base import BaseProvider
from storyboard.run.trip.model import RunOptions, Wiring
from storyboard.targets import Capabilities, PriceTable, TaskState, TaskStatus, Usage


def make_shot(shot_id: str, *, episode: str = "ep01", prompt: str | None = None,
              duration: int = 2, depends_on: str | None = None, series: str = "demo",
              media: tuple[MediaItem, ...] | None = None, inputs: dict[str, str] | None = None,
              resolution: str = "720P", seed: int | None = 7) -> CompiledShot:
    """A compiled shot with a hash over what matters, like the compiler's."""
    prompt = prompt if prompt is not None else f"Image 1 does {shot_id}"
    if media is None:
        media = (MediaItem("reference_image", MediaRef(url="https://example.com/mia.png"),
                           "Image 1", "mia"),)
    if depends_on:
        media = (*media, MediaItem("first_frame", None, from_shot=depends_on))
    request = ShotRequest("wan2.7-r2v", prompt, media, resolution, "16:9", duration, False, False,
                          None, seed)
    inputs = inputs or {}
    canonical: dict[str, Any] = {
        "prompt": prompt, "duration": duration, "resolution": resolution, "seed": seed,
        "media": [{"type": m.role, "file": {"sha256": inputs.get(str(m.ref.path))}
                   if m.ref and m.ref.path else {"url": m.ref.url if m.ref else None}}
                  for m in media],
        "depends_on": depends_on,
    }
    digest = hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()
    return CompiledShot(series, episode, shot_id, request, digest, depends_on=depends_on,
                        inputs=inputs, canonical=canonical)


@dataclass
class Behaviour:
    """What the fake does for one shot id (all counts are 'this many times, then normally')."""

    outcome: TaskStatus = TaskStatus.SUCCEEDED
    code: str = ""
    message: str = ""
    polls: int = 1  # queries answering RUNNING before the outcome
    submit_errors: list[ProviderError] = field(default_factory=list)
    lost_answers: int = 0  # create the task, then raise TransportError (an answer never read)
    download_failures: int = 0
    query_errors: list[ProviderError] = field(default_factory=list)
    video_seconds: int | None = None  # serve a video of this length instead of the request's


CLOCK_SKEW = 120.0  # like DashScope's find: the window opens this much before ``since``


class FakeProvider(BaseProvider):
    """A provider whose tasks live in ``folder``; see the module docstring."""

    def __init__(self, folder: Path, samples: dict[int, Path], *, name: str = "fake",
                 cache_key: str | None = None, latency: float = 0.0,
                 find_works: bool = True, submit_delay: float = 0.0,
                 kill_after_submit: int | None = None, kill_in_download: int | None = None,
                 usage: bool = True) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.samples = samples
        self.name = name
        self.cache_key = cache_key or name
        self.capabilities = Capabilities()
        self.prices = PriceTable({"720P": 0.10, "1080P": 0.15})
        self.latency = latency
        self.find_works = find_works
        self.submit_delay = submit_delay
        self.kill_after_submit = kill_after_submit
        self.kill_in_download = kill_in_download
        self.usage = usage
        self.behaviour: dict[str, Behaviour] = {}
        self.calls: Counter[str] = Counter()
        self.first_frames: dict[str, Path | None] = {}
        self.order: list[str] = []  # shot ids in the order their tasks were created

    # --- the programmable part -----------------------------------------------------------------

    def on(self, shot_id: str, **kw: Any) -> Behaviour:
        self.behaviour[shot_id] = Behaviour(**kw)
        return self.behaviour[shot_id]

    def _for(self, shot_id: str) -> Behaviour:
        return self.behaviour.setdefault(shot_id, Behaviour())

    # --- the task store (JSON files, shared between processes) ----------------------------------

    def _path(self, task_id: str) -> Path:
        return self.folder / f"{task_id}.json"

    def _load(self, task_id: str) -> dict[str, Any] | None:
        try:
            data: dict[str, Any] = json.loads(self._path(task_id).read_text())
        except FileNotFoundError:
            return None
        return data

    def _save(self, task: dict[str, Any]) -> None:
        tmp = self.folder / f".{task['task_id']}.tmp"
        tmp.write_text(json.dumps(task))
        os.replace(tmp, self._path(task["task_id"]))

    def tasks(self) -> list[dict[str, Any]]:
        found = []
        for path in sorted(self.folder.glob("*.json")):
            found.append(json.loads(path.read_text()))
        return sorted(found, key=lambda t: t["created"])

    def created(self) -> Counter[str]:
        """Tasks ever created per shot id (across processes): what the user pays for."""
        return Counter(t["shot"] for t in self.tasks())

    def _create(self, shot: CompiledShot) -> str:
        number = len(list(self.folder.glob("*.json*"))) + 1  # expired tasks keep their number
        task_id = f"task-{number:04d}-{shot.id}"
        self._save({"task_id": task_id, "shot": shot.id, "hash": shot.hash,
                    "prompt": shot.request.prompt, "created": time.time(), "queries": 0, "canceled": False,
                    "duration": shot.request.duration})
        self.order.append(shot.id)
        return task_id

    # --- the Provider protocol -----------------------------------------------------------------

    async def submit(self, shot: CompiledShot, first_frame: Path | None) -> str:
        self.calls["submit"] += 1
        behaviour = self._for(shot.id)
        if self.submit_delay:
            await asyncio.sleep(self.submit_delay)
        if behaviour.submit_errors:
            raise behaviour.submit_errors.pop(0)
        self.first_frames[shot.id] = first_frame
        task_id = self._create(shot)
        if self.kill_after_submit is not None and len(self.tasks()) >= self.kill_after_submit:
            os.kill(os.getpid(), signal.SIGKILL)  # the task exists; its answer is never read
        if behaviour.lost_answers:
            behaviour.lost_answers -= 1
            raise TransportError("read timeout", provider=self.name, shot=shot.id)
        return task_id

    def preflight(self) -> None:
        """Ready by construction."""

    async def query(self, task_id: str) -> TaskState:
        self.calls["query"] += 1
        task = self._load(task_id)
        if task is None:
            return TaskState(task_id, TaskStatus.UNKNOWN, code="NotFound", message="no such task")
        behaviour = self._for(task["shot"])
        if behaviour.query_errors:
            raise behaviour.query_errors.pop(0)
        task["queries"] += 1
        self._save(task)
        return self._state(task, behaviour)

    def _state(self, task: dict[str, Any], behaviour: Behaviour) -> TaskState:
        if task["canceled"]:
            return TaskState(task["task_id"], TaskStatus.CANCELED, code="Canceled")
        waiting = (time.time() - task["created"] < self.latency if self.latency
                   else task["queries"] <= behaviour.polls)
        if waiting:
            return TaskState(task["task_id"], TaskStatus.RUNNING)
        if behaviour.outcome != TaskStatus.SUCCEEDED:
            return TaskState(task["task_id"], behaviour.outcome, code=behaviour.code,
                             message=behaviour.message)
        usage = Usage(float(task["duration"]), 0.0) if self.usage else None
        return TaskState(task["task_id"], TaskStatus.SUCCEEDED,
                         video_url=f"https://fake/{task['task_id']}.mp4?Signature=secret",
                         usage=usage)

    async def cancel(self, task_id: str) -> None:
        self.calls["cancel"] += 1
        task = self._load(task_id)
        if task is None:
            raise ProviderError("no such task", provider=self.name, code="UnsupportedOperation")
        if task["queries"] > 0:
            raise ProviderError("only PENDING tasks can be canceled", provider=self.name,
                                code="UnsupportedOperation")
        task["canceled"] = True
        self._save(task)

    async def find(self, shot: CompiledShot, since: float) -> list[TaskState]:
        self.calls["find"] += 1
        if not self.find_works:
            return []
        return [TaskState(task["task_id"], TaskStatus.PENDING) for task in reversed(self.tasks())
                if task["prompt"] == shot.request.prompt
                and task["created"] >= since - CLOCK_SKEW]

    async def download(self, state: TaskState, dest: Path, *, limit: int = 0) -> None:
        self.calls["download"] += 1
        task = self._load(state.task_id)
        assert task is not None and state.video_url
        behaviour = self._for(task["shot"])
        seconds = behaviour.video_seconds or task["duration"]
        if self.kill_in_download is not None and self.calls["download"] >= self.kill_in_download:
            dest.write_bytes(self.samples[seconds].read_bytes()[:1000])
            os.kill(os.getpid(), signal.SIGKILL)
        if behaviour.download_failures:
            behaviour.download_failures -= 1
            dest.write_bytes(b"half a video")
            raise TransportError("connection reset during download", provider=self.name)
        shutil.copyfile(self.samples[seconds], dest)

    async def aclose(self) -> None:
        return None


def flags_and_wiring(**given: Any) -> tuple[RunOptions, Wiring]:
    """A test's keywords into the runner's flags and wiring: each name a field of one of them
    (``options``: the flags whole, with ``budget`` beside it)."""
    wired = {f.name for f in fields(Wiring)}
    unknown = set(given) - wired - {f.name for f in fields(RunOptions)} - {"options"}
    assert not unknown, f"no runner setting {sorted(unknown)}"
    options = given.pop("options", None) or RunOptions(
        **{k: v for k, v in given.items() if k not in wired and k != "budget"})
    if "budget" in given:
        options = replace(options, budget=given["budget"])
    return options, Wiring(**{k: v for k, v in given.items() if k in wired})


# --- the child process of the SIGKILL tests ------------------------------------------------------


def _main(argv: list[str]) -> int:
    from storyboard.run import render

    series_dir, provider_dir, sample = Path(argv[0]), Path(argv[1]), Path(argv[2])
    count = int(argv[3])
    options = dict(zip(argv[4::2], argv[5::2], strict=True))
    provider = FakeProvider(
        provider_dir, {2: sample}, latency=float(options.get("--latency", "0.3")),
        kill_after_submit=int(options["--kill-after-submit"])
        if "--kill-after-submit" in options else None,
        kill_in_download=int(options["--kill-in-download"])
        if "--kill-in-download" in options else None)
    shots = [make_shot(f"s{i:02d}") for i in range(count)]
    shots.append(make_shot("tail", prompt="Image 1 keeps going", depends_on="s00"))
    result = asyncio.run(render(shots, provider, RunOptions(
        concurrency=3, submit_rate=50, poll_schedule=(0.05,), request_timeout=5),
        Wiring(series_dir=series_dir)))
    states = Counter(s.state for s in result.shots)
    print(json.dumps({"states": states, "submits": result.submits}))
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
