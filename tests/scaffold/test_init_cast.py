"""`storyboard init --from`: the cast described in words from the screenplay, never drawn.

A character's picture is described by its introduction (the sentence where its name first appears
in capitals), a place's by its heading; every speaking character gets a designed voice whose sample
is its first line. The series checks clean, for the local provider and for DashScope alike.
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
from storyboard.scaffold.cast import LONGEST_SAMPLE, place_words, sample
from storyboard.scaffold.who import design, unsettled, who_of

SCREENPLAY = """\
Title: The Usual

INT. CORNER CAFE - MORNING

Sunlight through the window. MIA (30s), a barista with short dark hair and a green apron,
wipes down the counter. She hums.

TOM, a tired man in his fifties in a rumpled suit, pushes through the door. Mia smiles at Tom.

MIA
Morning! The usual flat white? Or are we being brave today, because I have a new single
origin from Kenya that you would love.

TOM
(yawning)
The usual.

EXT. MIA'S STREET - NIGHT

Mia locks up. Rain on the cobbles.

OLD LI
(calling)
你好！今天很冷。

MIA
Night, Li.

INT. BACK ROOM - CONTINUOUS

Boxes of cups.

EXT. CORNER CAFE - DAY

Tom reads the menu.
"""


def run_init(*args: str | Path) -> Result:
    result = CliRunner().invoke(cli, ["init", *[str(a) for a in args]])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    return result


@pytest.fixture
def usual(tmp_path: Path) -> tuple[Path, str]:
    script = tmp_path / "usual.fountain"
    script.write_text(SCREENPLAY, encoding="utf-8")
    result = run_init(tmp_path / "usual", "--from", script)
    assert result.exit_code == 0, result.output
    return tmp_path / "usual", result.output


def main_of(series: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((series / "storyboard.yaml").read_text("utf-8"))
    return data


def test_characters_are_described_by_their_introductions(usual: tuple[Path, str]) -> None:
    series, output = usual
    characters = main_of(series)["characters"]
    assert characters["mia"] == {
        "image": {"generate": "MIA (30s), a barista with short dark hair and a green apron, "
                              "wipes down the counter."},
        "voice": "mia-voice", "description": "MIA"}
    assert characters["tom"]["image"] == {
        "generate": "TOM, a tired man in his fifties in a rumpled suit, pushes through the door."}
    assert characters["old_li"]["image"] == {"generate": "OLD LI, a character"}  # no introduction
    assert not (series / "media").exists()
    # three characters and three places (the corner café is one place, inside and out)
    assert "6 picture(s) and 3 voice(s) described to generate" in output


def test_places_are_described_by_their_headings(usual: tuple[Path, str]) -> None:
    characters = main_of(usual[0])["characters"]
    assert {key: characters[key]["image"] for key in ("corner_cafe", "mias_street",
                                                       "back_room")} == {
        "corner_cafe": {"generate": "CORNER CAFE, interior, morning, no people", "kind": "place"},
        "mias_street": {"generate": "MIA'S STREET, exterior, night, no people", "kind": "place"},
        "back_room": {"generate": "BACK ROOM, interior, no people", "kind": "place"}}


def test_every_speaking_character_has_a_designed_voice(usual: tuple[Path, str]) -> None:
    voices = main_of(usual[0])["voices"]
    assert voices == {
        "mia-voice": {"design": "A woman in her thirties: a natural, clear speaking voice at an "
                                "even pace, neutral accent",
                      "sample": "Morning! The usual flat white?"},
        "tom-voice": {"design": "A man in his fifties: a natural, clear speaking voice at an even "
                                "pace, neutral accent", "sample": "The usual."},
        "old_li-voice": {"design": "A natural, clear speaking voice at an even pace, neutral "
                                   "accent",  # no introduction: who speaks is not guessed
                         "sample": "你好！今天很冷。", "language": "zh"}}


@pytest.mark.parametrize("provider", [None, "local", "dashscope"])
def test_the_series_checks_clean(usual: tuple[Path, str], provider: str | None) -> None:
    """No error; a warning for each cast word init could not settle (OLD LI has no
    introduction: neither its looks nor who speaks are guessed), and for Tom's sample: all he
    says is "The usual." (0.5 s spoken, under a reference voice's 1 s: 54.7)."""
    found = storyboard.check(usual[0], provider=provider)
    assert [(d.severity, d.code, d.message) for d in found] == [
        ("warning", "sample-length", "spoken, this sample will likely last about 0.50 s (about "
         "20 characters a second); a reference voice lasts 1 to 10 s: lengthen the sample (the "
         "designed voice is measured, and a shot whose voice is too short waits, unpaid)"),
        ("warning", "init-unsettled", "voices 'old_li-voice': `init --from` could not settle a "
         "woman or a man? the age?; expected words a person settled: describe it, then remove "
         "the comment"),
        ("warning", "init-unsettled", "characters 'old_li': `init --from` could not settle how "
         "it looks? (no introduction found); expected words a person "
         "settled: describe it, then remove the comment")]


# --- the words, one by one -------------------------------------------------------------------


@pytest.mark.parametrize(("line", "expected"), [
    ("Hi.", "Hi."),
    ("One. " * 30, ("One. " * 24).strip()),  # whole sentences up to 120 characters
    ("word " * 40, ("word " * 23).strip() + "..."),  # one long sentence: cut at a word
    ("x" * 200, "x" * 117 + "..."),
    ("  spaced\n out  ", "spaced out"),
    ("", "Hello, I'm Mr. Pike.")])
def test_a_sample_is_whole_sentences_of_at_most_120_characters(line: str, expected: str) -> None:
    spoken, language = sample("MR. PIKE", line)
    assert spoken == expected and len(spoken) <= LONGEST_SAMPLE and language == ""


@pytest.mark.parametrize(("words", "expected"), [
    ("MIA (30s), a barista. She hums.", "A woman in her thirties"),
    ("BOB (67) shuffles in. He leans on a cane.", "A man in his sixties"),
    ("KIM (15), a girl with a skateboard.", "A teenage girl of 15"),
    ("SAM (8) giggles.", "A child of 8"),
    ("RUTHIE MACKLIN, 8, skips rope.", "A child of 8"),
    ("JOSEPHINE sits. She is 10.", "A girl of 10"),
    ("WILL BLOOM, AGE 3, listens wide-eyed", "A child of 3"),
    # the character's own words, not a relation's: "his wife" is someone else, but his
    ("JAMES (50s) hugs his wife.", "A man in his fifties"),
    ("BOB, AGE 3, wears his mother's boots.", "A boy of 3"),
    ("Her grandson TOMMY, 8, sits by the fire.", "A boy of 8"),  # NAME, 8 anywhere
    ("MIA hugs her father.", "A woman"),
    ("his mother SANDRA (40s) smiles.", "A woman in her forties"),
    ("mother SANDRA smiles.", "A woman"),
    ("EDWARD BLOOM, 40's and handsome, tells the story.", "An adult in their forties"),
    ("father EDWARD BLOOM, 40's and handsome", "A man in his forties"),
    ("PAT, in their forties.", "An adult in their forties"),
    ("TOM hands her the letter and shakes his head.", "")])  # her, his: nobody's for sure
def test_a_voice_is_designed_in_neutral_words(words: str, expected: str) -> None:
    designed = design(who_of(words))
    assert designed == (f"{expected}: " if expected else "") + (
        "a natural, clear speaking voice" if expected else "A natural, clear speaking voice") + (
            " at an even pace, neutral accent")


@pytest.mark.parametrize(("words", "expected"), [
    ("MIA (30s), a barista. She hums.", ""),
    ("TOM hands her the letter.", "a woman or a man? the age?"),
    ("mother SANDRA smiles.", "the age?"),
    ("SAM (8) giggles.", ""),
    ("EDWARD, 40's.", "a woman or a man?"),
    ("JAMES (50s) hugs his wife.", ""),
    ("Her grandson TOMMY, 8, sits.", ""),
    ("JACK.", "a woman or a man? the age?")])
def test_what_the_words_leave_open_is_named(words: str, expected: str) -> None:
    assert unsettled(who_of(words)) == expected


WHO_IS_WHO = """\
INT. HOUSE - DAY

JAMES (50s) hugs his wife. MIA (30s), a barista with short hair, waves.

LEA (30s), a pilot, waits. JACK.

ZED
Eh.

"""


@pytest.mark.parametrize(("key", "expected"), [
    ("james", "A man in his fifties: a natural"),
    ("mia", "An adult in their thirties, a barista named Mia: a natural"),
    ("lea", "An adult in their thirties, a pilot named Lea: a natural"),
    ("jack", "A speaker named Jack: a natural"),
    ("zed", "A speaker named Zed: a natural")])
def test_no_two_voices_share_one_design(tmp_path: Path, key: str, expected: str) -> None:
    """Voices whose words settle the same things are told apart by what is known of each
    (its role, its name), never by a guess."""
    script = tmp_path / "who.fountain"
    script.write_text(WHO_IS_WHO + "".join(f"{k.upper()}\nHi.\n\n" for k in
                                           ("james", "mia", "lea", "jack")), encoding="utf-8")
    assert run_init(tmp_path / "who", "--from", script).exit_code == 0
    voices = main_of(tmp_path / "who")["voices"]
    assert voices[f"{key}-voice"]["design"].startswith(expected)
    assert len({v["design"] for v in voices.values()}) == len(voices)


def test_an_introduction_of_only_the_name_settles_nothing(tmp_path: Path) -> None:
    """``JACK.`` describes nothing: its picture carries a "could not settle" that check reports."""
    script = tmp_path / "who.fountain"
    script.write_text(WHO_IS_WHO + "JACK\nHi.\n", encoding="utf-8")
    assert run_init(tmp_path / "who", "--from", script).exit_code == 0
    assert main_of(tmp_path / "who")["characters"]["jack"]["image"] == {"generate": "JACK."}
    found = storyboard.check(tmp_path / "who")
    assert [d.message for d in found if d.code == "init-unsettled"
            and "characters 'jack'" in d.message] == [
        "characters 'jack': `init --from` could not settle how it looks? (its introduction is "
        "only its name); expected words a person settled: describe it, then remove the comment"]


@pytest.mark.parametrize(("heading", "location", "expected"), [
    ("INT. KITCHEN - NIGHT", "KITCHEN", "KITCHEN, interior, night, no people"),
    ("EXT. YARD", "YARD", "YARD, exterior, no people"),
    ("INT./EXT. CAR - MOVING - DAY", "CAR", "CAR, interior and exterior, day, no people"),
    ("I/E VAN - LATER", "VAN", "VAN, interior and exterior, no people"),
    ("EST. CITY - DAWN", "CITY", "CITY, exterior, dawn, no people"),
    ("OPENING TITLES", "OPENING TITLES", "OPENING TITLES, no people")])
def test_a_place_is_its_heading_in_words(heading: str, location: str, expected: str) -> None:
    assert place_words(heading, location) == expected


def test_an_introduction_is_found_once_in_a_long_screenplay(tmp_path: Path) -> None:
    """The name in capitals in a possessive (``MIA'S``) is no introduction; later ones are not
    read; a name never written in capitals has none."""
    script = tmp_path / "long.fountain"
    script.write_text(textwrap.dedent("""\
        INT. MIA'S FLAT - DAY

        We see MIA'S hands. Then MIA (40s), a pilot, sits up.

        MIA
        Again?

        """) + "Mia waits. MIA, older now, waits.\n\n" * 2000, encoding="utf-8")
    assert run_init(tmp_path / "s", "--from", script).exit_code == 0
    mia = main_of(tmp_path / "s")["characters"]["mia"]
    assert mia["image"] == {"generate": "Then MIA (40s), a pilot, sits up."}
