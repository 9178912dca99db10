"""A shots answer still refused after its send-backs is finished where leaving out what the
model invented leaves nothing wrong (issue 64: a small model's run ends in a series that checks)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from storyboard.breakdown.results import Result
from storyboard.breakdown.source import Chapter
from storyboard.breakdown.stages.chaptershots import left_out
from storyboard.breakdown.stages.episode import finished
from storyboard.cli.main import cli
from tests.breakdown.scripted import Scripted, completion, stage_of
from tests.breakdown.test_breakdown_llm import MIA, MIA_CAST, OUTLINE, answers, run

SAID = "Mia climbed the stairs of the old lighthouse"
INVENTED = "I will light the lamp tonight!"


def shots(quote: str, first: int = 3, last: int = 3, cast: str = "Mia") -> dict[str, Any]:
    line = {"speaker": "Mia", "quote": quote}
    return {"shots": [{"from_line": first, "to_line": last, "camera": "wide shot",
                       "cast": [cast], "scenes": [{"seconds": 4, "action": "Mia climbs the "
                                                   "stairs.", "lines": [line]}]}]}


def shot_calls(server: Scripted) -> int:
    return sum(1 for b in server.bodies if stage_of(b) == "shots")


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORYBOARD_TEST_LOCAL_KEY", "none")


def test_an_invented_line_is_sent_back_then_left_out_with_a_note(tmp_path: Path) -> None:
    with Scripted(answers(MIA_CAST, OUTLINE, shots(INVENTED))) as server:
        report, series = run(server, tmp_path)
    assert shot_calls(server) >= 2  # sent back first: never left out at first sight
    assert report.problems == []
    notes = "\n".join(report.notes)
    assert f"shots[0].scenes[0].lines[0]: the quote {INVENTED!r} is not the author's words: " \
           "the line is left out" in notes
    episode = next((series / "episodes").glob("*.yaml")).read_text(encoding="utf-8")
    assert "light the lamp" not in episode
    checked = CliRunner().invoke(cli, ["check", str(series)])
    assert checked.exit_code == 0, checked.output


def test_a_backward_range_is_read_as_its_first_line(tmp_path: Path) -> None:
    with Scripted(answers(MIA_CAST, OUTLINE, shots(SAID, first=3, last=1))) as server:
        report, _series = run(server, tmp_path)
    assert report.problems == []
    assert any("shots[0]: lines 3..1 end before they start: read as line 3" in n
               for n in report.notes)


def test_an_answer_wrong_in_other_ways_is_still_refused(tmp_path: Path) -> None:
    answer = shots(INVENTED)
    answer["shots"][0]["scenes"][0]["seconds"] = 15
    answer["shots"][0]["scenes"].append({**answer["shots"][0]["scenes"][0], "lines": []})
    with Scripted(answers(MIA_CAST, OUTLINE, answer)) as server:
        report, _series = run(server, tmp_path)
    messages = "\n".join(p.message for p in report.problems)
    assert "its scenes last 30 s; a shot lasts 2 to 15 s" in messages
    assert "is not in the story's lines" in messages  # nothing left out: the answer as it was
    assert not any("left out" in n for n in report.notes)


def test_a_cast_name_not_given_is_left_out_of_the_shot_cast_its_words_kept(
        tmp_path: Path) -> None:
    """The novel's episodes (issue 67): a shot casting a name its chapter's cast never gave,
    kept through every turn."""
    with Scripted(answers(MIA_CAST, OUTLINE, shots(SAID, cast="Zed"))) as server:
        report, series = run(server, tmp_path)
    assert report.problems == []
    assert any("shots[0].cast: 'Zed' not among the given names: left out of the shot's cast "
               "(its words keep them)" in n for n in report.notes), report.notes
    episode = next((series / "episodes").glob("*.yaml")).read_text(encoding="utf-8")
    assert "Zed" not in episode and "@mia" in episode


def test_a_line_given_to_a_name_not_among_the_characters_is_left_out(tmp_path: Path) -> None:
    """The novel's episode 73 (issue 67): a scene's lines given to each place of the chapter as
    well as to its characters, kept through every turn."""
    answer = shots(SAID)
    lines = answer["shots"][0]["scenes"][0]["lines"]
    lines.append({"speaker": "Lamp", "quote": SAID})  # a prop, given, but not a character
    with Scripted(answers(MIA_CAST, OUTLINE, answer)) as server:
        report, series = run(server, tmp_path)
    assert shot_calls(server) >= 2  # sent back first
    assert report.problems == []
    assert any("shots[0].scenes[0].lines[1]: the speaker 'Lamp' is not one of the given "
               "characters: the line is left out" in n for n in report.notes), report.notes
    episode = next((series / "episodes").glob("*.yaml")).read_text(encoding="utf-8")
    assert episode.count(SAID) == 1  # Mia's line, once
    chapter = Chapter("story.md", 1, "The Lighthouse", 3, (f"{SAID}, holding the brass lamp.",))
    assert left_out(answer, chapter)[0] == answer  # no names given: the speakers not read


def test_a_range_counted_from_the_chapter_first_line_is_read_so() -> None:
    """Chapter 5 of the novel, lines 239..271: the model answered ``lines 1..1``."""
    chapter = Chapter("story.md", 5, "Five", 239, tuple(f"{SAID}, {n}." for n in range(33)))
    kept, notes = left_out(shots(SAID, 1, 2), chapter)
    assert (kept["shots"][0]["from_line"], kept["shots"][0]["to_line"]) == (239, 240)
    assert notes == ["shots[0]: lines 1..2 are outside the chapter's lines 239..271: read as "
                     "counted from its first line (239..240)"]
    for first, last in ((1, 40), (300, 301), (240, 239)):  # past its size; past it; inside it
        kept, notes = left_out(shots(SAID, first, last), chapter)
        assert not any("counted" in n for n in notes)
    assert kept["shots"][0]["to_line"] == 240  # a backward range inside: its first line


def test_a_range_ending_past_the_chapter_is_read_to_its_last_line() -> None:
    """The novel's episode 73 (issue 67): its fourth shot's lines 4607..4609, in a chapter that
    ends at line 4607, through every turn."""
    chapter = Chapter("story.md", 5, "Five", 239, tuple(f"{SAID}, {n}." for n in range(33)))
    kept, notes = left_out(shots(SAID, 270, 275), chapter)
    assert (kept["shots"][0]["from_line"], kept["shots"][0]["to_line"]) == (270, 271)
    assert notes == ["shots[0]: lines 270..275 end past the chapter's last line 271: read as "
                     "270..271"]
    for first, last in ((239, 271), (272, 280), (230, 240)):  # inside; starts after; before
        assert not any("end past" in n for n in left_out(shots(SAID, first, last), chapter)[1])


def test_left_out_keeps_the_authors_words_and_changes_nothing_else() -> None:
    chapter = Chapter("story.md", 1, "The Lighthouse", 3, (f"{SAID}, holding the brass lamp.",))
    answer = shots(SAID)
    answer["shots"][0]["scenes"][0]["lines"].append({"speaker": "Mia", "quote": INVENTED})
    kept, notes = left_out(answer, chapter)
    assert [line["quote"] for line in kept["shots"][0]["scenes"][0]["lines"]] == [SAID]
    assert len(notes) == 1 and "lines[1]" in notes[0]
    assert json.dumps(kept["shots"][0]["camera"]) == '"wide shot"'
    assert answer["shots"][0]["scenes"][0]["lines"][1]["quote"] == INVENTED  # not changed


def test_a_shot_too_short_has_its_last_scene_lengthened_to_the_least_a_shot_lasts() -> None:
    """The novel's episodes 26, 44 and 49: one-second shots, kept through every turn."""
    chapter = Chapter("story.md", 1, "The Lighthouse", 3, (f"{SAID}, holding the brass lamp.",))
    answer = shots(SAID)
    scene = answer["shots"][0]["scenes"][0]
    answer["shots"][0]["scenes"] = [{**scene, "seconds": 0.5}, {**scene, "seconds": 0.5}]
    kept, notes = left_out(answer, chapter)
    assert [s["seconds"] for s in kept["shots"][0]["scenes"]] == [0.5, 1.5]
    assert notes == ["shots[0]: its scenes last 1 s, under the 2 s a shot lasts: its last "
                     "scene lengthened to 1.5 s"]
    answer["shots"][0]["scenes"][1]["seconds"] = 0.75  # 1.25 s: the check rounds it up to 2
    assert left_out(answer, chapter)[1] == []
    assert left_out(shots(SAID), chapter) == (shots(SAID), [])  # 4 s: as it was


