"""bench/season_scale.py and bench/studio_season.py at a small size (issue 67 item 7, item 6).

Each bench is run as a user runs it (its own process, the repository on PYTHONPATH). No time is
judged here (a loaded machine may miss a target; the figures live in docs/benchmarks.md): what is
held is what each figure says: the edit changes its own episode's requests only, a new process
after it compiles only the edited episode (the others read back from disk), a warm process
compiles only the edited shot, the state is measured against the output, and the grid shows
every episode with the made quarter's boards and videos.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def bench(name: str, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DASHSCOPE_API_KEY": "bench-key"}
    done = subprocess.run([sys.executable, str(ROOT / "bench" / name), *args], env=env,
                          cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr[-3000:]
    return done.stdout


@pytest.mark.timeout(700)
def test_the_season_bench_prints_every_figure() -> None:
    out = bench("season_scale.py", "--episodes", "4", "--shots", "8")
    assert "season: 4 episodes x 8 shots (32 shots, a board each)" in out
    for row in ("fresh check", "fresh plan --season", "one-line edit re-planned",
                "plan --season again"):
        assert re.search(rf"^{re.escape(row)} +: +[0-9.]+ s wall, +[0-9.]+ s CPU", out, re.M), out
    assert re.search(r"^load average: [0-9.]+ [0-9.]+ [0-9.]+$", out, re.M), out
    assert "requests changed by the edit: 2 (boards/ep002/s07, ep002/s07); all of ep002: yes" in out
    assert "compiled in the re-plan     : 8 shot request(s), 1 episode(s) compiled and stored, " \
        "3 read back from disk (a new process)" in out
    assert "compiled in a warm process  : 1 shot request(s)" in out
    ratio = re.search(r"of output \(the compiled season\): ([0-9.]+)x", out)
    assert ratio is not None and 0 < float(ratio.group(1)) <= 2, out


@pytest.mark.timeout(700)
def test_the_studio_season_bench_shows_every_tile() -> None:
    out = bench("studio_season.py", "--episodes", "4", "--shots", "3", "--rounds", "1")
    assert "season: 4 episodes x 3 shots, 3 videos made" in out
    for row in ("(a) grid shown, first", "(b) grid shown, again", "(c) studio start -> grid",
                "(d) cast shown"):
        assert re.search(rf"^{re.escape(row)} *: +[0-9.]+ s", out, re.M), out
    assert re.search(r"^\(d\) cast shown .*\((\d+) appearances; not judged\)$", out, re.M), out
    assert "first tile           : 1. Night 1 | boards 3/3 approved | videos 3/3 done | " \
        "spent 0.00 USD of" in out
