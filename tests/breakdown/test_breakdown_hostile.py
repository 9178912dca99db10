"""A hostile endpoint under ``--yes`` (issue 95): an answer of 10,000 scenes, 10,000 shots or a
100,000-character action is sent back with a few of its problems and a count, its quote bounded,
so the run spends at most what its consent line said ("up to"), prints a bounded report and
closes with how many episodes it wrote; a run whose send-backs would pass that figure stops
before the call that could, as ``--budget`` stops."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from storyboard.breakdown.chat.cost import price_of, prompt_tokens, tokens
from storyboard.cli.main import cli
from storyboard.emulator.chat import episode as chat_episode
from storyboard.targets.llm import ChatPrice, chat_price
from tests.breakdown.scripted import Scripted, completion
from tests.fixtures.breakdown import KEY_ENV, story

PRICE_IN, PRICE_OUT = 0.4, 1.2  # USD per 1M tokens, given on the command line
SEASON = ["--episodes", "1", "--episode-seconds", "12", "--ratio", "9:16"]


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "sk-test-breakdown")


def document(body: dict[str, Any]) -> dict[str, Any]:
    said: dict[str, Any] = json.loads(
        next(m for m in body["messages"] if m["role"] == "user")["content"])
    return said


def scenes(answer: dict[str, Any]) -> dict[str, Any]:
    return {**answer, "scenes": [{"seconds": 1, "action": "Mia climbs.", "lines": []}] * 10_000}


def shots(answer: dict[str, Any]) -> dict[str, Any]:
    """10,000 shots, each without a camera: a problem each, and the list too long."""
    return {"shots": [{**answer["shots"][0], "camera": ""}] * 10_000}


def action(answer: dict[str, Any]) -> dict[str, Any]:
    answer["scenes"][0]["action"] = "Mia climbs the stairs. " * 4_348  # 100,004 characters
    return answer


class Hostile:
    """The emulator's stand-in model, every ``stage`` answer made hostile by ``bend``, the
    usage reported as a server would bill it (the request's tokens as estimated from its bytes,
    the answer's, never more than the ``max_tokens`` asked); what it billed, added up."""

    def __init__(self, stage: str, bend: Callable[[dict[str, Any]], dict[str, Any]],
                 price: ChatPrice, chapter: str | None = None) -> None:
        self.stage, self.bend, self.price, self.chapter = stage, bend, price, chapter
        self.billed = 0.0
        self.inputs: list[int] = []

    def __call__(self, body: dict[str, Any]) -> Any:
        answer = json.loads(chat_episode.content_of(body))
        asked = document(body)
        if asked.get("stage") == self.stage and self.chapter in (None, asked["chapter"]):
            answer = self.bend(answer)
        content = json.dumps(answer)
        used = prompt_tokens(body["messages"], json.dumps(body.get("response_format")))
        made = min(int(body["max_tokens"]), tokens(content))
        self.inputs.append(used)
        self.billed += price_of(self.price, used, made)
        return completion(content, prompt=used, completion_tokens=made)


def run(tmp_path: Path, hostile: Hostile, flags: list[str]) -> Result:
    with Scripted(hostile) as server:
        return CliRunner().invoke(cli, [
            "breakdown", str(story(tmp_path)), str(tmp_path / "series"), "--yes",
            "--base-url", server.base_url, "--api-key-env", KEY_ENV, "--model", "m",
            "--price-in", str(PRICE_IN), "--price-out", str(PRICE_OUT), *flags])


def consented(output: str) -> float:
    """The figure the consent line said: ``... up to 0.06 USD (every answer sent back ...``."""
    found = re.search(r"\): up to (\d+\.\d\d) USD \(every answer", output)
    assert found is not None, output[:2000]
    return float(found.group(1))


def spent(output: str) -> float:
    found = re.search(r"answer\(s\) from the cache, (\d+\.\d+) USD by the usage reported", output)
    assert found is not None, output[-2000:]
    return float(found.group(1))


@pytest.mark.parametrize(("stage", "bend", "flags"), [
    ("shot", scenes, SEASON), ("shots", shots, []), ("shot", action, SEASON)],
    ids=["10,000 scenes", "10,000 shots", "a 100,000-character action"])
def test_a_hostile_answer_costs_at_most_the_consent_line_and_prints_a_bounded_report(
        tmp_path: Path, stage: str, bend: Callable[[dict[str, Any]], dict[str, Any]],
        flags: list[str]) -> None:
    """Before: its send-backs quoted every problem (579, then 305,055, then 609,531 input
    tokens for one shot), 12x to 149x the consent line, megabytes of error lines printed."""
    price = chat_price("m", input=PRICE_IN, output=PRICE_OUT)
    assert price is not None
    hostile = Hostile(stage, bend, price, None if flags else "The Lighthouse")
    done = run(tmp_path, hostile, flags)
    assert done.exit_code == 1, done.output[-2000:]  # the answers were refused: said
    figure = consented(done.output)
    assert hostile.billed <= figure and spent(done.output) <= figure
    assert max(hostile.inputs) < 5_000, hostile.inputs  # every request bounded
    assert len(done.output) < 40_000 and max(map(len, done.output.split("\n"))) < 1_200
    if bend is shots:  # 202 problems: 8 quoted, the rest counted
        assert "and 194 more problem(s) of the same answer, not quoted" in done.output
    if flags:  # the season's closing line, after the refused shots' problems
        closing = [line for line in done.output.split("\n") if ": error: " in line][-2]
        assert closing.endswith("error: 0 of 1 episode written: episode 1 (Episode 1) got no "
                                "shot from its answers. The series is not the season asked: "
                                "ask for fewer episodes (--episodes), or edit season.yaml and "
                                "run again"), done.output[-3000:]


def test_a_run_whose_send_backs_would_pass_the_consent_line_stops_before_that_call(
        tmp_path: Path) -> None:
    """Input dear, output nearly free: each bounded send-back still grows by its quote and its
    problems, so the shots' send-backs pass the estimate's "up to", which ``--yes`` accepted
    as the run's ceiling: the call that could pass it is not made, as ``--budget`` stops one."""
    price = chat_price("m", input=40.0, output=0.01)
    assert price is not None
    hostile = Hostile("shot", action, price)
    with Scripted(hostile) as server:
        done = CliRunner().invoke(cli, [
            "breakdown", str(story(tmp_path)), str(tmp_path / "series"), "--yes", "--episodes",
            "1", "--episode-seconds", "60", "--ratio", "9:16",
            "--base-url", server.base_url, "--api-key-env", KEY_ENV, "--model", "m",
            "--price-in", "40", "--price-out", "0.01"])
        asked = len(server.bodies)
    figure = consented(done.output)
    assert done.exit_code == 1 and "stopped before the shot call for shot" in done.output, \
        done.output[-2000:]
    assert "consented (the estimate's \"up to\") is spent" in done.output
    assert hostile.billed <= figure, (hostile.billed, figure)
    assert asked < 3 + 1 + 10 * 3  # not every call: the 3 casts, the episode's,
    # then each of 10 shots asked 3 times


LONG = "shots[0].scenes[0].action: '" + "a" * 5_000 + "' is too long"
MARK = " [... 5,041 characters in all, cut here ...] "


@pytest.mark.parametrize(("problems", "said"), [
    ([], []),
    (["one"], ["one"]),
    ([f"p{n}" for n in range(9)], [f"p{n}" for n in range(9)]),  # a count line would be longer
    ([f"p{n}" for n in range(10)],
     [*(f"p{n}" for n in range(8)), "and 2 more problem(s) of the same answer, not quoted"]),
    ([f"p{n}" for n in range(10_000)],
     [*(f"p{n}" for n in range(8)), "and 9,992 more problem(s) of the same answer, not quoted"]),
    ([LONG], [LONG[:800 - 160 - len(MARK)] + MARK + LONG[-160:]]),  # its place and verdict
])
def test_a_send_back_quotes_a_few_problems_each_cut_and_counts_the_rest(
        problems: list[str], said: list[str]) -> None:
    from storyboard.breakdown.questions import prompts
    assert prompts.few(problems) == said
    assert prompts.few(said) == said  # bounded once: never cut or counted again
    assert all(len(line) <= prompts.PROBLEM_CHARS for line in said)
    turn = prompts.send_back("{}", problems)[-1]["content"]
    assert turn.endswith("\n".join(f"- {line}" for line in said))


@pytest.mark.parametrize(("text", "most", "kept"), [
    ("", 5, 0), ("abcdefghij", 3, 10), ("abcdefghij", 2, 6), ("日本語の文", 1, 1),
    ("日本語の文", 3, 5), ("a" * 100_000, 2 * 2048, 13_653)])
def test_an_answer_is_quoted_back_up_to_its_estimated_tokens(text: str, most: int,
                                                             kept: int) -> None:
    from storyboard.breakdown.chat.cost import within
    assert within(text, most) == kept
    assert tokens(text[:kept]) <= most and (kept == len(text) or tokens(text[:kept + 1]) > most)


def test_an_answer_of_10000_shots_is_judged_as_one_of_201() -> None:
    """The schema's problems of a list past its ``maxItems``: the same as for one item more
    (the list too long, each kept item's own), not a problem for each of 10,000."""
    from storyboard.breakdown.questions import schemas
    shot = {"from_line": 1, "to_line": 1, "camera": "", "cast": [], "scenes": []}
    found = schemas.problems("shots", {"shots": [shot] * 10_000})
    assert found == schemas.problems("shots", {"shots": [shot] * 201})
    assert len(found) == 202 and found[0].startswith("shots: [{") and \
        found[0].endswith("is too long")
