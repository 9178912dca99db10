"""The breakdown through the emulator: a story into a series that checks clean, cached, priced,
faithful to the source, never over a hand edit, resumable after a kill, never without consent."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from storyboard.breakdown.chat.cost import Spend
from storyboard.breakdown.pipeline import Options, Report, breakdown
from storyboard.emulator.server import EmulatorServer
from storyboard.errors import BudgetExceeded, TransportError
from storyboard.language.variations import compile_variations
from storyboard.targets.llm import chat_price
from tests.fixtures.breakdown import (
    KEY_ENV,
    PARTY,
    STORY,
    chat_base,
    everyone_named,
    requests,
    story,
)

CHECK_CACHES = (".storyboard/parsed/", ".storyboard/check")


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "sk-test-breakdown")


def options(chat_emulator: EmulatorServer, **changes: object) -> Options:
    settings: dict[str, object] = {"base_url": chat_base(chat_emulator), "key_env": KEY_ENV,
                                   "yes": True}
    return Options(**{**settings, **changes})  # type: ignore[arg-type]


def run(chat_emulator: EmulatorServer, source: Path, series: Path, **changes: object
        ) -> tuple[Report, int]:
    before = requests(chat_emulator)
    report = breakdown(source, series, options(chat_emulator, **changes))
    return report, requests(chat_emulator) - before


def files(series: Path) -> dict[str, bytes]:
    """The series' files, but for ``check``'s own caches (the breakdown checks what it wrote)."""
    return {p.relative_to(series).as_posix(): p.read_bytes()
            for p in sorted(series.rglob("*")) if p.is_file()
            and not p.relative_to(series).as_posix().startswith(CHECK_CACHES)}


def errors(series: Path) -> list[str]:
    return [d.format() for d in compile_variations(series).diagnostics() if d.severity == "error"]


@pytest.fixture(autouse=True)
def no_faults(chat_emulator: EmulatorServer) -> Iterator[None]:
    chat_emulator.clear_faults()
    yield
    chat_emulator.clear_faults()


def test_a_three_chapter_story_becomes_a_series_that_checks_clean(
        chat_emulator: EmulatorServer, tmp_path: Path) -> None:
    series = tmp_path / "series"
    report, sent = run(chat_emulator, story(tmp_path), series)
    assert sent == 9 and report.sent == 9  # outline, cast and shots of each chapter
    assert report.problems == []
    assert sorted(report.outcome.written) == [
        "episodes/01-the-lighthouse.yaml", "episodes/02-the-storm.yaml",
        "episodes/03-the-morning.yaml", "storyboard.yaml"]
    assert errors(series) == []
    episode = (series / "episodes/01-the-lighthouse.yaml").read_text()
    assert "# lighthouse.md:5-5" in episode  # where each shot came from
    assert '"Are you coming up?"' in episode  # the author's words
    assert report.spend is not None and report.spend.calls == 9 and report.spend.spent > 0


def test_a_rerun_sends_nothing_and_changes_no_byte(chat_emulator: EmulatorServer,
                                                   tmp_path: Path) -> None:
    source, series = story(tmp_path), tmp_path / "series"
    run(chat_emulator, source, series)
    before = files(series)
    report, sent = run(chat_emulator, source, series, yes=False)  # nothing to pay: no consent needed
    assert sent == 0 and report.cached == 9 and report.estimate.pending == []
    assert files(series) == before


def test_an_edit_to_chapter_two_asks_again_only_its_calls(chat_emulator: EmulatorServer,
                                                          tmp_path: Path) -> None:
    source, series = story(tmp_path), tmp_path / "series"
    run(chat_emulator, source, series)
    before = files(series)
    source.write_text(STORY.replace("The storm broke over the bay.",
                                    "The storm broke over the black bay."), encoding="utf-8")
    report, sent = run(chat_emulator, source, series)
    assert sent == 3 and report.cached == 6  # chapter 2's outline, cast and shots only
    after = files(series)
    changed = {name for name in after if after[name] != before.get(name)}
    assert changed == {"episodes/02-the-storm.yaml", ".storyboard/breakdown/written.json"} | {
        name for name in after if name.startswith(".storyboard/breakdown/answers/")
        and name not in before}
    assert errors(series) == []


def test_a_hand_edited_episode_is_never_overwritten(chat_emulator: EmulatorServer,
                                                    tmp_path: Path) -> None:
    source, series = story(tmp_path), tmp_path / "series"
    run(chat_emulator, source, series)
    episode = series / "episodes/01-the-lighthouse.yaml"
    edited = episode.read_text().replace("wide shot, static", "wide shot, at dusk")
    episode.write_text(edited)
    source.write_text(STORY.replace("the old lighthouse", "the old white lighthouse"),
                      encoding="utf-8")
    report, _ = run(chat_emulator, source, series)
    assert episode.read_text() == edited
    assert report.outcome.proposed == ["episodes/01-the-lighthouse.yaml"]
    proposal = series / "episodes/01-the-lighthouse.yaml.proposed"
    assert "the old white lighthouse" in proposal.read_text()
    assert errors(series) == []  # the proposal is not loaded as an episode


@pytest.mark.parametrize("fault", ["paraphrase", "schema", "invalid_json", "length"])
def test_a_bad_answer_is_sent_back_once_and_fixed(chat_emulator: EmulatorServer, tmp_path: Path,
                                                  fault: str) -> None:
    chat_emulator.script(f"chat:ok*6,chat:{fault}")  # chapter 1's shots answer goes wrong
    series = tmp_path / "series"
    report, sent = run(chat_emulator, story(tmp_path), series)
    assert sent == 10 and report.problems == []  # one more call: the send-back
    assert errors(series) == []
    again, resent = run(chat_emulator, story(tmp_path), series)
    unread = fault == "invalid_json"  # not JSON: never stored; cut at its whole max_tokens: stored
    assert resent == (1 if unread else 0) and again.problems == []  # the send-back is cached


def test_a_paraphrase_that_stays_is_left_out_with_a_note(chat_emulator: EmulatorServer,
                                                        tmp_path: Path) -> None:
    chat_emulator.script("chat:ok*6,chat:paraphrase*3")
    series = tmp_path / "series"
    report, sent = run(chat_emulator, story(tmp_path), series)
    assert sent == 11  # the question and two send-backs, then the line is left out
    assert report.problems == [] and errors(series) == []
    assert any("the shots answer for chapter 1: " in note and "is not the author's words: the "
               "line is left out" in note for note in report.notes)
    text = (series / "episodes/01-the-lighthouse.yaml").read_text()
    assert "Well, as I was saying" not in text  # a line not in the source is never written


def test_no_call_without_consent(chat_emulator: EmulatorServer, tmp_path: Path) -> None:
    before = requests(chat_emulator)
    with pytest.raises(BudgetExceeded, match="nothing was asked"):
        breakdown(story(tmp_path), tmp_path / "series", options(chat_emulator, yes=False))
    with pytest.raises(BudgetExceeded, match="not confirmed"):
        breakdown(story(tmp_path), tmp_path / "series", options(chat_emulator, yes=False),
                  confirm=lambda _estimate: False)
    assert requests(chat_emulator) == before
    assert not (tmp_path / "series").exists()


@pytest.mark.parametrize("budget", [math.nan, math.inf, -1.0, 0.00001])
def test_a_budget_holds_and_fails_closed(chat_emulator: EmulatorServer, tmp_path: Path,
                                         budget: float) -> None:
    before = requests(chat_emulator)
    with pytest.raises(BudgetExceeded):
        breakdown(story(tmp_path), tmp_path / "series", options(chat_emulator, yes=False,
                                                                 budget=budget))
    assert requests(chat_emulator) == before


def test_a_run_stops_before_the_call_that_could_pass_its_budget() -> None:
    price = chat_price("qwen-plus")
    assert price is not None
    spend = Spend(price, limit=0.01)
    spend.reserve(0.01, "the first call")  # exactly the limit: allowed
    spend.count("shots", 10_000, 4_000)  # 0.0088 reported
    with pytest.raises(BudgetExceeded, match="stopped before the next call"):
        spend.reserve(0.002, "the next call")
    for bad in (math.nan, math.inf, -1.0):
        with pytest.raises(BudgetExceeded):
            Spend(price, limit=1.0).reserve(bad, "a call")


def test_a_dry_run_prices_and_asks_nothing(chat_emulator: EmulatorServer, tmp_path: Path) -> None:
    report, sent = run(chat_emulator, story(tmp_path), tmp_path / "series", dry_run=True)
    assert sent == 0 and len(report.estimate.pending) == 9
    assert 0 < report.estimate.ceiling < report.estimate.worst
    assert not (tmp_path / "series").exists()


def test_a_killed_run_resumes_without_asking_again(chat_emulator: EmulatorServer,
                                                   tmp_path: Path) -> None:
    source, series = story(tmp_path), tmp_path / "series"
    chat_emulator.script("chat:ok*4,chat:slow=60")
    command = [sys.executable, "-m", "storyboard", "breakdown", str(source), str(series),
               "--base-url", chat_base(chat_emulator), "--api-key-env", KEY_ENV, "--yes"]
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             env={**os.environ, KEY_ENV: "sk-test-breakdown"})
    answers = series / ".storyboard/breakdown/answers"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(answers.glob("*.json"))) < 4:
        time.sleep(0.1)
    time.sleep(0.3)
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    assert len(list(answers.glob("*.json"))) == 4
    chat_emulator.clear_faults()
    report, sent = run(chat_emulator, source, series)
    assert sent == 5 and report.cached == 4  # only what was not answered
    assert errors(series) == []


def cli(chat_emulator: EmulatorServer, *args: str) -> tuple[int, str]:
    from click.testing import CliRunner

    from storyboard.cli.main import cli as group
    result = CliRunner().invoke(group, ["breakdown", *args, "--base-url", chat_base(chat_emulator),
                                        "--api-key-env", KEY_ENV])
    return result.exit_code, result.output


def test_the_command_prices_first_and_refuses_without_consent(chat_emulator: EmulatorServer,
                                                              tmp_path: Path) -> None:
    before = requests(chat_emulator)
    code, output = cli(chat_emulator, str(story(tmp_path)), str(tmp_path / "series"))
    assert code == 1 and "9 call(s) to ask qwen-plus" in output
    assert "nothing was asked" in output and "--yes" in output
    for bad in ("nan", "inf", "-1"):
        code, output = cli(chat_emulator, str(story(tmp_path)), "--budget", bad)
        assert code == 2 and "not an amount" in output
    assert requests(chat_emulator) == before


def test_the_command_writes_the_series_and_reports_the_usage(chat_emulator: EmulatorServer,
                                                             tmp_path: Path) -> None:
    code, output = cli(chat_emulator, str(story(tmp_path)), str(tmp_path / "series"), "--yes")
    assert code == 0, output
    assert "9 request(s) sent, 0 answer(s) from the cache, 0.0" in output
    assert "4 file(s) written" in output
    code, output = cli(chat_emulator, str(story(tmp_path)), str(tmp_path / "series"))
    assert code == 0 and "0 request(s) sent, 9 answer(s) from the cache" in output


def test_a_model_with_no_known_price_needs_one(chat_emulator: EmulatorServer, tmp_path: Path) -> None:
    code, output = cli(chat_emulator, str(story(tmp_path)), "--model", "my-local-model", "--yes")
    assert code == 1 and "no list price is known" in output
    code, output = cli(chat_emulator, str(story(tmp_path)), "--model", "my-local-model",
                       "--price-in", "0", "--price-out", "nan", "--yes")
    assert code == 2 and "finite price" in output


def test_a_fountain_screenplay_is_cut_at_its_sections(tmp_path: Path) -> None:
    from storyboard.breakdown.source import read_story
    play = tmp_path / "play.fountain"
    play.write_text("Title: Rain\n\n# One\n\nINT. CAFE - DAY\n\nMIA waits.\n\n# Two\n\n"
                    "EXT. STREET - NIGHT\n\nSAM runs.\n", encoding="utf-8")
    read = read_story(play)
    assert [(c.title, c.first, c.last) for c in read.chapters] == [("One", 3, 7), ("Two", 9, 13)]
    assert read.title == "Rain"


def test_an_empty_story_is_refused_at_its_line(tmp_path: Path) -> None:
    from storyboard.breakdown.source import read_story
    from storyboard.errors import ProblemsFound
    empty = tmp_path / "empty.md"
    empty.write_text("\n\n", encoding="utf-8")
    with pytest.raises(ProblemsFound) as found:
        read_story(empty)
    assert "empty.md:1:1: error: expected a story" in found.value.format()


def test_a_check_error_is_sent_back_twice_then_reported_at_its_line(
        chat_emulator: EmulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from storyboard.breakdown.chat.client import Answer, ChatClient
    everyone_named(monkeypatch)
    bodies: list[dict[str, Any]] = []
    complete = ChatClient.complete

    def seen(client: ChatClient, body: dict[str, Any], *rest: Any) -> Answer:  # the real call
        bodies.append(body)
        return complete(client, body, *rest)

    monkeypatch.setattr(ChatClient, "complete", seen)
    series = tmp_path / "series"
    report, sent = run(chat_emulator, story(tmp_path, PARTY), series)
    assert sent == 5  # outline, cast, shots, and the shots sent back twice with check's errors
    assert report.cached == 0
    located = [d.format() for d in report.problems]
    assert located and all(f"{series.as_posix()}/episodes/01-the-party.yaml:9:5" in text
                           for text in located)
    assert any("expected at most 5" in text for text in located)
    first, second = bodies[3]["messages"], bodies[4]["messages"]
    assert len(first) == 4 and second[:4] == first and len(second) == 6  # one conversation
    for turn in (first[3], second[5]):  # each round quotes check's located errors
        assert turn["role"] == "user" and "episodes/01-the-party.yaml:9:5: error:" in \
            turn["content"] and "expected at most 5" in turn["content"]
    conversation = [p for p in (series / ".storyboard/breakdown/answers").glob("*.json")]
    assert len(conversation) == 5
    again, resent = run(chat_emulator, story(tmp_path, PARTY), series)
    assert resent == 0 and again.cached == 5 and len(again.problems) == len(report.problems)


def test_a_moderation_refusal_is_reported_at_its_chapter_and_the_rest_written(
        chat_emulator: EmulatorServer, tmp_path: Path) -> None:
    chat_emulator.script("chat:ok*2,chat:moderation")  # chapter 2's outline is refused
    series = tmp_path / "series"
    report, sent = run(chat_emulator, story(tmp_path), series)
    assert sent == 8  # chapter 2's shots are not asked without its outline
    assert [(d.span.line if d.span else 0) for d in report.problems] == [9]
    assert "data_inspection_failed" in report.problems[0].message
    assert sorted(report.outcome.written) == ["episodes/01-the-lighthouse.yaml",
                                              "episodes/03-the-morning.yaml", "storyboard.yaml"]


def test_a_429_is_tried_again_and_a_dropped_answer_never(chat_emulator: EmulatorServer,
                                                         tmp_path: Path) -> None:
    source, series = story(tmp_path), tmp_path / "series"
    chat_emulator.script("chat:429=0")
    report, sent = run(chat_emulator, source, series)
    assert sent == 10 and report.sent == 10 and report.spend and report.spend.calls == 9
    series2 = tmp_path / "again"
    chat_emulator.script("chat:ok*3,chat:drop")
    before = requests(chat_emulator)
    with pytest.raises(TransportError):
        breakdown(source, series2, options(chat_emulator))
    assert requests(chat_emulator) - before == 4  # the dropped call was not sent again
    report, sent = run(chat_emulator, source, series2)
    assert sent == 6 and report.cached == 3


PLAY = """\
Title: Rain

