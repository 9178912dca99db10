"""The breakdown's talk with the model against real servers' shapes (the emulator's chat faults):
hostile usage held at the ceiling, answers bounded in size, time, depth and numbers, the
structured-output mode found and remembered, answers read as real models write them, streaming
with progress, and a failure that says where it stopped and how to go on."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from storyboard.breakdown.answers.asking import Asker
from storyboard.breakdown.chat.calls import Settings, key_of
from storyboard.breakdown.chat.client import ChatClient, Limits
from storyboard.breakdown.chat.cost import Spend
from storyboard.breakdown.pipeline import Options, Report, breakdown
from storyboard.breakdown.questions import prompts, schemas
from storyboard.breakdown.source import Chapter
from storyboard.breakdown.state.answerstore import AnswerCache
from storyboard.breakdown.state.reading import answer_data, loads
from storyboard.emulator.faults import FaultSyntaxError, parse_fault
from storyboard.emulator.server import EmulatorServer
from storyboard.errors import (
    BudgetExceeded,
    ProviderError,
    ServerError,
    StoryboardError,
    TransportError,
)
from storyboard.language.variations import compile_variations
from storyboard.providers.protocol import ApiKey
from storyboard.targets.llm import chat_price
from tests.fixtures.breakdown import local_base

KEY_ENV = "STORYBOARD_TEST_CHAT_KEY"
STORY = """\
# The Lighthouse

Mia climbed the stairs of the old lighthouse. The wind howled outside and Sam waited below.

"Are you coming up?" Mia called down to Sam.

# The Storm

The storm broke over the bay. Mia lit the great lamp while Sam held the door against the wind.

