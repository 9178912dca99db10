"""A ``storyboard.yaml`` written first (settings, no cast) and the breakdown: its cast and its
``episodes:`` merged in beside what the person wrote, their keys and comments kept, never a series
of nothing that checks "ok" (issue 95, item 4)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import storyboard
from storyboard.breakdown.seriesfile import MARK
from storyboard.cli.main import cli as group
from storyboard.emulator.server import EmulatorServer
from tests.fixtures.breakdown import KEY_ENV, STORY, chat_base, requests, story


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "sk-test-breakdown")


def command(*args: str) -> Result:
    return CliRunner().invoke(group, [*args])


def written_first(series: Path, chat_emulator: EmulatorServer, season: bool = True) -> str:
    """What a person writes before the breakdown: a title, the breakdown's block (with a
    season's target, as docs/season.md has it), the delivery block, comments; no cast."""
    target = "  episodes: 3\n  episode_seconds: 30\n  ratio: \"9:16\"\n" if season else ""
    text = ("storyboard: 1\n# The lighthouse, for the phone\ntitle: \"My lighthouse\"\n"
            f"breakdown:\n  base_url: {chat_base(chat_emulator)}\n  model: qwen-plus\n"
            f"  key_env: {KEY_ENV}\n{target}"
            "# how it ships\ndelivery:\n  preset: vertical   # 1080x1920\n  platform: tiktok\n")
    series.mkdir(parents=True, exist_ok=True)
    (series / "storyboard.yaml").write_text(text, encoding="utf-8")
    return text


def test_a_series_file_written_first_gets_the_cast_and_episodes_merged_in(
        chat_emulator: EmulatorServer, tmp_path: Path) -> None:
    source, series = story(tmp_path), tmp_path / "series"
    mine = written_first(series, chat_emulator)
    done = command("breakdown", str(source), str(series), "--yes")
    assert done.exit_code == 0, done.output
    assert not (series / "storyboard.yaml.proposed").exists()
    text = (series / "storyboard.yaml").read_text(encoding="utf-8")
    assert text.startswith(mine + "\n" + MARK + "\n")  # yours, byte for byte, then the marker
    assert text.count("title:") == 1 and text.count("breakdown:") == 1  # a key you wrote: once
    checked = command("check", str(series))
    assert checked.exit_code == 0 and "ok: 3 episode(s), 15 shot(s)" in checked.output, \
        checked.output
    made = storyboard.compile(series)
    assert made.title == "My lighthouse" and len(made.episodes) == 3
    assert sorted(a.id for a in made.cast if "/" not in a.id) == [
        "mia", "mia-voice", "sam", "sam-voice"]
    before, again = requests(chat_emulator), command("breakdown", str(source), str(series),
                                                     "--yes")
    assert again.exit_code == 0 and requests(chat_emulator) == before
    assert (series / "storyboard.yaml").read_text(encoding="utf-8") == text  # a re-run: the same


def test_a_re_run_writes_the_breakdown_s_part_anew_and_your_edits_stand(
        chat_emulator: EmulatorServer, tmp_path: Path) -> None:
    source, series = story(tmp_path), tmp_path / "series"
    file = series / "storyboard.yaml"
    mine = written_first(series, chat_emulator, season=False)
    assert command("breakdown", str(source), str(series), "--yes").exit_code == 0
    source.write_text(STORY.replace("Sam", "Tom"), encoding="utf-8")  # new answers: a new cast
    assert command("breakdown", str(source), str(series), "--yes").exit_code == 0
    text = file.read_text(encoding="utf-8")
    assert text.startswith(mine + "\n" + MARK + "\n") and "  tom:" in text and "  sam:" not in text
    file.write_text(text.replace("tiktok", "youtube"), encoding="utf-8")  # above: yours
    source.write_text(STORY, encoding="utf-8")  # the answers change: below is written anew
    anew = command("breakdown", str(source), str(series), "--yes")
    assert anew.exit_code == 0, anew.output
    text = file.read_text(encoding="utf-8")
    assert text.startswith(mine.replace("tiktok", "youtube") + "\n" + MARK + "\n")
    assert "  sam:" in text and "  tom:" not in text and not (series / "storyboard.yaml.proposed"
                                                               ).exists()
    edited = text.replace('description: "Sam"', 'description: "Sam, the keeper"')  # below
    file.write_text(edited, encoding="utf-8")
    same = command("breakdown", str(source), str(series), "--yes")  # the same answers
    assert same.exit_code == 0, same.output
    assert file.read_text(encoding="utf-8") == edited
    assert not (series / "storyboard.yaml.proposed").exists()
    said = STORY.replace("Not in this weather", "Not in this storm")  # Sam's voice sample
    source.write_text(said, encoding="utf-8")  # new answers: a proposal beside your edit
    changed = command("breakdown", str(source), str(series), "--yes")
    assert changed.exit_code == 0, changed.output
    assert file.read_text(encoding="utf-8") == edited
    proposal = (series / "storyboard.yaml.proposed").read_text(encoding="utf-8")
    assert proposal.startswith(mine.replace("tiktok", "youtube") + "\n" + MARK + "\n")
    assert "Not in this storm" in proposal and 'description: "Sam"' in proposal


