"""Retired models (issue 69.4): ``check`` refuses a withdrawn model at the line that names it, with
its successor, and ``plan --compare`` leaves it out."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from storyboard.cli.main import cli
from storyboard.targets.video import retired
from storyboard.targets.video.retired import Retirement
from tests.fixtures.example import copy_example


@pytest.fixture
def series(tmp_path: Path) -> Path:
    return copy_example(tmp_path / "coffee-shop",
                        ignore=shutil.ignore_patterns(".storyboard", "out"))


def invoke(*args: str | Path) -> Any:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result


def with_default(series: Path, line: str) -> Path:
    """The series with ``line`` added as the first key of its ``defaults`` (line 5)."""
    path = series / "storyboard.yaml"
    path.write_text(path.read_text().replace("defaults:\n", f"defaults:\n  {line}\n", 1))
    return path


@pytest.fixture
def r2v_retired(monkeypatch: pytest.MonkeyPatch) -> None:
    """wan2.7-r2v declared retired (as a declared model will be), wan3.0-video its successor."""
    monkeypatch.setitem(retired.RETIRED, "wan2.7-r2v",
                        Retirement("wan2.7-r2v", "2026-12-01", successor="wan3.0-video"))


def test_sora_2_is_refused_at_its_line_with_what_to_write_instead(series: Path) -> None:
    with_default(series, "model: sora-2")
    result = invoke("check", series, "--provider", "openai-video")
    assert result.exit_code != 0
    assert "storyboard.yaml:5:10: error: sora-2 was retired on 2026-09-24; OpenAI shut its " \
        "Videos API and names no direct replacement: no successor is declared; expected one " \
        "of: wan2.7-r2v" in result.output
    assert result.output.count("was retired") == 1  # said once, not once a shot


def test_a_snapshot_of_a_retired_model_is_refused_too(series: Path) -> None:
    with_default(series, "model: sora-2-pro-2025-10-06")
    result = invoke("check", series)
    assert result.exit_code != 0
    assert "storyboard.yaml:5:10: error: sora-2-pro was retired on 2026-09-24" in result.output


def test_a_retired_declared_model_is_refused_naming_its_successor(
        series: Path, r2v_retired: None) -> None:
    episode = series / "episodes" / "01-first-meeting.yaml"
    episode.write_text(episode.read_text().replace(
        "  - id: ballad\n", "  - id: ballad\n    model: wan2.7-r2v-2026-06-12\n", 1))
    result = invoke("check", series, "--provider", "dashscope")
    assert result.exit_code != 0
    assert "01-first-meeting.yaml:7:12: error: wan2.7-r2v was retired on 2026-12-01: its " \
        "successor is wan3.0-video: set model: wan3.0-video" in result.output


def test_a_retired_fallback_is_refused_at_its_item(series: Path) -> None:
    path = series / "storyboard.yaml"
    path.write_text(path.read_text() + "fallbacks: [wan3.0-video, sora-2]\n")
    line = len(path.read_text().splitlines())
    result = invoke("check", series)
    assert result.exit_code != 0
    assert f"storyboard.yaml:{line}:27: error: sora-2 was retired" in result.output


def test_a_served_model_is_not_refused(series: Path) -> None:
    with_default(series, "model: wan2.7-r2v")
    result = invoke("check", series)
    assert "retired" not in result.output


def test_plan_compare_leaves_a_retired_model_out(series: Path, r2v_retired: None) -> None:
    result = invoke("plan", series, "--provider", "dashscope", "--json", "--compare",
                    "wan2.7-r2v,wan3.0-video,sora-2")
    assert result.exit_code == 0, result.output
    assert [c["model"] for c in json.loads(result.stdout)] == ["wan3.0-video"]
    assert "note: wan2.7-r2v was retired on 2026-12-01 (successor: wan3.0-video): left out" \
        in result.stderr
    assert "note: sora-2 was retired on 2026-09-24" in result.stderr


def test_plan_compare_of_retired_models_alone_is_a_usage_error(series: Path) -> None:
    result = invoke("plan", series, "--compare", "sora-2,sora-2-pro")
    assert result.exit_code != 0
    assert "sora-2 was retired on 2026-09-24" in result.output
    assert "expected a model still served" in result.output


def test_the_series_fallbacks_leave_a_retired_one_out(series: Path) -> None:
    path = series / "storyboard.yaml"
    path.write_text(path.read_text() + "fallbacks: [wan3.0-video, sora-2]\n")
    result = invoke("plan", series, "--provider", "dashscope", "--json", "--compare")
    assert result.exit_code == 0, result.output
    assert [c["model"] for c in json.loads(result.stdout)] == ["wan2.7-r2v", "wan3.0-video"]


def test_limits_for_a_retired_model_are_refused_at_its_key(series: Path) -> None:
    path = series / "storyboard.yaml"
    path.write_text(path.read_text() + "models:\n  sora-2: {max_images: 3}\n")
    line = len(path.read_text().splitlines())
    result = invoke("check", series)
    assert result.exit_code != 0
    assert f"storyboard.yaml:{line}:3: error: sora-2 was retired on 2026-09-24" in result.output
