"""The breakdown against what a real small model does (issue 64): a repeated answer is sent back
at most twice, never asked the same way, then reported; near-misses read as meant and said; a
shape that is JSON on its own; the context window found, named and respected; a file honest about
a refused stage. Each against a scripted OpenAI-compatible server on loopback (``scripted``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from storyboard.breakdown.answers.judging import Judge
from storyboard.breakdown.chat import fitting
from storyboard.breakdown.chat.cost import prompt_tokens
from storyboard.breakdown.chat.fitting import TooSmall
from storyboard.breakdown.pipeline import Options, Report, breakdown
from storyboard.breakdown.questions import prompts, schemas
from storyboard.breakdown.source import Chapter
from storyboard.errors import ProviderError
from tests.breakdown.scripted import Reply, Scripted, completion, stage_of

KEY_ENV = "STORYBOARD_TEST_LOCAL_KEY"
STORY = """\
# The Lighthouse

Mia climbed the stairs of the old lighthouse, holding the brass lamp.
"""
OUTLINE = {"title": "The Lighthouse", "summary": "Mia climbs the lighthouse.",
           "beats": ["Mia climbs the stairs."]}
MIA = {"name": "Mia", "appearance": "a girl on the stairs", "voice": "a girl, young, bright"}
LAMP = {"name": "Lamp", "look": "a brass lamp"}
SHOTS = {"shots": [{"from_line": 3, "to_line": 3, "camera": "wide shot", "cast": ["Mia"],
                    "scenes": [{"seconds": 4, "action": "Mia climbs the stairs of the old "
                                "lighthouse.", "lines": []}]}]}


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv(KEY_ENV, "none")
    yield


def answers(cast: Any, outline: Any = OUTLINE, shots: Any = SHOTS) -> Any:
    """A script answering each stage (``cast`` may be a function of the request)."""
    def script(body: dict[str, Any]) -> Reply:
        stage = stage_of(body)
        given = {"outline": outline, "cast": cast, "shots": shots}[stage]
        given = given(body) if callable(given) else given
        return completion(given if isinstance(given, str) else json.dumps(given))
    return script


def run(server: Scripted, tmp_path: Path, **changes: Any) -> tuple[Report, Path]:
    source, series = tmp_path / "story.md", tmp_path / "series"
    source.write_text(STORY, encoding="utf-8")
    options = Options(**{"model": "m", "base_url": server.base_url, "key_env": KEY_ENV,
                         "yes": True, "price_in": 0.0, "price_out": 0.0, "stream": "false",
                         "response_format": "json_object", **changes})
    return breakdown(source, series, options), series


def casts(server: Scripted) -> list[dict[str, Any]]:
    return [b for b in server.bodies if stage_of(b) == "cast"]


# Item 1: a send-back that changes something

MIA_CAST = {"characters": [MIA], "places": [], "props": [LAMP]}
WRONG_CAST = json.dumps({"characters": [MIA], "places": [],
                         "props": [{"name": "Lamp", "description": "a brass lamp"}]})


def test_a_repeated_answer_is_sent_back_twice_then_reported_never_asked_the_same_way(
        tmp_path: Path) -> None:
    with Scripted(answers(WRONG_CAST)) as server:
        report, _series = run(server, tmp_path)
    asked = casts(server)
    assert len(asked) == 3  # the answer and its two send-backs; not a fourth
    last = asked[-1]["messages"][-1]["content"]
    assert "props[0]" in last and asked[1]["messages"][-1]["content"] == last
    assert len(asked[2]["messages"]) == len(asked[1]["messages"]) + 2  # each turn a new request
    messages = [p.message for p in report.problems]
    assert any("props[0]" in m for m in messages), messages
    assert len({json.dumps(b, sort_keys=True) for b in server.bodies}) == len(server.bodies)


def test_a_re_run_replays_the_send_backs_from_the_cache(tmp_path: Path) -> None:
    with Scripted(answers(WRONG_CAST)) as server:
        run(server, tmp_path)
        sent = len(server.bodies)
        first = (tmp_path / "series" / "storyboard.yaml").read_bytes()
        run(server, tmp_path)
    assert len(server.bodies) == sent
    assert (tmp_path / "series" / "storyboard.yaml").read_bytes() == first


def read_as_meant(stage: str, data: Any, mode: str = "json_object") -> tuple[Any, list[str]]:
    """``data`` through the judged repairs of ``REPAIRS`` for ``stage``, asked in ``mode``."""
    judge = Judge(lambda: mode)
    return judge.repaired("judged", data, judge.context(stage, None))


# Item 2: near-misses read, not refused

def test_a_prop_given_a_characters_fields_is_read_with_a_note(tmp_path: Path) -> None:
    cast = {"characters": [MIA], "places": [],
            "props": [{"name": "Lamp", "appearance": "a brass lamp", "voice": "none"}]}
    with Scripted(answers(cast)) as server:
        report, series = run(server, tmp_path)
    assert len(server.bodies) == 3  # each stage asked once: nothing sent back
    assert report.problems == []
    notes = "\n".join(report.notes)
    assert "props[0]: a character's fields given to a place or prop: its appearance read as " \
           "its look, its voice dropped" in notes
    written = (series / "storyboard.yaml").read_text(encoding="utf-8")
    assert "a brass lamp" in written


def test_a_prop_given_its_look_and_a_voice_is_read_with_the_voice_dropped(tmp_path: Path
                                                                        ) -> None:
    """As Qwen2.5-Coder-1.5B answered the bench's first cast: each prop's look, and ``"voice":
    "none"`` beside it."""
    props = [{"name": "Lamp", "look": "a brass lamp", "voice": "none"},
             {"name": "Stairs", "look": "worn stone stairs", "voice": "none"}]
    cast = {"characters": [MIA], "places": [], "props": props}
    with Scripted(answers(cast)) as server:
        report, series = run(server, tmp_path)
    assert len(casts(server)) == 1 and report.problems == []  # not sent back
    assert report.notes == [
        "the cast answer for chapter 1: props[0]: a character's voice given to a place or prop: "
        "dropped",
        "the cast answer for chapter 1: props[1]: a character's voice given to a place or prop: "
        "dropped"]
    written = (series / "storyboard.yaml").read_text(encoding="utf-8")
    assert "a brass lamp" in written and "none" not in written


def test_a_shot_naming_more_than_its_bound_keeps_those_its_scenes_name_first(
        tmp_path: Path) -> None:
    """As Qwen2.5-Coder-1.5B answered an episode of the novel: nine names in a shot's cast where
    five may be, kept through two send-backs."""
    crowd = ["Marley", "Scrooge", "Dantes", "Morrel", "Rip", "Vedder", "Mia", "King", "Lamp"]
    scene = {"seconds": 4, "action": "Mia climbs the stairs of the old lighthouse, holding the "
             "brass lamp.", "lines": [{"speaker": "Mia", "quote": "Mia climbed the stairs"}]}
    shot = {"from_line": 3, "to_line": 3, "camera": "wide shot", "cast": crowd,
            "scenes": [scene]}
    read, notes = read_as_meant("shots", {"shots": [shot]}, "json_schema")  # no bound is sent
    assert read["shots"][0]["cast"] == ["Mia", "Lamp", "Marley", "Scrooge", "Dantes"]
    assert notes == ["shots[0].cast: 9 names where at most 5 may be: those its scenes "
                     "name first, 4 left out (Morrel, Rip, Vedder, King)"]
    assert schemas.problems("shots", read) == [] and shot["cast"] == crowd  # not changed
    five = {**shot, "cast": crowd[:5]}
    assert read_as_meant("shots", {"shots": [five]})[0]["shots"][0] == five
    twice = {**shot, "cast": ["Mia", "Lamp"] * 3}
    read, notes = read_as_meant("shots", {"shots": [twice]})
    assert read["shots"][0]["cast"] == ["Mia", "Lamp"]
    assert notes == ["shots[0].cast: 6 names where at most 5 may be: each read once"]
    others = [{"name": n, "appearance": "a man", "voice": "a man, old"} for n in crowd[:4]]
    cast = {"characters": [MIA, *others], "places": [], "props": [{"name": "Lamp", "look": "brass"}]}
    with Scripted(answers(cast, shots={"shots": [{**shot, "cast": ["Mia", "Lamp", *crowd[:4]]}]})
                  ) as server:
        report, _series = run(server, tmp_path)
    assert len(server.bodies) == 3 and report.problems == []  # read as meant, not sent back
    assert any("shots[0].cast: 6 names where at most 5 may be" in n for n in report.notes)


def test_an_ambiguous_answer_is_still_sent_back_located() -> None:
    two, notes = read_as_meant("outline", {"title": ["A", "B"], "summary": "s", "beats": []})
    assert two["title"] == ["A", "B"] and notes == []
    both = {"characters": [], "character": [], "places": [], "props": []}
    assert read_as_meant("cast", both) == (both, [])
    odd = {"name": "Lamp", "appearance": "brass", "colour": "gold"}
    two_looks = {"name": "Lamp", "look": "brass", "appearance": "gold", "voice": "none"}
    kept, notes = read_as_meant("cast", {"characters": [], "places": [], "props": [odd, two_looks]})
    assert kept["props"] == [odd, two_looks] and notes == []
    assert any(p.startswith("props[0]") for p in schemas.problems("cast", kept))


# Item 3: the shape as JSON

def test_the_shape_in_the_instructions_is_json_on_its_own() -> None:
    chapter = Chapter("story.md", 1, "T", 1, ("Mia climbed.",))
    for stage in schemas.SCHEMAS:
        system = prompts.messages(stage, chapter, {})[0]["content"]
        shape = system.split("copy its form, not its words):\n", 1)[1].split("\n", 1)[0]
        data = json.loads(shape)
        assert set(data) == set(schemas.SCHEMAS[stage]["properties"])
        assert "(at most" not in shape
    shots = prompts.messages("shots", chapter, {})[0]["content"]
    assert "shots[].scenes[].seconds: a number from 0.5 to 15" in shots
    assert "shots: at most 200 items" in shots


def test_the_shape_shows_a_typical_seconds_not_the_least_and_sends_no_example() -> None:
    """Qwen2.5-Coder-1.5B copied the sketch's least, 0.5 s, into every scene: it shows 4."""
    scene = json.loads(schemas.sketch(schemas.SHOTS))["shots"][0]["scenes"][0]
    assert scene["seconds"] == 4
    assert "examples" not in json.dumps(schemas.response_format("shots"))


