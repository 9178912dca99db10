"""``check`` holds a written series' cast to the story the breakdown read (issue 98, item 2): a
person the story says speaks whom no character names is a warning at ``characters:``, naming
the story's line, whether the cast was edited since or the story was; a series with no
breakdown record is not held so. The Grimm tale is public domain; the added lines are
written here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from storyboard.breakdown.castcheck import MAX_SAID, cast_problems
from storyboard.cli.main import cli as group
from storyboard.emulator.server import EmulatorServer
from tests.fixtures.breakdown import KEY_ENV, chat_base

DATA = Path(__file__).resolve().parents[1] / "data" / "breakdown"


def storyboard(*args: str) -> tuple[int, str]:
    done = CliRunner().invoke(group, list(args))
    return done.exit_code, done.output + done.stderr


@pytest.fixture
def written(chat_emulator: EmulatorServer, tmp_path: Path,
            monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(KEY_ENV, "sk-test-breakdown")
    story = tmp_path / "little-red-cap.md"
    story.write_text((DATA / "little-red-cap.md").read_text("utf-8"), "utf-8")
    series = tmp_path / "series"
    code, said = storyboard("breakdown", str(story), str(series), "--base-url",
                            chat_base(chat_emulator), "--api-key-env", KEY_ENV, "--yes")
    assert code == 0, said
    return series


def warnings(series: Path) -> list[dict[str, object]]:
    code, said = storyboard("check", "--json", str(series))
    assert code == 0, said
    return [d for d in json.loads(said) if d["code"] == "cast-speaker"]


def test_a_speaker_the_story_gains_is_said_at_the_cast_until_a_character_names_them(
        written: Path) -> None:
    assert warnings(written) == []
    story = written.parent / "little-red-cap.md"
    lines = story.read_text("utf-8").split("\n")
    story.write_text("\n".join([*lines, "", '"Stop, thief!" cried Mr. McGregor.', ""]), "utf-8")
    found = warnings(written)
    assert len(found) == 1, found
    said = found[0]
    assert said["severity"] == "warning" and said["file"].endswith("storyboard.yaml")
    text = (written / "storyboard.yaml").read_text("utf-8").split("\n")
    assert text[int(said["line"]) - 1].startswith("characters:")  # type: ignore[call-overload]
    assert "'Mr. McGregor'" in str(said["message"])
    assert f"little-red-cap.md:{len(lines) + 2}" in str(said["message"])
    code, out = storyboard("check", str(written))
    assert code == 0 and "Mr. McGregor" in out and "characters:" in out, out
    data = yaml.safe_load((written / "storyboard.yaml").read_text("utf-8"))
    key = next(iter(data["characters"]))
    text = (written / "storyboard.yaml").read_text("utf-8")
    (written / "storyboard.yaml").write_text(
        text.replace(f"  {key}: ", f"  mr_mcgregor: {{image: {{generate: a gardener}}}}\n  {key}: ",
                     1), "utf-8")
    assert warnings(written) == []


def test_a_speaker_whose_character_is_removed_is_said_even_when_the_series_does_not_compile(
        written: Path) -> None:
    data = yaml.safe_load((written / "storyboard.yaml").read_text("utf-8"))
    assert "red_cap" in data["characters"], data["characters"]
    lines = (written / "storyboard.yaml").read_text("utf-8").split("\n")
    kept = [line for line in lines if not line.startswith("  red_cap:")]
    (written / "storyboard.yaml").write_text("\n".join(kept), "utf-8")
    code, said = storyboard("check", "--json", str(written))
    assert code == 1, said  # her shots name a character no more declared
    found = [d for d in json.loads(said) if d["code"] == "cast-speaker"]
    assert ["'Little Red-Cap'" in d["message"] for d in found] == [True], said


def test_many_missing_speakers_are_said_once_each_up_to_a_count(tmp_path: Path) -> None:
    series = tmp_path / "series"
    (series / ".storyboard" / "breakdown").mkdir(parents=True)
    story = tmp_path / "story.md"
    names = [f"Person{chr(65 + i)}{chr(65 + i)}" for i in range(MAX_SAID + 5)]
    story.write_text("\n\n".join(f'"Hello there," said {name}.' for name in names), "utf-8")
    (series / ".storyboard" / "breakdown" / "last.json").write_text(json.dumps(
        {"options": {}, "source": "../story.md", "proposed": []}), "utf-8")
    (series / "storyboard.yaml").write_text(
        "storyboard: 1\ntitle: T\ncharacters:\n  personaa: {image: {generate: a person}}\n", "utf-8")
    found = cast_problems(series)
    assert len(found) == MAX_SAID + 1
    assert "and 4 more speakers" in found[-1].message
    assert not any("PersonAA" in d.message for d in found)


def test_a_series_with_no_breakdown_record_is_not_held_to_a_story(tmp_path: Path) -> None:
    (tmp_path / "storyboard.yaml").write_text("storyboard: 1\ntitle: T\ncharacters: {}\n", "utf-8")
    assert cast_problems(tmp_path) == []


def test_a_possessive_is_no_speaker_s_name(tmp_path: Path) -> None:
    series = tmp_path / "series"
    (series / ".storyboard" / "breakdown").mkdir(parents=True)
    (tmp_path / "story.md").write_text(
        '"Will you make me a pie?" asked Farmer Brown\'s boy of his mother.\n\n'
        '"Stop, thief!" cried Mr. McGregor.\n', "utf-8")
    (series / ".storyboard" / "breakdown" / "last.json").write_text(json.dumps(
        {"options": {}, "source": "../story.md", "proposed": []}), "utf-8")
    (series / "storyboard.yaml").write_text(
        "storyboard: 1\ntitle: T\ncharacters:\n  farmer_brown: {image: {generate: a man}}\n"
        "  # mr_mcgregor: {image: {generate: a gardener}, description: \"Mr. McGregor\"}   # "
        "character; no shot shows it\n", "utf-8")
    assert cast_problems(series) == []  # the boy is no one named; McGregor is cast, unshown


def test_check_reads_the_recorded_story_once_and_again_once_it_is_edited(
        chat_emulator: EmulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A season's file check and its cast's share one reading of the story."""
    from storyboard.breakdown import status
    monkeypatch.setenv(KEY_ENV, "sk-test-breakdown")
    story = tmp_path / "little-red-cap.md"
    story.write_text((DATA / "little-red-cap.md").read_text("utf-8"), "utf-8")
    written = tmp_path / "season"
    code, said = storyboard("breakdown", str(story), str(written), "--episodes", "2",
                            "--base-url", chat_base(chat_emulator), "--api-key-env", KEY_ENV,
                            "--yes")
    assert code == 0 and (written / "season.yaml").is_file(), said
    read: list[Path] = []
    original = status.read_story

    def reading(path: Path) -> object:
        read.append(path)
        return original(path)

    monkeypatch.setattr(status, "read_story", reading)
    status._story.cache_clear()
    assert warnings(written) == []
    assert len(read) == 1, read
    story.write_text(story.read_text("utf-8") + "\nThe end.\n", "utf-8")
    assert warnings(written) == []
    assert len(read) == 2, read
