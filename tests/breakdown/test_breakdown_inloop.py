"""A cut answer that loops inside one entry: found where its loop begins, sent back quoted up to
its first turn and asked again with ``presence_penalty`` (issue 67: Qwen2.5-Coder-1.5B wrote
"He has a stern, stern demeanor and a stern, stern attitude." to the bound inside the first
character's appearance); an endpoint that refuses the field is asked again without it.
Measured on that model: the send-back quoted so was answered in 85 tokens, where a quote with a
mark of the cut at its end had the mark copied into the next answer."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from storyboard.breakdown.chat import loops
from tests.breakdown.scripted import Reply, Scripted, Trickle, completion, stage_of
from tests.breakdown.test_breakdown_llm import KEY_ENV, MIA, answers, run

UNIT = "He has a stern, stern demeanor and a stern, stern attitude. "
START = '{"characters":[{"name":"Scrooge","appearance":"Scrooge is a stern man. '
LAMP = {"name": "Lamp", "look": "a brass lamp"}
CAST = {"characters": [MIA], "places": [], "props": [LAMP]}


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "none")


def cut(content: str) -> dict[str, Any]:
    return {"finish_reason": "length", "content": content}


def test_a_cut_answer_ending_in_a_repeated_unit_is_a_loop_found_where_it_begins() -> None:
    content = (START + UNIT * 300)[:-7]  # cut in the middle of a turn
    loop = loops.looping(cut(content))
    assert loop is not None and len(loop.unit) == len(UNIT) and loop.unit in UNIT * 2
    assert len(START) - len(UNIT) < loop.start <= len(START)  # not in the 300 turns after
    assert content[loop.start:].startswith(loop.unit * 3)
    assert loops.unlooped(cut(content)) == content[:loop.start]
    said = loop.problem()
    assert said.startswith(loops.LOOPED) and f"from character {loop.start:,}" in said
    assert loops.looping(cut("a" * 40_000)) == loops.Loop(0, "a")


@pytest.mark.parametrize("record", [
    {"finish_reason": "stop", "content": START + UNIT * 300},  # whole: not cut
    cut(START + UNIT * 2),  # said twice: not a loop
    cut(START + "ha " * 50),  # four times and more, but under LOOP_SPAN characters
    cut(START + " ".join(f"word{n}" for n in range(2000))),  # long and never the same
    cut(""),
])
def test_an_answer_that_does_not_end_in_a_loop_is_not_one(record: dict[str, Any]) -> None:
    assert loops.looping(record) is None
    assert loops.unlooped(record) == record["content"]


def looping_cast(body: dict[str, Any]) -> Reply:
    """The cast loops inside Scrooge's appearance until ``max_tokens`` unless the request asks
    with ``presence_penalty``; then it answers the cast."""
    if stage_of(body) != "cast":
        reply: Reply = answers(CAST)(body)
        return reply
    if "presence_penalty" in body:
        return completion(json.dumps(CAST))
    cap = int(body["max_tokens"])
    return completion((START + UNIT * cap)[:cap * 4], "length", 900, cap)


def test_a_looping_answer_is_sent_back_quoted_to_its_first_turn_with_presence_penalty(
        tmp_path: Path) -> None:
    with Scripted(looping_cast) as server:
        report, series = run(server, tmp_path)
        sent = len(server.bodies)
        again, _series = run(server, tmp_path)  # every turn replayed from the cache
    casts = [b for b in server.bodies if stage_of(b) == "cast"]
    assert len(casts) == 2 and sent == len(server.bodies)
    first, back = casts
    assert "presence_penalty" not in first
    assert back["presence_penalty"] == loops.LOOP_PENALTY
    assert all("presence_penalty" not in b for b in server.bodies if stage_of(b) != "cast")
    quoted, said = back["messages"][-2]["content"], back["messages"][-1]["content"]
    assert START.startswith(quoted) and len(quoted) > len(START) - len(UNIT)  # to the loop
    assert loops.LOOPED in said and "Write each value once" in said
    assert report.problems == [] and again.problems == []
    assert "mia:" in (series / "storyboard.yaml").read_text(encoding="utf-8")


def test_an_endpoint_that_refuses_presence_penalty_is_asked_without_it_and_remembered(
        tmp_path: Path) -> None:
    def refusing(body: dict[str, Any]) -> Reply:
        if "presence_penalty" in body:
            return 400, {"error": {"message": "Unsupported parameter: 'presence_penalty' is "
                                   "not supported with this model.", "type": "invalid_request_error",
                                   "param": "presence_penalty", "code": "unsupported_parameter"}}
        if stage_of(body) == "cast" and len(body["messages"]) > 2:
            return completion(json.dumps(CAST))
        return looping_cast(body)

    with Scripted(refusing) as server:
        report, series = run(server, tmp_path)
        sent = len(server.bodies)
        again, _series = run(server, tmp_path)
    casts = [b for b in server.bodies if stage_of(b) == "cast"]
    assert ["presence_penalty" in b for b in casts] == [False, True, False]
    assert casts[2]["messages"] == casts[1]["messages"]  # the same turn, without the field
    assert sent == len(server.bodies) and report.problems == [] and again.problems == []
    found = json.loads((series / ".storyboard" / "breakdown" / "endpoints.json").read_text())
    assert [entry["presence_penalty"] for entry in found.values()] == [False]


def streaming_cast(trickles: list[Trickle]) -> Callable[[dict[str, Any]], Reply | Trickle]:
    """The cast streamed a few characters a piece, looping inside Scrooge's appearance for
    thousands of pieces unless asked with ``presence_penalty``."""
    def script(body: dict[str, Any]) -> Reply | Trickle:
        if stage_of(body) != "cast" or "presence_penalty" in body:
            reply: Reply = answers(CAST)(body)
            return reply
        text = START + UNIT * 300
        trickles.append(Trickle([text[at:at + 4] for at in range(0, len(text), 4)], "length"))
        return trickles[-1]
    return script


def test_a_streamed_answer_that_loops_is_stopped_where_its_loop_shows_and_read_as_cut(
        tmp_path: Path) -> None:
    trickles: list[Trickle] = []
    with Scripted(streaming_cast(trickles)) as server:
        report, series = run(server, tmp_path, stream="true")
        sent = len(server.bodies)
        again, _series = run(server, tmp_path, stream="true")  # replayed: the stop was stored
        (trickle,) = trickles
        going = trickle.sent
        time.sleep(0.3)  # a server still sending would add about 150 pieces
    assert trickle.closed and trickle.sent == going < 200 < len(trickle.pieces) // 20
    assert sent == len(server.bodies) and report.problems == [] and again.problems == []
    first, back = [b for b in server.bodies if stage_of(b) == "cast"]
    assert first["stream"] is True and back["presence_penalty"] == loops.LOOP_PENALTY
    quoted, said = back["messages"][-2]["content"], back["messages"][-1]["content"]
    assert START.startswith(quoted) and len(quoted) > len(START) - len(UNIT)
    assert f"- {loops.STOPPED_SAID}: from character" in said and loops.LOOPED not in said
    assert report.spend is not None and report.spend.at_ceiling == 1  # no usage came
    assert "mia:" in (series / "storyboard.yaml").read_text(encoding="utf-8")


def test_a_stream_is_watched_every_few_pieces_and_a_finished_answer_never_stopped() -> None:
    from storyboard.breakdown.chat.streaming import WATCH_EVERY, streamed

    def lines(pieces: list[str], finish: str) -> list[str]:
        events = [{"choices": [{"delta": {"content": p}, "finish_reason": None}]}
                  for p in pieces] + [{"choices": [{"delta": {}, "finish_reason": finish}]}]
        return [f"data: {json.dumps(e)}" for e in events] + ["data: [DONE]"]

    watch = loops.watcher([{"role": "user", "content": "Scrooge is a stern man."}])
    looping = [START, *[UNIT] * 40]
    got = streamed(lines(looping, "length"), "t", lambda _n: None, 10**6, watch)
    assert got.finish == loops.STOPPED and got.chunks == WATCH_EVERY and got.usage == {}
    whole = [json.dumps(CAST)[at:at + 3] for at in range(0, len(json.dumps(CAST)), 3)]
    got = streamed(lines(whole, "stop"), "t", lambda _n: None, 10**6, watch)
    assert got.finish == "stop" and "".join(got.text) == json.dumps(CAST)
    assert watch("".join(looping)) == loops.STOPPED and watch(json.dumps(CAST)) == ""


def test_a_repetition_the_story_holds_is_quoted_not_stopped_until_the_answer_goes_past_it(
        ) -> None:
    said = "I have waited here a long time and nobody came to see me. "
    story = json.dumps({"lines": [[3, f'"{said * 6}" said Mia.']]}, ensure_ascii=False)
    watch = loops.watcher([{"role": "system", "content": "Cast it."},
                              {"role": "user", "content": story}])
    answer = '{"shots":[{"lines":[{"text":"'
    assert loops.loop_in(answer + said * 6) is not None  # a loop, by its shape alone
    assert [watch(answer + said * n) for n in (4, 5, 6)] == ["", "", ""]
    assert watch(answer + said * 7) == loops.STOPPED  # past what the story says


def test_a_paragraph_said_again_and_again_is_a_loop_once_said_twice() -> None:
    """The novel's chapter 1 outline on the real model: its beats copied the story's first
    paragraphs, a cycle of 754 characters, again and again to the outline's 2,048 tokens."""
    paragraph = " ".join(f"Scrooge signed paper number {n} for the undertaker." for n in range(16))
    assert loops.LOOP_PERIOD < len(paragraph) + 1 <= loops.LONG_PERIOD
    opening = '{"title": "Marley", "beats": ["'
    loop = loops.looping(cut(opening + f"{paragraph} " * 2 + paragraph[:100]))
    assert loop is not None and loop.start == len(opening) and loop.unit == f"{paragraph} "
    assert loops.looping(cut(opening + f"{paragraph} " + paragraph[:600])) is None  # once
    watch = loops.watcher([{"role": "user", "content": f"{paragraph} " * 2}])
    assert watch(opening + f"{paragraph} " * 2) == ""  # the story says it twice itself
    assert watch(opening + f"{paragraph} " * 3) == loops.STOPPED


