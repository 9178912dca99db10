"""Benchmark (issue 59.6): a 20-line episode on the emulator, its lines to the lips.

    python bench/dialogue.py [--lines 20] [--latency 0.2]

Makes a series of one episode whose every shot speaks one line (``--lines`` shots, 3 s each, on
wan2.7-r2v, in the character's voice), renders it on the emulator (the baseline), then gives every
shot a lip-sync pass (``videoretalk`` over the take, to the line's audio) in one render. Prints:

  - the lines routed each way (the character's voice on a model that speaks, a driving audio, a
    lip-sync pass), before and after the passes;
  - what the passes cost against re-rolling the same shots (take 1's billed cost, as the lock
    says, is what a retake pays again);
  - HTTP requests per line for the render and for the passes, and their ratio (the passes
    against the render: the baseline measured in the same run);
  - the most passes the emulator ran at once (one: the service's one-at-a-time limit) and how
    many waited their turn at the service (none: the runner keeps to the limit itself).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's storyboard

import storyboard
from storyboard.emulator import EmulatorConfig, EmulatorServer
from storyboard.language.compile import compile_path
from storyboard.language.request import CompiledShot
from storyboard.media import samples
from storyboard.run.choices.passes import ask_lipsync
from storyboard.run.state.takes import with_retakes
from storyboard.targets.video.models import model_of

HEAD = """\
storyboard: 1
title: Lines
defaults: {resolution: 720P, ratio: "16:9", duration: 3}
provider: {name: dashscope, poll: [0.1]}
output: {loudness: null}
voices:
  mia-voice: {audio: media/mia.wav}
characters:
  mia: {image: media/mia.png, voice: mia-voice}
episodes:
  - id: ep01
    shots:
"""


def write_series(root: Path, lines: int) -> Path:
    samples.image(root / "media" / "mia.png", 400, 400)
    samples.voice(root / "media" / "mia.wav", 2.0)
    shots = []
    for n in range(lines):
        samples.voice(root / "media" / f"line{n:02d}.wav", 2.0)
        shots.append(f'      - {{id: s{n:02d}, scenes: [{{at: 0-3s, action: "@mia turns", '
                     f'say: {{mia: "Line number {n}."}}}}]}}')
    (root / "storyboard.yaml").write_text(HEAD + "\n".join(shots) + "\n", encoding="utf-8")
    return root


def route(shot: CompiledShot) -> list[str]:
    """How each spoken line of ``shot`` reaches the lips, as rendered."""
    if shot.request.model == "videoretalk":
        return ["lip-sync pass"] * _lines(shot)
    if shot.request.item("driving_audio") is not None:
        return ["driving audio"] * _lines(shot)
    model = model_of(shot.request.model)
    spoken = model is not None and model.voices != "none"
    return ["the character's voice" if spoken else "not lip-synced"] * _lines(shot)


def _lines(shot: CompiledShot) -> int:
    return sum(len(scene.lines) for scene in shot.request.scenes)


def routes(root: Path) -> Counter[str]:
    """Each line's route in the take each shot uses (a derived pass once it is picked)."""
    manifest = with_retakes(compile_path(root), free=False)
    lock = json.loads((root / "storyboard.lock").read_text("utf-8"))
    found: Counter[str] = Counter()
    for shot in manifest.shots():
        picked = lock.get("takes", {}).get(f"lines/ep01/{shot.name}", {}).get("picked", 1)
        take = next(t for t in shot.all_takes() if t.take == picked)
        found.update(route(take))
    return found


def requests(emulator: EmulatorServer) -> int:
    return sum(emulator.stats()["requests"].values())


def costs(root: Path) -> tuple[float, float]:
    """(what the shots' take 1 cost, what their lip-sync passes cost), as the lock says."""
    shots = json.loads((root / "storyboard.lock").read_text("utf-8"))["shots"]
    takes = [e["cost"] for key, e in shots.items() if "#" not in key]
    passes = [e["cost"] for e in shots.values() if e["parameters"]["model"] == "videoretalk"]
    return round(sum(takes), 6), round(sum(passes), 6)


def passes(root: Path, lines: int) -> tuple[tuple[str, ...], tuple[Any, ...]]:
    """A lip-sync pass for every shot: the takes to render, and the lock's changes."""
    manifest = compile_path(root)
    shots, changes = [], []
    for n in range(lines):
        asked = ask_lipsync(manifest, f"ep01/s{n:02d}", root / "media" / f"line{n:02d}.wav")
        shots += asked.takes
        changes += asked.changes
    return tuple(shots), tuple(changes)


def pick_passes(root: Path, takes: tuple[str, ...]) -> None:
    from storyboard.run.state.takes import pick
    manifest = compile_path(root)
    for take in takes:
        name, _, number = take.partition("#")
        pick(manifest, name, int(number))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.2)
    args = parser.parse_args()
    os.environ.setdefault("DASHSCOPE_API_KEY", "bench-key")
    config = EmulatorConfig(latency=args.latency, plain_results=True)
    with tempfile.TemporaryDirectory(prefix="bench-dialogue-") as tmp, \
            EmulatorServer(config) as emulator:
        os.environ["DASHSCOPE_HTTP_BASE_URL"] = emulator.base_url
        root = write_series(Path(tmp) / "lines", args.lines)
        report = storyboard.render(root, provider="dashscope", yes=True, out=Path(tmp) / "out")
        rendered = requests(emulator)
        before = routes(root)
        takes, changes = passes(root, args.lines)
        started = time.perf_counter()
        report = storyboard.render(root, provider="dashscope", yes=True, shots=takes,
                                   take_changes=changes, out=Path(tmp) / "out")
        wall = time.perf_counter() - started
        passed = requests(emulator) - rendered
        pick_passes(root, takes)
        after = routes(root)
        rolled, synced = costs(root)
        queued = emulator.stats()["queued"]
    done = sum(1 for s in report.run.shots if s.state == "done") if report.run else 0
    print(f"{args.lines} lines, one a shot of 3 s, task latency {args.latency:g} s")
    for name, counted in (("rendered", before), ("after the passes", after)):
        print(f"  lines routed, {name}: " + ", ".join(f"{k} {v}" for k, v in
                                                      sorted(counted.items())))
    print(f"  lip-sync passes done {done}/{args.lines} in {wall:.2f} s")
    ratio = synced / rolled if rolled else float("nan")
    print(f"  cost: lip-sync passes USD {synced:.4f}, re-rolling the same shots USD {rolled:.4f}:"
          f" {ratio:.3f}x")
    per_render, per_pass = rendered / args.lines, passed / args.lines
    print(f"  requests per line: render {per_render:.2f} (baseline), lip-sync pass "
          f"{per_pass:.2f}: {per_pass / per_render:.2f}x")
    print(f"  passes running at once at the service, at most {queued['peak_running']}; "
          f"waited for their turn {queued['waited']}")
    return 0 if done == args.lines else 1


if __name__ == "__main__":
    sys.exit(main())