def test_a_placeholder_copied_from_the_shape_is_sent_back_located(tmp_path: Path) -> None:
    """As Qwen2.5-Coder-1.5B wrote every action: the sketch's ``text, at most 2000 characters``
    (valid against the schema, so only this check catches it)."""
    copied = json.loads(json.dumps(SHOTS))
    copied["shots"][0]["scenes"][0]["action"] = "text, at most 2000 characters"

    def shots(body: dict[str, Any]) -> Any:
        return copied if body["messages"][-1]["role"] == "user" and len(body["messages"]) == 2 \
            else SHOTS
    with Scripted(answers(MIA_CAST, shots=shots)) as server:
        report, _series = run(server, tmp_path)
    asked = [b for b in server.bodies if stage_of(b) == "shots"]
    assert len(asked) == 2 and report.problems == []
    assert ("- shots[0].scenes[0].action: 'text, at most 2000 characters' is the shape's "
            "placeholder, copied: write the action itself") in asked[1]["messages"][-1]["content"]


# Item 5: honest files

def test_a_series_written_after_a_refused_stage_says_so(tmp_path: Path) -> None:
    with Scripted(answers(WRONG_CAST)) as server:
        _report, series = run(server, tmp_path)
    written = (series / "storyboard.yaml").read_text(encoding="utf-8")
    assert "the story named no one" not in written
    assert "# Incomplete: these answers were refused" in written
    assert "# - the cast answer for chapter 1 (The Lighthouse): props[0]" in written
    assert "# To go on (answers given come from the cache, free): storyboard breakdown " \
           f"{tmp_path / 'story.md'} {series}" in written
    assert "characters: {}  # none: a cast answer was refused" in written