GRUFF = ("He is dressed in a dark suit and has a stern, gruff demeanor. He is also dressed in a "
         "hat and has a stern, gruff demeanor. He is also dressed in a coat and has a stern, gruff "
         "demeanor. He is also dressed in a tie and has a stern, gruff demeanor. He is also dressed "
         "in a shir")


def test_a_paragraph_ending_every_value_is_a_loop_once_said_three_times() -> None:
    """The novel's chapter 39 cast on the real model: every appearance and voice, of each name
    in turn, ended in one 270-character paragraph, never twice in a row, for 12,156 characters
    and 316 s; the watch saw no loop, since each turn came between other words."""
    names = ["Scrooge", "Holmes", "Rip Van Winkle", "Wolf", "Dantès", "King"]
    answer = '{"characters":[' + ",".join(
        f'{{"name":"{n}","appearance":"{n}\'s appearance is a tall man. {GRUFF}",'
        f'"voice":"{n}\'s voice is a gruff voice. {GRUFF}"}}' for n in names)
    watch = loops.watcher([{"role": "user", "content": "Scrooge is a stern man."}])
    first = answer.index(GRUFF)
    third = answer.index(GRUFF, answer.index(GRUFF, first + 1) + 1)
    stops = [at for at in range(0, len(answer), 16) if watch(answer[:at]) == loops.STOPPED]
    assert stops and third < stops[0] <= third + len(GRUFF)  # within its third turn
    loop = loops.looping({"finish_reason": loops.STOPPED, "content": answer[:stops[0]]})
    assert loop is not None and loop.apart and first - 1 <= loop.start <= first  # its first turn
    assert loops.unlooped({"finish_reason": loops.STOPPED,
                              "content": answer[:stops[0]]}) == answer[:loop.start]


