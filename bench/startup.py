"""Benchmark: start-up of ``storyboard --help``, ``check`` and ``plan`` on the example, in wall seconds.

    python bench/startup.py [--runs 10] [--checkout PATH]

Each command is a fresh ``python -m storyboard`` process (this checkout), the best of ``--runs``,
against ``python -c pass`` measured in the same run: the interpreter's own start-up, which no
change to storyboard can remove. One warm-up run of each comes first, with bytecode caches
allowed, so the figures are those of an installed package, not of compiling every module. The
example is copied to a temporary folder (its caches are written there, not in the checkout).
Targets on this project's 2-core machines: ``--help`` at most 0.25 s, ``check`` at most 0.45 s.
It also prints how many modules each command imports, and any heavy one among them.
``--checkout`` times another checkout instead (an older commit's worktree: the figures before).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "coffee-shop"
HEAVY = ("httpx", "starlette", "uvicorn", "psycopg", "fsspec", "opentimelineio",
         "storyboard.run.trip.runner")
TARGETS = {"--help": 0.25, "check": 0.45}


def environment() -> dict[str, str]:
    """This environment, with bytecode caches allowed (an installed package has them)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def once(args: list[str], checkout: Path) -> float:
    """One run's wall time; ``python -m storyboard`` in ``checkout`` imports that checkout's."""
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], cwd=checkout, env=environment(), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def best_of(runs: int, args: list[str], checkout: Path) -> float:
    once(args, checkout)  # warm-up: bytecode caches, the series' parse cache
    return min(once(args, checkout) for _ in range(runs))


def imported(args: list[str], checkout: Path) -> list[str]:
    """The modules a command imports (``-X importtime``), in order."""
    done = subprocess.run([sys.executable, "-X", "importtime", *args], cwd=checkout,
                          env=environment(), capture_output=True, text=True, check=True)
    return [line.rpartition("|")[2].strip() for line in done.stderr.splitlines()
            if line.startswith("import time:") and "imported package" not in line]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--checkout", type=Path, default=ROOT,
                        help="The checkout to time (default: this one).")
    options = parser.parse_args()
    checkout = options.checkout.resolve()
    with tempfile.TemporaryDirectory() as tmp:
        series = Path(tmp) / "coffee-shop"
        shutil.copytree(EXAMPLE, series, ignore=shutil.ignore_patterns(".storyboard", "out"))
        commands = {"--help": ["--help"], "check": ["check", str(series)],
                    "plan": ["plan", str(series)]}
        baseline = best_of(options.runs, ["-c", "pass"], checkout)
        print(f"checkout: {checkout}")
        print(f"baseline python -c pass: {baseline:.3f} s (best of {options.runs})")
        for name, args in commands.items():
            seconds = best_of(options.runs, ["-m", "storyboard", *args], checkout)
            modules = imported(["-m", "storyboard", *args], checkout)
            heavy = [m for m in modules if m in HEAVY]
            target = TARGETS.get(name)
            verdict = "" if target is None else \
                f"; target {target:.2f} s: {'PASS' if seconds <= target else 'FAIL'}"
            print(f"storyboard {name}: {seconds:.3f} s, {seconds / baseline:.1f}x the baseline, "
                  f"{seconds - baseline:.3f} s over it; {len(modules)} modules imported, heavy: "
                  f"{', '.join(heavy) or 'none'}{verdict}")


if __name__ == "__main__":
    main()