# Item 4: the context window

def lines_of(body: dict[str, Any]) -> list[int]:
    user = next(m for m in body["messages"] if m["role"] == "user")
    return [number for number, _text in json.loads(user["content"])["lines"]]


def fitting_shots(body: dict[str, Any]) -> dict[str, Any]:
    """One shot over the lines the request gives (so each part of a cut chapter answers)."""
    numbers = lines_of(body)
    return {"shots": [{"from_line": numbers[0], "to_line": numbers[-1], "camera": "wide shot",
                       "cast": ["Mia"], "scenes": [{"seconds": 4, "action": "The scene.",
                                               "lines": []}]}]}


NO_CAST = {"characters": [MIA], "places": [], "props": []}  # the one the shots name


def test_a_call_that_cannot_fit_the_stated_window_is_never_sent(tmp_path: Path) -> None:
    with Scripted(answers(NO_CAST), props={"default_generation_settings": {"n_ctx": 1024}}
                  ) as server, pytest.raises(TooSmall) as stopped:
        run(server, tmp_path)
    assert server.bodies == [] and server.gets == ["/props"]
    said = str(stopped.value)
    assert "the shots call for chapter 1 needs a context of about " in said
    assert "the endpoint's is 1,024 (the server's props says so): nothing was sent" in said
    assert "--ctx-size" in said and "num_ctx" in said and "context: " in said


