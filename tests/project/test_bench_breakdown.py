"""bench/breakdown.py: its short run against the emulator, and against any endpoint by --base-url.

The bench is run as a user runs it (its own process, the repository on PYTHONPATH). Against its
own emulator with a scripted fault it counts the answer sent back and refused; against an endpoint
given by ``--base-url`` (the emulator's, on loopback, under a model with no list price) it needs no
key and no price, and prints the same figures.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from storyboard.emulator.server import EmulatorServer

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench" / "breakdown.py"


def bench(*args: str) -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("BENCH_CHAT_KEY", None)
    done = subprocess.run([sys.executable, str(BENCH), "--quiet", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def line(lines: list[str], start: str) -> str:
    found = [row for row in lines if row.startswith(start)]
    assert found, f"no line starting {start!r} in {lines}"
    return found[0]


def test_the_short_run_counts_an_answer_sent_back_and_refused() -> None:
    lines = bench("--short", "--faults", "chat:schema")
    assert lines[0] == "against the emulator (6 scenes)"
    assert line(lines, "dialogue kept verbatim:") == "dialogue kept verbatim: 18/18 (100%)"
    assert line(lines, "sent back:") == ("sent back: 1 answer(s); refused: 1 answer(s) (second "
                                         "run: 0 sent back, 0 refused)")
    assert line(lines, "calls:").startswith("calls: 4 ")  # three, and the one sent back
    assert line(lines, "same bytes on two runs:") == "same bytes on two runs: yes"


def test_any_endpoint_on_loopback_needs_no_key_nor_price(chat_emulator: EmulatorServer) -> None:
    base = chat_emulator.base_url.rsplit("/api/v1", 1)[0] + "/v1"
    lines = bench("--short", "--base-url", base, "--model", "smollm2-135m-instruct")
    assert lines[0] == f"against smollm2-135m-instruct at {base} (6 scenes)"
    assert line(lines, "cost:") == "cost: $0.0000 (first run), $0.0000 (second)"
    assert line(lines, "sent back:").startswith("sent back: 0 answer(s); refused: 0 answer(s)")
    assert line(lines, "time:").startswith("time: ")


def test_an_unknown_option_is_refused_by_name() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, str(BENCH), "--short", "--set", "colour=blue"],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode != 0
    assert "--set 'colour=blue': expected NAME=VALUE with NAME one of" in done.stderr
    assert "Traceback" not in done.stderr


def test_one_run_says_the_bytes_were_not_compared() -> None:
    lines = bench("--short", "--runs", "1")
    assert line(lines, "same bytes on two runs:") == "same bytes on two runs: not measured (one run)"
    assert line(lines, "cost:").endswith(" (one run)")
    assert line(lines, "sent back:") == "sent back: 0 answer(s); refused: 0 answer(s)"