def test_a_line_of_the_story_quoted_in_three_shots_is_not_stopped() -> None:
    line = ("Marley was dead: to begin with. There is no doubt whatever about that. The register "
            "of his burial was signed by the clergyman, the clerk, the undertaker, and the chief "
            "mourner. Scrooge signed it: and Scrooge's name was good upon 'Change.")
    assert len(line) > loops.ECHO_SPAN
    shots = '{"shots":[' + ",".join(
        f'{{"camera":"shot {n}","quote":"{line}' for n in range(3))
    story = json.dumps({"lines": [[3, line]]})
    assert loops.watcher([{"role": "user", "content": story}])(shots) == ""
    assert loops.watcher([{"role": "user", "content": "Marley."}])(shots) == loops.STOPPED
    # the emulator's cast: each appearance "as the story tells: " and one paragraph of it
    cast = '{"characters":[' + ",".join(
        f'{{"name":"{n}","appearance":"as the story tells: {line}' for n in ("Ann", "Bo", "Cy"))
    watch = loops.watcher([{"role": "user", "content": story}])
    assert [at for at in range(0, len(cast), 16) if watch(cast[:at])] == []  # as it streams


def test_an_outline_stopped_while_it_says_a_beat_again_is_read_and_said_as_stopped(
        tmp_path: Path) -> None:
    head = '{"title": "The Lighthouse", "summary": "Mia climbs.", "beats": ["Mia climbs.", '
    text = head + '"Mia holds the brass lamp.", ' * 300
    trickles: list[Trickle] = []

    def script(body: dict[str, Any]) -> Reply | Trickle:
        if stage_of(body) != "outline":
            reply: Reply = answers(CAST)(body)
            return reply
        trickles.append(Trickle([text[at:at + 4] for at in range(0, len(text), 4)], "length"))
        return trickles[-1]
    with Scripted(script) as server:
        report, _series = run(server, tmp_path, stream="true")
    assert [stage_of(b) for b in server.bodies] == ["outline", "cast", "shots"]  # read at once
    assert report.problems == [] and trickles[0].sent < len(trickles[0].pieces) // 5
    said = " ".join(report.notes)
    assert "the outline answer for chapter 1: the answer was stopped while the model repeated " \
           "itself: the first answer's 2 beat(s) read as written before the cut" in said, said
