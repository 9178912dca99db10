"""A season: a target, its skeleton computed (the story cut into runs of its units, K shots of d
seconds an episode), season.yaml reviewed and edited by hand, each episode one bounded call
within the density heuristic; on the emulator's stand-in model."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from storyboard.breakdown.pipeline import Options, Report, breakdown, plan
from storyboard.breakdown.questions import density
from storyboard.breakdown.shape import season
from storyboard.breakdown.source import read_story
from storyboard.cli.main import cli
from storyboard.emulator.chat import episode as chat_episode
from storyboard.emulator.server import EmulatorServer
from storyboard.errors import ProblemsFound, TransportError
from storyboard.language.lint import density as language_density
from storyboard.language.variations import compile_variations
from tests.breakdown.scripted import Scripted, completion
from tests.fixtures.breakdown import (
    KEY_ENV,
    PARTY,
    chat_base,
    everyone_named,
    novel,
    requests,
    story,
)


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "sk-test-breakdown")


@pytest.fixture(autouse=True)
def no_faults(chat_emulator: EmulatorServer) -> Iterator[None]:
    chat_emulator.clear_faults()
    yield
    chat_emulator.clear_faults()


def options(base: str, **changes: Any) -> Options:
    settings: dict[str, Any] = {"base_url": base, "key_env": KEY_ENV, "yes": True,
                                "stream": "false", "episodes": 4, "episode_seconds": 60.0,
                                "ratio": "9:16"}
    return Options(**{**settings, **changes})


def run(chat_emulator: EmulatorServer, source: Path, series: Path, **changes: Any
        ) -> tuple[Report, int]:
    before = requests(chat_emulator)
    report = breakdown(source, series, options(chat_base(chat_emulator), **changes))
    return report, requests(chat_emulator) - before


def diagnostics(series: Path) -> list[str]:
    """``storyboard check`` of the series as written: every error and warning."""
    return [d.format() for d in compile_variations(series).diagnostics()]


def episodes(series: Path) -> list[str]:
    return sorted(p.name for p in (series / "episodes").glob("*.yaml"))


def test_a_season_of_four_episodes_is_planned_written_and_checks_clean(
        chat_emulator: EmulatorServer, tmp_path: Path) -> None:
    series = tmp_path / "series"
    report, sent = run(chat_emulator, story(tmp_path), series)
    # the cast of 3 chapters, a call for each of the 2 cuts that may move (episode 2's end
    # may not: a unit more or less puts it further from its share than the tolerance), then a
    # call an episode and one a shot (10 shots of 6 s each): no outline, no season call
    assert sent == report.sent == 3 + 2 + 4 + 40
    assert report.spend is not None and report.spend.by_stage["cut"] == 2
    assert report.problems == [] and report.left == [] and report.warnings == []
    assert diagnostics(series) == []
    assert episodes(series) == ["01-the-lighthouse.yaml", "02-the-lighthouse.yaml",
                                "03-the-storm.yaml", "04-the-morning.yaml"]
    # the story's 7 paragraphs cut into 4 runs balanced by length; 10 shots of 6 s each
    assert seconds(series) == [60] * 4
    written = (series / "season.yaml").read_text(encoding="utf-8")
    assert [line.strip() for line in written.split("\n") if "beats:" in line] == RANGES
    assert written.count("    hook: ") == 4
    head = (series / "storyboard.yaml").read_text(encoding="utf-8")
    assert '  ratio: "9:16"' in head  # the defaults
    assert "  episodes: 4\n  episode_seconds: 60\n" in head  # the target, recorded
    first = (series / "episodes/01-the-lighthouse.yaml").read_text(encoding="utf-8")
    assert 'hook: "' in first  # the key, not a comment
    assert "Not in this weather" not in first  # episode 2's line, filmed there
    before = {p: p.read_bytes() for p in series.rglob("*.yaml")}
    again, sent = run(chat_emulator, story(tmp_path), series)
    assert sent == again.sent == 0 and again.cached == 49  # cached: nothing is sent
    assert {p: p.read_bytes() for p in series.rglob("*.yaml")} == before
    result = CliRunner().invoke(cli, [  # the series file's target, without its flags
        "breakdown", str(tmp_path / "lighthouse.md"), str(series), "--base-url",
        chat_base(chat_emulator), "--api-key-env", KEY_ENV, "--yes"])
    assert result.exit_code == 0 and "0 request(s) sent, 49 answer(s) from the cache" in \
        result.output, result.output
    assert {p: p.read_bytes() for p in series.rglob("*.yaml")} == before


RANGES = ['beats: "1.1"   # lighthouse.md:3-3', 'beats: "1.2-1.3"   # lighthouse.md:5-7',
          'beats: "2.1-2.2"   # lighthouse.md:11-13', 'beats: "3.1-3.2"   # lighthouse.md:17-19']


def seconds(series: Path) -> list[int]:
    """Each written episode's seconds: its shots' durations added up."""
    import yaml
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: 80 episodes read in a blink
    return [sum(shot["duration"] for shot in yaml.load(path.read_text("utf-8"), Loader=loader)["shots"])
            for path in sorted((series / "episodes").glob("*.yaml"))]


def test_the_estimate_prices_the_episode_calls_before_any_is_made(
        chat_emulator: EmulatorServer, tmp_path: Path) -> None:
    source, series = story(tmp_path), tmp_path / "series"
    estimate = plan(read_story(source), series, options(chat_base(chat_emulator)))
    stages = [p.stage for p in estimate.pending]
    assert stages.count("season") == 0 and stages.count("episode") == 4
    assert stages.count("shot") == 40
    assert all(p.ceiling > 0 for p in estimate.pending)
    run(chat_emulator, source, series)
    assert plan(read_story(source), series, options(chat_base(chat_emulator))).pending == []


def test_a_hand_edited_season_is_respected_and_a_new_one_proposed_beside_it(
        chat_emulator: EmulatorServer, tmp_path: Path) -> None:
    source, series = story(tmp_path), tmp_path / "series"
    run(chat_emulator, source, series)
    edited = (
        "season:\n"
        "  - episode: 1\n    title: \"The climb\"\n    beats: \"1.1-1.3\"\n"
        "    hook: \"Will the storm come?\"\n"
        "  - episode: 2\n    title: \"The storm and the morning\"\n    beats: \"2.1-3.2\"\n"
        "    hook: \"The end\"\n")
    (series / "season.yaml").write_text(edited, encoding="utf-8")
    report, _ = run(chat_emulator, source, series)
    assert report.problems == []
    assert (series / "season.yaml").read_text(encoding="utf-8") == edited  # never overwritten
    assert "season.yaml" in report.outcome.kept  # the same answers: nothing new proposed
    assert episodes(series) == ["01-the-lighthouse.yaml", "02-the-storm.yaml"]
    first = (series / "episodes/01-the-lighthouse.yaml").read_text(encoding="utf-8")
    assert 'title: "The climb"' in first and "Not in this weather" in first
    assert "Will the storm come?" in first
    assert diagnostics(series) == []
    source.write_text(source.read_text(encoding="utf-8").replace(
        "In the morning the sea was calm.", "At dawn the sea lay still."), encoding="utf-8")
    report, _ = run(chat_emulator, source, series)
    assert (series / "season.yaml").read_text(encoding="utf-8") == edited
    assert "season.yaml" in report.outcome.proposed
    assert "At dawn the sea lay still" in (series / "season.yaml.proposed").read_text(
        encoding="utf-8")


@pytest.mark.parametrize(("beats", "said"), [
    ('"9.1"', "unit 9.1: chapter 9 is not in the story"),
    ('"1.1-1.7"', "unit 1.7: chapter 1 has 3 unit(s)"),
    ("1.2", "expected beats as chapter.unit or a range in quotes"),
    ('"2.1-1.1"', "expected a range in story order"),
])
def test_a_wrong_season_file_is_refused_at_its_line_before_any_shot(
        chat_emulator: EmulatorServer, tmp_path: Path, beats: str, said: str) -> None:
    source, series = story(tmp_path), tmp_path / "series"
    run(chat_emulator, source, series)
    text = (series / "season.yaml").read_text(encoding="utf-8")
    (series / "season.yaml").write_text(text.replace('beats: "1.2-1.3"', f"beats: {beats}"),
                                        encoding="utf-8")
    line = next(n for n, row in enumerate(
        (series / "season.yaml").read_text(encoding="utf-8").split("\n"), 1)
        if f"beats: {beats}" in row)
    with pytest.raises(ProblemsFound) as refused:
        run(chat_emulator, source, series)
    found = refused.value.diagnostics[0]
    assert found.span is not None and found.span.file.endswith("season.yaml")
    assert found.span.line == line and said in found.message


@pytest.mark.parametrize(("row", "said"), [
    ("episodes: 0", "episodes"), ("episodes: 2.5", "episodes"),
    ("episode_seconds: .nan", "not a finite number"), ("episode_seconds: .inf", "finite"),
    ("episode_seconds: -90", "episode_seconds"), ("episode_seconds: 0", "episode_seconds"),
    ('ratio: "2:1"', "ratio"),
])
def test_a_wrong_target_in_the_series_file_is_refused_at_its_line(
        tmp_path: Path, row: str, said: str) -> None:
    series = tmp_path / "series"
    series.mkdir()
    (series / "storyboard.yaml").write_text(f"storyboard: 1\nbreakdown:\n  {row}\n",
                                            encoding="utf-8")
    result = CliRunner().invoke(cli, ["breakdown", str(story(tmp_path)), str(series),
                                      "--dry-run"])
    assert result.exit_code == 1  # nothing asked: the dry run stops at the file's line
    assert "storyboard.yaml:3:" in result.output and said in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("flags", [["--episode-seconds", "nan"], ["--episode-seconds", "inf"],
                                   ["--episode-seconds", "0"], ["--episode-seconds", "-5"],
                                   ["--ratio", "2:1"], ["--episodes", "0"]])
def test_a_wrong_target_flag_is_refused(tmp_path: Path, flags: list[str]) -> None:
    result = CliRunner().invoke(cli, ["breakdown", str(story(tmp_path)),
                                      str(tmp_path / "series"), *flags])
    assert result.exit_code == 2 and "Invalid value" in result.output


def test_the_library_refuses_a_target_that_cannot_work(tmp_path: Path) -> None:
    from storyboard.breakdown.pipeline import BreakdownError
    for wrong in ({"episode_seconds": math.nan}, {"episode_seconds": -1.0}, {"episodes": 0},
                  {"ratio": "2:1"}):
        with pytest.raises(BreakdownError):
            breakdown(story(tmp_path), tmp_path / "s", options("http://127.0.0.1:9/v1", **wrong))


def first_shot(document: dict[str, Any], line: int) -> bool:
    """Whether a request is the first shot's of the episode whose lines start at ``line``."""
    return document.get("stage") == "shot" and document["shot"]["number"] == 1 and \
        document["lines"][0][0] == line


