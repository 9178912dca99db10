"""A season episode's shots asked one call each (issue 84): its lines cut into the skeleton's K
runs, balanced by length, each shot offered its own lines' quotes as an ``enum``; a shot's
problems placed back at its place in the episode's answer."""

from __future__ import annotations

from dataclasses import replace

from storyboard.breakdown.questions import schemas
from storyboard.breakdown.questions.quotable import MOST, quotable
from storyboard.breakdown.results import Result
from storyboard.breakdown.source import Chapter
from storyboard.breakdown.stages import episode
from storyboard.breakdown.stages.faithful import Flat, check_quote

TALE = (
    '"What ails you, king\'s daughter?" said the frog. "You weep so that even a stone would '
    'show pity."',
    "",
    "She had a golden ball, and when she was bored she took it and threw it up on high.",
    "",
    '"Ah! old water-splasher, is it you?" said she; "I am weeping for my golden ball, which has '
    'fallen into the well, and I cannot reach it however long I try."',
    "",
    "The frog dived down.",
)


def lines(shots: int, text: tuple[str, ...] = TALE) -> Chapter:
    return Chapter("tale.md", 1, "The Well", 10, text, episode=1, shots=shots, shot_seconds=6)


def test_an_episodes_lines_are_cut_into_one_run_a_shot_in_order_balanced_by_length() -> None:
    calls = episode.calls(lines(2))
    assert [(c.first, c.last, c.shot, c.shots, again) for c, again in calls] == [
        (10, 12, 1, 2, 0), (14, 16, 2, 2, 0)]  # the long line 14 weighs as much as 10 and 12
    assert all(not c.unquoted for c, _ in calls)


def test_fewer_lines_than_shots_films_a_line_again_each_time_told_so() -> None:
    calls = episode.calls(lines(5, ("Mia climbs.", "", "Sam waves.")))
    assert [(c.first, c.last, again) for c, again in calls] == [
        (10, 10, 0), (10, 10, 1), (10, 10, 2), (12, 12, 0), (12, 12, 1)]
    assert not any(c.unquoted for c, _ in calls)  # no one is quoted: narration is no line
    assert quotable(calls[0][0]) == []
    assert episode.calls(lines(3, ("", ""))) == []  # no words to film: no shot is asked


def test_a_shot_offers_its_spoken_sentences_and_a_long_ones_clauses_each_the_authors() -> None:
    first, second = (c for c, _ in episode.calls(lines(2)))
    assert quotable(first) == ["What ails you, king's daughter?",
                               "You weep so that even a stone would show pity."]
    offered = quotable(second)
    assert offered[:2] == ["old water-splasher, is it you?", "I am weeping for my golden "
                           "ball, which has fallen into the well, and I cannot reach it "
                           "however long I try."]
    assert "which has fallen into the well" in offered  # a clause of the long sentence
    flat = Flat(second)
    assert all(check_quote(flat, quote)[0] is not None for quote in offered)
    schema = schemas.of("shot", second)
    said = schema["properties"]["scenes"]["items"]["properties"]["lines"]
    assert said["items"]["properties"]["quote"] == {"enum": offered}
    many = lines(1, tuple(f'"Line number {n} is said here." ' * 2 for n in range(40)))
    assert len(quotable(many)) == MOST


def test_a_shot_without_a_quote_may_give_no_line() -> None:
    quiet = replace(lines(1), lines=("She had a golden ball.",), unquoted=False)
    said = schemas.of("shot", quiet)["properties"]["scenes"]["items"]["properties"]["lines"]
    assert said["maxItems"] == 0
    assert schemas.problems("shot", {"camera": "wide", "cast": [], "scenes": [
        {"seconds": 6, "action": "She plays.", "lines": [{"speaker": "She",
                                                         "quote": "a golden ball"}]}]}, quiet)


def test_a_shots_problems_are_placed_at_its_place_in_the_episode() -> None:
    assert episode.placed("scenes[0].action: too long", 3) == "shots[3].scenes[0].action: too long"
    assert episode.placed("the shot: shows no one", 1) == "shots[1]: shows no one"
    assert episode.placed("the answer: 'x' is required", 0) == "shots[0]: the answer: 'x' is required"
    later = [["shots[2]: `storyboard check` says: six references", "shots[0].scenes[1]: dense"],
             ["shots[0]: again"]]
    assert episode.rounds(later, 2) == [["the shot: `storyboard check` says: six references"]]
    assert episode.rounds(later, 0) == [["scenes[1]: dense"], ["the shot: again"]]
    head = Result({"title": "T", "hook": "H"}, [], 1)
    shot = Result({"shots": [{"from_line": 10, "camera": "c"}]}, ["scenes[0]: dense"], 2)
    joined = episode.joined(head, [shot, shot])
    assert joined is not None and joined.turns == 5
    assert joined.answer["shots"] == [{"from_line": 10, "camera": "c"}] * 2
    assert joined.problems == ["shots[0].scenes[0]: dense", "shots[1].scenes[0]: dense"]
    assert episode.joined(head, [shot, None]) is None  # a call not answered yet


def test_a_screenplays_shot_offers_its_speeches_never_its_action() -> None:
    """A Fountain episode quotes no one in quotation marks: its speeches are its quotes, each
    speech's acting notes left out, and its action lines are never offered."""
    play = ("INT. LIGHTHOUSE - NIGHT", "", "Rain hammers the glass. MIA climbs the stairs.", "",
            "MIA", "Is anyone up here?", "", "SAM", "(startled)", "Only me.", "(beat)",
            "The lamp went out an hour ago.", "")
    calls = episode.calls(replace(lines(1, play), file="night.fountain"))
    assert all(c.unquoted for c, _ in calls)
    assert quotable(calls[0][0]) == ["Is anyone up here?", "Only me.",
                                     "The lamp went out an hour ago."]
    prose = episode.calls(replace(lines(1, play), file="night.md"))  # a tale's: no quotes, none
    assert quotable(prose[0][0]) == []
