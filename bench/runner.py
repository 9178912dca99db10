"""Runner benchmarks: 200 shots through the DashScope provider against the emulator, and a no-op
plan of 2,000 shots. Prints ratios against the targets; exits non-zero when one is missed.

    python bench/runner.py [--shots 200] [--concurrency 20] [--latency 2] [--plan-shots 2000]

Targets: wall time within 1.2x of ceil(shots / concurrency) x latency; at most 8 HTTP requests
per task; a no-op plan of 2,000 shots under 1 s. Also printed: the delay from a task's completion
(the emulator's ``end_time``) to the start of its download.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import math
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from storyboard.language.request import CompiledShot, MediaItem, MediaRef, ShotRequest
from storyboard.run import OutputCache, RunOptions, Wiring, plan, render
from storyboard.targets import PriceTable, TaskState

# A 1x1 PNG: the reference travels inline, so a task costs no upload requests.
PIXEL = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4"
         "z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC")


def synthetic_shot(number: int, *, duration: int = 2, prompt: str = "Image 1 waves",
                   twin: bool = False) -> CompiledShot:
    """A compiled shot; its words differ per shot so every hash (and every prompt the runner
    keys its submits by) differs while the emulator, whose plain results draw no words, renders
    a single result. No seed: a seed colours the emulator's picture, one render each. A ``twin``
    keeps ``prompt`` as it is and differs by its seed (another run's submit of the same words)."""
    media = (MediaItem("reference_image", MediaRef(url=PIXEL), "Image 1", "pixel"),)
    words, seed = (prompt, number) if twin else (f"{prompt}, beat {number}", None)
    request = ShotRequest("wan2.7-r2v", words, media, "720P", "16:9", duration, False, False,
                          None, seed)
    canonical: dict[str, Any] = {"prompt": words, "seed": seed, "duration": duration,
                                 "media": [{"url": PIXEL}]}
    digest = hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()
    return CompiledShot("bench", f"ep{number // 100:02d}", f"s{number:04d}", request, digest,
                        canonical=canonical)


def _end_time(state: TaskState) -> float | None:
    stamp = state.raw.get("output", {}).get("end_time") if isinstance(state.raw, dict) else None
    if not isinstance(stamp, str):
        return None
    parsed = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC)
    return parsed.timestamp()


def bench_render(shots: int, concurrency: int, latency: float) -> bool:
    from storyboard.emulator import EmulatorConfig, EmulatorServer
    from storyboard.providers.base import DEFAULT_MAX_DOWNLOAD
    from storyboard.providers.dashscope.provider import DashScopeProvider, DashScopeSettings

    class TimedProvider(DashScopeProvider):
        """Remembers when each task ended (the service's clock) and when its download began."""

        # Not ``ended``: that name is ``Provider.ended(task_id)``, which the poller calls.
        ended_at: dict[str, float] = {}  # noqa: RUF012 - one run per process
        download_started: dict[str, float] = {}  # noqa: RUF012

        async def query(self, task_id: str) -> TaskState:
            state = await super().query(task_id)
            end = _end_time(state)
            if end is not None:
                self.ended_at[task_id] = end
            return state

        async def download(self, state: TaskState, dest: Path, *,
                           limit: int = DEFAULT_MAX_DOWNLOAD) -> None:
            self.download_started.setdefault(state.task_id, time.time())
            await super().download(state, dest, limit=limit)

    os.environ.setdefault("DASHSCOPE_API_KEY", "bench-key")
    config = EmulatorConfig(latency=latency, plain_results=True)
    work = [synthetic_shot(i) for i in range(shots)]
    # First poll when the task should be done, then close behind it.
    schedule = (latency, 0.25, 0.5, 1.0, 2.0)
    with tempfile.TemporaryDirectory() as tmp, EmulatorServer(config) as emulator:
        # Warm up: the emulator draws the (shared) result picture once, with ffmpeg; that is the
        # emulator's cost, not the runner's, so it stays out of the timing.
        warm = TimedProvider(DashScopeSettings(base_url=emulator.base_url))
        asyncio.run(run_shots([synthetic_shot(shots)], warm, Path(tmp) / "warm", 1, schedule))
        before = emulator.stats()["requests"]
        provider = TimedProvider(DashScopeSettings(base_url=emulator.base_url))
        started = time.perf_counter()
        result = asyncio.run(run_shots(work, provider, Path(tmp) / "series", concurrency,
                                     schedule))
        wall = time.perf_counter() - started
        stats = emulator.stats()
    ideal = math.ceil(shots / concurrency) * latency
    counts = {k: v - before.get(k, 0) for k, v in stats["requests"].items()}
    requests = sum(counts.values())
    delays = [provider.download_started[t] - provider.ended_at[t]
              for t in provider.download_started if t in provider.ended_at]
    done = len(result.by_state("done"))
    print(f"render: {shots} shots, concurrency {concurrency}, task latency {latency:g} s")
    print(f"  done {done}/{shots}; submits {counts.get('submit', 0)}, "
          f"duplicate submissions at the emulator {stats['submissions']['duplicates']}")
    print(f"  wall {wall:.2f} s, ideal {ideal:.2f} s: {wall / ideal:.2f}x (target <= 1.2x)")
    print(f"  requests per task {requests / shots:.2f} (target <= 8): {counts}")
    if delays:
        print(f"  completion -> download start: median {statistics.median(delays) * 1000:.0f} ms,"
              f" max {max(delays) * 1000:.0f} ms")
    return done == shots and wall / ideal <= 1.2 and requests / shots <= 8


