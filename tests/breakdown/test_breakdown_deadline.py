"""A deadline that fits the machine (issue 98, item 4): a call past its deadline names the flag and
the key that set it, ``--deadline`` is refused when it cannot work, an unset deadline is fitted to
the pace a free local endpoint was measured at (a probe) or any endpoint's answers measured, and
"to go on" asks with a deadline that would not fail the same way. Against a slow scripted server
on loopback (``scripted``)."""

from __future__ import annotations

import json
import math
import shlex
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from storyboard.breakdown.chat import pace
from storyboard.breakdown.chat.pace import Pace
from storyboard.breakdown.pipeline import Options, Report, breakdown
from storyboard.cli.main import cli
from storyboard.errors import TransportError
from tests.breakdown.scripted import Reply, Scripted, completion, stage_of

KEY_ENV = "STORYBOARD_TEST_LOCAL_KEY"
STORY = "# The Lighthouse\n\nMia climbed the stairs of the old lighthouse, holding the lamp.\n"
ANSWERS = {
    "outline": {"title": "The Lighthouse", "summary": "Mia climbs.", "beats": ["Mia climbs."]},
    "cast": {"characters": [{"name": "Mia", "appearance": "a girl on the stairs",
                             "voice": "a girl, young, bright"}], "places": [], "props": []},
    "shots": {"shots": [{"from_line": 3, "to_line": 3, "camera": "wide shot", "cast": ["Mia"],
                         "scenes": [{"seconds": 4, "action": "Mia climbs the stairs of the old "
                                     "lighthouse.", "lines": []}]}]}}
HOW = "--deadline SECONDS, or deadline: in the series' breakdown: block"


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv(KEY_ENV, "none")
    yield


def slow(pauses: dict[str, float], usage: tuple[int, int] = (100, 20)):  # type: ignore[no-untyped-def]
    """Each stage answered after its pause (seconds), with the usage given."""
    def script(body: dict[str, Any]) -> Reply:
        stage = stage_of(body)
        time.sleep(pauses.get(stage, 0.0))
        return completion(json.dumps(ANSWERS[stage]), "stop", *usage)
    return script


def run(server: Scripted, tmp_path: Path, said: list[str] | None = None,
        **changes: Any) -> Report:
    source, series = tmp_path / "story.md", tmp_path / "series"
    tmp_path.mkdir(exist_ok=True)
    source.write_text(STORY, encoding="utf-8")
    options = Options(**{"model": "m", "base_url": server.base_url, "key_env": KEY_ENV,
                         "yes": True, "price_in": 0.0, "price_out": 0.0, "stream": "false",
                         "response_format": "json_object", **changes})
    return breakdown(source, series, options, say=(said if said is not None else []).append)


def test_a_call_past_its_deadline_names_the_setting_and_goes_on_with_one_that_holds(
        tmp_path: Path) -> None:
    with Scripted(slow({"outline": 1.0, "cast": 1.0, "shots": 1.0})) as server:
        with pytest.raises(TransportError) as caught:
            run(server, tmp_path, deadline=0.4)
        said = str(caught.value)
        assert f"passed its deadline of 0.4 s (set by {HOW})" in said
        command = said.split("to go on: ", 1)[1].strip()
        assert "--deadline 60" in command  # twice the one passed, to the minute
        assert server.probes == []  # a deadline that is set is not fitted: nothing probed
        result = CliRunner().invoke(cli, shlex.split(command)[1:])
    assert result.exit_code == 0, result.output  # the printed command does not fail the same way
    assert (tmp_path / "series" / "episodes").is_dir()


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "-5", "0", "86401", "soon"])
def test_a_deadline_flag_that_cannot_work_is_a_usage_error(tmp_path: Path, value: str) -> None:
    (tmp_path / "story.md").write_text(STORY, encoding="utf-8")
    with Scripted(slow({})) as server:
        result = CliRunner().invoke(cli, [
            "breakdown", str(tmp_path / "story.md"), str(tmp_path / "series"), "--yes",
            "--base-url", server.base_url, "--api-key-env", KEY_ENV, "--model", "m",
            "--price-in", "0", "--price-out", "0", "--deadline", value])
        assert server.bodies == [] and server.probes == []
    assert result.exit_code == 2, result.output
    assert "--deadline" in result.output and "Traceback" not in result.output
    if value != "soon":
        assert "expected a number of seconds above 0 and at most 86400" in result.output


