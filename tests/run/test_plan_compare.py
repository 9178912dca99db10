"""``plan --compare MODEL,MODEL`` (issue 49.4): one series priced on each model side by side, with
the shots each cannot render and why, before anything is spent."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from storyboard.cli.main import cli
from storyboard.language.compile import compile_lenient
from storyboard.language.read.series import load_source
from storyboard.run.compare import on_model
from tests.fixtures.example import copy_example, without_boards

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "coffee-shop"
MODELS = "wan2.7-r2v,happyhorse-1.1-r2v,MiniMax/MiniMax-H3"


@pytest.fixture
def series(tmp_path: Path) -> Path:
    return copy_example(tmp_path / "coffee-shop",
                           ignore=shutil.ignore_patterns(".storyboard", "out"))


def invoke(*args: str | Path) -> Any:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result


def compared(series: Path, *args: str) -> dict[str, dict[str, Any]]:
    result = invoke("plan", series, "--provider", "dashscope", "--json", "--compare", MODELS,
                    *args)
    assert result.exit_code == 0, result.output
    return {column["model"]: column for column in json.loads(result.stdout)}


def test_each_model_is_priced_and_its_refusals_named_at_their_lines(series: Path) -> None:
    before = {p: p.read_bytes() for p in series.rglob("*.yaml")}
    columns = compared(series)
    plain = invoke("plan", series, "--provider", "dashscope", "--json")
    # The series' own model: the figure its plan gives, every shot rendered.
    r2v = columns["wan2.7-r2v"]
    assert r2v["cost"] == pytest.approx(json.loads(plain.stdout)["total_cost"])
    assert (r2v["shots"], r2v["renders"], r2v["refused"]) == (4, 4, [])
    # HappyHorse: its own price table, and what it cannot take, shot by shot.
    horse = columns["happyhorse-1.1-r2v"]
    assert horse["cost"] == pytest.approx(horse["billed_seconds"] * 0.14)
    assert "ep01/ballad" in horse["refused_shots"] and horse["renders"] == 0
    said = {(r["shot"], r["message"].split(":")[0]) for r in horse["refused"]}
    assert ("ep01/ballad", "happyhorse-1.1-r2v takes no voices") in said
    voices = next(r for r in horse["refused"] if "takes no voices" in r["message"])
    assert voices["where"].endswith("episodes/01-first-meeting.yaml:6:5")
    # H3: the series' 720P is refused at the default that sets it, every shot with it.
    h3 = columns["MiniMax/MiniMax-H3"]
    [res] = [r for r in h3["refused"] if "resolution 720P" in r["message"]]
    assert res["shot"] == "(series)" and res["where"].endswith("storyboard.yaml:5:15")
    # Nothing of the series was changed, nothing was submitted (no journal).
    assert {p: p.read_bytes() for p in series.rglob("*.yaml")} == before
    assert not (series / ".storyboard" / "journal.sqlite").exists()


def test_one_episode_is_priced_alone(series: Path) -> None:
    whole, one = compared(series), compared(series, "--episode", "ep02")
    assert one["wan2.7-r2v"]["shots"] == 2
    assert 0 < one["wan2.7-r2v"]["cost"] < whole["wan2.7-r2v"]["cost"]
    assert all(r["shot"] in ("ep02/order", "ep02/serve", "(series)")
               for r in one["happyhorse-1.1-r2v"]["refused"])


def test_the_table_names_each_model_and_what_it_cannot_render(series: Path) -> None:
    result = invoke("plan", series, "--provider", "dashscope", "--compare", MODELS)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["model", "provider", "key", "shots", "renders", "billed", "s",
                                "cost"]
    assert any(line.split()[:3] == ["wan2.7-r2v", "dashscope", "DASHSCOPE_API_KEY"]
               and line.endswith("3.40 USD") for line in lines)
    assert "happyhorse-1.1-r2v cannot render ep01/ballad" in result.stdout
    # a model that renders none says why on its line
    horse = next(line for line in lines if line.startswith("happyhorse-1.1-r2v "))
    assert "  (renders none: every shot is refused; the most common cause (4 shot(s)): " in horse
    h3 = next(line for line in lines if line.startswith("MiniMax/MiniMax-H3 "))
    assert "  (renders none: resolution 720P" in h3  # a default every shot inherits


def test_each_column_names_its_provider_key_and_why_it_renders_none(series: Path) -> None:
    columns = compared(series)
    r2v, h3 = columns["wan2.7-r2v"], columns["MiniMax/MiniMax-H3"]
    assert (r2v["provider"], r2v["key"], r2v["why_none"]) == ("dashscope", "DASHSCOPE_API_KEY",
                                                              "")
    assert h3["renders"] == 0 and h3["why_none"].startswith("resolution 720P")
    assert h3["why_none"].endswith("storyboard.yaml:5:15)")


@pytest.mark.parametrize("models", ["wan9", "wan2.7-r2v,nope", ","])
def test_an_unknown_model_is_a_clear_error(series: Path, models: str) -> None:
    result = invoke("plan", series, "--compare", models)
    assert result.exit_code == 2 and "--compare: unknown model(s)" in result.output


def test_the_moved_series_leaves_the_original_alone(series: Path) -> None:
    source = load_source(series)
    before = json.dumps(source.series.data, sort_keys=True)
    moved = on_model(source, "wan3.0-video")
    assert json.dumps(source.series.data, sort_keys=True) == before
    manifest, _ = compile_lenient(moved)
    assert {s.request.model for s in manifest.episode_shots()} == {"wan3.0-video"}
    original, _ = compile_lenient(load_source(series))
    assert {s.request.model for s in original.episode_shots()} == {"wan2.7-r2v"}


def test_a_shots_own_model_is_replaced_too(tmp_path: Path, make_media: Any) -> None:
    from tests.fixtures.models import series as model_series

    root = model_series(tmp_path, make_media, "wan3.0-video")  # the shot says model: wan3.0-video
    manifest, problems = compile_lenient(on_model(load_source(root), "wan2.7-r2v"))
    assert [s.request.model for s in manifest.episode_shots()] == ["wan2.7-r2v"]
    assert not [p for p in problems if p.severity == "error"]


def test_alone_it_compares_the_series_model_and_its_declared_fallbacks(series: Path) -> None:
    text = (series / "storyboard.yaml").read_text()
    (series / "storyboard.yaml").write_text(
        text + "fallbacks: [wan3.0-video, MiniMax/MiniMax-H3]\n")
    result = invoke("plan", series, "--provider", "dashscope", "--json", "--compare")
    assert result.exit_code == 0, result.output
    assert [c["model"] for c in json.loads(result.stdout)] == [
        "wan2.7-r2v", "wan3.0-video", "MiniMax/MiniMax-H3"]
    assert invoke("check", series).exit_code == 0  # declared only: nothing renders on them


def test_alone_without_fallbacks_it_says_what_to_give(series: Path) -> None:
    result = invoke("plan", series, "--compare")
    assert result.exit_code == 2 and "needs a fallbacks: list in the series" in result.output


def test_a_fallback_that_is_no_model_is_located(series: Path) -> None:
    text = (series / "storyboard.yaml").read_text()
    (series / "storyboard.yaml").write_text(text + "fallbacks: [wan9-video]\n")
    result = invoke("check", series)
    assert result.exit_code != 0 and "storyboard.yaml:" in result.output
    assert "fallbacks" in result.output


def test_a_series_with_variations_is_told_what_compare_takes(tmp_path: Path) -> None:
    ad = shutil.copytree(EXAMPLE.parent / "ad", tmp_path / "ad",
                         ignore=shutil.ignore_patterns(".storyboard", "out"))
    result = invoke("plan", ad, "--compare", "wan2.7-r2v")
    assert result.exit_code == 2 and "prices a series without variations" in result.output


def test_kling_is_priced_by_its_own_rates_and_checked_by_its_own_limits(series: Path) -> None:
    """A model only its vendor serves: Kling's rates and Kling's limits, beside DashScope's."""
    result = invoke("plan", series, "--provider", "dashscope", "--json", "--compare",
                    "wan2.7-r2v,kling-v3-omni")
    assert result.exit_code == 0, result.output
    kling = {c["model"]: c for c in json.loads(result.stdout)}["kling-v3-omni"]
    assert kling["currency"] == "USD"
    assert kling["cost"] == pytest.approx(kling["billed_seconds"] * 0.112)
    said = {r["message"] for r in kling["refused"]}
    assert any(m.startswith("kling-v3-omni takes no voices") for m in said), said
    assert any("kling fetches files from public URLs" in m for m in said), said
    assert "kling-v3-omni is served by kling's own API" not in " ".join(said)