def test_a_dense_shot_is_sent_back_with_its_figure_only_beside_another_problem(
        tmp_path: Path) -> None:
    """Sent back, the real model never made a dense shot lighter (0 of 368 on the corpus): a
    shot wrong only by density is taken with a warning; one wrong by more carries its figure."""
    dense = "Mia climbs the stairs. The wind howls. Mia waits. Sam waits below. Mia climbs on."

    def answer(body: dict[str, Any]) -> Any:
        document = json.loads(next(m for m in body["messages"] if m["role"] == "user")["content"])
        content = json.loads(chat_episode.content_of(body))
        if first_shot(document, 3) and len(body["messages"]) == 2:
            content["scenes"][0].update(action=dense, seconds=2)  # 5 sentences in 2 s
            content["cast"] = [*content["cast"], "Zed"]  # and a name not given
        return completion(json.dumps(content))

    with Scripted(answer) as server:
        report = breakdown(story(tmp_path), tmp_path / "series", options(server.base_url))
        sent_back = [b for b in server.bodies if len(b["messages"]) > 2]
    assert report.problems == []
    assert len(sent_back) == 1
    said = sent_back[0]["messages"][-1]["content"]
    assert "Zed" in said and "- scenes[0]: too dense for the video model: 6 s for" in said and \
        "under 2" in said
    assert density.RULE in sent_back[0]["messages"][0]["content"]  # the model was told


