"""`storyboard init --from` on screenplays as real files write them, and long ones into episodes.

Every screenplay is written by the test and run through the real command, as a user would run it;
the series is read back as YAML and checked with ``storyboard.check``.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

import storyboard
from storyboard.cli import cli
from tests.fixtures.compiler import settled


def run_init(*args: str | Path) -> Result:
    result = CliRunner().invoke(cli, ["init", *[str(a) for a in args]])  # as `storyboard init`
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    return result


def convert(tmp_path: Path, text: str, *options: str) -> tuple[Path, str]:
    script = tmp_path / "script.fountain"
    script.write_text(textwrap.dedent(text), encoding="utf-8")
    result = run_init(tmp_path / "series", "--from", script, *options)
    assert result.exit_code == 0, result.output
    assert settled(storyboard.check(tmp_path / "series")) == []
    return tmp_path / "series", result.output


def read(series: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    main = yaml.safe_load((series / "storyboard.yaml").read_text(encoding="utf-8"))
    return main, [yaml.safe_load(p.read_text(encoding="utf-8"))
                  for p in sorted((series / "episodes").glob("*.yaml"))]


def test_a_heading_with_action_right_under_it_is_a_heading(tmp_path: Path) -> None:
    series, output = convert(tmp_path, """
        INT. KITCHEN - NIGHT
        Ruth kneads the dough.

        RUTH
        Again.

        EXT. YARD - DAY
        Snow falls.
        """)
    _, [episode] = read(series)
    assert [s["cast"] for s in episode["shots"]] == [["kitchen"], ["yard"]]
    assert episode["shots"][0]["scenes"][0]["action"] == \
        "INT. KITCHEN - NIGHT: @ruth kneads the dough."
    assert episode["shots"][0]["scenes"][1]["say"] == {"ruth": "Again."}
    assert "script.fountain:2:1: warning: a scene heading with no blank line after it" in output
    assert "script.fountain:8:1: warning: a scene heading with no blank line" in output
    assert "before the first scene heading" not in output


def test_a_mixed_case_line_under_action_is_still_action(tmp_path: Path) -> None:
    series, output = convert(tmp_path, """
        EXT. PIER - DAY

        Int. Bakery is
        what the sign says.
        """)
    _, [episode] = read(series)
    assert episode["shots"][0]["scenes"][0]["action"] == \
        "EXT. PIER - DAY: Int. Bakery is what the sign says."
    assert "no blank line" not in output


def test_a_mention_inside_a_heading(tmp_path: Path) -> None:
    series, _ = convert(tmp_path, """
        EXT. @brick'S POOL - DAY

        BRICK
        Cold!
        """)
    main, [episode] = read(series)
    assert list(main["characters"]) == ["brick", "bricks_pool"]
    assert main["characters"]["brick"]["description"] == "BRICK"
    first = episode["shots"][0]["scenes"][0]
    assert first["action"] == "EXT. @brick'S POOL - DAY."
    assert storyboard.compile(series).shots()[0].request.prompt.count("@") == 0


def test_a_forced_heading_names_no_place(tmp_path: Path) -> None:
    series, output = convert(tmp_path, """
        .OPENING TITLES

        White letters on black.

        .INT. VAN - NIGHT

        RUTH
        Drive.
        """)
    main, [episode] = read(series)
    assert list(main["characters"]) == ["ruth", "van"]  # no place "opening_titles"
    assert episode["shots"][0]["cast"] == ["van"]  # nobody in it: it borrows the next place
    assert ("script.fountain:2:1: warning: the heading 'OPENING TITLES' names no place and "
            "nobody is in the shot: it shows the place 'van'") in output
    assert episode["shots"][0]["scenes"][0]["action"] == "OPENING TITLES: White letters on black."
    assert episode["shots"][1]["cast"] == ["van"]


def test_text_before_a_sections_first_heading(tmp_path: Path) -> None:
    series, output = convert(tmp_path, """
        FADE IN:

        # One

        INT. HALL - DAY

        Ruth waits.

        # Two

        Rain on the roof.

        INT. HALL - NIGHT

        Ruth sleeps.
        """)
    _, episodes = read(series)
    assert "script.fountain:2:1: warning: action before the first scene heading" in output
    assert ("script.fountain:12:1: warning: action in 'Two' before its first scene heading is in "
            "no shot: kept as a comment in the episode file") in output
    assert "before the first scene heading" not in output.split("script.fountain:12:1")[1]
    assert [e["title"] for e in episodes] == ["One", "Two"]
    text = sorted((series / "episodes").glob("*.yaml"))[1].read_text(encoding="utf-8")
    assert "# action (line 12): Rain on the roof." in text


def test_subtitles_name_a_speaker_by_the_characters_name(tmp_path: Path) -> None:
    series, _ = convert(tmp_path, """
        INT. HALL - DAY

        LITTLE BRAVE
        Hello there.
        """)
    result = CliRunner().invoke(cli, ["render", str(series), "--draft", "--yes", "--quiet",
                                      "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    [srt] = (tmp_path / "out" / "draft").glob("*.srt")
    assert "Little Brave: Hello there." in srt.read_text(encoding="utf-8")


# --- long screenplays into episodes ----------------------------------------------------------


def scene(number: int, words: int) -> str:
    """A scene of two paragraphs of ``words`` in all (3 words a second) and a line of dialogue."""
    paragraph = " ".join(["Ruth walks on"] * (words // 6))
    return f"INT. ROOM {number} - DAY\n\n{paragraph}\n\n{paragraph}\n\nRUTH\nOn we go.\n\n"


def test_a_long_screenplay_without_sections_is_cut_to_the_target_length(tmp_path: Path) -> None:
    text = "".join(scene(n % 7, 90) for n in range(80))  # 80 scenes of 32 s: 43 min
    series, output = convert(tmp_path, text)
    _, episodes = read(series)
    minutes = [sum(s["duration"] for s in e["shots"]) / 60 for e in episodes]
    assert len(episodes) == 4, minutes
    assert all(9 <= m <= 12 for m in minutes), minutes
    assert [e["title"] for e in episodes] == ["Part 1", "Part 2", "Part 3", "Part 4"]
    first_ids = [e["shots"][0]["id"] for e in episodes]
    assert all("-" not in shot_id for shot_id in first_ids)  # cut at a heading, never inside one
    assert "wrote " in output and "4 episode(s)" in output


def test_episode_minutes_sets_the_length(tmp_path: Path) -> None:
    text = "".join(scene(n, 90) for n in range(24))  # 13 min
    series, _ = convert(tmp_path, text, "--episode-minutes", "3")
    _, episodes = read(series)
    assert len(episodes) == 4
    assert all(2.5 <= sum(s["duration"] for s in e["shots"]) / 60 <= 4 for e in episodes)


def test_acts_start_episodes(tmp_path: Path) -> None:
    text = ("ACT ONE\n\n" + "".join(scene(n, 30) for n in range(3)) + "END OF ACT ONE\n\n"
            "ACT II: THE FALL\n\n" + "".join(scene(n, 30) for n in range(3, 5))
            + "PART OF THE WALL FALLS.\n\n")
    series, _ = convert(tmp_path, text, "--episode-minutes", "0.5")
    _, episodes = read(series)
    assert [(e["title"], len(e["shots"])) for e in episodes] == [("Act One", 3),
                                                                 ("Act II: The Fall", 2)]
    assert episodes[1]["shots"][-1]["scenes"][-1]["action"] == "PART OF THE WALL FALLS."


@pytest.mark.parametrize("value", ["nan", "inf", "0", "-3", "100000"])
def test_episode_minutes_must_be_a_sensible_number(tmp_path: Path, value: str) -> None:
    script = tmp_path / "a.fountain"
    script.write_text("\nINT. A - DAY\n\nRuth.\n", encoding="utf-8")
    result = run_init(tmp_path / "s", "--from", script, "--episode-minutes", value)
    assert result.exit_code == 2 and "expected a number of minutes from 0.5 to 600" in result.output
    assert not (tmp_path / "s").exists()


def test_one_scene_longer_than_an_episode_is_cut_between_its_shots(tmp_path: Path) -> None:
    paragraph = " ".join(["Ruth walks on"] * 15)  # 45 words: 15 s, a shot of its own
    series, _ = convert(tmp_path, "INT. HALL - DAY\n\n" + f"{paragraph}\n\n" * 40,
                        "--episode-minutes", "2")
    _, episodes = read(series)
    assert [len(e["shots"]) for e in episodes] == [8, 8, 8, 8, 8]


def test_an_at_sign_in_an_address_is_not_a_mention(tmp_path: Path) -> None:
    series, _ = convert(tmp_path, """
        INT. HALL - DAY

        Ruth mails me@ruth.com and waves to @ruth.

        RUTH
        Hi.
        """)
    _, [episode] = read(series)
    assert episode["shots"][0]["scenes"][0]["action"] == \
        "INT. HALL - DAY: @ruth mails me@@ruth.com and waves to @ruth."


def test_a_cut_episode_starts_without_the_transition_into_it(tmp_path: Path) -> None:
    """Every scene joined by DISSOLVE TO:: where an episode is cut, its first shot keeps the
    transition only as a comment (the series checks clean: no "first shot's dissolve")."""
    text = "".join(scene(n, 30) + "DISSOLVE TO:\n\n" for n in range(12))
    series, _ = convert(tmp_path, text, "--episode-minutes", "1")
    assert settled(storyboard.check(series)) == []  # before: "the first shot's dissolve ..."
    _, episodes = read(series)
    assert len(episodes) > 1
    assert all("transition" not in e["shots"][0] for e in episodes)
    assert all(e["shots"][1]["transition"] == "dissolve" for e in episodes)
    later = (series / "episodes" / "02-part-2.yaml").read_text("utf-8")
    assert "DISSOLVE TO: (line" in later and "the episode starts here" in later


PEOPLE = """\
Title: Big Fish Pond