def looping_cast(entries: list[dict[str, str]]) -> str:
    """A cast answer stopped in its loop: its entries, then the first again, cut inside it."""
    whole = ",".join(json.dumps(entry) for entry in entries)
    return '{"characters":[' + whole + "," + json.dumps(entries[0])[:30]


NARRATOR = {"name": "I", "appearance": "the one who tells it", "voice": "a man, low"}


def test_a_cast_cut_in_its_loop_is_read_without_an_entry_named_by_ordinary_words(
        tmp_path: Path) -> None:
    """The Cask of Amontillado's chapter 4 (issue 84): the real model's cast looped on every
    turn, and what it wrote whole before the loop named the narrator ``I``."""
    def script(body: dict[str, Any]) -> Any:
        if stage_of(body) == "cast":
            return completion(looping_cast([MIA, NARRATOR, MIA]), finish="length",
                              completion_tokens=body["max_tokens"])
        return answers(MIA_CAST, OUTLINE, shots(SAID))(body)
    with Scripted(script) as server:
        report, series = run(server, tmp_path)
    assert report.problems == []
    notes = "\n".join(report.notes)
    assert "read as written before the cut" in notes
    assert "characters: named by ordinary words alone: left out" in notes
    cast = (series / "storyboard.yaml").read_text(encoding="utf-8")
    assert "  mia:" in cast and "\n  i:" not in cast
    assert {"name": "ordinary-entry", "mode": "json_object", "count": 1} in report.repairs