# One

INT. CAFE - DAY

MIA, a barista with red hair, wipes the counter. SAM comes in from the rain.

MIA
That was lovely.

SAM
(shaking off the rain)
Thanks. It is pouring
out there.

# Two

EXT. STREET - NIGHT

SAM runs for the bus.
"""


def test_a_fountain_screenplay_becomes_a_series_with_its_dialogue_verbatim(
        chat_emulator: EmulatorServer, tmp_path: Path) -> None:
    play, series = tmp_path / "rain.fountain", tmp_path / "series"
    play.write_text(PLAY, encoding="utf-8")
    report, sent = run(chat_emulator, play, series)
    assert sent == 6 and report.problems == [] and errors(series) == []
    episode = (series / "episodes/01-one.yaml").read_text()
    assert 'say: {sam: "Thanks. It is pouring out there."}   # rain.fountain: line 14' in episode
    assert "@mia, a barista with red hair" in episode  # MIA in capitals is the mention @mia
    cast = (series / "storyboard.yaml").read_text()
    assert 'cafe: {image: {generate: "Cafe, an establishing view", kind: "place"}' in cast


def test_plan_shows_a_waiting_proposal_and_what_catching_up_costs(
        chat_emulator: EmulatorServer, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from storyboard.cli.main import cli as group
    source, series = story(tmp_path), tmp_path / "series"
    run(chat_emulator, source, series)
    planned = CliRunner().invoke(group, ["plan", str(series)])
    assert planned.exit_code == 0, planned.output
    assert "breakdown: up to date with lighthouse.md" in planned.output
    episode = series / "episodes/01-the-lighthouse.yaml"
    episode.write_text(episode.read_text().replace("wide shot", "long shot"))
    source.write_text(STORY.replace("the old lighthouse", "the old white lighthouse"))
    run(chat_emulator, source, series)
    source.write_text(STORY.replace("The storm broke", "At last the storm broke"))
    before = requests(chat_emulator)
    planned = CliRunner().invoke(group, ["plan", str(series)])
    assert planned.exit_code == 0, planned.output
    assert ("breakdown: a proposal waits beside your edit of episodes/01-the-lighthouse.yaml"
            in planned.output)
    assert "breakdown: lighthouse.md changed since: 3 call(s) to ask, up to 0.0" in planned.output
    assert requests(chat_emulator) == before  # planning asks nothing
    record = (series / ".storyboard/breakdown/last.json").read_text()
    assert "sk-test" not in record and KEY_ENV in record


def test_a_providers_key_goes_only_to_its_own_hosts(chat_emulator: EmulatorServer,
                                                     tmp_path: Path) -> None:
    from storyboard.breakdown.pipeline import BreakdownError
    for url in ("https://api.openai.com/v1", "https://dashscope.aliyuncs.com.evil.example/v1",
                "file:///etc/passwd"):
        with pytest.raises(BreakdownError, match=r"only to|http"):
            breakdown(story(tmp_path), tmp_path / "s", Options(base_url=url, yes=True))
    report, _ = run(chat_emulator, story(tmp_path), tmp_path / "s", key_env="DASHSCOPE_API_KEY",
                    dry_run=True)  # loopback: the emulator may have it
    assert len(report.estimate.pending) == 9


def test_a_long_chapter_is_read_in_windows_cut_at_blank_lines(tmp_path: Path) -> None:
    from storyboard.breakdown.source import WINDOW, read_story
    long = tmp_path / "long.md"
    paragraphs = [f"Mia walks on, step {n}.\\nShe counts." for n in range(WINDOW)]
    long.write_text("# Walking\n\n" + "\n\n".join(p.replace("\\n", "\n") for p in paragraphs)
                    + "\n", encoding="utf-8")
    chapters = read_story(long).chapters
    assert [c.title for c in chapters] == ["Walking", "Walking (2)", "Walking (3)"]
    assert [c.number for c in chapters] == [1, 2, 3]
    assert all(sum(1 for line in c.lines if line.strip()) <= WINDOW for c in chapters)
    assert chapters[1].first == chapters[0].last + 2  # the blank line between is the cut
    assert chapters[1].lines[0] == "Mia walks on, step 29."  # the heading and 29 paragraphs: 59


@pytest.mark.parametrize(("flags", "files"), [
    # a season of 2: the 7 beats shared, the second episode starting in chapter 2
    (["--episodes", "2"], ["01-the-lighthouse.yaml", "02-the-storm.yaml"]),
    (["--episode-minutes", "600"], ["01-the-lighthouse.yaml"]),
])
def test_episodes_by_count_or_length(chat_emulator: EmulatorServer, tmp_path: Path,
                                     flags: list[str], files: list[str]) -> None:
    series = tmp_path / "series"
    code, output = cli(chat_emulator, str(story(tmp_path)), str(series), "--yes", *flags)
    assert code == 0, output
    assert sorted(p.name for p in (series / "episodes").glob("*.yaml")) == files
    assert errors(series) == []


@pytest.mark.parametrize("flags", [["--episode-minutes", "nan"], ["--episode-minutes", "inf"],
                                   ["--episode-minutes", "-1"], ["--episodes", "0"],
                                   ["--episodes", "2", "--episode-minutes", "5"]])
def test_episode_targets_fail_closed(chat_emulator: EmulatorServer, tmp_path: Path,
                                     flags: list[str]) -> None:
    code, _ = cli(chat_emulator, str(story(tmp_path)), "--yes", *flags)
    assert code == 2


def test_episodes_of_a_length_are_cut_before_the_chapter_that_would_pass_it() -> None:
    from storyboard.breakdown.stages.seriestext import by_minutes
    assert by_minutes([15, 10, 10], 0.25) == [range(0, 1), range(1, 3)]  # 15 s; 10 + 10 s
    assert by_minutes([15, 10, 10], 0.5) == [range(0, 3)]
    assert by_minutes([100, 5], 0.5) == [range(0, 1), range(1, 2)]  # a long one stands alone


def test_a_yes_at_the_terminal_lets_it_spend_up_to_what_was_shown(chat_emulator: EmulatorServer,
                                                                  tmp_path: Path) -> None:
    shown: list[float] = []

    def confirm(estimate: object) -> bool:
        shown.append(estimate.worst)  # type: ignore[attr-defined]
        return True
    series = tmp_path / "series"
    report = breakdown(story(tmp_path), series, options(chat_emulator, yes=False), confirm=confirm)
    assert report.spend is not None and report.spend.limit == shown[0] > 0
    assert report.sent == 9 and errors(series) == []
    assert (series / ".gitignore").read_text() == ("# the cache and task journal, and the "
                                                   "rendered episodes (storyboard.lock is "
                                                   "committed)\n.storyboard/\nout/\n")


def test_one_breakdown_of_a_series_at_a_time(chat_emulator: EmulatorServer, tmp_path: Path) -> None:
    from storyboard.breakdown.pipeline import BreakdownError, one_at_a_time
    series = tmp_path / "series"
    before = requests(chat_emulator)
    with one_at_a_time(series), pytest.raises(BreakdownError, match="another breakdown"):
        breakdown(story(tmp_path), series, options(chat_emulator))
    assert requests(chat_emulator) == before


HOSTILE = """\
# Chapter: {{ 7*7 }} & *stars*

