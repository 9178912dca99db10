"""The free trial's stand-in on public-domain tales (issue 63): each tale, broken down through
``storyboard breakdown`` against the emulator and then ``storyboard check``, checks clean, its
multi-word names (``Rip Van Winkle``, ``Notre-Dame de la Garde``, ``Château d'If``) one person
or place each, with no warning, never an ordinary word (``Whoever``, ``Old``, ``None``) as a name, and no two
voices worded alike."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from storyboard.cli.main import cli as group
from storyboard.emulator.chat.answers import names, paragraphs
from storyboard.emulator.server import EmulatorServer
from tests.fixtures.breakdown import KEY_ENV, chat_base

DATA = Path(__file__).resolve().parents[1] / "data" / "breakdown"
# tale: (people, places) it must name, and keys it must not hold
TALES = {
    "rip-van-winkle.md": ({"rip_van_winkle", "peter_stuyvesant", "nicholas_vedder", "wolf"},
                          {"hudson", "kaatskill", "great_britain", "fort_christina"},
                          {"rip", "van_winkles", "whoever", "times", "poor", "appalachian",
                           "here", "they"}),
    "scandal-in-bohemia.md": ({"sherlock_holmes", "irene_adler"}, {"baker_street"},
                              {"holmes", "to_sherlock_holmes", "march", "one", "all", "as"}),
    "monte-cristo.md": ({"man"}, {"notre_dame_de_la_garde", "chateau_d_if", "cape_morgiou",
                                  "fort_saint_jean", "marseilles", "smyrna", "naples"},
                        {"immediately", "cape", "morgiou", "chateau", "february", "on", "as"}),
    "christmas-carol.md": ({"marley", "scrooge"}, set(),
                           {"old_marley", "old", "mind", "man", "of", "how", "bah"}),
}


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "sk-test-breakdown")


def storyboard(*args: str) -> tuple[int, str]:
    done = CliRunner().invoke(group, list(args))
    return done.exit_code, done.output + done.stderr


@pytest.mark.parametrize("tale", sorted(TALES))
def test_a_public_domain_tale_breaks_down_into_a_series_that_checks_clean(
        chat_emulator: EmulatorServer, tmp_path: Path, tale: str) -> None:
    series = tmp_path / "series"
    code, said = storyboard("breakdown", str(DATA / tale), str(series), "--base-url",
                            chat_base(chat_emulator), "--api-key-env", KEY_ENV, "--yes")
    assert code == 0 and "error" not in said, said
    code, said = storyboard("check", str(series))
    assert code == 0 and "error" not in said and "warning" not in said, said
    code, said = storyboard("check", "--json", str(series))
    assert code == 0 and json.loads(said) == [], said  # no warning either
    written = yaml.safe_load((series / "storyboard.yaml").read_text("utf-8"))
    cast = written["characters"]
    people = {k for k, v in cast.items() if "kind" not in v["image"]}
    places = {k for k, v in cast.items() if v["image"].get("kind") == "place"}
    wanted_people, wanted_places, unwanted = TALES[tale]
    assert wanted_people <= people and wanted_places <= places, (people, places)
    assert not unwanted & set(cast), sorted(unwanted & set(cast))
    designs = [v["design"] for v in (written.get("voices") or {}).values()]
    assert len(set(designs)) == len(designs)


def test_the_stand_in_reads_names_as_a_tale_writes_them() -> None:
    text = ("Throughout the night Tomás waited in Porto Velho. None came. Whilst Ines Barros "
            "drove from Santa Clara, Tomás slept. Old Ines laughed at the Appalachian wind. "
            "Mr. Holmes and Sherlock Holmes met Sam. Meanwhile Sam ran, and Old Tomás woke.")
    people, places = names(text)
    assert people == ["Tomás", "Ines Barros", "Sherlock Holmes", "Sam"]
    assert places == ["Porto Velho", "Santa Clara"]


def test_no_two_people_sound_alike_and_the_tale_says_who_they_are(
        chat_emulator: EmulatorServer, tmp_path: Path) -> None:
    story = tmp_path / "mill.md"
    story.write_text('# The Mill\n\nAnna climbed to the mill, and she sang. The old miller '
                     'watched. Young Tom ran after her.\n\n"Wait!" cried Tom.\n\n"Come up," '
                     'said Anna.\n\n"Go home," said the miller.\n', encoding="utf-8")
    series = tmp_path / "series"
    code, said = storyboard("breakdown", str(story), str(series), "--base-url",
                            chat_base(chat_emulator), "--api-key-env", KEY_ENV, "--yes")
    assert code == 0, said
    voices = yaml.safe_load((series / "storyboard.yaml").read_text("utf-8"))["voices"]
    designs = {name.removesuffix("-voice"): v["design"] for name, v in voices.items()}
    assert set(designs) == {"anna", "tom", "miller"}
    assert designs["anna"].startswith("An adult woman's voice")
    assert designs["tom"].startswith("A young man's voice")
    assert designs["miller"].startswith("An older man's voice")


def test_the_stand_in_leaves_headings_and_code_out_of_its_shots() -> None:
    lines = [[1, "Chapter One"], [2, "==========="], [4, "The Lamp"], [5, "--------"],
             [7, "```"], [8, "# not a heading"], [9, "```"], [11, "Mia waits."]]
    assert [(p.first, p.text) for p in paragraphs(lines)] == [(11, "Mia waits.")]
