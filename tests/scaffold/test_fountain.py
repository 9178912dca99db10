"""`storyboard init --from`: Fountain screenplays into series.

Every snippet and the longer screenplay below were written for these tests (no published screenplay
is copied). The parser is tested feature by feature against the Fountain syntax; the mapping by the
series it writes (loaded back as YAML); bad input by its located errors; and the longer screenplay
end to end: converted, checked clean, rendered on the local provider in draft mode.
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
from storyboard.cli.writing.init import init
from storyboard.errors import ProblemsFound
from storyboard.scaffold import fountain
from storyboard.scaffold.screenplay import blueprint_of
from storyboard.scaffold.yamltext import quote
from tests.fixtures.compiler import settled


def parse(text: str) -> list[tuple[str, str]]:
    """``(kind, text)`` of each element of a dedented snippet."""
    play = fountain.parse_text(textwrap.dedent(text))
    return [(e.kind, e.text) for e in play.elements]


def elements(text: str) -> list[fountain.Element]:
    return fountain.parse_text(textwrap.dedent(text)).elements


def run_init(*args: str | Path) -> Result:
    result = CliRunner().invoke(init, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    return result


def convert(tmp_path: Path, text: str) -> tuple[Path, Result]:
    script = tmp_path / "script.fountain"
    script.write_text(textwrap.dedent(text), encoding="utf-8")
    result = run_init(tmp_path / "series", "--from", script)
    assert result.exit_code == 0, result.output
    return tmp_path / "series", result


def episodes(series: Path) -> list[dict[str, Any]]:
    return [yaml.safe_load(p.read_text(encoding="utf-8"))
            for p in sorted((series / "episodes").glob("*.yaml"))]


def shots(series: Path) -> list[dict[str, Any]]:
    return [shot for episode in episodes(series) for shot in episode["shots"]]


# --- the parser, feature by feature ------------------------------------------------------------


def test_title_page_ends_at_the_first_blank_line() -> None:
    play = fountain.parse_text("Title: Night Shift\nCredit: written by\nAuthor: A. Writer\n"
                               "Draft date: 1 May\nContact:\n    12 Some Street\n    Town\n\n"
                               "INT. BAKERY - NIGHT\n\nOvens hum.\n")
    assert [(k, v) for k, v, _ in play.title_page] == [
        ("Title", "Night Shift"), ("Credit", "written by"), ("Author", "A. Writer"),
        ("Draft date", "1 May"), ("Contact", "12 Some Street Town")]
    assert [(e.kind, e.line) for e in play.elements] == [("scene", 9), ("action", 11)]


@pytest.mark.parametrize("heading", ["INT. BAKERY - NIGHT", "EXT. PIER - DAY", "EST. CITY - DAWN",
                                     "INT./EXT. VAN - MOVING", "INT/EXT. VAN - DAY",
                                     "I/E VAN - DAY", "int. bakery - night"])
def test_scene_headings(heading: str) -> None:
    assert parse(f"\n{heading}\n\nOvens hum.\n")[0] == ("scene", heading)


def test_forced_heading_and_scene_number() -> None:
    found = elements("""
        .INSIDE THE OVEN

        Heat.

        INT. BAKERY - NIGHT #12A#

        Flour.

        ..not a heading
        """)
    assert [(e.kind, e.text, e.forced, e.number) for e in found[:4:2]] == [
        ("scene", "INSIDE THE OVEN", True, ""), ("scene", "INT. BAKERY - NIGHT", False, "12A")]
    assert found[-1].kind == "action"


def test_a_heading_needs_blank_lines_around_it() -> None:
    assert parse("\nInt. Bakery is\nwhat the sign says.\n") == [
        ("action", "Int. Bakery is what the sign says.")]


def test_character_cues_extensions_parentheticals_and_dialogue() -> None:
    found = elements("""
        INT. BAKERY - NIGHT

        RUTH (V.O.) (CONT'D)
        (tired)
        Another batch.
        Then sleep.

        @deLuca
        Fine.

        OTTO ^
        Fine!
        """)
    assert [(e.kind, e.text) for e in found[1:]] == [
        ("character", "RUTH"), ("parenthetical", "(tired)"),
        ("dialogue", "Another batch. Then sleep."), ("character", "deLuca"), ("dialogue", "Fine."),
        ("character", "OTTO"), ("dialogue", "Fine!")]
    assert found[1].extensions == ("V.O.", "CONT'D")
    assert found[4].forced and found[6].dual


def test_two_spaces_keep_dialogue_going() -> None:
    found = fountain.parse_text("\nINT. A - DAY\n\nRUTH\nOne.\n  \nTwo.\n").elements
    assert (found[-1].kind, found[-1].text) == ("dialogue", "One. Two.")


def test_an_all_caps_line_without_dialogue_is_action() -> None:
    assert parse("\nINT. A - DAY\n\nBANG.\n\nNothing else.\n")[1:] == [
        ("action", "BANG."), ("action", "Nothing else.")]


def test_transitions_forced_action_centered_lyrics_sections_synopses_page_breaks() -> None:
    found = parse("""
        # Act One

        ## The shop

        = Ruth opens up.

        INT. A - DAY

        !LOUD NOISES outside.

        CUT TO:

        > SLOW FADE

        >INTERMISSION<

        ~Knead the dough

        ===
        """)
    assert found == [("section", "Act One"), ("section", "The shop"), ("synopsis", "Ruth opens up."),
                     ("scene", "INT. A - DAY"), ("action", "LOUD NOISES outside."),
                     ("transition", "CUT TO:"), ("transition", "SLOW FADE"),
                     ("centered", "INTERMISSION"), ("lyrics", "Knead the dough"),
                     ("page_break", "===")]


def test_notes_and_boneyard_are_elements_of_their_own_at_their_place() -> None:
    found = elements("""
        INT. A - DAY

        Ruth [[is she tired?]] kneads. /* cut: she sings */ Done.

        /* a whole
        scene cut */

        [[a note
        on two lines]]
        RUTH
        Ready.
        """)
    assert [(e.kind, e.text, e.line, e.col) for e in found] == [
        ("scene", "INT. A - DAY", 2, 1), ("action", "Ruth kneads. Done.", 4, 1),
        ("note", "is she tired?", 4, 6), ("boneyard", "cut: she sings", 4, 32),
        ("boneyard", "a whole scene cut", 6, 1), ("note", "a note on two lines", 9, 1),
        ("character", "RUTH", 11, 1), ("dialogue", "Ready.", 12, 1)]


def test_emphasis_is_taken_out_and_noted() -> None:
    found = elements(r"""
        INT. A - DAY

        She *really* **hates** ***this*** _oven_, 2 \* 3, snake_case stays.
        """)
    assert found[1].text == "She really hates this oven, 2 * 3, snake_case stays."
    assert found[1].emphasis and not found[0].emphasis


# --- located errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(("data", "where", "expected"), [
    (b"INT. A - DAY\n\nRuth caf\xe9.\n", "3:9", "expected UTF-8 text"),
    (b"", "1:1", "found an empty file"),
    (b" \n\n  \n", "1:1", "found an empty file"),
    (b"Title: X\n\nJust action.\n", "3:1", "expected at least one scene heading"),
    (b"INT. A - DAY\n\nRuth /* gone\n\nfor good\n", "3:6", "never closed: expected */"),
    (b"INT. A - DAY\n\nRuth [[a note\n", "3:6", "never closed: expected ]]"),
])
def test_bad_fountain_is_a_located_error(tmp_path: Path, data: bytes, where: str,
                                         expected: str) -> None:
    script = tmp_path / "bad.fountain"
    script.write_bytes(data)
    result = run_init(tmp_path / "series", "--from", script)
    assert result.exit_code == 1
    assert f"{script}:{where}: error: " in result.output and expected in result.output
    assert not (tmp_path / "series").exists()


def test_a_missing_screenplay_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    result = run_init(tmp_path / "series", "--from", tmp_path / "nope.fountain")
    assert result.exit_code == 1 and "cannot read the screenplay" in result.output


def test_parse_raises_problems_found() -> None:
    with pytest.raises(ProblemsFound) as caught:
        fountain.parse_text("INT. A - DAY\n\n/*\n", "x.fountain")
    assert str(caught.value.diagnostics[0].span) == "x.fountain:3:1"


# --- the mapping ---------------------------------------------------------------------------------


def test_scenes_become_timed_shots_with_characters_places_and_lines(tmp_path: Path) -> None:
    series, _ = convert(tmp_path, """
        Title: Flour

        INT. RUTH'S BAKERY - NIGHT

        Ruth dusts the counter with flour while OTTO watches from the door.

        OTTO
        (softly)
        Do you ever sleep?

        RUTH
        Bread does not wait for anyone.
        """)
    main = yaml.safe_load((series / "storyboard.yaml").read_text(encoding="utf-8"))
    assert main["title"] == "Flour"
    assert main["characters"]["ruth"] == {"image": {"generate": "RUTH, a character"},
                                          "voice": "ruth-voice", "description": "RUTH"}
    assert main["characters"]["ruths_bakery"] == {"image": {
        "generate": "RUTH'S BAKERY, interior, night, no people", "kind": "place"}}
    assert main["characters"]["otto"]["image"] == {  # the clause about him, not Ruth's
        "generate": "OTTO watches from the door."}
    assert main["voices"]["otto-voice"]["sample"] == "Do you ever sleep?"
    assert not (series / "media").exists()  # nothing drawn: every picture is generated
    [shot] = shots(series)
    # 12 action words at 3 w/s: 4 s; 1 word of action (0.33 s) and 4 spoken (1.6 s): 1.93 s,
    # rounded up to 2 s; 6 spoken words: 2.4 s, 2.5 s. The shot lasts 8.5 s, 9 s rounded up.
    assert shot["duration"] == 9 and shot["cast"] == ["ruths_bakery"]
    assert [s["at"] for s in shot["scenes"]] == ["0-4s", "4-6s", "6-9s"]
    assert shot["scenes"][0]["action"] == ("INT. RUTH'S BAKERY - NIGHT: @ruth dusts the counter "
                                           "with flour while @otto watches from the door.")
    assert shot["scenes"][1] == {"at": "4-6s", "action": "@otto (softly)",
                                 "say": {"otto": "Do you ever sleep?"}}
    assert shot["scenes"][2] == {"at": "6-9s", "say": {"ruth": "Bread does not wait for anyone."}}
    assert settled(storyboard.check(series)) == []


def test_sections_are_episodes_and_transitions_join_shots(tmp_path: Path) -> None:
    series, result = convert(tmp_path, """
        # Morning

        INT. BAKERY - DAY

        Ruth opens the shutters.

        DISSOLVE TO:

        EXT. STREET - DAY

        A queue forms.

        # Evening

        ## Closing time

        INT. BAKERY - NIGHT

        Ruth counts coins.

        MATCH CUT TO:

        INT. BANK - DAY

        Coins pour into a machine.

        IRIS OUT TO:

        EXT. BANK - DAY

        Ruth leaves.

        FADE OUT.
        """)
    first, second = episodes(series)
    assert (first["id"], first["title"], second["id"], second["title"]) == (
        "ep01", "Morning", "ep02", "Evening")
    assert sorted(p.name for p in (series / "episodes").iterdir()) == [
        "01-morning.yaml", "02-evening.yaml"]
    assert [s.get("transition") for s in first["shots"]] == [None, "dissolve"]
    assert [s.get("transition") for s in second["shots"]] == [None, "cut", None]
    out = result.output
    assert ":16:1: warning: a level-2 section is not an episode" in out
    assert ":22:1: warning: 'MATCH CUT TO:' has no exact match in the language" in out
    assert ":28:1: warning: the transition 'IRIS OUT TO:' is not one the language has" in out
    assert ":34:1: warning: the transition 'FADE OUT.' is followed by no shot" in out
    assert settled(storyboard.check(series)) == []


def test_everything_unmapped_is_reported_at_its_line(tmp_path: Path) -> None:
    series, result = convert(tmp_path, """
        FADE IN:

        INT. BAKERY - DAY

        = Ruth alone.

        Ruth *hums* [[which tune?]] and kneads.

        ~Rise, little loaf

        >FIN<

        /* an old gag */

        ===

        RUTH
        Done.

        OTTO ^
        Done!
        """)
    lines = [line for line in result.output.splitlines() if ": warning: " in line]
    found = [(line.split(":")[1], line.split(": warning: ")[1].split(" ")[0:2]) for line in lines]
    assert found == [("2", ["action", "before"]), ("6", ["a", "synopsis"]),
                     ("8", ["emphasis", "(*italic*,"]), ("8", ["a", "note"]),
                     ("10", ["lyrics", "is"]), ("12", ["centered", "text"]),
                     ("14", ["boneyard", "(commented-out"]), ("16", ["a", "page"]),
                     ("21", ["dual", "dialogue"])]
    assert "9 thing(s) not mapped" in result.output
    text = (series / "episodes" / "01-script.yaml").read_text(encoding="utf-8")
    for kept in ("a synopsis (line 6): Ruth alone.", "a note (line 8): which tune?",
                 "lyrics (line 10): Rise, little loaf", "centered text (line 12): FIN"):
        assert f"# {kept}" in text
    [shot] = shots(series)
    assert shot["scenes"][-1]["say"] == {"ruth": "Done.", "otto": "Done!"}
    assert settled(storyboard.check(series)) == []


def test_a_long_scene_is_split_and_a_huge_paragraph_squeezed(tmp_path: Path) -> None:
    words = " ".join(["word"] * 30)  # 10 s of action each
    huge = " ".join(["word"] * 60)  # 20 s: more than one shot may last
    series, result = convert(tmp_path, f"""
        INT. HALL - DAY

        {words}

        {words}

        {huge}

        EXT. YARD - DAY
        """)
    found = shots(series)
    assert [(s["id"], s["duration"]) for s in found] == [
        ("s01", 10), ("s01-2", 10), ("s01-3", 15), ("s02", 2)]
    assert found[3]["scenes"] == [{"at": "0-2s", "action": "EXT. YARD - DAY."}]
    assert ":8:1: warning: this scene reads for about 20 s" in result.output
    assert settled(storyboard.check(series)) == []


def test_more_than_five_characters_in_a_shot(tmp_path: Path) -> None:
    cues = "\n\n".join(f"{name}\nHere." for name in ["ANA", "BO", "CY", "DEE", "ED", "FAY"])
    series, result = convert(tmp_path, f"\nINT. ROOM - DAY\n\n{cues}\n")
    [shot] = shots(series)
    assert "cast" not in shot
    assert shot["scenes"][-1] == {"at": shot["scenes"][-1]["at"], "action": 'FAY says: "Here."'}
    assert "fay are written as plain names" in result.output
    assert "the place 'room' is left out" in result.output
    assert settled(storyboard.check(series)) == []


def test_text_that_looks_like_markup_stays_text(tmp_path: Path) -> None:
    series, _ = convert(tmp_path, """
        INT. LAB - NIGHT

        Ada types {{ secret }} and {% raw %} at ada@example.org, 100% sure: "yes".

        ADA
        Mail me @ home {# now #}.
        """)
    assert len(shots(series)) == 1
    assert settled(storyboard.check(series)) == []
    manifest = storyboard.compile(series)
    [shot] = [s for s in manifest.shots() if s.episode == "ep01"]  # the cast's assets apart
    prompt = shot.request.prompt
    assert '{{ secret }} and {% raw %} at ada@example.org, 100% sure: "yes".' in prompt
    assert 'says: "Mail me @ home {# now #}."' in prompt


def test_names_yaml_would_misread_get_a_suffix(tmp_path: Path) -> None:
    series, _ = convert(tmp_path, "\nINT. ON - DAY\n\nNO\nYes.\n\n2B\nOr not.\n")
    main = yaml.safe_load((series / "storyboard.yaml").read_text(encoding="utf-8"))
    assert sorted(main["characters"]) == ["c_2b", "no_c", "on_c"]
    assert settled(storyboard.check(series)) == []


def test_quote_round_trips_through_yaml() -> None:
    for text in ['plain', 'a "quote"', "tab\there", "line\u2028sep", "bell\x07", "émoji 🎬",
                 "back\\slash", "# not a comment", "- not a list", "yes"]:
        assert yaml.safe_load(f"v: {quote(text)}")["v"] == text


# --- a longer screenplay, end to end -------------------------------------------------------------

LONGER = """\
Title: The Night Bakery
Credit: written by
Author: the storyboard tests
Draft date: 2026

# Flour

= Ruth keeps the bakery open all night; Otto is new.

INT. BAKERY - NIGHT

Ovens glow. RUTH, sixties, flour to the elbows, shapes loaves at a long table.

OTTO (O.S.)
Hello? The door was open.

RUTH
It always is. Apron's on the hook.

CUT TO:

INT. BAKERY - LATER

Otto wrestles a sticky dough. Ruth watches, arms folded. [[make this funnier]]

RUTH
(dry)
It won't bite.

OTTO
It already did.

/* RUTH
Then bite back.
(this joke is cut) */

# Salt

EXT. ALLEY BEHIND THE BAKERY - NIGHT

Otto carries sacks of flour from a van driven by MR. PIKE.

MR. PIKE
Tell Ruth the price went up.

OTTO
You tell her.

DISSOLVE TO:

INT. BAKERY - NIGHT

Ruth reads an invoice and sighs.

RUTH (CONT'D)
Every winter.

MATCH CUT TO:

INT. BAKERY - DAWN

The first customers tap on the glass.

===

# Rise

INT. BAKERY - DAWN

Otto slides a perfect loaf out of the oven.

OTTO
Look at that.

RUTH
Not bad. Not bad at all.

CROSSFADE TO:

EXT. STREET - MORNING

Mr. Pike buys a loaf and tips his hat.

>THE END<

FADE OUT.
"""


@pytest.fixture(scope="module")
def longer(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    base = tmp_path_factory.mktemp("longer")
    script = base / "night-bakery.fountain"
    script.write_text(LONGER, encoding="utf-8")
    result = run_init(base / "series", "--from", script)
    assert result.exit_code == 0, result.output
    return base / "series", result.output


def test_the_longer_screenplay_converts(longer: tuple[Path, str]) -> None:
    series, output = longer
    main = yaml.safe_load((series / "storyboard.yaml").read_text(encoding="utf-8"))
    assert main["title"] == "The Night Bakery"
    assert list(main["characters"]) == ["otto", "ruth", "mr_pike", "bakery",
                                        "alley_behind_the_bakery", "street"]
    found = episodes(series)
    assert [(e["id"], e["title"], [s["id"] for s in e["shots"]]) for e in found] == [
        ("ep01", "Flour", ["s01", "s02"]), ("ep02", "Salt", ["s03", "s04", "s05"]),
        ("ep03", "Rise", ["s06", "s07"])]
    assert [s.get("transition") for e in found for s in e["shots"]] == [
        None, "cut", None, "dissolve", "cut", None, "crossfade"]
    assert all(2 <= s["duration"] <= 15 for e in found for s in e["shots"])
    assert "@mr_pike" in found[1]["shots"][0]["scenes"][0]["action"]
    assert "@mr_pike buys a loaf" in found[2]["shots"][1]["scenes"][0]["action"]
    for line in ("8", "24", "33", "58", "64", "84", "86"):  # synopsis, note, boneyard, match cut,
        # page break, centered text, a last transition
        assert f"night-bakery.fountain:{line}:" in output, line
    assert "wrote " in output and "3 episode(s), 7 shot(s), 6 picture(s) and 3 voice(s) described" in output


def test_the_longer_screenplay_checks_clean_and_renders(longer: tuple[Path, str],
                                                        tmp_path: Path) -> None:
    series, _ = longer
    assert settled(storyboard.check(series)) == []
    result = CliRunner().invoke(cli, ["render", str(series), "--draft", "--yes", "--quiet",
                                      "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "out" / "draft").glob("*.mp4")) == [
        "ep01.mp4", "ep02.mp4", "ep03.mp4"]


def test_blueprint_of_is_the_library_call(tmp_path: Path) -> None:
    script = tmp_path / "a.fountain"
    script.write_text("\nINT. A - DAY\n\nRUTH\nHi.\n", encoding="utf-8")
    blueprint = blueprint_of(script)
    assert sorted(blueprint.files) == ["episodes/01-a.yaml", "storyboard.yaml"]
    assert (blueprint.images, blueprint.voices) == (2, 1)
    assert blueprint.warnings == [] and (blueprint.episodes, blueprint.shots) == (1, 1)
