"""ComfyUI dispatch benchmark: 20 shots over 1, 2 and 4 emulated instances with a fixed job time.
Prints each wall time against the ideal; exits non-zero when one is missed.

    python bench/comfyui.py [--shots 20] [--job-time 2.0] [--instances 1 2 4]

Target: wall time within 1.2x of ideal, ceil(shots / instances) x job time: every instance kept
busy, one prompt each at a time. The emulated servers run in their own process (as a GPU box is
another machine) and draw plain results once per size, so the job time is the GPU time of the
benchmark; the rest (uploads, polls, downloads, checks) is overhead.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from storyboard.language.request import CompiledShot, ShotRequest
from storyboard.providers.comfyui.provider import ComfyUIProvider
from storyboard.providers.comfyui.settings import ComfySettings
from storyboard.run import RunResult, render
from storyboard.run.trip.model import RunOptions, Wiring

TARGET = 1.2
WORKFLOW = Path(__file__).resolve().parent.parent / "examples" / "comfyui" / "wan-i2v.json"


def synthetic_shot(number: int) -> CompiledShot:
    """A 2 s shot with no media; its seed makes its hash its own."""
    prompt = f"shot {number} of the benchmark"
    request = ShotRequest("wan2.7-r2v", prompt, (), "720P", "16:9", 2, False, False, None, number)
    canonical: dict[str, Any] = {"prompt": prompt, "seed": number}
    digest = hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()
    return CompiledShot("bench", "ep01", f"s{number:03d}", request, digest, canonical=canonical)


def text_to_video(folder: Path) -> Path:
    """The I2V example without its first frame: a text-to-video graph for shots with no media."""
    graph = json.loads(WORKFLOW.read_text())
    del graph["10"]
    del graph["11"]["inputs"]["start_image"]
    path = folder / "t2v.json"
    path.write_text(json.dumps(graph))
    return path


def emulators(count: int, job_time: float) -> tuple[subprocess.Popen[str], list[str]]:
    """``storyboard emulate --comfyui N`` in its own process (a GPU box is another machine):
    the process and the instances' URLs."""
    child = subprocess.Popen([sys.executable, "-m", "storyboard", "emulate", "--comfyui",
                              str(count), "--port", "0", "--latency", str(job_time),
                              "--plain-results"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True)
    assert child.stdout is not None
    urls = [child.stdout.readline().split(" at ")[1].strip() for _ in range(count)]
    for url in urls:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url + "/queue").raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise SystemExit(f"the emulator at {url} did not start") from None
                time.sleep(0.05)
    return child, urls


def bench(shots: int, instances: int, job_time: float) -> tuple[float, float]:
    """(wall seconds, ideal seconds) of ``shots`` over ``instances``."""
    child, urls = emulators(instances, job_time)
    try:
        with tempfile.TemporaryDirectory(prefix="storyboard-bench-comfyui-") as tmp:
            wall = run(Path(tmp), urls, shots, instances)
        stats = [httpx.get(url + "/_emulator/stats").json() for url in urls]
    finally:
        child.terminate()
        child.wait(10)
    sent = sum(sum(s["prompts"].values()) for s in stats)
    used = sum(1 for s in stats if s["executed"])
    if sent != shots or used != instances:
        raise SystemExit(f"{sent} prompts sent for {shots} shots; {used} of {instances} "
                         "instances used")
    return wall, math.ceil(shots / instances) * job_time


def run(root: Path, urls: list[str], shots: int, instances: int) -> float:
    """Render ``shots`` synthetic shots over ``urls``; the wall seconds of the run."""
    work = [synthetic_shot(n) for n in range(shots)]
    settings = ComfySettings(tuple(urls), text_to_video(root), {})
    provider = ComfyUIProvider(settings, root)
    provider.preflight()
    provider.check_shots(work)
    options = RunOptions(concurrency=instances, submit_rate=1000.0, poll_schedule=(0.05,))

    async def go() -> RunResult:
        try:
            return await render(work, provider, options, Wiring(series_dir=root))
        finally:
            await provider.aclose()
    started = time.monotonic()
    result = asyncio.run(go())
    wall = time.monotonic() - started
    if not result.ok:
        raise SystemExit(f"the run failed: {[r.message for r in result.shots if not r.ok]}")
    return wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--shots", type=int, default=20)
    parser.add_argument("--job-time", type=float, default=2.0)
    parser.add_argument("--instances", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args()
    ok = True
    print(f"{args.shots} shots, {args.job_time:g} s a job")
    for count in args.instances:
        wall, ideal = bench(args.shots, count, args.job_time)
        ratio = wall / ideal
        ok &= ratio <= TARGET
        verdict = "ok" if ratio <= TARGET else f"MISSED (target {TARGET}x)"
        print(f"  {count} instance(s): {wall:6.2f} s, ideal {ideal:6.2f} s, "
              f"{ratio:.2f}x  {verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
