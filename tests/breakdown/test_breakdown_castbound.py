"""A cast answer cut at ``max_tokens`` read as the entries it wrote whole, and a cut answer that
repeats an item not sent back (issue 67: Qwen2.5-Coder-1.5B listed a 1,065-word chapter's
characters again and again until the stage's 4,096 tokens, 22 minutes on one CPU core)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from storyboard.breakdown.answers import cutshort
from storyboard.breakdown.chat import fitting
from tests.breakdown.scripted import Reply, Scripted, completion, stage_of
from tests.breakdown.test_breakdown_llm import KEY_ENV, MIA, answers, run

SCROOGE = {"name": "Scrooge", "appearance": "a tall, thin man with a stern expression",
           "voice": "a cold, analytical voice"}
MARLEY = {"name": "Marley", "appearance": "a skeleton, dressed in black",
          "voice": "a deep, somber voice"}
LAMP = {"name": "Lamp", "look": "a brass lamp"}


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "none")


def looped(entries: list[dict[str, str]], cap: int) -> str:
    """A cast answer that lists ``entries`` again and again, cut at ``cap`` tokens."""
    return ('{"characters":[' + ",".join([json.dumps(e) for e in entries] * cap))[:cap * 4]


def test_the_cast_written_whole_before_a_cut_is_read_up_to_the_first_repeated_name() -> None:
    cut = looped([MARLEY, SCROOGE], 200)
    assert cutshort.read_cast(cut) == ({"characters": [MARLEY, SCROOGE], "places": [],
                                        "props": []}, cut.count('"name"') - 3)
    later = ('{"characters": [' + json.dumps(MARLEY) + '], "props": [' + json.dumps(LAMP)
             + ", " + json.dumps({**LAMP, "name": "LAMP"}) + ', {"name": "Ke')
    assert cutshort.read_cast(later) == ({"characters": [MARLEY], "places": [],
                                          "props": [LAMP]}, 1)  # a repeat in any case
    assert cutshort.read_cast(json.dumps({"characters": [MARLEY]})) is None  # whole: not cut
    assert cutshort.read_cast('{"characters": [{"name": "Mar') is None  # nothing whole
    assert cutshort.read_cast("Marley, Scrooge, " * 40) is None


def test_a_cast_that_loops_every_time_ends_with_the_entries_it_wrote_whole(
        tmp_path: Path) -> None:
    def script(body: dict[str, Any]) -> Reply:
        if stage_of(body) != "cast":
            reply: Reply = answers({})(body)
            return reply
        cap = int(body["max_tokens"])
        return completion(looped([MIA, MARLEY], cap), "length", 900, cap)
    with Scripted(script) as server:
        report, series = run(server, tmp_path)
        sent = len(server.bodies)
        again, _series = run(server, tmp_path)  # the loops were stored: replayed, not asked
    assert [stage_of(b) for b in server.bodies] == ["outline", "cast", "shots"]  # not sent back
    assert server.bodies[1]["max_tokens"] == fitting.MAX_TOKENS["cast"]
    assert sent == len(server.bodies) and again.problems == [] and report.problems == []
    said = " ".join(report.notes)
    assert "the cast answer for chapter 1: the answer was cut at max_tokens (the model" in said
    assert "the first answer's 2 entries read as written before the cut" in said
    written = (series / "storyboard.yaml").read_text(encoding="utf-8")
    assert "mia:" in written and "marley:" in written
    episode = (series / "episodes" / "01-the-lighthouse.yaml").read_text(encoding="utf-8")
    assert "@mia climbs the stairs" in episode


def test_a_cast_list_begun_again_with_words_added_is_read_up_to_where_it_began_again() -> None:
    """Chapter 5's second cast answer on the real model: ten places, then the ten again with
    "mountains" added, and again, until cut (a name past 60 characters refused the read)."""
    places = ["Baker Street", "Study in Scarlet", "Fort Saint-Jean", "Naples", "Vedder's inn"]
    listed = [f"{name}{' mountains' * turn}" for turn in range(5) for name in places]
    cut = ('{"characters": [' + json.dumps(SCROOGE) + '], "places": ['
           + ", ".join(json.dumps({"name": n, "look": "a place"}) for n in listed))[:-20]
    read = cutshort.read_cast(cut)
    assert read is not None
    assert [p["name"] for p in read[0]["places"]] == places and read[0]["characters"] == [SCROOGE]
    kept = ["Baker Street", "Baker Streets", "Street", "baker  STREET station"]
    things = [{"name": n, "look": "x"} for n in kept]
    cut = '{"props": [' + ", ".join(json.dumps(t) for t in things) + ', {"name": "L'
    read = cutshort.read_cast(cut)
    assert read is not None and [p["name"] for p in read[0]["props"]] == kept[:3]


def test_a_cut_answer_loops_only_when_it_repeats_an_item_it_wrote_whole() -> None:
    cut = {"finish_reason": "length"}
    assert cutshort.loops("cast", {**cut, "content": looped([MARLEY, SCROOGE], 200)})
    assert not cutshort.loops("cast", {**cut, "content": looped([MARLEY, SCROOGE], 200)[:300]})
    assert not cutshort.loops("cast", {"finish_reason": "stop",
                                       "content": looped([MARLEY, MARLEY], 200)})
    shot = {"from_line": 1, "to_line": 1, "camera": "wide shot"}
    twice = '{"shots":[' + json.dumps(shot) + "," + json.dumps(shot) + ',{"from'
    assert cutshort.loops("shots", {**cut, "content": twice})
    other = twice.replace('"to_line": 1,', '"to_line": 2,', 1)
    assert other != twice and not cutshort.loops("shots", {**cut, "content": other})
    spun = '{"shots":[{"from_line":1,"to_line":3,"quote":"' + "I have spun it! " * 200
    assert not cutshort.loops("shots", {**cut, "content": spun})  # a loop inside one item: sent back
    assert not cutshort.loops("outline", {**cut, "content": twice})


def test_a_cast_cut_that_does_not_repeat_is_sent_back_as_before(tmp_path: Path) -> None:
    def script(body: dict[str, Any]) -> Reply:
        if stage_of(body) == "cast" and len(body["messages"]) == 2:
            cap = int(body["max_tokens"])
            return completion('{"characters":[' + json.dumps(MIA) + ',{"name":"Mar', "length",
                              900, cap)
        reply: Reply = answers({"characters": [MIA], "places": [], "props": []})(body)
        return reply
    with Scripted(script) as server:
        report, _series = run(server, tmp_path)
    assert [stage_of(b) for b in server.bodies] == ["outline", "cast", "cast", "shots"]
    assert report.problems == []


def read_from_the_second(script: Callable[[dict[str, Any]], Reply], tmp_path: Path) -> Path:
    """A breakdown whose cast is asked twice and read from its second answer, said so."""
    with Scripted(script) as server:
        report, series = run(server, tmp_path)
    assert [stage_of(b) for b in server.bodies] == ["outline", "cast", "cast", "shots"]
    assert report.problems == []
    assert any("the second answer's 2 entries read as written before the cut" in note
               for note in report.notes), report.notes
    return series


def test_a_cast_whose_first_cut_answer_has_nothing_whole_is_read_from_the_next_cut_one(
        tmp_path: Path) -> None:
    """Chapter 5 of the novel on the real model: the first answer looped inside Scrooge's
    appearance (nothing whole), its send-back listed the names again until it was cut."""
    stern = '{"characters":[{"name":"Scrooge","appearance":"' + "a stern, stern man " * 900

    def script(body: dict[str, Any]) -> Reply:
        if stage_of(body) != "cast":
            reply: Reply = answers({})(body)
            return reply
        cap = int(body["max_tokens"])
        first = "presence_penalty" not in body
        return completion((stern if first else looped([MIA, MARLEY], cap))[:cap * 4], "length",
                          900, cap)
    series = read_from_the_second(script, tmp_path)
    written = (series / "storyboard.yaml").read_text(encoding="utf-8")
    assert "mia:" in written and "marley:" in written


def test_a_cut_answer_read_is_named_by_its_turn_among_every_answer_of_the_call(
        tmp_path: Path) -> None:
    """The first answer ended by itself but was refused; the second was cut listing the names
    again: the note says the second answer (it said "first": the first of the cut ones)."""
    def script(body: dict[str, Any]) -> Reply:
        if stage_of(body) != "cast":
            reply: Reply = answers({})(body)
            return reply
        if len(body["messages"]) == 2:
            return completion(json.dumps({"people": [MIA]}))  # not the schema: sent back
        cap = int(body["max_tokens"])
        return completion(looped([MIA, MARLEY], cap), "length", 900, cap)
    read_from_the_second(script, tmp_path)


@pytest.mark.parametrize("name", ["none", "None.", "N/A", "no props", "Nothing mentioned"])
def test_a_prop_named_as_there_being_none_is_left_out_not_sent_back(tmp_path: Path,
                                                                     name: str) -> None:
    """The novel's chapters 3 and 6 on the real model: ``{"name": "none", "look": "none"}``
    kept through two send-backs, which then failed the run."""
    nothing = {"name": name, "look": "none"}
    cast = {"characters": [MIA, {"name": "nobody", "appearance": "-", "voice": "-"}],
            "places": [], "props": [LAMP, nothing]}
    with Scripted(answers(cast)) as server:
        report, series = run(server, tmp_path)
    assert [stage_of(b) for b in server.bodies] == ["outline", "cast", "shots"]
    assert report.problems == []
    said = " ".join(report.notes)
    assert "props: an entry named as there being none: left out" in said
    assert "characters: an entry named as there being none" in said
    written = (series / "storyboard.yaml").read_text(encoding="utf-8")
    assert "mia:" in written and "lamp" in written and "none" not in written.lower()


@pytest.mark.parametrize("name", ["Nonesuch", "Noneton Hall", "Nobody's Inn", "Anna", "no"])
def test_a_name_that_only_starts_like_none_is_kept(name: str) -> None:
    from storyboard.breakdown.answers.repairs import says_none
    assert not says_none(name)
    assert says_none("  NONE ") and says_none("no one") and says_none("No characters mentioned")


def test_an_outline_that_loops_every_time_is_read_up_to_its_first_beat_said_again(
        tmp_path: Path) -> None:
    """Chapter 1 of the novel on the real model, streamed: the first outline looped inside its
    first beat (the story's paragraphs copied), the next ones said their second beat again and
    again; each was stopped, and the chapter was left without an outline, so without shots."""
    head = '{"title": "The Lighthouse", "summary": "Mia climbs the lighthouse.", "beats": ['
    inside = head + '"Mia climbed the stairs. ' + "Mia climbed the stairs of the old tower. " * 300
    again = head + '"Mia climbs the stairs.", ' + '"Mia holds the brass lamp.", ' * 400

    def script(body: dict[str, Any]) -> Reply:
        if stage_of(body) != "outline":
            reply: Reply = answers({"characters": [MIA], "places": [], "props": [LAMP]})(body)
            return reply
        cap = int(body["max_tokens"])
        first = "presence_penalty" not in body
        return completion((inside if first else again)[:cap * 4], "length", 900, cap)
    with Scripted(script) as server:
        report, series = run(server, tmp_path)
        sent = len(server.bodies)
        again_run, _series = run(server, tmp_path)
    assert [stage_of(b) for b in server.bodies] == ["outline", "outline", "cast", "shots"]
    assert report.problems == [] and again_run.problems == [] and sent == len(server.bodies)
    assert any("the second answer's 2 beat(s) read as written before the cut" in note
               for note in report.notes), report.notes
    read = cutshort.read_outline(again)
    assert read is not None and read[0]["beats"] == ["Mia climbs the stairs.",
                                                     "Mia holds the brass lamp."]
    assert cutshort.read_outline(inside) is None  # no beat written whole
    assert (series / "episodes" / "01-the-lighthouse.yaml").is_file()