def test_the_main_cause_groups_refusals_by_their_reason_not_their_words(tmp_path: Path) -> None:
    """Issue 65.12: a reason whose words name each shot's own references (three shots, three
    texts) is still the cause of three refusals, ahead of one that holds two shots."""
    root = Path(shutil.copytree(EXAMPLE.parent / "boards-first", tmp_path / "boards-first",
                                ignore=shutil.ignore_patterns(".storyboard", "out")))
    without_boards(root)
    result = invoke("plan", root, "--provider", "dashscope", "--json", "--compare", "wan2.7-t2v")
    assert result.exit_code == 0, result.output
    [column] = json.loads(result.stdout)
    texts = {r["message"] for r in column["refused"] if "character references" in r["message"]}
    assert len(texts) == 3  # (@sam, @mia), (@mia), (@mia, @sam): one reason in three wordings
    assert column["why_none"].startswith("every shot is refused; the most common cause (3 "
                                         "shot(s)): wan2.7-t2v takes no character references")


@pytest.mark.parametrize("source", ["storyboard: 1\nepisodes: [\n",
                                    "storyboard: 1\nprovider: local\nshots:\n  - id: a\n"
                                    "    prompt: a pond\n    wobble: 3\n"],
                         ids=["unparsed", "unknown-key"])
def test_a_series_that_does_not_read_is_its_own_error_not_a_models_refusal(
        tmp_path: Path, source: str) -> None:
    (tmp_path / "storyboard.yaml").write_text(source, encoding="utf-8")
    for json_flag in ((), ("--json",)):
        result = invoke("plan", tmp_path, "--compare", "wan2.7-r2v", *json_flag)
        assert result.exit_code == 1, result.output
        assert "storyboard.yaml:" in result.stderr and "USD" not in result.stdout, result.output
