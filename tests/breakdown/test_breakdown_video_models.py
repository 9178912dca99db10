"""A season cut for the series' video model (issue 98): every model of the capability table
gets shots of the lengths it renders, written as it takes them, and the series checks clean."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

import storyboard
from storyboard.breakdown.pipeline import BreakdownError, Options, breakdown
from storyboard.breakdown.settings import merged
from storyboard.breakdown.shape.skeleton import shape
from storyboard.breakdown.shape.video import video_of
from storyboard.emulator.server import EmulatorServer
from storyboard.targets.video.models import MODELS
from tests.fixtures.breakdown import KEY_ENV, chat_base, story

EDITS_A_VIDEO = {"wan2.7-videoedit"}  # each shot needs a source video: no story becomes one


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "sk-test-breakdown")


def season(emulator: EmulatorServer, source: Path, series: Path, **given: Any) -> Any:
    options = Options(base_url=chat_base(emulator), key_env=KEY_ENV, yes=True, episodes=2,
                      episode_seconds=20, **given)
    return breakdown(source, series, options)


def shots(series: Path) -> list[dict[str, Any]]:
    return [shot for path in sorted((series / "episodes").glob("*.yaml"))
            for shot in yaml.safe_load(path.read_text("utf-8"))["shots"]]


@pytest.mark.parametrize("model", sorted(set(MODELS) - EDITS_A_VIDEO))
def test_a_season_for_every_model_checks_clean(chat_emulator: EmulatorServer, tmp_path: Path,
                                               model: str) -> None:
    series = tmp_path / "series"
    report = season(chat_emulator, story(tmp_path), series, video_model=model)
    assert report.problems == []
    found = [d.format() for d in storyboard.check(series)]
    assert found == []
    takes = video_of(series).takes()
    made = shots(series)
    assert len(made) >= 2 and all(shot["duration"] in takes for shot in made), takes
    written = yaml.safe_load((series / "storyboard.yaml").read_text("utf-8"))
    assert written["defaults"].get("model", "wan2.7-r2v") == model


@pytest.mark.parametrize("model", sorted(set(MODELS) - EDITS_A_VIDEO))
def test_a_story_broken_into_chapters_for_every_model_checks_clean(
        chat_emulator: EmulatorServer, tmp_path: Path, model: str) -> None:
    """Without a season, each chapter's shots last what its answer says: written at a length
    the model renders (the least that holds them, else its longest, the scenes scaled)."""
    series = tmp_path / "series"
    report = breakdown(story(tmp_path), series, Options(
        base_url=chat_base(chat_emulator), key_env=KEY_ENV, yes=True, video_model=model))
    assert report.problems == []
    assert [d.format() for d in storyboard.check(series)] == []
    takes = video_of(series).takes()
    assert all(shot["duration"] in takes for shot in shots(series)), takes


def test_the_series_own_model_cuts_its_lengths(chat_emulator: EmulatorServer,
                                               tmp_path: Path) -> None:
    """The issue's season: MiniMax-Hailuo-2.3 at 20 s an episode was cut in wan2.7-r2v's 5 s
    shots, each refused by check. The model the series' breakdown block names, or the one its
    written file's defaults name (your edit), cuts the season."""
    assert shape(20).seconds == 5  # wan2.7-r2v's
    series = tmp_path / "series"
    series.mkdir()
    (series / "storyboard.yaml").write_text(
        "storyboard: 1\nbreakdown: {video_model: MiniMax-Hailuo-2.3}\n", "utf-8")
    season(chat_emulator, story(tmp_path), series, **merged(series, {}))
    assert [s["duration"] for s in shots(series)] == [10, 10, 10, 10]
    assert [d.format() for d in storyboard.check(series)] == []
    edited = tmp_path / "edited"
    season(chat_emulator, story(tmp_path), edited)
    assert {s["duration"] for s in shots(edited)} == {5}
    head = edited / "storyboard.yaml"
    head.write_text(head.read_text("utf-8").replace(
        "defaults:\n  resolution: 720P", "defaults:\n  model: MiniMax-Hailuo-2.3\n"
        "  resolution: 1080P"), "utf-8")
    assert video_of(edited).takes() == (6,)  # 1080P: 6 s only
    season(chat_emulator, story(tmp_path), edited)
    assert {s["duration"] for s in shots(edited)} == {6}
    assert not [d for d in storyboard.check(edited) if "duration" in d.message]