RABBITS = ["Peter Rabbit", "Flopsy", "Mopsy", "Cottontail", "old Mrs. Rabbit"]
THIEF = {"seconds": 2, "action": "Peter Rabbit is running through the sand-bank, waving a rake "
         "and calling out 'Stop thief!'", "lines": [{"speaker": "Mr. McGregor",
                                                      "quote": "Stop thief!"}]}


def test_a_shot_crowded_by_a_speaker_outside_its_cast_loses_names_its_actions_never_name() -> None:
    """Peter Rabbit on Qwen2.5-Coder-1.5B and llama-server (kept in bench/answers/): sent back
    for giving "Stop thief!" to Peter, it gave it to Mr. McGregor and kept its cast of five
    rabbits, six to draw where five may be; sent back again, it answered the same."""
    chapter = Chapter("peter-rabbit.txt", 1, "Part 1", 67,
                      ("Mr. McGregor came up with a rake, calling out, 'Stop thief!'",))
    crowded = {"shots": [{"from_line": 67, "to_line": 67, "camera": "close-up", "cast": RABBITS,
                          "scenes": [THIEF]}]}
    kept, notes = left_out(crowded, chapter)
    assert kept["shots"][0]["cast"] == RABBITS[:4] and crowded["shots"][0]["cast"] == RABBITS
    assert notes == ["shots[0].cast: 6 characters, places and props where a shot shows at most "
                     "5: old Mrs. Rabbit (named in none of its actions) left out"]
    named = {**THIEF, "action": "Peter Rabbit runs; Flopsy, Mopsy, Cottontail and old Mrs. "
             "Rabbit watch."}
    busy = {"shots": [{**crowded["shots"][0], "scenes": [named]}]}
    assert left_out(busy, chapter) == (busy, [])  # each one named: as it is, still refused
    four = {"shots": [{**crowded["shots"][0], "cast": RABBITS[:4]}]}
    assert left_out(four, chapter) == (four, [])  # five to draw: as it is


def test_a_season_shot_its_schema_still_refused_for_lines_not_offered_is_finished() -> None:
    """The Travelling Musicians on Qwen2.5-Coder-1.5B and llama-cpp-python 0.3.36 (kept in
    bench/answers/): in ``json_object`` the server did not hold the schema, and a shot whose lines
    quote no one came back through both send-backs with four lines the story never says; its
    episode was not written (exit 1). Left out, the shot is taken; what else the schema refuses
    keeps it refused."""
    call = Chapter("travelling-musicians.txt", 2, "Part 1 (2)", 79, (
        "The coast once clear, our travellers soon sat down and dispatched what",
        "the robbers had left, with as much eagerness as if they had not expected"),
        episode=3, shots=5, shot_seconds=6, shot=2, rules=3)
    invented = {"speaker": "Chanticleer", "quote": "I'm tired of running away from everything."}
    read = {"camera": "wide", "cast": ["Chanticleer"], "scenes": [
        {"seconds": 6, "action": "Chanticleer and the travellers eat what the robbers left.",
         "lines": [invented]}]}
    refused = Result(None, ["scenes[0].lines: [...] is expected to be empty"], 3, read=read)
    done, notes = finished(refused, call, {"character": ["Chanticleer"], "place": [], "prop": []})
    assert done is not None and done.problems == []
    assert done.answer["shots"][0]["scenes"][0]["lines"] == []
    assert notes == ["scenes[0].lines[0]: the quote \"I'm tired of running away from "
                     "everything.\" is not one of the shot's lines: the line is left out"]
    four = {**read, "scenes": read["scenes"] * 4}  # three scenes at most: refused still
    assert finished(Result(None, ["too many"], 3, read=four), call, {"character": [
        "Chanticleer"], "place": [], "prop": []}) == (Result(None, ["too many"], 3, read=four), [])