INT. WILL'S BEDROOM - NIGHT

WILL BLOOM, AGE 3, listens wide-eyed as his father EDWARD BLOOM, 40's and handsome, tells the \
story.

EDWARD
The biggest fish in the river was never caught.

WILL
Never?

His mother SANDRA watches from the door. She is 38.

SANDRA
Bed, both of you.

EDWARD AND WILL
Five more minutes!

EXT. AT THE GATE - DAY

RUTHIE MACKLIN, 8, swings on the gate while her aunt NORA, a woman in her sixties, knits.

RUTHIE
Who are you?

NORA
Hush.

A girl runs past. This is JOSEPHINE. She is 10.

JOSEPHINE
Nobody.

EXT. BACK AT THE GATE - LATER

WILL'S DATE waits by the gate, checking a watch.

WILL'S DATE
You're late.
"""


def test_the_cast_is_drawn_from_the_words_about_each_one(tmp_path: Path) -> None:
    """Several people in one introduction: each picture is its own clause, each voice its own
    words (a role right before the name, never a pronoun about someone else); ages as ``AGE 3``,
    ``NAME, 8``, ``is 10``; what is left open is not guessed, and check names it."""
    series, output = convert(tmp_path, PEOPLE)
    main, [episode] = read(series)
    pictures = {k: v["image"]["generate"] for k, v in main["characters"].items()}
    assert pictures == {
        "will": "WILL BLOOM, AGE 3, listens wide-eyed.",
        "edward": "his father EDWARD BLOOM, 40's and handsome, tells the story.",
        "sandra": "His mother SANDRA watches from the door.",
        "ruthie": "RUTHIE MACKLIN, 8, swings on the gate.",
        "nora": "her aunt NORA, a woman in her sixties, knits.",
        "josephine": "This is JOSEPHINE.",
        "wills_date": "WILL'S DATE waits by the gate, checking a watch.",
        "wills_bedroom": "WILL'S BEDROOM, interior, night, no people",
        "at_the_gate": "AT THE GATE, exterior, day, no people"}  # BACK AT THE GATE: the same
    designs = {k: v["design"].split(":")[0] for k, v in main["voices"].items()}
    assert designs == {"will-voice": "A child of 3", "edward-voice": "A man in his forties",
                       "sandra-voice": "A woman in her thirties", "ruthie-voice": "A child of 8",
                       "nora-voice": "A woman in her sixties", "josephine-voice": "A girl of 10",
                       "wills_date-voice": "A natural, clear speaking voice at an even pace, "
                                           "neutral accent"}
    assert "6 picture(s)" not in output and "9 picture(s) and 7 voice(s)" in output
    scenes = [scene for shot in episode["shots"] for scene in shot["scenes"]]
    assert scenes[0]["action"].startswith("INT. WILL'S BEDROOM - NIGHT: @will BLOOM")
    together = [s for s in scenes if "together" in s.get("action", "")]
    assert [s["action"] for s in together] == ['@edward and @will, together: "Five more minutes!"']
    assert "say" not in together[0]
    assert [shot["cast"] for shot in episode["shots"]][-1] == ["at_the_gate"]
    found = [d for d in storyboard.check(series) if d.code != "sample-length"]  # short lines
    assert [(d.severity, d.span.line if d.span else 0, d.message) for d in found] == [
        ("warning", 23, "voices 'wills_date-voice': `init --from` could not settle a woman or a "
         "man? the age?; expected words a person settled: describe it, then remove the comment")]
    first = next(s for s in storyboard.compile(series).shots() if s.episode == "ep01")
    assert first.request.prompt.startswith("Scene 1 [0-6s]: INT. WILL'S BEDROOM - NIGHT: Image 1 ")