def test_the_deadline_flag_sets_every_calls_deadline(tmp_path: Path) -> None:
    (tmp_path / "story.md").write_text(STORY, encoding="utf-8")
    with Scripted(slow({"outline": 1.0})) as server:
        result = CliRunner().invoke(cli, [
            "breakdown", str(tmp_path / "story.md"), str(tmp_path / "series"), "--yes",
            "--base-url", server.base_url, "--api-key-env", KEY_ENV, "--model", "m",
            "--price-in", "0", "--price-out", "0", "--deadline", "0.5"])
    assert result.exit_code == 1
    assert f"passed its deadline of 0.5 s (set by {HOW})" in result.output


def test_an_unset_deadline_fits_the_pace_a_probe_measured_on_a_free_local_endpoint(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pace, "BASE", 0.5)  # a default each test call passes (600 s otherwise)
    pauses = {"outline": 1.0, "cast": 1.0, "shots": 1.0}
    said: list[str] = []
    # a slow machine: the probe's one token took 0.3 s, so each call may take far longer
    with Scripted(slow(pauses), probe_pause=0.3, probe_usage=(0, 1)) as server:
        report = run(server, tmp_path / "slow", said)
        assert len(server.probes) == 1 and server.probes[0]["max_tokens"] == pace.PROBE_TOKENS
        assert "response_format" not in server.probes[0]
    assert report.problems == [] and report.sent == 5  # the pace's and the schema's probes, 3 calls
    assert any("the endpoint's pace: a probe of 1 answer token(s) took " in s for s in said)
    # the same calls on an endpoint the probe found fast keep the default, and pass it
    with Scripted(slow(pauses), probe_pause=0.0, probe_usage=(0, 100_000)) as server, \
            pytest.raises(TransportError) as caught:
        run(server, tmp_path / "fast")
    assert f"passed its deadline of 0.5 s (the default; set it with {HOW})" in str(caught.value)


def test_a_paid_endpoint_is_never_probed_and_is_measured_by_its_answers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pace, "BASE", 0.6)
    said: list[str] = []
    # the outline's one answer token took 0.3 s: the cast's deadline is fitted to that pace
    with Scripted(slow({"outline": 0.3, "cast": 1.0, "shots": 1.0}, usage=(0, 1))) as server:
        report = run(server, tmp_path / "measured", said, price_in=0.1, price_out=0.1,
                     budget=1.0)
        assert server.probes == []
    assert report.problems == [] and report.sent == 3
    # an outline of 100,000 answer tokens at once: measured fast, the default holds
    with Scripted(slow({"outline": 0.0, "cast": 1.0}, usage=(0, 100_000))) as server, \
            pytest.raises(TransportError) as caught:
        run(server, tmp_path / "fast", price_in=0.1, price_out=0.1, budget=1.0)
    assert "passed its deadline of 0.6 s (the default;" in str(caught.value)
    assert "while asking the cast call for chapter 1" in str(caught.value)


def test_the_pace_arithmetic() -> None:
    measured = Pace()
    measured.measured(10.0, 0, 10, "a probe")  # 1 s an answer token
    measured.measured(10.0, 400, 0, "a call")  # 400 prompt tokens weigh 100: faster, not kept
    assert measured.seconds_per_token == 1.0 and measured.source == "a probe"
    assert measured.expected(1000, 2048) == 2298.0  # 2048 + 1000 / 4
    assert measured.deadline(1000, 2048) == 4596.0  # twice it
    assert measured.deadline(0, 100) == pace.BASE  # never under the default
    assert measured.deadline(10**6, 10**6) == pace.MOST  # nor over the bound
    assert measured.enough(600.0, 1000, 2048) == 4620  # what the pace needs, to the minute
    assert Pace().enough(600.0, 1000, 2048) == 1200  # unmeasured: twice the one passed
    assert Pace(given=30.0).deadline(10**6, 10**6) == 30.0  # a set deadline is as set
    for bad in (math.nan, math.inf, -1.0):
        Pace().measured(bad, 0, 10, "x")
    unmeasured = Pace()
    unmeasured.measured(5.0, 0, 0, "nothing")
    assert unmeasured.seconds_per_token is None
