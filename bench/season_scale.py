"""Benchmark: a season at scale (80 episodes x 30 shots): check, plan --season, an edit, the state.

    python bench/season_scale.py [--episodes 80] [--shots 30]

A synthetic season (``bench/seasonseries.py``, written deterministically into a temporary folder:
two characters with a look each over a range of episodes, a place, two continuity facts, density
on, a board per shot, priced on DashScope; it checks clean) is measured, each command a new
``storyboard`` process, wall and CPU time:

  fresh check          : ``check`` with no state (.storyboard/ removed)           target 5 s
  fresh plan --season  : ``plan --season`` with no state                          target 5 s
  plan --season again  : nothing changed (the state of the run before)            said
  one-line edit        : one shot's line in one episode changed, ``plan --season`` target 3 s
  state on disk        : .storyboard/ after all of the above, against the output  target 2x

What the edit re-plans is counted two ways: the shots whose request changed (their hash: what the
plan prices anew and a render would pay for), which must all be the edited episode's; and the shot
requests compiled, in the re-plan's own process (each episode's compiled form is on disk,
``language/cache/episodecache.py``: the edited episode is compiled, the others read back; said with the
episodes each way) and in a process that checked the season before (the studio, an editor's
re-check: only what the edit touched).

"The output" of a plan-only run is the compiled season it prices: ``storyboard compile SERIES
--provider dashscope`` (every request, as JSON). Every figure is printed with its ratio to its
target, and the load average at the end.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's storyboard
sys.path.insert(0, str(Path(__file__).resolve().parent))

from seasonseries import edit_one_line, make_season

from storyboard.language.compile import Compiler, compile_path

CHECK_TARGET, PLAN_TARGET, EDIT_TARGET, STATE_TARGET = 5.0, 5.0, 3.0, 2.0
# A storyboard command in a new process, counting the shot requests it compiles (said on stderr).
COUNTED = """\
import atexit, sys
from storyboard.language import compile as c
n = [0]
original = c.Compiler.compile_shot
def counted(self, *args, **kwargs):
    n[0] += 1
    return original(self, *args, **kwargs)
c.Compiler.compile_shot = counted
from storyboard.language.cache import episodecache as e
atexit.register(lambda: sys.stderr.write(
    f"\\ncompiled-shots {n[0]} episodes-read {e.STATS['read']} episodes-stored {e.STATS['stored']}\\n"))
from storyboard.cli.main import main
sys.argv = ["storyboard", *sys.argv[1:]]
main()
"""


@dataclass(frozen=True)
class Ran:
    wall: float
    cpu: float
    compiled: int
    read: int  # episodes read back from disk (``language/cache/episodecache.py``)
    stored: int  # episodes compiled and stored
    out: str


def storyboard(*args: str) -> Ran:
    """A ``storyboard`` command in a new process: its wall and CPU time, the shots it compiled."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", COUNTED, *args], capture_output=True, text=True,
                          check=False, env={**os.environ, "COLUMNS": "200"})
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"storyboard {' '.join(args)} failed ({done.returncode}):\n"
                         f"{done.stdout[-2000:]}{done.stderr[-2000:]}")
    counted = [line for line in done.stderr.splitlines() if line.startswith("compiled-shots ")]
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    said = counted[-1].split() if counted else ["", "-1", "", "-1", "", "-1"]
    return Ran(wall, cpu, int(said[1]), int(said[3]), int(said[5]), done.stdout)


def size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def hashes(root: Path) -> dict[str, str]:
    """Each shot's and board's hash, compiled in this process (see ``edit_in_process``)."""
    manifest = compile_path(root, provider="dashscope")
    return {f"{s.episode}/{s.id}": s.hash for s in (*manifest.episode_shots(), *manifest.cast)}


def counting() -> list[int]:
    """Count this process's compiled shot requests from now on."""
    count = [0]
    original = Compiler.compile_shot

    def counted(self: Compiler, *args: object, **kwargs: object) -> object:
        count[0] += 1
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    Compiler.compile_shot = counted  # type: ignore[method-assign]
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=80)
    parser.add_argument("--shots", type=int, default=30)
    args = parser.parse_args()
    os.environ.setdefault("DASHSCOPE_API_KEY", "bench-key")  # planned, never sent
    edited = max(1, args.episodes // 2)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "season"
        make_season(root, args.episodes, args.shots, provider="dashscope")
        series = size(root)
        state = root / ".storyboard"
        check = storyboard("check", str(root))
        shutil.rmtree(state)
        plan = storyboard("plan", str(root), "--season")
        again = storyboard("plan", str(root), "--season")
        before = hashes(root)
        count = counting()
        edit_one_line(root, edited, min(7, args.shots), 1)
        edit = storyboard("plan", str(root), "--season")
        after = hashes(root)
        in_process = count[0]
        stored = size(state)
        output = Path(folder) / "compiled.json"
        output.write_text(storyboard("compile", str(root), "--provider", "dashscope").out,
                          encoding="utf-8")
        changed = sorted(k for k in after if before.get(k) != after[k])
        report(args, check, plan, again, edit, changed, in_process, stored, output.stat().st_size,
               series, f"ep{edited:03d}")


def report(args: argparse.Namespace, check: Ran, plan: Ran, again: Ran, edit: Ran,
           changed: list[str], in_process: int, stored: int, output: int, series: int,
           edited: str) -> None:
    shots = args.episodes * args.shots
    print(f"season: {args.episodes} episodes x {args.shots} shots ({shots} shots, a board each)")
    for name, ran, target in (("fresh check", check, CHECK_TARGET),
                              ("fresh plan --season", plan, PLAN_TARGET),
                              ("one-line edit re-planned", edit, EDIT_TARGET)):
        met = "met" if ran.wall <= target else "NOT met"
        print(f"{name:28}: {ran.wall:6.2f} s wall, {ran.cpu:5.2f} s CPU  "
              f"({ran.wall / target:.2f}x the {target:.0f} s target: {met})")
    print(f"{'plan --season again':28}: {again.wall:6.2f} s wall, {again.cpu:5.2f} s CPU  "
          f"(nothing changed; said)")
    mine = all(k.split("/")[0] == edited or k.startswith(f"boards/{edited}/") for k in changed)
    print(f"{'requests changed by the edit':28}: {len(changed)} ({', '.join(changed)}); "
          f"all of {edited}: {'yes' if mine and changed else 'NO'}")
    print(f"{'compiled in the re-plan':28}: {edit.compiled} shot request(s), "
          f"{edit.stored} episode(s) compiled and stored, {edit.read} read back from disk "
          f"(a new process)")
    print(f"{'compiled in a warm process':28}: {in_process} shot request(s) (one that checked "
          "the season before: the studio)")
    ratio = stored / output
    print(f"{'state on disk':28}: {stored / 1e6:6.2f} MB in .storyboard/ against "
          f"{output / 1e6:.2f} MB of output (the compiled season): {ratio:.2f}x "
          f"(target {STATE_TARGET:.0f}x: {'met' if ratio <= STATE_TARGET else 'NOT met'}); "
          f"the series' own files {series / 1e6:.2f} MB")
    print("load average: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