def test_a_dense_shot_is_written_with_a_warning_at_its_line_and_never_sent_back(
        tmp_path: Path) -> None:
    """The real model kept a 4-second shot of 8.75 load points through two send-backs: density
    is a warning, never a limit, so the shot is taken as it is (no send-back, neither by the
    shot's own check nor by ``check``'s round) and the run warns at its line."""
    dense = "Mia climbs the stairs. The wind howls. Mia waits. Sam waits below. Mia climbs on."

    def answer(body: dict[str, Any]) -> Any:
        document = json.loads(next(m for m in body["messages"] if m["role"] == "user")["content"])
        content = json.loads(chat_episode.content_of(body))
        if first_shot(document, 3):
            content["scenes"][0].update(action=dense, seconds=2)  # every turn
        return completion(json.dumps(content))

    series = tmp_path / "series"
    with Scripted(answer) as server:
        report = breakdown(story(tmp_path), series, options(server.base_url))
        sent_back = [b for b in server.bodies if len(b["messages"]) > 2]
    assert report.problems == [] and sent_back == []  # taken as it is
    (warned,) = [d.format() for d in report.warnings if "too dense" in d.message]
    assert warned.startswith(f"{tmp_path.as_posix()}/lighthouse.md:3:1: warning: the shots "
                             "answer for episode 1 (") and "too dense for the video" in warned
    with Scripted(answer) as server:  # --json says it too (from the cache: nothing is sent)
        done = CliRunner().invoke(cli, [
            "breakdown", str(tmp_path / "lighthouse.md"), str(series), "--json", "--yes",
            "--episodes", "4", "--episode-seconds", "60", "--ratio", "9:16", "--base-url",
            server.base_url, "--api-key-env", KEY_ENV, "--switch-endpoint"])
        assert server.bodies == []
    said = json.loads(done.stdout)["warnings"]
    assert [w["line"] for w in said] == [3] and "too dense" in said[0]["message"], done.output
    assert "The wind howls" in "".join(p.read_text("utf-8") for p in (series / "episodes")
                                       .glob("*.yaml"))
    # one rule: the written season turns check's density lint on, and it finds that scene alone
    (linted,) = [d for d in diagnostics(series) if "lint: {density: false}" in d]
    assert "/01-the-lighthouse.yaml:11:9: warning: this scene is 6 s for 6.00 load points" in \
        linted, linted


