"""The benchmarks under bench/ run at a small size: each finishes, prints its rows and raises
nothing. A bench that breaks (as bench/runner.py once did on every shot, its provider's ``ended``
dict hiding ``Provider.ended()``) fails here, not months later when someone measures. No figure is
judged: a loaded machine may miss a target; only a traceback or a missing row fails."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def run_bench(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(BENCH.parent), "DASHSCOPE_API_KEY": "bench-key"}
    return subprocess.run([sys.executable, str(BENCH / name), *args], capture_output=True,
                          text=True, timeout=240, env=env, cwd=BENCH.parent)


def assert_ran(done: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in done.stderr + done.stdout, done.stderr[-3000:]
    assert done.returncode in (0, 1), done.stderr[-3000:]  # 1: a target missed, said in a row


@pytest.mark.timeout(300)
def test_runner_bench_renders_every_shot() -> None:
    done = run_bench("runner.py", "--shots", "12", "--concurrency", "6", "--latency", "0.5",
                     "--plan-shots", "60")
    assert_ran(done)
    assert "done 12/12" in done.stdout, done.stdout
    assert "duplicate submissions at the emulator 0" in done.stdout
    assert "completion -> download start" in done.stdout


@pytest.mark.timeout(300)
def test_compile_bench_prints_every_row() -> None:
    # one pair of processes a comparison (5 by default): each row is printed from the first
    done = run_bench("compile.py", "--shots", "60", "--episodes", "2", "--pairs", "1")
    assert_ran(done)
    for row in ("PyYAML's plain safe_load", "cold check", "parse alone",
                "fresh check, like for like", "one-episode edit re-checked",
                "fresh check against PyYAML's load, wall time",
                "fresh check against PyYAML's load, CPU time",
                "the schema validators compiled in the check (a machine's first)",
                "whole processes, `storyboard check` against PyYAML's, CPU time"):
        assert row in done.stdout, done.stdout


@pytest.mark.timeout(300)
def test_dialogue_bench_prints_every_row() -> None:
    done = run_bench("dialogue.py", "--lines", "3", "--latency", "0.1")
    assert_ran(done)
    for row in ("lines routed, rendered: the character's voice 3",
                "lines routed, after the passes: lip-sync pass 3", "lip-sync passes done 3/3",
                "re-rolling the same shots", "requests per line: render",
                "waited for their turn 0"):
        assert row in done.stdout, done.stdout


@pytest.mark.timeout(300)
def test_boards_bench_prints_every_row() -> None:
    # two shots: one of each character, each with its board
    done = run_bench("boards.py", "--shots", "2", "--seconds", "2", "--latency", "0.3")
    assert_ran(done)
    for row in ("boards: 2 board(s) of 2 shot(s), 4 image(s) made", "requests per board",
                "board pass:", "cost: the boards", "stitch ep01: the animatic",
                "render boards, the whole command", "its ffmpeg processes used"):
        assert row in done.stdout, done.stdout
