"""What the plan, `models` and `takes` print into a pipe, through the real command line (a
subprocess, its output piped): header lines whole, the summary's non-zero counters, which model
and host the prices are for, and ids never cut in two."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.example import copy_example

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "coffee-shop"
BORDERS = ("┏", "┃", "┡", "│", "├", "└")


def run(*args: str, columns: str | None = "120") -> list[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env.update({"NO_COLOR": "1", **({"COLUMNS": columns} if columns else {})})
    done = subprocess.run([sys.executable, "-m", "storyboard", *args], capture_output=True,
                          text=True, env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


@pytest.fixture(scope="module")
def series(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("terminal") / "coffee-shop"
    copy_example(copy, ignore=shutil.ignore_patterns(".storyboard", "out", "storyboard.lock"))
    return copy


@pytest.fixture(scope="module")
def paid_plan(series: Path) -> list[str]:
    return run("plan", str(series), "--provider", "dashscope")


def test_the_plan_header_is_whole_lines_naming_model_and_host(series: Path,
                                                              paid_plan: list[str]) -> None:
    lines = paid_plan
    assert lines[0] == "plan: dashscope at dashscope-intl.aliyuncs.com"
    assert lines[1] == "prices: wan2.7-r2v: USD 0.1/s 720P, 0.15/s 1080P (+ input video <= 5 s)"
    assert lines[2].startswith("┏")
    local = run("plan", str(series))
    assert local[0] == "plan: local" and local[1] == "prices: wan2.7-r2v: free"  # not "0/s"


def test_the_plan_summary_lists_only_counters_that_are_not_zero(paid_plan: list[str]) -> None:
    lines = paid_plan
    assert lines[-1] == "4 new, 1 waits; total 34 billed s, about 3.40 USD"
    assert " 0 " not in f" {lines[-1]} "


def test_models_keeps_every_model_id_whole_at_120_columns() -> None:
    lines = run("models")
    text = "\n".join(lines)
    for model_id in ("wan2.7-r2v-2026-06-12", "wan3.0-video-prime", "wan3.0-video", "wan2.7-i2v"):
        assert model_id in text, model_id
    tables = [line.rstrip() for line in lines if line.startswith(BORDERS)]
    assert max(len(line) for line in tables) <= 120
    assert all(line[-1] in "┓┃┩│┤┘" for line in tables)  # nothing cropped at the right


def test_models_and_takes_in_a_pipe_keep_each_row_on_one_line(
        rendered_example: tuple[Path, Path]) -> None:
    """Without COLUMNS a pipe gets whole rows, as plan and status do (no 80-column wrap). The
    takes are the shared rendered example's (rendered once per session)."""
    lines = run("models", columns=None)
    header = next(line for line in lines if line.startswith("model\t"))
    assert "wan3.0-video-prime" in header and "wan2.7-r2v-2026-06-12" in "\n".join(lines)
    takes = run("takes", str(rendered_example[0]), "ep01/ballad", columns=None)
    (row,) = [line for line in takes if line.startswith("1\t")]
    assert "local-" in row and "done" in row  # task id and state on one line


def test_a_plan_of_several_models_prices_each_on_its_own_line() -> None:
    series = EXAMPLE.parent / "long-take"
    lines = run("plan", str(series), "--provider", "dashscope")
    assert lines[0] == "plan: dashscope at dashscope-intl.aliyuncs.com"
    assert lines[1].startswith("prices: wan3.0-video: USD 0.05/s 480P")
    assert lines[2].startswith("        wan2.7-i2v: USD ")
    assert lines[3].startswith("┏")


def test_prices_are_told_in_their_own_unit_in_plain_decimals() -> None:
    """Speech is priced per character: never ``1e-05/s each (+ input video <= 0 s)``."""
    from storyboard.targets.capabilities import PriceTable
    from storyboard.targets.cast.assets import price_tables
    tables = price_tables("intl", "USD")
    speech = next(t for model, t in tables.items() if t.per == "character")
    assert speech.describe() == "USD 0.1 per 10,000 characters"
    assert tables["wan2.7-image"].describe() == "USD 0.03 a generation"
    assert PriceTable({"720P": 0.00001}).describe() == "USD 0.00001/s 720P (+ input video <= 5 s)"
    assert PriceTable({"720P": 0.0, "1080P": 0.0}).describe() == "free"
    assert speech.cost("each", 250) == 0.0025  # billed as before: the rate a character