def test_a_busy_scene_beside_a_quiet_one_is_found_by_the_breakdown_and_by_check_alike(
        tmp_path: Path) -> None:
    """Weighed as a whole shot (6 s for 3.5 points) this would pass, and check, which weighs
    each scene, warns at its second scene: both find that scene, with one figure (the scenes'
    6 s and 2 s are their shares of the shot's 6: 4.5 and 1.5)."""
    def answer(body: dict[str, Any]) -> Any:
        document = json.loads(next(m for m in body["messages"] if m["role"] == "user")["content"])
        content = json.loads(chat_episode.content_of(body))
        if first_shot(document, 3):
            content.update(camera="wide shot, static", scenes=[
                {"seconds": 6, "action": "Mia climbs the stairs.", "lines": []},
                {"seconds": 2, "action": "Mia and Sam wait as the camera pans.",
                 "lines": []}])
        return completion(json.dumps(content))

    series = tmp_path / "series"
    with Scripted(answer) as server:
        report = breakdown(story(tmp_path), series, options(server.base_url))
        sent_back = [b for b in server.bodies if len(b["messages"]) > 2]
    assert report.problems == [] and sent_back == []  # density alone: a warning
    (warned,) = [d.message for d in report.warnings if "too dense" in d.message]
    assert "scenes[0]" not in warned
    assert "shots[0].scenes[1]: too dense for the video model: 1.5 s for 2.5 load points" in \
        warned
    linted = [d for d in diagnostics(series) if "lint: {density: false}" in d]
    assert len(linted) == 1 and "this scene is 1.5 s for 2.50 load points (1 beat, 1 more " \
        "acting principal 1, 1 camera move 0.5)" in linted[0], linted
    assert linted[0].split("\n")[1].strip() == "- at: 4.5-6s"  # the second scene, as said


@pytest.mark.parametrize(("written", "asked", "said"), [
    (45.0, 90.0, None), (180.0, 90.0, None), (50.0, None, None),
    (44.5, 90.0, "its shots come to 44.5 s, under half the 90 s asked for an episode "
                 "(episode_seconds): give it more lines in season.yaml"),
    (181.0, 90.0, "its shots come to 181 s, over 2 times the 90 s asked for an episode "
                  "(episode_seconds): give it fewer lines in season.yaml")])
def test_an_episode_far_from_its_seconds_is_said_with_both_figures(
        written: float, asked: float | None, said: str | None) -> None:
    found = season.off_length(written, asked)
    assert found == said if said is None else found is not None and found.startswith(said)


