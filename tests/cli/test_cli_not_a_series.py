"""A story or an episode file given where a series goes: what it is and what to run instead,
a usage error (exit 2), never the series schema's errors about a file that is no series file
(issue 97, item 3)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from storyboard.cli.main import cli as group
from tests.fixtures.breakdown import STORY
from tests.fixtures.example import copy_example


def command(*args: str, prog: str = "storyboard") -> Result:
    return CliRunner().invoke(group, [*args], prog_name=prog)


@pytest.mark.parametrize("prog", ["storyboard", "python -m storyboard"])
@pytest.mark.parametrize("words", [("check",), ("plan",), ("season", "render")])
def test_a_story_is_answered_with_the_breakdown(tmp_path: Path, words: tuple[str, ...],
                                                prog: str) -> None:
    """Said with the command as typed after ``storyboard`` however the program was started."""
    story = tmp_path / "story.md"
    story.write_text(STORY, encoding="utf-8")
    done = command(*words, str(story), prog=prog)
    assert done.exit_code == 2, done.output
    said = " ".join(done.output.split())
    assert f"{story} is a story, not a series: `storyboard breakdown {story} SERIES` writes a " \
        f"series from it, then `storyboard {' '.join(words)} SERIES`" in said
    assert "invalid YAML" not in said and "Traceback" not in said


def test_a_screenplay_is_answered_with_init(tmp_path: Path) -> None:
    play = tmp_path / "pilot.fountain"
    play.write_text("INT. LIGHTHOUSE - NIGHT\n\nMIA\nAre you coming up?\n", encoding="utf-8")
    done = command("check", str(play))
    assert done.exit_code == 2
    assert f"`storyboard init SERIES --from {play}`" in " ".join(done.output.split())


@pytest.mark.parametrize("words", [("check",), ("plan",), ("render",)])
def test_an_episode_file_is_answered_with_its_series(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     words: tuple[str, ...]) -> None:
    series = copy_example(tmp_path / "series")
    monkeypatch.chdir(tmp_path)
    done = command(*words, "series/episodes/01-first-meeting.yaml")
    assert done.exit_code == 2, done.output
    said = " ".join(done.output.split())
    assert ("series/episodes/01-first-meeting.yaml is an episode file, not a series: run "
            f"`storyboard {' '.join(words)} series` (the "
            "series folder whose storyboard.yaml includes it under `episodes:`)") in said
    assert "missing required key 'storyboard'" not in said
    assert (series / "storyboard.yaml").is_file()


def test_an_episode_file_with_no_series_above_says_what_a_series_is(tmp_path: Path) -> None:
    episode = tmp_path / "ep01.yaml"
    episode.write_text("id: ep01\nshots:\n  - prompt: a lighthouse\n", encoding="utf-8")
    done = command("check", str(episode))
    assert done.exit_code == 2
    assert "is an episode file, not a series: a series is the folder of a storyboard.yaml" in \
        " ".join(done.output.split())


def test_a_series_in_one_file_and_a_series_file_still_check(tmp_path: Path) -> None:
    series = copy_example(tmp_path / "series")
    assert command("check", str(series / "storyboard.yaml")).exit_code == 0
    single = tmp_path / "ad.yaml"
    single.write_text('storyboard: 1\ncharacters:\n  mia: {image: {generate: "a keeper"}}\n'
                      'episodes:\n  - id: ep01\n    shots:\n'
                      '      - {prompt: "@mia at dusk", duration: 5}\n', encoding="utf-8")
    done = command("check", str(single))
    assert done.exit_code == 0, done.output
