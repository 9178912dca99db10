"""The breakdown's series folder as a person keeps it: never written through a link, its state
files read as untrusted, its endpoint recorded and kept, and its proposals only when a chapter's
answers changed (an edit stands; files no longer made are retired)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import storyboard
from storyboard.breakdown.pipeline import Options, Report, breakdown
from storyboard.cli.main import cli as group
from storyboard.emulator.server import EmulatorServer
from storyboard.errors import ProblemsFound, StoryboardError
from tests.fixtures.breakdown import KEY_ENV, STORY, chat_base, requests, story

EPISODE = "episodes/01-the-lighthouse.yaml"


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "sk-test-breakdown")


def options(chat_emulator: EmulatorServer, **changes: object) -> Options:
    settings: dict[str, object] = {"base_url": chat_base(chat_emulator), "key_env": KEY_ENV,
                                   "yes": True}
    return Options(**{**settings, **changes})  # type: ignore[arg-type]


def run(chat_emulator: EmulatorServer, source: Path, series: Path, **changes: object) -> Report:
    return breakdown(source, series, options(chat_emulator, **changes))


def command(*args: str) -> Result:
    return CliRunner().invoke(group, [*args])


@pytest.mark.parametrize("linked", ["episodes", ".storyboard", ".storyboard/breakdown"])
def test_a_breakdown_stops_before_writing_through_a_link(chat_emulator: EmulatorServer,
                                                         tmp_path: Path, linked: str) -> None:
    source, series, elsewhere = story(tmp_path), tmp_path / "series", tmp_path / "elsewhere"
    elsewhere.mkdir()
    (series / linked).parent.mkdir(parents=True, exist_ok=True)
    (series / linked).symlink_to(elsewhere, target_is_directory=True)
    before = requests(chat_emulator)
    with pytest.raises(StoryboardError, match=rf"{linked} is a link \(to {elsewhere}\)"):
        run(chat_emulator, source, series)
    assert list(elsewhere.iterdir()) == [] and requests(chat_emulator) == before
    done = command("breakdown", str(source), str(series), "--base-url", chat_base(chat_emulator),
                   "--api-key-env", KEY_ENV, "--yes")
    assert done.exit_code == 1 and "is a link (to" in done.output
    assert "Traceback" not in done.output and list(elsewhere.iterdir()) == []


HOSTILE = {
    "deep": "[" * 100_000 + "]" * 100_000,
    "a list as the model": json.dumps({"source": "../lighthouse.md", "proposed": [],
                                       "options": {"model": ["qwen-plus"]}}),
    "a string as a price": json.dumps({"source": "../lighthouse.md", "proposed": [],
                                       "options": {"price_in": "cheap"}}),
    "NaN as a price": '{"source": "../lighthouse.md", "proposed": [], '
                      '"options": {"price_in": NaN}}',
    "not JSON": "{\"source\": ",
    "a list": "[]",
}


@pytest.mark.parametrize("text", HOSTILE.values(), ids=list(HOSTILE))
def test_a_hostile_last_json_is_a_located_warning_for_plan(chat_emulator: EmulatorServer,
                                                           tmp_path: Path, text: str) -> None:
    source, series = story(tmp_path), tmp_path / "series"
    run(chat_emulator, source, series)
    record = series / ".storyboard/breakdown/last.json"
    record.write_text(text, encoding="utf-8")
    planned = command("plan", str(series))
    assert planned.exit_code == 0, planned.output
    assert f"breakdown: {record}:1:1: warning: expected" in planned.output
    assert "the file is ignored" in planned.output and "Traceback" not in planned.output


@pytest.mark.parametrize("text", [HOSTILE["deep"], '{"a": 1}', '{"written": [], "produced": 1}'])
def test_a_hostile_written_json_is_a_warning_and_every_file_kept(
        chat_emulator: EmulatorServer, tmp_path: Path, text: str) -> None:
    source, series = story(tmp_path), tmp_path / "series"
    run(chat_emulator, source, series)
    (series / ".storyboard/breakdown/written.json").write_text(text, encoding="utf-8")
    episode = series / EPISODE
    episode.write_text(episode.read_text().replace("wide shot", "long shot"))
    report = run(chat_emulator, source, series)
    assert [w.format().split(": warning: ")[0] for w in report.warnings] == [
        f"{series}/.storyboard/breakdown/written.json:1:1"]
    assert report.outcome.proposed == [EPISODE] and "long shot" in episode.read_text()


def test_the_consent_line_names_the_host_and_the_key(chat_emulator: EmulatorServer,
                                                     tmp_path: Path) -> None:
    refused = command("breakdown", str(story(tmp_path)), str(tmp_path / "series"),
                      "--base-url", chat_base(chat_emulator), "--api-key-env", KEY_ENV)
    assert refused.exit_code == 1
    assert f"9 call(s) to ask qwen-plus at 127.0.0.1 with the key in {KEY_ENV}" in refused.output
    assert refused.output.count(f"at 127.0.0.1 with the key in {KEY_ENV}") == 2  # and the refusal


def test_the_series_records_its_endpoint_and_goes_back_to_it(chat_emulator: EmulatorServer,
                                                             tmp_path: Path) -> None:
    source, series = story(tmp_path), tmp_path / "series"
    done = command("breakdown", str(source), str(series), "--base-url", chat_base(chat_emulator),
                   "--api-key-env", KEY_ENV, "--yes")
    assert done.exit_code == 0, done.output
    written = (series / "storyboard.yaml").read_text()
    assert written.endswith(f'breakdown:\n  model: "qwen-plus"\n  base_url: '
                            f'"{chat_base(chat_emulator)}"\n  key_env: "{KEY_ENV}"\n')
    assert "sk-test" not in written
    source.write_text(STORY.replace("The storm broke", "At last the storm broke"))
    planned = command("plan", str(series))
    assert f"(storyboard breakdown {source} {series})" in planned.output  # no flag needed
    before = requests(chat_emulator)
    again = command("breakdown", str(source), str(series), "--yes")  # no --base-url
    assert again.exit_code == 0, again.output
    assert requests(chat_emulator) - before == 3 and f"with the key in {KEY_ENV}" in again.output


def test_another_endpoint_than_the_recorded_one_needs_saying_so(chat_emulator: EmulatorServer,
                                                                tmp_path: Path) -> None:
    source, series = story(tmp_path), tmp_path / "series"
    run(chat_emulator, source, series)
    other = chat_base(chat_emulator).replace("/compatible-mode/v1", "/v1")
    before = requests(chat_emulator)
    refused = command("breakdown", str(source), str(series), "--base-url", other, "--yes")
    assert refused.exit_code == 1 and requests(chat_emulator) == before
    line = (series / "storyboard.yaml").read_text().split("\n").index(
        f'  base_url: "{chat_base(chat_emulator)}"') + 1
    assert f"{series}/storyboard.yaml:{line}:13: error: the series' breakdown asks " \
           f"{chat_base(chat_emulator)} with the key in {KEY_ENV} (recorded here)" in refused.output
    assert "pass --switch-endpoint" in refused.output
    with pytest.raises(ProblemsFound) as found:  # the library call too
        breakdown(source, series, Options(yes=True))  # DashScope, DASHSCOPE_API_KEY
    assert "--switch-endpoint" in found.value.diagnostics[0].message
    switched = command("breakdown", str(source), str(series), "--base-url", other,
                       "--switch-endpoint", "--yes")
    assert switched.exit_code == 0, switched.output
    assert f'base_url: "{other}"' in (series / "storyboard.yaml").read_text()


def test_an_unchanged_chapter_proposes_nothing_over_a_fix_and_a_clean_series_exits_0(
        chat_emulator: EmulatorServer, tmp_path: Path) -> None:
    source, series = story(tmp_path), tmp_path / "series"
    run(chat_emulator, source, series)
    episode = series / EPISODE
    fixed = episode.read_text().replace("wide shot, static", "wide shot, at dusk")
    episode.write_text(fixed)
    for _ in range(2):
        done = command("breakdown", str(source), str(series), "--base-url",
                       chat_base(chat_emulator), "--api-key-env", KEY_ENV, "--yes")
        assert done.exit_code == 0, done.output
        assert f"{EPISODE}: your edit stands" in done.output
        assert "0 proposal(s)" in done.output and ".proposed" not in done.output
        assert not (series / f"{EPISODE}.proposed").exists() and episode.read_text() == fixed


def test_an_error_in_your_edit_is_reported_in_your_file(chat_emulator: EmulatorServer,
                                                        tmp_path: Path) -> None:
    source, series = story(tmp_path), tmp_path / "series"
    run(chat_emulator, source, series)
    episode = series / EPISODE
    episode.write_text(episode.read_text().replace("duration: ", "duration: 99 #", 1))
    report = run(chat_emulator, source, series)
    located = [d.format().split(": error:")[0] for d in report.problems]
    assert located and all(place.startswith(f"{episode}:") for place in located), located
    done = command("breakdown", str(source), str(series), "--base-url", chat_base(chat_emulator),
                   "--api-key-env", KEY_ENV, "--yes")
    assert done.exit_code == 1 and f"{episode}:" in done.output


def test_files_no_longer_made_are_removed_or_proposed_for_removal(chat_emulator: EmulatorServer,
                                                                  tmp_path: Path) -> None:
    source, series = story(tmp_path), tmp_path / "series"
    run(chat_emulator, source, series)
    third = series / "episodes/03-the-morning.yaml"
    third.write_text(third.read_text().replace("wide shot", "long shot"))
    report = run(chat_emulator, source, series, episode_minutes=600)
    assert report.outcome.removed == ["episodes/02-the-storm.yaml"]
    assert report.outcome.proposed == ["episodes/03-the-morning.yaml"]
    assert not (series / "episodes/02-the-storm.yaml").exists() and third.is_file()
    assert (series / "episodes/03-the-morning.yaml.proposed").read_bytes() == b""
    again = run(chat_emulator, source, series, episode_minutes=600)  # the same answers: proposed once
    assert again.outcome.proposed == [] and again.outcome.kept == ["episodes/03-the-morning.yaml"]
    third.unlink()
    (series / "episodes/03-the-morning.yaml.proposed").unlink()
    last = run(chat_emulator, source, series, episode_minutes=600)
    assert last.outcome.removed == [] and last.problems == []
    record = json.loads((series / ".storyboard/breakdown/written.json").read_text())
    assert sorted(record["written"]) == [EPISODE, "storyboard.yaml"]


def test_a_hostile_cached_answer_is_asked_again_never_a_traceback(chat_emulator: EmulatorServer,
                                                                  tmp_path: Path) -> None:
    source, series = story(tmp_path), tmp_path / "series"
    run(chat_emulator, source, series)
    entries = sorted((series / ".storyboard/breakdown/answers").glob("*.json"))
    shots = [e for e in entries if json.loads(e.read_text(encoding="utf-8"))["stage"] == "shots"]
    shots[0].write_text(HOSTILE["deep"], encoding="utf-8")  # a shots answer: that one call again
    planned = command("plan", str(series))
    assert planned.exit_code == 0 and "Traceback" not in planned.output, planned.output
    assert "breakdown: lighthouse.md changed since: 1 call(s) to ask" in planned.output
    before = requests(chat_emulator)
    report = run(chat_emulator, source, series)
    assert requests(chat_emulator) - before == 1 and report.problems == []


def test_the_suggested_command_names_what_the_series_file_does_not(tmp_path: Path) -> None:
    from storyboard.breakdown.status import suggested
    series = tmp_path / "series"
    series.mkdir()
    (series / "storyboard.yaml").write_text(
        'storyboard: 1\nbreakdown:\n  base_url: "http://127.0.0.1:9/v1"\n  key_env: "K"\n')
    source = tmp_path / "story.md"
    same = Options(base_url="http://127.0.0.1:9/v1/", key_env="K")
    assert suggested(series, source, same) == f"storyboard breakdown {source} {series}"
    other = Options(base_url="http://127.0.0.1:7/v1", key_env="K", model="m")
    assert suggested(series, source, other) == (
        f"storyboard breakdown {source} {series} --model m --base-url http://127.0.0.1:7/v1 "
        "--switch-endpoint")


def test_a_fifo_for_a_state_file_or_the_story_never_blocks_plan(chat_emulator: EmulatorServer,
                                                                tmp_path: Path) -> None:
    import os

    from storyboard.breakdown.status import waiting
    source, series = story(tmp_path), tmp_path / "series"
    run(chat_emulator, source, series)
    record = series / ".storyboard/breakdown/last.json"
    kept = record.read_text()
    record.unlink()
    os.mkfifo(record)
    assert command("plan", str(series)).exit_code == 0  # and it returned
    found = waiting(series)
    assert found is not None and "expected a regular file" in found.problem
    record.unlink()
    record.write_text(kept.replace('"../lighthouse.md"', '"../pipe.md"'))
    os.mkfifo(tmp_path / "pipe.md")
    planned = command("plan", str(series))
    assert planned.exit_code == 0 and "expected the story's file" in planned.output


def test_an_error_in_a_proposal_is_reported_in_the_proposal(
        chat_emulator: EmulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.fixtures.breakdown import PARTY, everyone_named
    everyone_named(monkeypatch)
    source, series = story(tmp_path, PARTY), tmp_path / "series"
    first = run(chat_emulator, source, series)
    episode = series / "episodes/01-the-party.yaml"
    assert first.problems and {d.span.file for d in first.problems if d.span} == {
        episode.as_posix()}
    episode.write_text("# my notes\n" + episode.read_text())
    source.write_text(PARTY.replace("the long table", "the long oak table"))
    report = run(chat_emulator, source, series)
    assert report.outcome.proposed == ["episodes/01-the-party.yaml"]
    shown = [w.format() for w in report.warnings]
    assert any(text.startswith(f"{episode}.proposed:9:5: warning:") for text in shown), shown
    assert all(d.span and d.span.file == episode.as_posix() for d in report.problems)


def test_a_story_that_names_no_one_writes_a_cast_that_checks(tmp_path: Path) -> None:
    from storyboard.breakdown.stages.cast import Cast
    from storyboard.breakdown.stages.writer import series_yaml
    series = tmp_path / "series"
    (series / "episodes").mkdir(parents=True)
    (series / "storyboard.yaml").write_text(series_yaml("Empty", Cast(), "story.md"),
                                            encoding="utf-8")
    (series / "episodes" / "01.yaml").write_text(
        "id: ep01\nshots:\n  - {id: a, prompt: \"waves on an empty shore\", duration: 2}\n",
        encoding="utf-8")
    found = storyboard.check(series)  # (the shot itself, with no one to show, is the story's)
    assert [d.message for d in found if d.severity == "error" and d.span is not None
            and d.span.file.endswith("storyboard.yaml")] == []