def test_density_counts_each_scene_as_check_does() -> None:
    names = {"character": ["Mia", "Sam"], "place": ["Tower", "Bay"], "prop": []}
    shot = {"camera": "close-up, slow push in", "cast": ["Sam", "Tower", "Bay"],
            "scenes": [{"seconds": 6, "action": "Mia looks up at the Tower", "lines": [
                {"speaker": "Mia", "quote": "one two three four five six seven eight"}]},
                       {"seconds": 3, "action": "Sam waves from the Bay", "lines": []}]}
    # scene 0: 1 beat + 1 (8 words) + 0.5 (the camera's move, written before its action);
    # Sam and the Bay, listed in the shot's cast but not in its words, are not its load.
    # scene 1: 1 beat + 2 (the Bay named after the Tower: a change of place); Sam acts alone
    assert density.loads(shot, names) == [(6.0, 2.5), (3.0, 3.0)]
    assert density.problems({"shots": [shot]}, names) == [
        "shots[0].scenes[1]: too dense for the video model: 3 s for 3 load points is 1.0 s a "
        "point, under 2 (give it more seconds, split it in two, or say less in it)"]
    shot["scenes"][1]["seconds"] = 5.6  # written as 6 s: 2 s a point
    assert density.problems({"shots": [shot]}, names) == []


def test_a_stop_mid_season_goes_on_from_the_cache(chat_emulator: EmulatorServer,
                                                  tmp_path: Path) -> None:
    source, series = novel(tmp_path / "novel.md", 12_000), tmp_path / "series"
    chapters = len(read_story(source).chapters)
    wide = {"context": 16384, "episodes": 8}
    whole, _ = run(chat_emulator, source, tmp_path / "whole", **wide)
    assert whole.spend is not None
    cut = whole.spend.by_stage["cut"]  # the cuts that may move, asked before any episode
    calls = cut + 1 + 10  # and an episode's own call and one a shot (10 of 6 s)
    chat_emulator.script(f"chat:ok*{chapters + calls},chat:drop")  # the second episode's call
    with pytest.raises(TransportError) as stopped:
        run(chat_emulator, source, series, **wide)
    assert "the episode call for episode 2" in str(stopped.value)
    chat_emulator.clear_faults()
    report, _ = run(chat_emulator, source, series, **wide)
    assert report.cached == chapters + calls  # the casts and the first episode's calls
    assert report.problems == [] and len(episodes(series)) == 8
    assert diagnostics(series) == []


def test_a_novel_of_100000_words_becomes_80_episodes_that_check_clean(
        chat_emulator: EmulatorServer, tmp_path: Path) -> None:
    source, series = novel(tmp_path / "novel.md", 100_000), tmp_path / "series"
    assert len(source.read_text(encoding="utf-8").split()) >= 100_000
    series.mkdir()  # whole answers: the emulator's streams come four characters an event
    (series / "storyboard.yaml").write_text("storyboard: 1\nbreakdown:\n  stream: false\n",
                                            encoding="utf-8")
    result = CliRunner().invoke(cli, [
        "breakdown", str(source), str(series), "--episodes", "80", "--episode-seconds", "90",
        "--ratio", "9:16", "--base-url", chat_base(chat_emulator), "--api-key-env", KEY_ENV,
        "--yes"])
    assert result.exit_code == 0, result.output
    assert len(episodes(series)) == 80
    assert seconds(series) == [90] * 80  # 15 shots of 6 s each: it came to 2 to 34 s
    checked = CliRunner().invoke(cli, ["check", str(series)])
    assert checked.exit_code == 0 and "warning" not in checked.output, checked.output


