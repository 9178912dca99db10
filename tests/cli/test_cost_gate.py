"""The plan as a cost gate: `storyboard plan --max-cost N` exits 1 with a clear message when the
plan costs more than N, 0 otherwise; and the repository's pre-commit hooks run those commands.

Plans are free (nothing is submitted): the paid provider's plan is made without a key or network.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.fixtures.example import copy_example

ROOT = Path(__file__).resolve().parents[2]
COFFEE = ROOT / "examples" / "coffee-shop"
AD = ROOT / "examples" / "ad"
COFFEE_ON_DASHSCOPE = 3.40  # 34 billed seconds at 0.10 USD (the input video counts too)


def storyboard(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CI": "1"}
    env.pop("DASHSCOPE_API_KEY", None)
    return subprocess.run([sys.executable, "-m", "storyboard", *map(str, args)], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def coffee(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_example(tmp_path_factory.mktemp("gate") / "coffee-shop",
                           ignore=shutil.ignore_patterns(".storyboard"))


def test_a_plan_over_the_limit_exits_1_and_says_so(coffee: Path) -> None:
    done = storyboard("plan", coffee, "--provider", "dashscope", "--max-cost", "3.39")
    assert done.returncode == 1, done.stderr
    assert ("error: the plan costs 3.40 USD, more than --max-cost 3.39 USD"
            in done.stderr), done.stderr
    assert "Traceback" not in done.stderr


def test_a_plan_within_the_limit_exits_0(coffee: Path) -> None:
    done = storyboard("plan", coffee, "--provider", "dashscope", "--max-cost",
                      str(COFFEE_ON_DASHSCOPE), "--json")
    assert done.returncode == 0, done.stderr
    assert "ok: the plan costs 3.40 USD, within --max-cost 3.40 USD" in done.stderr
    assert done.stdout.lstrip().startswith("{")  # the JSON plan is still the output


def test_the_local_provider_passes_a_zero_gate(coffee: Path) -> None:
    assert storyboard("plan", coffee, "--max-cost", "0").returncode == 0


def test_a_matrix_is_held_to_its_total(tmp_path: Path) -> None:
    series = shutil.copytree(AD, tmp_path / "ad", ignore=shutil.ignore_patterns(".storyboard"))
    over = storyboard("plan", series, "--provider", "dashscope", "--max-cost", "8")
    assert over.returncode == 1 and "costs 8.20 USD, more than --max-cost 8.00 USD" in over.stderr
    assert storyboard("plan", series, "--provider", "dashscope", "--max-cost", "9").returncode == 0


def test_a_negative_limit_is_a_usage_error(coffee: Path) -> None:
    done = storyboard("plan", coffee, "--max-cost", "-1")
    assert done.returncode == 2 and "--max-cost" in done.stderr


def hooks() -> dict[str, dict[str, Any]]:
    listed = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    return {hook["id"]: hook for hook in listed}


def run_hook(hook: dict[str, Any], args: list[str], cwd: Path
             ) -> subprocess.CompletedProcess[str]:
    """The hook's command as pre-commit runs it: its entry, then its args (no file names)."""
    entry = shlex.split(str(hook["entry"]))
    assert entry[0] == "storyboard" and hook["pass_filenames"] is False
    return storyboard(*entry[1:], *args, cwd=cwd)


def test_the_hooks_are_declared_for_pre_commit() -> None:
    declared = hooks()
    assert set(declared) == {"storyboard-check", "storyboard-check-github",
                             "storyboard-cost-gate"}
    for hook in declared.values():
        assert hook["language"] == "python" and hook["name"] and hook["args"]


def test_the_check_hook_passes_a_clean_series_and_fails_a_broken_one(coffee: Path,
                                                                     tmp_path: Path) -> None:
    hook = hooks()["storyboard-check"]
    assert run_hook(hook, list(map(str, hook["args"])), cwd=coffee).returncode == 0
    broken = shutil.copytree(coffee, tmp_path / "broken")
    episode = broken / "episodes" / "02-the-regular.yaml"
    episode.write_text(episode.read_text().replace("duration: 3", "duration: soon"))
    done = run_hook(hook, ["."], cwd=broken)
    assert done.returncode == 1 and "02-the-regular.yaml:" in done.stderr


def test_the_cost_gate_hook_holds_its_default_of_zero(coffee: Path) -> None:
    hook = hooks()["storyboard-cost-gate"]
    default = list(map(str, hook["args"]))
    assert default == [".", "--max-cost", "0"]
    assert run_hook(hook, default, cwd=coffee).returncode == 0  # local: free
    paid = run_hook(hook, [*default, "--provider", "dashscope"], cwd=coffee)
    assert paid.returncode == 1 and "more than --max-cost 0.00 USD" in paid.stderr