"Hold it steady!" shouted Mia.
"""
LINES = ("Mia opened the door. Sam stood in the rain.", "", '"Come in," said Mia.')


@pytest.fixture(autouse=True)
def fresh(chat_emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv(KEY_ENV, "sk-test-breakdown")
    chat_emulator.clear_faults()
    yield
    chat_emulator.clear_faults()


def requests(chat_emulator: EmulatorServer) -> int:
    return int(chat_emulator.stats()["chat"]["requests"])


def run(chat_emulator: EmulatorServer, tmp_path: Path, **changes: Any) -> tuple[Report, int, Path]:
    source, series = tmp_path / "story.md", tmp_path / "series"
    source.write_text(STORY, encoding="utf-8")
    settings: dict[str, Any] = {"base_url": local_base(chat_emulator), "key_env": KEY_ENV,
                                "yes": True, "model": "qwen-plus", **changes}
    progress = settings.pop("progress", lambda _text: None)
    before = requests(chat_emulator)
    report = breakdown(source, series, Options(**settings), progress=progress)
    return report, requests(chat_emulator) - before, series


def errors(series: Path) -> list[str]:
    return [d.format() for d in compile_variations(series).diagnostics() if d.severity == "error"]


def stored(series: Path) -> list[str]:
    return [p.read_text() for p in sorted((series / ".storyboard/breakdown/answers").glob("*"))]


# Issue 54, item 1: usage is untrusted input

def asker(chat_emulator: EmulatorServer, tmp_path: Path, limit: float | None,
          **settings: Any) -> Asker:
    price = chat_price("qwen-plus")
    assert price is not None
    return Asker(AnswerCache(tmp_path), Settings("qwen-plus", local_base(chat_emulator), **settings),
                 Spend(price, limit),
                 lambda: ChatClient(local_base(chat_emulator), ApiKey("sk-test-breakdown")))


def outline_of(ask: Asker, number: int) -> Any:
    chapter = Chapter("story.md", number, f"Part {number}", 1, LINES)
    return ask.ask("outline", chapter, {}, lambda _data: [], [])


@pytest.mark.parametrize("word", ["negative", "float", "nan", "infinity", "huge", "string",
                                  "missing"])
def test_usage_that_is_not_a_count_is_counted_at_the_ceiling_and_the_budget_holds(
        chat_emulator: EmulatorServer, tmp_path: Path, word: str) -> None:
    chat_emulator.add_rate(f"chat:usage={word}:1")
    probe = asker(chat_emulator, tmp_path / "probe", None)
    first = Chapter("story.md", 1, "Part 1", 1, LINES)
    ceiling = probe.ceiling("outline", first, prompts.messages("outline", first, {}))
    ask = asker(chat_emulator, tmp_path, 2.5 * ceiling)
    said: list[str] = []
    ask.say = said.append
    answered = 0
    with pytest.raises(BudgetExceeded, match="stopped before the outline call for chapter 3"):
        for number in range(1, 6):
            outline_of(ask, number)
            answered += 1
    assert answered == 2 and ask.sent == 2  # honest usage of these answers would allow all 5
    assert ask.spend.at_ceiling == 2 and math.isfinite(ask.spend.spent)
    assert ask.spend.spent >= 2 * ceiling * 0.99
    why = "reported no usage" if word == "missing" else "not a whole number of tokens >= 0"
    assert sum(why in line for line in said) == 1  # said once


def test_the_command_says_which_calls_were_counted_at_their_ceiling(
        chat_emulator: EmulatorServer, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from storyboard.cli.main import cli as group
    chat_emulator.add_rate("chat:usage=negative:1")
    source = tmp_path / "story.md"
    source.write_text(STORY, encoding="utf-8")
    done = CliRunner().invoke(group, ["breakdown", str(source), str(tmp_path / "series"),
                                      "--base-url", local_base(chat_emulator), "--api-key-env",
                                      KEY_ENV, "--yes"])
    assert done.exit_code == 0, done.output
    assert "6 call(s) counted at their ceiling (their usage was missing or not a count)" in \
        done.output
    assert done.output.count("not a whole number of tokens") == 1 and "$-" not in done.output


def test_honest_usage_is_counted_as_reported(chat_emulator: EmulatorServer, tmp_path: Path) -> None:
    ask = asker(chat_emulator, tmp_path, None)
    outline_of(ask, 1)
    assert ask.spend.at_ceiling == 0 and 0 < ask.spend.input_tokens < 1000


# Issue 54, item 11: bounded answers

@pytest.mark.parametrize("kind", ["endless", "huge"])
def test_an_endless_or_huge_answer_is_cut_off_at_the_size_limit(
        chat_emulator: EmulatorServer, tmp_path: Path, kind: str) -> None:
    chat_emulator.script(f"chat:{kind}")
    with pytest.raises(ProviderError, match="passed 65,536 bytes and was cut off"):
        run(chat_emulator, tmp_path, max_answer_mb=1 / 16)
    assert stored(tmp_path / "series") == []


def test_a_trickled_answer_ends_at_the_whole_calls_deadline(chat_emulator: EmulatorServer,
                                                            tmp_path: Path) -> None:
    chat_emulator.script("chat:trickle=0.05")  # a byte every 50 ms: no single read ever times out
    with pytest.raises(TransportError, match=r"passed its deadline of 0\.6 s"):
        run(chat_emulator, tmp_path, deadline=0.6, stream="false")
    assert stored(tmp_path / "series") == []


def test_a_server_silent_past_the_deadline_is_said_as_the_deadline(chat_emulator: EmulatorServer,
                                                                   tmp_path: Path) -> None:
    chat_emulator.script("chat:slow=3")
    with pytest.raises(TransportError, match=r"passed its deadline of 0\.5 s") as caught:
        run(chat_emulator, tmp_path, deadline=0.5)
    assert "while asking the outline call for chapter 1" in str(caught.value)


@pytest.mark.parametrize(("fault", "said"), [
    ("deep=body", "not a chat completion: the JSON nests deeper than 64 levels"),
    ("deep=error", "HTTP 500"),
])
def test_a_deep_answer_body_is_a_located_error_not_a_recursion_error(
        chat_emulator: EmulatorServer, tmp_path: Path, fault: str, said: str) -> None:
    chat_emulator.script(f"chat:{fault}")
    with pytest.raises(ProviderError, match=said) as caught:
        run(chat_emulator, tmp_path, stream="false")
    assert "while asking the outline call for chapter 1" in str(caught.value)
    assert stored(tmp_path / "series") == []


@pytest.mark.parametrize("fault", ["deep=content", "nan"])
def test_deep_or_non_finite_content_is_sent_back_and_never_cached(
        chat_emulator: EmulatorServer, tmp_path: Path, fault: str) -> None:
    chat_emulator.script(f"chat:ok*4,chat:{fault}")  # chapter 1's shots answer
    # its usage says 50,000 answer tokens, more than --yes consented to: a budget allows them
    report, sent, series = run(chat_emulator, tmp_path, stream="false", budget=1.0)
    assert sent == 7 and report.problems == []  # the send-back fixed it
    assert not any("[[[[" in text or "NaN" in text for text in stored(series))
    assert len(stored(series)) == 6  # the answer that did not parse is not among them
    again, resent, _ = run(chat_emulator, tmp_path, stream="false", budget=1.0)
    assert resent == 1 and again.problems == []  # it is asked again, never read from the cache


def test_deep_content_streamed_is_stopped_as_the_loop_it_is(
        chat_emulator: EmulatorServer, tmp_path: Path) -> None:
    chat_emulator.script("chat:ok*4,chat:deep=content")  # 100,000 "[" in chapter 1's shots
    report, sent, series = run(chat_emulator, tmp_path, stream="true")
    assert sent == 7 and report.problems == []  # sent back, and the send-back fixed it
    looped = [t for t in stored(series) if '"finish_reason": "looping"' in t]
    assert len(looped) == 1 and 200 <= looped[0].count("[") < 5_000  # read no further
    again, resent, _ = run(chat_emulator, tmp_path, stream="true")
    assert resent == 0 and again.problems == []  # a loop asked again loops again: replayed


def test_a_long_answer_is_quoted_back_cut() -> None:
    turn = prompts.send_back("[" * 100_000, ["the answer is not valid JSON"])
    assert len(turn[0]["content"]) < 41_000 and turn[0]["content"].endswith("[cut here]")


def test_the_json_reader_refuses_depth_and_non_finite_numbers() -> None:
    for text in ("[" * 100_000 + "]" * 100_000, "[" * 65 + "]" * 65, '{"s": NaN}',
                 '{"s": Infinity}', '{"s": -Infinity}', '{"s": 1e400}', "9" * 5000):
        with pytest.raises(ValueError):
            loads(text)
    assert loads("[" * 64 + "]" * 64) is not None and loads('{"s": 1.5}') == {"s": 1.5}


# Issue 57, item 1: any endpoint users run

def test_a_refused_json_schema_steps_down_to_json_object_and_is_remembered(
        chat_emulator: EmulatorServer, tmp_path: Path) -> None:
    chat_emulator.add_rate("chat:no_schema:1")  # llama-cpp-python's server: json_schema always refused
    said: list[str] = []
    source = tmp_path / "story.md"
    source.write_text(STORY, encoding="utf-8")
    options = Options(base_url=local_base(chat_emulator), key_env=KEY_ENV, yes=True)
    before = requests(chat_emulator)
    report = breakdown(source, tmp_path / "series", options, say=said.append)
    assert requests(chat_emulator) - before == 7 and report.problems == []  # one refusal, then 6
    assert any("refuses response_format json_schema: asking in json_object" in s for s in said)
    found = json.loads((tmp_path / "series/.storyboard/breakdown/endpoints.json").read_text())
    assert [entry["response_format"] for entry in found.values()] == ["json_object"]
    assert errors(tmp_path / "series") == []
    before = requests(chat_emulator)
    again = breakdown(source, tmp_path / "series", options)
    assert requests(chat_emulator) == before and again.cached == 6  # it starts where it was found


def test_a_refusal_in_a_chosen_mode_names_the_setting_that_gets_past_it(
        chat_emulator: EmulatorServer, tmp_path: Path) -> None:
    chat_emulator.add_rate("chat:no_schema:1")
    with pytest.raises(ServerError) as caught:
        run(chat_emulator, tmp_path, response_format="json_schema")
    said = str(caught.value)
    assert "Input should be 'text' or 'json_object'" in said
    assert "set response_format: json_object, or auto" in said
    assert "while asking the outline call for chapter 1" in said


def test_a_remembered_mode_file_is_read_as_untrusted(chat_emulator: EmulatorServer,
                                                     tmp_path: Path) -> None:
    folder = tmp_path / "series/.storyboard/breakdown"
    folder.mkdir(parents=True)
    (folder / "endpoints.json").write_text("[" * 100_000 + "]" * 100_000)
    report, sent, _ = run(chat_emulator, tmp_path)
    assert sent == 6 and report.problems == []
    (folder / "endpoints.json").write_text('{"x": {"response_format": 7, "stream": "x"}, "y": 1}')
    assert run(chat_emulator, tmp_path)[1] == 0


@pytest.mark.parametrize(("fault", "mode"), [("wrapped", "json_object"), ("fenced", "text"),
                                           ("think", "text"), ("reasoning", "json_schema")])
def test_answers_are_read_as_real_models_give_them(chat_emulator: EmulatorServer, tmp_path: Path,
                                                   fault: str, mode: str) -> None:
    """Each read and counted in the mode it came back in (every mode: see the next test)."""
    chat_emulator.add_rate(f"chat:{fault}:1")
    report, sent, series = run(chat_emulator, tmp_path, response_format=mode)
    assert sent == 6 and report.problems == []  # no send-back needed
    assert errors(series) == []
    named = {"wrapped": "wrapper", "fenced": "fence", "think": "think"}
    assert [(r["name"], r["mode"]) for r in report.repairs] == (
        [(named[fault], "prompt" if mode == "text" else mode)] if fault in named else [])
    assert all(r["count"] == 6 for r in report.repairs)  # every answer, each counted once


@pytest.mark.parametrize("fault", ["wrapped", "fenced", "think"])
def test_what_is_unambiguous_is_read_under_json_schema_too(
        chat_emulator: EmulatorServer, tmp_path: Path, fault: str) -> None:
    """Issue 98: an endpoint that takes json_schema does not always hold it (llama-server
    builds, Ollama for some models, an old llama-cpp-python that dropped the grammar): a
    wrapper, a fence or a think block that comes back anyway is read, not sent back, and
    counted in the mode it came back in."""
    chat_emulator.add_rate(f"chat:{fault}:1")
    report, sent, _series = run(chat_emulator, tmp_path, response_format="json_schema")
    named = {"wrapped": "wrapper", "fenced": "fence", "think": "think"}[fault]
    assert sent == 6 and report.problems == []
    assert [(r["name"], r["mode"]) for r in report.repairs] == [(named, "json_schema")]


def test_an_ignored_schema_is_refused_and_sent_back(chat_emulator: EmulatorServer,
                                                   tmp_path: Path) -> None:
    chat_emulator.script("chat:ignored")  # the model echoes the request's keys
    report, sent, _ = run(chat_emulator, tmp_path)
    assert sent == 7 and report.problems == []


def test_only_one_wrapper_is_taken_off() -> None:
    keys = set(schemas.SCHEMAS["outline"]["properties"])
    good = {"title": "T", "summary": "S", "beats": ["b"]}
    assert answer_data(json.dumps({"episode": good}), keys) == (good, [])
    twice = {"a": {"b": good}}
    assert answer_data(json.dumps(twice), keys) == ({"b": good}, [])  # one wrapper, no more
    assert schemas.problems("outline", answer_data(json.dumps(twice), keys)[0])
    assert answer_data("```json\n" + json.dumps(good) + "\n```", keys) == (good, [])


def test_the_schema_sent_compiles_and_always_stands_in_the_instructions() -> None:
    chapter = Chapter("story.md", 1, "T", 1, LINES)
    for stage in schemas.SCHEMAS:
        fmt = schemas.response_format(stage)
        bounded = stage in schemas.BOUNDED  # a season shot's: sent with its own bounds
        assert fmt is not None and ("maxLength" in json.dumps(fmt)) == bounded
        assert ("maxItems" in json.dumps(fmt)) == (bounded and '"array"' in json.dumps(fmt))
        system = prompts.messages(stage, chapter, {})[0]["content"]
        assert schemas.sketch(schemas.of(stage, chapter)) in system
        assert "do not repeat its keys" in system
        for mode in ("json_schema", "json_object", "text"):
            body = Settings("m", "http://127.0.0.1:1/v1").body(stage, [], mode)
            assert body.get("response_format") == schemas.response_format(stage, mode)
        held = schemas.response_format(stage, "json_object")  # llama-cpp-python's grammar
        assert held is not None and held["schema"]["properties"].keys() == \
            schemas.SCHEMAS[stage]["properties"].keys(), stage
    assert "response_format" not in Settings("m", "http://x/v1").body("shots", [], "text")
    too_long = {"title": "x" * 61, "summary": "s", "beats": []}
    assert schemas.problems("outline", too_long)  # the bounds are checked in code


def test_a_send_back_changes_the_request(chat_emulator: EmulatorServer, tmp_path: Path) -> None:
    chapter = Chapter("story.md", 1, "T", 1, LINES)
    first = prompts.messages("outline", chapter, {})
    following = first + prompts.send_back('{"title": ""}', ["title: '' is too short"])
    settings = Settings("m", "http://x/v1")
    assert key_of(settings.body("outline", first)) != key_of(settings.body("outline", following))
    ask = asker(chat_emulator, tmp_path, None)
    said: list[str] = []
    ask.say = said.append
    result = ask.ask("outline", chapter, {}, lambda _data: ["a problem that stays"], [])
    assert result.turns == 3 and ask.sent == 3
    assert all("the request changes by them" in line for line in said if "sent back" in line)


def test_the_text_mode_sends_no_response_format_and_still_works(chat_emulator: EmulatorServer,
                                                                tmp_path: Path) -> None:
    report, sent, series = run(chat_emulator, tmp_path, response_format="text")
    assert sent == 6 and report.problems == [] and errors(series) == []


# Issue 57, item 2: time and feedback

def test_a_streamed_answer_reports_progress(chat_emulator: EmulatorServer, tmp_path: Path) -> None:
    progress: list[str] = []
    report, sent, series = run(chat_emulator, tmp_path, progress=progress.append)
    assert sent == 6 and report.problems == [] and errors(series) == []
    assert any(line.startswith("  the shots call for chapter 2: ") and "token(s) so far" in line
               for line in progress)
    assert report.spend is not None and report.spend.at_ceiling == 0  # usage came in the stream


def test_a_moderation_error_mid_stream_is_reported_at_its_chapter(chat_emulator: EmulatorServer,
                                                                 tmp_path: Path) -> None:
    chat_emulator.script("chat:ok*4,chat:late_moderation")  # chapter 1's shots, cut part-way
    report, sent, series = run(chat_emulator, tmp_path)
    assert sent == 6 and len(report.problems) == 1
    assert "data_inspection_failed" in report.problems[0].message
    assert (series / "episodes").is_dir()  # the other chapter is written


def test_a_stream_cut_off_stops_the_run_saying_whether_it_may_have_been_billed(
        chat_emulator: EmulatorServer, tmp_path: Path) -> None:
    """A stream that stops with no finish reason (llama-cpp-python's server ends one so when
    another request comes) is never asked again by itself; a paid endpoint's may have been billed,
    and one priced free says that nothing was."""
    for folder, prices, said in (
            ("paid", {}, "(no finish_reason); it may have been billed"),
            ("free", {"price_in": 0.0, "price_out": 0.0},
             "(no finish_reason); priced free, nothing was billed")):
        (tmp_path / folder).mkdir()
        chat_emulator.script("chat:interrupted*20")
        before = requests(chat_emulator)
        with pytest.raises(TransportError) as stopped:
            run(chat_emulator, tmp_path / folder, **prices)
        assert said in str(stopped.value), str(stopped.value)
        assert "chat stream ended before the answer was finished" in str(stopped.value)
        assert str(stopped.value).count("billed") == 1
        # the call once; on the free endpoint on loopback after its two free probes (its pace,
        # whether it holds the schema)
        assert requests(chat_emulator) - before == (1 if folder == "paid" else 3)
        chat_emulator.clear_faults()


def test_an_error_event_never_carries_the_key_into_a_message(tmp_path: Path) -> None:
    import socket
    import threading

    key = "sk-test-breakdown-secret"
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:  # a hostile server: a stream whose error event echoes the key
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)
            event = json.dumps({"error": {"message": f"bad key {key}", "code": "x"}})
            body = f"data: {event}\n\n".encode()
            connection.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                               b"content-length: " + str(len(body)).encode() + b"\r\n\r\n"
                               + body)

    thread = threading.Thread(target=serve)
    thread.start()
    client = ChatClient(f"http://127.0.0.1:{listener.getsockname()[1]}/v1", ApiKey(key))
    try:
        with pytest.raises(ServerError) as caught:
            client.complete({"model": "m", "messages": [], "stream": True})
    finally:
        client.close()
        thread.join()
        listener.close()
    assert "bad key" in str(caught.value) and key not in str(caught.value)


def test_an_endpoint_that_refuses_streaming_is_asked_without(chat_emulator: EmulatorServer,
                                                            tmp_path: Path) -> None:
    chat_emulator.add_rate("chat:no_stream:1")
    progress: list[str] = []
    report, sent, series = run(chat_emulator, tmp_path, progress=progress.append)
    assert sent == 7 and report.problems == [] and not any(progress)  # nothing streamed
    found = json.loads((series / ".storyboard/breakdown/endpoints.json").read_text())
    assert [entry["stream"] for entry in found.values()] == [False]


def test_a_failure_names_the_call_the_spend_the_cache_and_the_command(
        chat_emulator: EmulatorServer, tmp_path: Path) -> None:
    chat_emulator.script("chat:ok*4,chat:500")
    with pytest.raises(ServerError) as caught:
        run(chat_emulator, tmp_path, budget=1.0, yes=False)
    said = str(caught.value)
    assert "HTTP 500" in said and "while asking the shots call for chapter 1" in said
    assert "so far: 5 request(s) sent, 0.0" in said and "4 new answer(s) stored" in said
    series = tmp_path / "series"
    assert f"to go on: storyboard breakdown {tmp_path / 'story.md'} {series} --model qwen-plus " \
           f"--base-url {local_base(chat_emulator)} --api-key-env {KEY_ENV} --budget 1" in said
    assert "sk-test-breakdown" not in said


@pytest.mark.parametrize("changes", [{"deadline": math.nan}, {"deadline": math.inf},
                                     {"max_answer_mb": -1.0}, {"stream": "sometimes"},
                                     {"response_format": "xml"}])
def test_bad_asking_settings_fail_closed_before_any_call(chat_emulator: EmulatorServer,
                                                         tmp_path: Path,
                                                         changes: dict[str, Any]) -> None:
    before = requests(chat_emulator)
    with pytest.raises(StoryboardError, match="must be"):
        run(chat_emulator, tmp_path, **changes)
    assert requests(chat_emulator) == before


def test_the_series_file_sets_how_the_endpoint_is_asked(chat_emulator: EmulatorServer,
                                                       tmp_path: Path) -> None:
    from storyboard.breakdown.settings import from_series
    series = tmp_path / "series"
    series.mkdir()
    (series / "storyboard.yaml").write_text(
        "storyboard: 1\nbreakdown:\n  response_format: json_object\n  stream: false\n"
        "  deadline: 900\n  max_answer_mb: 2\n", encoding="utf-8")
    assert from_series(series) == {"response_format": "json_object", "stream": "false",
                                   "deadline": 900.0, "max_answer_mb": 2.0}
    (series / "storyboard.yaml").write_text("storyboard: 1\nbreakdown:\n  deadline: .inf\n",
                                            encoding="utf-8")
    with pytest.raises(StoryboardError):
        from_series(series)


def test_the_new_chat_faults_parse_and_bad_words_are_refused() -> None:
    assert str(parse_fault("chat:usage=nan")) == "chat:usage=nan"
    assert str(parse_fault("chat:trickle=0.5")) == "chat:trickle=0.5"
    with pytest.raises(FaultSyntaxError, match="usage takes one of"):
        parse_fault("chat:usage=lots")


def test_the_client_limits_default_generously() -> None:
    assert Limits().deadline == 600.0 and Limits().max_bytes == 4 * 1024 * 1024


# Issue 58, item 9: one --verbose shows each paid call, the breakdown's chat calls too

@pytest.mark.parametrize("stream", ["false", "true"])
def test_verbose_says_each_chat_call_and_its_answer_with_the_key_masked(
        chat_emulator: EmulatorServer, tmp_path: Path, stream: str) -> None:
    from storyboard.providers.trace import listening
    said: list[str] = []
    with listening(said.append):
        _report, sent, _series = run(chat_emulator, tmp_path, stream=stream)
    text = "\n".join(said)
    assert sent >= 1 and text.count("> POST ") == sent  # every call said, none twice
    assert text.count("< 200 POST ") == sent  # and every answer
    assert "sk-test-breakdown" not in text and "authorization: Bearer ***" in text
    assert '"messages"' in text and "lighthouse" in text.lower()  # the body as it went


# Issue 83, item 10: a deadline passed before the request went out still says its figure

def test_a_deadline_passed_while_the_request_is_built_says_its_figure(
        chat_emulator: EmulatorServer, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from storyboard.cli.main import cli as group
    source, series = tmp_path / "story.md", tmp_path / "series"
    source.write_text(STORY, encoding="utf-8")
    series.mkdir()
    (series / "storyboard.yaml").write_text(  # ends before the request is built, on any machine
        "storyboard: 1\nbreakdown:\n  deadline: 1.0e-300\n", encoding="utf-8")
    before = requests(chat_emulator)
    result = CliRunner().invoke(group, ["breakdown", str(source), str(series), "--yes",
                                        "--base-url", local_base(chat_emulator),
                                        "--api-key-env", KEY_ENV])
    assert result.exit_code == 1, result.output
    assert "the chat call passed its deadline of 1e-300 s (set by --deadline SECONDS, or " \
        "deadline: in the series' breakdown: block)" \
        in result.output, result.output
    assert requests(chat_emulator) == before and stored(series) == []