def test_a_model_no_story_becomes_is_refused_before_anything_is_asked(
        chat_emulator: EmulatorServer, tmp_path: Path) -> None:
    with pytest.raises(BreakdownError, match=r"edits a video of its own.*nothing was asked"):
        season(chat_emulator, story(tmp_path), tmp_path / "a", video_model="wan2.7-videoedit")
    with pytest.raises(BreakdownError, match=r"makes 16:9, not 9:16"):
        season(chat_emulator, story(tmp_path), tmp_path / "b", video_model="MiniMax-Hailuo-2.3",
               ratio="9:16")
    with pytest.raises(BreakdownError, match="unknown video model 'wan9'"):
        season(chat_emulator, story(tmp_path), tmp_path / "c", video_model="wan9")


def test_a_shot_is_written_at_a_length_its_model_renders() -> None:
    from storyboard.breakdown.stages.chaptershots import Scene, Shot, fitted
    long = Shot("s01", "story.md", 1, 1, "wide shot", 12, [],
                [Scene(0, 4.5, "Mia climbs."), Scene(4.5, 12, "Sam waits.")])
    made = fitted(long, whole=False, timed=True, takes=(6, 10))
    assert made.duration == 10 and [(s.start, s.end) for s in made.scenes] == [(0, 3.75), (3.75, 10)]
    short = fitted(Shot("s02", "story.md", 1, 1, "wide shot", 3, [], [Scene(0, 3, "Mia.")]),
                   whole=True, timed=False, takes=(6, 10))
    assert short.duration == 6 and [(s.start, s.end) for s in short.scenes] == [(0, 6)]


def test_a_speakers_second_line_in_a_scene_is_joined_to_the_first_never_lost() -> None:
    """A scene's ``say:`` holds one line a speaker: Hans's second line in the scene (as
    The King of the Golden River's rules-3 run kept one, given back to him) is written after his
    first, not dropped, and each speaker's story line stays beside it."""
    import yaml

    from storyboard.breakdown.stages.chaptershots import Scene, Shot
    from storyboard.breakdown.stages.writer import shot_yaml
    shot = Shot("s01", "story.md", 1, 9, "close-up", 5, ["hans", "gluck"], [Scene(
        0, 5, "Hans sneers.", [("hans", "Good morning, brother.", 3), ("gluck", "Oh, Hans!", 4),
                               ("hans", "Why don't you sell your feather?", 7)])])
    written = "\n".join(shot_yaml(shot, "story.md"))
    say = yaml.safe_load(written)[0]["scenes"][0]["say"]
    assert say == {"hans": "Good morning, brother. Why don't you sell your feather?",
                   "gluck": "Oh, Hans!"}, written
    assert "# story.md: line 3, line 4\n" in written + "\n", written
    shot.scenes[0].say = [("mia", "Real isn't how you are made", 2), ("sam", "In a minute,", 4),
                          ("mia", "When a child loves you", 3), ("sam", "The kettle is on.", 4)]
    say = yaml.safe_load("\n".join(shot_yaml(shot, "story.md")))[0]["scenes"][0]["say"]
    assert say == {"mia": "Real isn't how you are made … When a child loves you",
                   "sam": "In a minute, … The kettle is on."}  # words left out between: marked


def test_the_flag_names_the_model_and_a_wrong_one_is_refused(chat_emulator: EmulatorServer,
                                                             tmp_path: Path) -> None:
    from click.testing import CliRunner

    from storyboard.breakdown.failure import resume_command
    from storyboard.cli.main import cli as group

    def run(series: Path, model: str) -> tuple[int, str]:
        done = CliRunner().invoke(group, [
            "breakdown", str(story(tmp_path)), str(series), "--video-model", model,
            "--episodes", "2", "--episode-seconds", "20", "--yes",
            "--base-url", chat_base(chat_emulator), "--api-key-env", KEY_ENV])
        return done.exit_code, done.output
    code, _said = run(tmp_path / "hailuo", "MiniMax-Hailuo-2.3")
    assert code == 0 and {s["duration"] for s in shots(tmp_path / "hailuo")} == {10}
    code, said = run(tmp_path / "typo", "MiniMax-Hailuo-2.4")
    assert code == 1 and "unknown video model 'MiniMax-Hailuo-2.4' (did you mean " in said
    assert not (tmp_path / "typo" / ".storyboard" / "breakdown" / "answers").exists()
    again = resume_command(tmp_path / "s.md", tmp_path / "x", Options(video_model="kling-v3-omni"))
    assert "--video-model kling-v3-omni" in again