Mia said "{{ 7*7 }} is @everyone here: yes # no comment" to Sam.

Sam laughed. "key: value, true, {a: b}," said Sam.
"""


def test_hostile_words_stay_words(chat_emulator: EmulatorServer, tmp_path: Path) -> None:
    import storyboard
    series = tmp_path / "series"
    report, _ = run(chat_emulator, story(tmp_path, HOSTILE), series)
    assert report.problems == [] and errors(series) == []
    shots = storyboard.compile(series).episode_shots()
    lines = [line for shot in shots for scene in shot.request.scenes for line in scene.lines]
    assert [line.text for line in lines] == ["{{ 7*7 }} is @everyone here: yes # no comment",
                                             "key: value, true, {a: b},"]


def settings_file(series: Path, block: str) -> Path:
    series.mkdir(parents=True, exist_ok=True)
    path = series / "storyboard.yaml"
    path.write_text(f"storyboard: 1\n# the breakdown's settings\nbreakdown:\n{block}",
                    encoding="utf-8")
    return path


def test_the_series_file_gives_the_settings_and_flags_override(chat_emulator: EmulatorServer,
                                                               tmp_path: Path) -> None:
    from click.testing import CliRunner

    from storyboard.cli.main import cli as group
    source, series = story(tmp_path), tmp_path / "series"
    block = (f"  base_url: {chat_base(chat_emulator)}\n  key_env: {KEY_ENV}\n"
             "  model: house-model\n  price_in: 0.5\n  price_out: 1.5\n")
    settings_file(series, block)
    before = requests(chat_emulator)
    done = CliRunner().invoke(group, ["breakdown", str(source), str(series), "--yes"])
    assert done.exit_code == 0, done.output
    assert requests(chat_emulator) - before == 9  # the block's endpoint, model and key variable
    assert "house-model" in done.output and "price 0.5/1.5 USD per 1M tokens" in done.output
    written = (series / "storyboard.yaml").read_text()
    assert "characters:" in written and written.endswith("\n\nbreakdown:\n" + block)
    assert not (series / "storyboard.yaml.proposed").exists() and errors(series) == []
    bytes_before, before = files(series), requests(chat_emulator)
    again = CliRunner().invoke(group, ["breakdown", str(source), str(series), "--yes"])
    assert again.exit_code == 0 and requests(chat_emulator) == before and files(series) == bytes_before
    flagged = CliRunner().invoke(group, ["breakdown", str(source), str(series), "--dry-run",
                                         "--model", "other-model", "--price-in", "2",
                                         "--price-out", "4"])
    assert flagged.exit_code == 0, flagged.output
    assert "9 call(s) to ask other-model" in flagged.output and "price 2/4 USD" in flagged.output


@pytest.mark.parametrize(("block", "said"), [
    ("  price_in: .nan\n", "storyboard.yaml:4:13: error: NaN is not a finite number"),
    ("  price_out: -1\n", "storyboard.yaml:4:14: error"),
    ("  base_url: https://me:sk-secret@api.openai.com/v1\n", "storyboard.yaml:4:13: error"),
    ("  api_key: sk-secret\n", "storyboard.yaml:4:3: error"),
    ("  base_url: https://api.openai.com/v1\n", "DASHSCOPE_API_KEY is sent only to aliyuncs.com"),
])
def test_bad_settings_in_the_series_file_are_refused_before_any_call(
        chat_emulator: EmulatorServer, tmp_path: Path, block: str, said: str) -> None:
    from click.testing import CliRunner

    from storyboard.cli.main import cli as group
    source, series = story(tmp_path), tmp_path / "series"
    settings_file(series, block)
    before = requests(chat_emulator)
    refused = CliRunner().invoke(group, ["breakdown", str(source), str(series), "--yes"])
    assert refused.exit_code == 1 and isinstance(refused.exception, SystemExit), refused.output
    assert said in refused.output and "sk-test-breakdown" not in refused.output
    assert "Traceback" not in refused.output and requests(chat_emulator) == before


def test_check_errors_left_after_the_send_backs_are_reported_once(
        chat_emulator: EmulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    everyone_named(monkeypatch)
    chat_emulator.script("chat:ok*2,chat:schema")  # the shots answer is sent back once for its schema
    series = tmp_path / "series"
    report, sent = run(chat_emulator, story(tmp_path, PARTY), series)
    assert sent == 5  # the schema's send-back and one of check's: two in all
    located = [d.format() for d in report.problems]
    assert located and all(f"{series.as_posix()}/episodes/01-the-party.yaml:9:5" in text
                           for text in located)  # at its line in the series, not twice
    again, resent = run(chat_emulator, story(tmp_path, PARTY), series)
    assert resent == 0 and [d.format() for d in again.problems] == located