def test_calls_ask_for_what_the_window_leaves(tmp_path: Path) -> None:
    with Scripted(answers(NO_CAST, shots=fitting_shots)) as server:
        report, _series = run(server, tmp_path, context=4096)
    assert report.problems == []
    by_stage = {stage_of(b): b for b in server.bodies}
    assert by_stage["outline"]["max_tokens"] == 2048
    assert 1024 <= by_stage["cast"]["max_tokens"] < 4096 - 600  # what the window leaves
    chapter = Chapter("story.md", 1, "The Lighthouse", 1, tuple(STORY.rstrip("\n").split("\n")))
    assert by_stage["shots"]["max_tokens"] == fitting.answer_tokens("shots", chapter) < 2048
    assert server.gets == []  # the setting is the figure: nothing asked of the server


def test_a_chapter_too_long_for_the_window_is_cut_into_parts_that_fit(tmp_path: Path) -> None:
    long = "\n\n".join(f"Mia walked past the {n}th window of the lighthouse and looked out at "
                       f"the long grey sea, counting the waves that broke on the {n}th rock."
                       for n in range(1, 25))
    story = f"# The Lighthouse\n\n{long}\n"
    whole = Chapter("story.md", 1, "The Lighthouse", 1, tuple(story.split("\n")))
    context = fitting.largest_prompt(whole) + fitting.MARGIN + fitting.floor("shots", whole) - 100
    source, series = tmp_path / "story.md", tmp_path / "series"
    source.write_text(story, encoding="utf-8")
    options = Options(model="m", key_env=KEY_ENV, yes=True, price_in=0.0, price_out=0.0,
                      stream="false", response_format="json_object", context=context)
    with Scripted(answers(NO_CAST, shots=fitting_shots)) as server:
        report = breakdown(source, series, replace(options, base_url=server.base_url))
    shots = [b for b in server.bodies if stage_of(b) == "shots"]
    assert len(shots) >= 2
    parts = [lines_of(b) for b in shots]
    assert sorted(n for part in parts for n in part) == [n for n, _text in whole.numbered()]
    assert all(b["max_tokens"] >= fitting.floor("shots", whole) // 2 for b in shots)
    assert report.problems == []
    assert [p.name for p in (series / "episodes").iterdir()] == ["01-the-lighthouse.yaml"]


CONTEXT_REFUSAL = (400, {"error": {"message": "This model's maximum context length is 4096 "
                                   "tokens. However, you requested 9100 tokens.",
                                   "type": "invalid_request_error", "param": "messages",
                                   "code": "context_length_exceeded"}})


def test_a_context_refusal_names_the_figure_and_the_way_on_is_a_call_that_fits(
        tmp_path: Path) -> None:
    def script(body: dict[str, Any]) -> Reply:
        prompt = prompt_tokens(body["messages"], json.dumps(schemas.SCHEMAS["cast"]))
        if stage_of(body) == "cast" and prompt + body["max_tokens"] > 4096:
            return CONTEXT_REFUSAL
        return answers(NO_CAST, shots=fitting_shots)(body)
    with Scripted(script) as server:
        with pytest.raises(ProviderError) as refused:
            run(server, tmp_path)
        said = str(refused.value)
        assert "does not fit the endpoint's context window: it needs about " in said
        assert "the endpoint's is 4,096" in said and "--ctx-size" in said
        assert "to go on: storyboard breakdown" in said
        remembered = json.loads((tmp_path / "series/.storyboard/breakdown/endpoints.json")
                                .read_text(encoding="utf-8"))
        assert [v["context"] for v in remembered.values()] == [4096]
        before = len(server.bodies)
        report, _series = run(server, tmp_path)  # to go on
    again = server.bodies[before:]
    assert [stage_of(b) for b in again] == ["cast", "shots"]  # the outline from the cache
    assert again[0]["max_tokens"] < 4096 and report.problems == []


def test_an_answer_cut_at_fewer_tokens_than_asked_stops_and_is_not_asked_again(
        tmp_path: Path) -> None:
    def script(body: dict[str, Any]) -> Reply:
        if stage_of(body) == "shots":
            return completion('{"shots": [{"from_line": 3', "length", 1500, 167)
        return answers(NO_CAST)(body)
    with Scripted(script) as server:
        with pytest.raises(TooSmall) as stopped:
            run(server, tmp_path)
        said = str(stopped.value)
        asked = fitting.answer_tokens("shots", Chapter("story.md", 1, "The Lighthouse", 1, tuple(
            STORY.rstrip("\n").split("\n"))))
        assert f"the server cut the answer at 167 tokens where max_tokens asked {asked:,}" in said
        assert "its context window is about 1,667 tokens" in said and "--ctx-size" in said
        before = len(server.bodies)
        with pytest.raises(TooSmall) as again:
            run(server, tmp_path)  # to go on, the server unchanged: the call cannot fit
    assert len(server.bodies) == before
    assert "nothing was sent" in str(again.value)


@pytest.mark.parametrize("value", [".nan", ".inf", "100", "-8192", "8192.5", "lots"])
def test_a_context_setting_that_cannot_work_is_refused_at_its_line(tmp_path: Path,
                                                                   value: str) -> None:
    from storyboard.breakdown.settings import from_series
    from storyboard.errors import ProblemsFound
    series = tmp_path / "series"
    series.mkdir()
    (series / "storyboard.yaml").write_text(
        f"storyboard: 1\nbreakdown:\n  model: m\n  context: {value}\n", encoding="utf-8")
    with pytest.raises(ProblemsFound) as refused:
        from_series(series)
    assert {(d.span.line if d.span else 0) for d in refused.value.diagnostics} == {4}
    assert from_series(series.parent / "none") == {}


def test_the_run_summary_says_what_was_read_as_meant(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from storyboard.cli.main import cli
    cast = {"characters": [MIA], "places": [],
            "props": [{"name": "Lamp", "appearance": "a brass lamp", "voice": "none"}]}
    source, series = tmp_path / "story.md", tmp_path / "series"
    source.write_text(STORY, encoding="utf-8")
    with Scripted(answers(cast)) as server:
        series.mkdir()
        (series / "storyboard.yaml").write_text(
            f"storyboard: 1\nbreakdown:\n  base_url: {server.base_url}\n  model: m\n"
            f"  key_env: {KEY_ENV}\n  price_in: 0\n  price_out: 0\n  stream: false\n"
            "  response_format: json_object\n", encoding="utf-8")  # no schema sent: it can slip
        done = CliRunner().invoke(cli, ["breakdown", str(source), str(series), "--yes"])
        verbose = CliRunner().invoke(cli, ["--verbose", "breakdown", str(source), str(series),
                                           "--yes"])  # the answers from the cache, read again
    said = "read as meant: the cast answer for chapter 1: props[0]: a character's fields " \
           "given to a place or prop"
    assert done.exit_code == 0, done.output
    assert done.output.count(said) == 1  # in the run's summary
    assert verbose.output.count(f"* {said}") == 1  # as it was read, with --verbose
    assert done.output.count("repair thing-fields: 1 (json_object)") == 1  # its count, its mode


def test_a_send_back_that_would_not_fit_is_not_sent_and_the_run_goes_on(tmp_path: Path) -> None:
    chapter = Chapter("story.md", 1, "The Lighthouse", 1, tuple(STORY.rstrip("\n").split("\n")))
    context = fitting.largest_prompt(chapter) + fitting.MARGIN + 500  # a first call fits whole
    long = {"shots": [{"from_line": 3, "to_line": 3, "cast": ["Mia"],  # no camera: refused
                       "scenes": [{"seconds": 4, "action": "Mia climbs. " * 400, "lines": []}]}]}
    with Scripted(answers(NO_CAST, shots=long)) as server:
        report, _series = run(server, tmp_path, context=context)
    assert [stage_of(b) for b in server.bodies] == ["outline", "cast", "shots"]
    said = " ".join(p.message for p in report.problems)
    assert "'camera' is a required property" in said
    assert "not sent back: the shots call for chapter 1 needs a context of about" in said


def test_a_speaker_whose_only_line_is_too_long_for_a_reference_voice_gets_its_first_sentences(
        tmp_path: Path) -> None:
    """Marley's 318-character line was his voice's sample in the real model's season: ``check``
    warned; the sample is now cut to whole sentences as ``storyboard init`` cuts one."""
    said = ("I wear the chain I forged in life. I made it link by link, and yard by yard; I girded "
            "it on of my own free will, and of my own free will I wore it. Is its pattern strange "
            "to you? Or would you know the weight and length of the strong coil you bear yourself?")
    story = f'# The Ghost\n\nMarley rattled his chain.\n\n"{said}" said Marley.\n'
    shots = {"shots": [{"from_line": 3, "to_line": 5, "camera": "wide shot", "cast": ["Marley"],
                        "scenes": [{"seconds": 12, "action": "Marley rattles his chain.",
                                    "lines": [{"speaker": "Marley", "quote": said}]}]}]}
    marley = {"name": "Marley", "appearance": "a ghost in chains", "voice": "a man, old, hollow"}
    outline = {"title": "The Ghost", "summary": "Marley speaks.", "beats": ["Marley speaks."]}
    source, series = tmp_path / "story.md", tmp_path / "series"
    source.write_text(story, encoding="utf-8")
    with Scripted(answers({"characters": [marley], "places": [], "props": []}, outline,
                          shots)) as server:
        options = Options(model="m", base_url=server.base_url, key_env=KEY_ENV, yes=True,
                          price_in=0.0, price_out=0.0, stream="false",
                          response_format="json_object")
        report = breakdown(source, series, options)
    assert report.problems == [] and len(said) > 140
    written = yaml.safe_load((series / "storyboard.yaml").read_text(encoding="utf-8"))
    sample = written["voices"]["marley-voice"]["sample"]
    assert sample == "I wear the chain I forged in life."  # whole sentences within 120
    assert not [d for d in report.left if "sample" in d.message]
