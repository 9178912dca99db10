"""Two series whose shots compile to the same prompt, rendered at the same moment on one machine,
are serialised against each other like twins in one series (21.10): each paid once, its own task."""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from storyboard.emulator import EmulatorServer
from storyboard.language.request import CompiledShot
from storyboard.run import render
from storyboard.run.trip.model import RunOptions, RunResult, Wiring
from storyboard.run.trip.submit import Submitter
from tests.fixtures.gateway_runs import a_shot, provider_for, serve


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    yield from serve(monkeypatch)


def twin(root: Path, make_media: Any, n: int) -> CompiledShot:
    """``Image 1 waves hello`` in its own series folder, with its own image (another hash)."""
    shot = a_shot(root, make_media)
    make_media("image", root / "media" / "mia.png", color=("red", "blue")[n])
    return replace(shot, series=root.name, hash=f"{n + 5:02d}" * 32)


def test_twins_in_two_series_at_the_same_moment_are_each_paid_once(
        emu: EmulatorServer, tmp_path: Path, make_media: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    roots = [tmp_path / "one", tmp_path / "two"]
    shots = [twin(root, make_media, n) for n, root in enumerate(roots)]
    # Both runs look for twins before either writes its intent: the moment the rules must hold.
    looked = threading.Barrier(2, timeout=20)
    original = Submitter.snapshot

    calls: list[str] = []

    async def both_looked(self: Submitter, shot: CompiledShot) -> CompiledShot:
        calls.append(shot.series)
        if calls.count(shot.series) == 1:  # each run's first look
            await asyncio.to_thread(looked.wait)
        return await original(self, shot)

    monkeypatch.setattr(Submitter, "snapshot", both_looked)
    # The first submit's answer is lost; the second's comes 3 s late: a lookup at that moment
    # would meet two tasks with the prompt, one of them unclaimed by any journal.
    emu.script("submit:lost,submit:lost=3")
    results: dict[str, RunResult] = {}

    def run(root: Path, shot: CompiledShot) -> None:
        async def go() -> RunResult:
            provider = provider_for(emu, "dashscope", root)
            try:
                return await render([shot], provider, RunOptions(
                    poll_schedule=(0.1,), reconcile_delay=0.2, request_timeout=10.0),
                    Wiring(series_dir=root))
            finally:
                await provider.aclose()
        results[root.name] = asyncio.run(go())

    threads = [threading.Thread(target=run, args=pair) for pair in zip(roots, shots, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert [r.shots[0].state for r in results.values()] == ["done", "done"], results
    assert emu.stats()["submissions"]["total"] == 2
    for root in roots:  # each shot's task carries that series' own image
        task = emu.service.table.tasks[results[root.name].shots[0].task_id]
        digest = hashlib.sha256((root / "media" / "mia.png").read_bytes()).hexdigest()
        assert digest[:32] in json.dumps(task.body), f"{root.name} got the other's task"
    tasks = {r.shots[0].task_id for r in results.values()}
    assert len(tasks) == 2