def test_a_block_that_no_longer_says_what_the_run_used_is_written_in_its_place(
        chat_emulator: EmulatorServer, tmp_path: Path) -> None:
    source, series = story(tmp_path), tmp_path / "series"
    mine = written_first(series, chat_emulator, season=False)
    done = command("breakdown", str(source), str(series), "--yes", "--model", "house-model",
                   "--price-in", "0.5", "--price-out", "1.5")
    assert done.exit_code == 0, done.output
    text = (series / "storyboard.yaml").read_text(encoding="utf-8")
    head, _, below = text.partition(MARK)
    assert head.startswith("storyboard: 1\n# The lighthouse, for the phone\ntitle: \"My lighthouse\""
                           "\nbreakdown:\n  model: \"house-model\"\n")
    assert head.endswith("# how it ships\ndelivery:\n  preset: vertical   # 1080x1920\n"
                         "  platform: tiktok\n\n") and "breakdown:" not in below
    assert text.count("breakdown:") == 1 and mine != head


@pytest.mark.parametrize("text", [
    "{storyboard: 1, delivery: {preset: vertical}}\n",
    "storyboard: 1\ndelivery: {preset: vertical}\n...\n",
], ids=["a flow mapping", "a document end"])
def test_a_file_no_merge_can_keep_is_refused_before_any_call(
        chat_emulator: EmulatorServer, tmp_path: Path, text: str) -> None:
    source, series = story(tmp_path), tmp_path / "series"
    series.mkdir()
    (series / "storyboard.yaml").write_text(text, encoding="utf-8")
    before = requests(chat_emulator)
    done = command("breakdown", str(source), str(series), "--yes", "--base-url",
                   chat_base(chat_emulator), "--api-key-env", KEY_ENV)
    assert done.exit_code == 1 and requests(chat_emulator) == before
    assert "storyboard.yaml:1:1: error: the breakdown adds its cast and its episodes" in \
        done.output and "nothing was asked" in done.output and "Traceback" not in done.output
    assert (series / "storyboard.yaml").read_text(encoding="utf-8") == text
    assert not (series / "episodes").exists()


def test_a_series_file_with_a_cast_is_yours_and_gets_a_proposal(
        chat_emulator: EmulatorServer, tmp_path: Path) -> None:
    source, series = story(tmp_path), tmp_path / "series"
    mine = written_first(series, chat_emulator, season=False) + \
        "characters:\n  ann: {image: {generate: \"a keeper\"}, description: \"Ann\"}\n"
    (series / "storyboard.yaml").write_text(mine, encoding="utf-8")
    done = command("breakdown", str(source), str(series), "--yes")
    assert done.exit_code == 0, done.output
    assert (series / "storyboard.yaml").read_text(encoding="utf-8") == mine
    assert (series / "storyboard.yaml.proposed").is_file()
    checked = command("check", str(series))  # the episodes it wrote are in no `episodes:`
    assert checked.exit_code == 0 and "ok:" not in checked.output
    assert "warning: 0 episode(s): the series includes none of the 3 episode file(s)" in \
        checked.output
    assert "01-the-lighthouse.yaml:1:1: warning: no `episodes:` entry of storyboard.yaml " \
        "includes this episode file" in checked.output