async def run_shots(work: list[CompiledShot], provider: Any, root: Path, concurrency: int,
                  schedule: tuple[float, ...]) -> Any:
    try:
        return await render(work, provider, RunOptions(
            concurrency=concurrency, submit_rate=1000.0, poll_schedule=schedule,
            request_timeout=30), Wiring(series_dir=root))
    finally:
        await provider.aclose()


def bench_plan(count: int) -> bool:
    shots = [synthetic_shot(i) for i in range(count)]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        cache = OutputCache(root, "dashscope")
        cache.dir.mkdir(parents=True)
        for shot in shots:
            cache.path(shot.hash).write_bytes(b"")
        prices = PriceTable({"720P": 0.10, "1080P": 0.15})
        started = time.perf_counter()
        result = plan(shots, provider="dashscope", prices=prices, series_dir=root)
        elapsed = time.perf_counter() - started
    cached = result.counts()["cached"]
    print(f"plan: {count} shots, {cached} cached, no-op plan in {elapsed * 1000:.0f} ms "
          f"(target < 1000 ms)")
    return cached == count and elapsed < 1.0


def bench_plan_series(count: int) -> bool:
    """``storyboard plan PATH`` end to end on a real 2,000-shot series: load, validate, compile
    (files unchanged since the last check) and plan, every shot already rendered."""
    import importlib.util

    import storyboard
    from storyboard.language.compile import compile_path
    spec = importlib.util.spec_from_file_location("bench_compile",
                                                  Path(__file__).with_name("compile.py"))
    assert spec is not None and spec.loader is not None
    bench_compile = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_compile)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "series"
        bench_compile.make_series(root, count, max(1, count // 100))
        cache = OutputCache(root, "dashscope")
        cache.dir.mkdir(parents=True)
        for shot in compile_path(root).shots():  # the first check fills the media facts cache
            cache.path(shot.hash).write_bytes(b"")
        started = time.perf_counter()
        result = storyboard.plan(root, provider="dashscope")
        elapsed = time.perf_counter() - started
    cached = result.counts()["cached"]
    print(f"plan of a series: {count} shots, {cached} cached, `storyboard.plan` (load + validate "
          f"+ compile + plan) in {elapsed * 1000:.0f} ms (target < 1000 ms)")
    return cached == count and elapsed < 1.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--shots", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--latency", type=float, default=2.0)
    parser.add_argument("--plan-shots", type=int, default=2000)
    parser.add_argument("--plan-only", action="store_true")
    args = parser.parse_args(argv)
    ok = bench_plan(args.plan_shots)
    ok = bench_plan_series(args.plan_shots) and ok
    if not args.plan_only:
        ok = bench_render(args.shots, args.concurrency, args.latency) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