def test_a_season_shot_cut_to_its_bound_is_finished_as_one_in_its_schema() -> None:
    """As llama-cpp-python 0.2.62 answered The Cask of Amontillado's first shot in json_object:
    ``"lines": [[]]`` where the shot's lines must be empty, through both send-backs, and an
    action telling what its lines do not. Cut to its bound it is in its schema: finished as any
    answer in its schema is (the action said as a warning), where its whole episode was lost."""
    from types import SimpleNamespace
    from typing import cast

    from storyboard.breakdown.answers.judging import Judge
    from storyboard.breakdown.stages import episode
    from storyboard.breakdown.stages.walk import within_bounds
    call = Chapter("story.md", 1, "One", 1, ("The thousand injuries of Fortunato I had borne "
                                             "as I best could.",), shots=5, shot_seconds=6,
                   shot=1, rules=3)  # rules 3: a scene telling what its lines do not is said
    names = {"character": ["Montresor", "Fortunato"], "place": [], "prop": []}
    read = {"camera": "wide shot", "cast": ["Montresor", "Fortunato"], "scenes": [
        {"seconds": 2, "action": "Montresor is standing in front of the cask, looking at it "
         "with a stern expression. Fortunato is sitting on the ground.", "lines": [[]]}]}
    refused = Result(None, ["scenes[0].lines: [[]] is expected to be empty"], 3, read=read)
    judge = Judge(lambda: "json_object")
    check = lambda answer: episode.problems(answer, call, names)  # noqa: E731
    bounded = within_bounds(cast(Any, SimpleNamespace(judge=judge)), "shot", call, check, refused)
    assert bounded is not None and bounded.answer["scenes"][0]["lines"] == []
    assert any("tells what the shot's lines" in problem for problem in bounded.problems)
    done, _notes = finished(bounded, call, names)
    assert done is not None and done.problems == [] and isinstance(done.answer, dict)
    assert done.answer["shots"][0]["scenes"][0]["lines"] == []
    assert any("tells what the shot's lines" in warned for warned in done.warnings)
    assert finished(refused, call, names)[0] is refused  # as it was: the episode lost


def test_a_season_shot_kept_with_a_line_in_another_mouth_gives_it_to_the_storys_speaker() -> None:
    """As Qwen2.5-Coder-1.5B answered The King of the Golden River on llama-server by rules 3:
    Hans's line kept with Schwartz through both send-backs. Its send-backs spent, the line is
    given to the speaker the story names, said, also where that speaker speaks in the scene
    already; one whose speaker the story does not name is left as it is."""
    from storyboard.breakdown.stages import episode
    call = Chapter("story.md", 1, "One", 1, (
        "\"Why don't you sell your feather?\" said Hans sneeringly. \"Out with you!\"",
        "\"Out with you!\" he said again."), shots=5, shot_seconds=6, shot=1, rules=3)
    names = {"character": ["Hans", "Schwartz"], "place": [], "prop": []}
    answer = {"camera": "close-up", "cast": ["Hans", "Schwartz"], "scenes": [
        {"seconds": 3, "action": "Hans sneers.", "lines": [
            {"speaker": "Schwartz", "quote": "Why don't you sell your feather?"},
            {"speaker": "Schwartz", "quote": "Out with you!"}]}]}
    check = lambda found: episode.problems(found, call, names)  # noqa: E731
    problems = check(answer)
    assert any("give the line to Hans" in problem for problem in problems), problems
    done, notes = finished(Result(answer, problems, 3, read=answer), call, names)
    assert done is not None and done.problems == []
    lines = done.answer["shots"][0]["scenes"][0]["lines"]
    assert [line["speaker"] for line in lines] == ["Hans", "Schwartz"]
    assert notes == ["scenes[0].lines[0].speaker: 'Schwartz', but the story says Hans "
                     "says \"Why don't you sell your feather?\": given to Hans"]
    speaking = {**answer, "scenes": [{**answer["scenes"][0], "lines": [
        {"speaker": "Schwartz", "quote": "Why don't you sell your feather?"},
        {"speaker": "Hans", "quote": "Out with you!"}]}]}  # Hans speaks in the scene already
    kept, notes = finished(Result(speaking, check(speaking), 3, read=speaking), call, names)
    assert kept is not None and kept.problems == [] and len(notes) == 1, notes
    assert [line["speaker"] for line in kept.answer["shots"][0]["scenes"][0]["lines"]] == \
        ["Hans", "Hans"]  # Hans speaks in the scene already: the writer joins his two lines
