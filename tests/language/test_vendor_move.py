"""Moving a series to another vendor (issue 58.3): one error per cause, at the place to change,
with the change; a series-wide default a model lacks is only not sent to it (a warning), so a
series moves with its ``model:`` line and the errors left are the shots that truly cannot go."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import storyboard
from storyboard.cli import cli
from tests.fixtures.example import copy_example

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "coffee-shop"
SEEDANCE = "dreamina-seedance-2-0-260128"
SEEDANCE_25 = "dreamina-seedance-2-5-260628"


@pytest.fixture
def series(tmp_path: Path) -> Path:
    return copy_example(tmp_path / "coffee-shop",
                           ignore=shutil.ignore_patterns(".storyboard", "out"))


def with_model(series: Path, model: str, shot_line: str = "") -> Path:
    main = series / "storyboard.yaml"
    main.write_text(main.read_text("utf-8").replace(
        "  duration: 5\n", f"  duration: 5\n  model: {model}\n"), encoding="utf-8")
    if shot_line:
        episode = series / "episodes" / "02-the-regular.yaml"
        episode.write_text(episode.read_text("utf-8").replace(
            "    duration: 4\n", f"    duration: 4\n{shot_line}"), encoding="utf-8")
    return series


@pytest.mark.parametrize("provider", ["modelark", "ark", "kling"])
def test_a_model_the_gateway_does_not_sell_is_one_error_at_the_defaults(
        series: Path, provider: str) -> None:
    result = CliRunner().invoke(cli, ["plan", str(series), "--provider", provider])
    assert result.exit_code == 1 and "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if ": error: " in line]
    assert len(errors) == 1, result.output
    assert errors[0].startswith(f"{series}/storyboard.yaml:4:1: error: {provider} sells ")
    assert "not wan2.7-r2v (no `model:` chooses another, so wan2.7-r2v): set `model:` in " \
           "`defaults` to one of them" in errors[0]


def test_a_model_chosen_in_the_defaults_is_refused_at_its_line(series: Path) -> None:
    with_model(series, "wan3.0-video")
    found = [d for d in storyboard.check(series, provider="modelark")
             if d.severity == "error" and d.message.startswith("modelark")]
    assert [(d.span.line if d.span else 0, d.message.split(":")[0]) for d in found] == [
        (8, f"modelark sells {SEEDANCE}, {SEEDANCE_25}, not wan3.0-video")]


def test_series_wide_settings_a_model_lacks_are_warnings_a_shots_own_an_error(
        series: Path) -> None:
    with_model(series, SEEDANCE, shot_line="    prompt_extend: true\n")
    found = storyboard.check(series, provider="modelark")
    said = {(d.severity, d.message) for d in found
            if "negative_prompt" in d.message or "prompt_extend" in d.message}
    assert said == {
        ("warning", f"negative_prompt is not sent to the {SEEDANCE} shots that inherit it: "
                    f"{SEEDANCE} takes no negative prompt"),
        ("warning", f"prompt_extend is not sent to the {SEEDANCE} shots that inherit it: "
                    f"{SEEDANCE} has no prompt_extend switch"),
        ("error", f"{SEEDANCE} has no prompt_extend switch; remove prompt_extend for this "
                  "model")}
    own = next(d for d in found if d.severity == "error" and "prompt_extend" in d.message)
    assert own.span is not None and own.span.file.endswith("02-the-regular.yaml")


def test_after_the_move_only_the_shots_that_cannot_go_are_errors(series: Path) -> None:
    """With the model line changed and the files hosted, what is left: a 3 s shot under the
    4 s minimum, a first frame with references where they exclude each other."""
    with_model(series, SEEDANCE)
    main = series / "storyboard.yaml"
    main.write_text(main.read_text("utf-8") + "provider: {name: modelark, media_base_url: "
                    "'https://media.example.com/s/'}\n", encoding="utf-8")
    found = [d.message for d in storyboard.check(series, provider="modelark")
             if d.severity == "error"]
    assert len(found) == 2, found
    assert found[0].startswith(f"{SEEDANCE} takes references or a first/last frame, not both")
    assert found[1].startswith("a 3 s shot; expected 4 to 15 s with a reference video")