def test_a_check_error_in_a_season_episode_goes_back_to_its_shots_call(
        chat_emulator: EmulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    everyone_named(monkeypatch)  # the written shot shows six: one more than check allows
    series = tmp_path / "series"
    said: list[str] = []
    before = requests(chat_emulator)
    report = breakdown(story(tmp_path, PARTY), series,
                       options(chat_base(chat_emulator), episodes=1), say=said.append)
    sent = requests(chat_emulator) - before
    backs = [line for line in said if "sent back to the model" in line]
    # the cast, the episode's own call, its 10 shots', and each shot check refused sent back
    assert backs and 1 + 1 + 10 < sent <= 1 + 1 + 10 + len(backs)
    assert all(line.startswith("  the shot call for shot ") and " of episode 1 (" in line
               for line in backs), backs
    located = [d.format() for d in report.problems]
    assert located and all(f"{series.as_posix()}/episodes/01-the-party.yaml:" in text
                           for text in located)
    assert any("error: this shot has" in text for text in located), located
    said.clear()
    before = requests(chat_emulator)
    again = breakdown(story(tmp_path, PARTY), series,
                      options(chat_base(chat_emulator), episodes=1), say=said.append)
    assert requests(chat_emulator) == before and again.cached == sent  # replayed from the cache
    assert not [line for line in said if "sent back to the model" in line], said  # nor said sent


AGREED = """\
storyboard: 1
title: Agreed
defaults: {resolution: 720P, ratio: "9:16", duration: 4}
lint: {density: true}
characters:
  mia: {image: {generate: "a keeper in a grey coat"}}
  sam: {image: {generate: "a fisherman with a beard"}}
  tower: {image: {generate: "a white tower", kind: place}}
  bay: {image: {generate: "a calm bay", kind: place}}
episodes:
  - id: ep01
    shots:
      - id: a
        scenes:
          - at: 0-4s
            action: "Close-up, slow push in: @mia climbs @tower with @sam. She looks at @bay."
            say: {mia: "one two three four five six seven eight nine ten"}
"""


def test_the_season_writer_counts_a_shot_as_check_does(tmp_path: Path) -> None:
    """One rule (``language.lint.density``): a shot the season breakdown writes weighs what ``check``
    finds in the same shot of a series: 2 sentences, 10 spoken words 1.25, a second person 1,
    a change of place 2, a camera move 0.5."""
    import storyboard
    (tmp_path / "storyboard.yaml").write_text(AGREED, encoding="utf-8")
    said = [d.message for d in storyboard.check(tmp_path) if d.code == "lint-density"]
    assert len(said) == 1 and said[0].startswith("this scene is 4 s for 6.75 load points"), said
    shot = {"camera": "close-up, slow push in", "cast": ["Mia", "Sam", "Tower", "Bay"],
            "scenes": [{"seconds": 4, "action": "Mia climbs the Tower with Sam. She looks at the Bay.",
                        "lines": [{"speaker": "Mia",
                                   "quote": "one two three four five six seven eight nine ten"}]}]}
    names = {"character": ["Mia", "Sam"], "place": ["Tower", "Bay"], "prop": []}
    assert density.loads(shot, names) == [(4.0, 6.75)]
    assert density.LEAST == language_density.LEAST


def test_editing_titles_and_hooks_asks_no_shots_again_and_one_episodes_beats_that_episode(
        chat_emulator: EmulatorServer, tmp_path: Path) -> None:
    source, series = story(tmp_path), tmp_path / "series"
    run(chat_emulator, source, series)
    text = (series / "season.yaml").read_text(encoding="utf-8")
    lines = text.split("\n")
    for at, line in enumerate(lines):
        if line.startswith("    title: "):
            lines[at] = f'    title: "Retitled {at}"'
        elif line.startswith("    hook: "):
            lines[at] = f'    hook: "A new hook {at}?"'
    (series / "season.yaml").write_text("\n".join(lines), encoding="utf-8")
    report, sent = run(chat_emulator, source, series)
    assert report.problems == [] and sent == report.sent == 0
    first = (series / "episodes/01-the-lighthouse.yaml").read_text(encoding="utf-8")
    assert 'title: "Retitled' in first and "A new hook" in first  # the edit reaches the episode
    assert diagnostics(series) == []
    moved = (series / "season.yaml").read_text(encoding="utf-8").replace(
        'beats: "1.1"', 'beats: "1.1-1.2"').replace('beats: "1.2-1.3"', 'beats: "1.3"')
    (series / "season.yaml").write_text(moved, encoding="utf-8")
    report, sent = run(chat_emulator, source, series)
    # the two episodes whose range moved, their calls (1 + 10 each), less the 5 shot calls over
    # episode 1's first paragraph asked as before (its lines, no quote offered: narration is no
    # line), answered from the cache; the others are not asked
    assert report.problems == [] and sent == report.sent == 2 * 11 - 5
    assert seconds(series) == [60] * 4
