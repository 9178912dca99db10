"""The free stand-in's words (issue 98, item 5): the series titled from the story's title (its
title line, or its first heading), each episode titled from its events (who acts most in it and
the thing it names most, not its first words: "for of course you do not", "asked the soldier"
were such titles) and ending on a whole sentence, never one begun mid-way."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from storyboard.breakdown.pipeline import Options, breakdown
from storyboard.breakdown.source import read_story
from storyboard.emulator.chat.episode import head
from storyboard.emulator.server import EmulatorServer
from tests.fixtures.breakdown import KEY_ENV, STORY, chat_base

# Andersen's The Tinder-Box (1835, public domain), a few lines in our own words.
TINDER = """\
A soldier came marching along the high road: left, right! left, right!
He met an old witch on the road, and she said, "Good evening, soldier!"
"Climb down the hollow tree and bring me the tinder-box," said the witch.
The soldier climbed down and saw a dog with eyes as big as teacups.
The dog sat upon a chest of copper, and the soldier put it on the witch's apron.
In the last room sat the third dog, with eyes as big as the round tower.
The soldier filled his pockets with gold and took the tinder-box.
"What will you do with the tinder-box?" asked the soldier.
"""


NOUN_PHRASE = re.compile(r"(?:The )?[A-Z][\w'-]*(?: [A-Z][\w'-]*)*(?: and the [A-Z][\w'-]*)?")


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "sk-test-breakdown")


@pytest.mark.parametrize(("name", "text", "title"), [
    ("gift.txt", "THE GIFT OF THE MAGI\n\nby O. Henry\n\nOne dollar and eighty-seven cents.\n",
     "The Gift of the Magi"),
    ("rabbit.txt", "        THE\n    Velveteen Rabbit\n\n  OR\n\nThere was once a rabbit.\n",
     "The Velveteen Rabbit"),
    ("cask.txt", "The Cask of Amontillado\n\n\nThe thousand injuries of Fortunato.\n",
     "The Cask of Amontillado"),
    ("peter.txt", "THE TALE OF\n\nPETER RABBIT\n\nBY\n\nBEATRIX POTTER\n\nOnce upon a time.\n",
     "The Tale of Peter Rabbit"),  # a title page's line ending on OF goes on in the next
    ("of.txt", "A TALE OF\n", "Of"),  # nothing after it: no title line
    ("lighthouse.md", STORY, "The Lighthouse"),  # its first heading: chapter 1's
    ("lamp.md", "# The Lamp\n\n## One\n\nMia waits.\n\n## Two\n\nSam runs.\n", "The Lamp"),
    ("page.md", "Title: My Tale\n\nMia waits.\n", "My Tale"),
    # a first line that is a sentence, or a bracket, is no title: the file's name
    ("fox-and-crow.md", "A Fox once saw a Crow.\n\nIt flew.\n", "Fox And Crow"),
    ("one-line.txt", "It was a dark night.\nThe wind blew.\n", "One Line"),
    ("bear.txt", "[The Adventures of Buster Bear by Thornton W. Burgess 1920]\n\nHe yawned.\n",
     "Bear"),
    ("story.md", "Mia waits.\n\nSam runs.\n", "Story"),
])
def test_a_story_is_titled_by_its_title_line_or_first_heading(tmp_path: Path, name: str,
                                                              text: str, title: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    assert read_story(path).title == title


def document(text: str) -> dict[str, Any]:
    rows = [[n, line] for n, line in enumerate(text.splitlines(), 1)]
    return {"stage": "episode", "lines": rows, "characters": [], "places": [], "props": []}




@pytest.mark.parametrize(("text", "title"), [
    (TINDER, "The Soldier"),  # the dog acts: a person, not a thing
    ("Della counted the money. Della took the money to the shop and the shopkeeper smiled.\n"
     "Then Jim came home.\n", "Della and the Money"),
    ("It rained. It rained all day.\n", "It rained It rained all day"),  # no one, nothing
])
def test_an_episode_is_titled_from_its_events(text: str, title: str) -> None:
    said = head(document(text))
    assert said["title"] == title and len(said["title"]) <= 60


def test_an_episode_ends_on_a_whole_sentence(tmp_path: Path) -> None:
    said = head(document(TINDER))["hook"]
    assert said == '"What will you do with the tinder-box?" asked the soldier.'  # its last, whole
    cut = "for of course you do not know. The witch laughed.\nAnd then the dog barked.\n"
    assert head(document(cut))["hook"] == "And then the dog barked."
    mid = 'ain\'t I?" she said to him and smiled\n'  # no whole sentence: its last, closed
    assert head(document(mid))["hook"].startswith('"')


def test_a_season_of_the_stand_in_reads_as_titled(chat_emulator: EmulatorServer,
                                                  tmp_path: Path) -> None:
    source = tmp_path / "tinder-box.txt"
    source.write_text("THE TINDER-BOX\n\n" + TINDER.replace("\n", "\n\n"), encoding="utf-8")
    series = tmp_path / "series"
    report = breakdown(source, series, Options(base_url=chat_base(chat_emulator),
                                               key_env=KEY_ENV, yes=True, episodes=2,
                                               episode_seconds=30))
    assert report.problems == []
    written = yaml.safe_load((series / "storyboard.yaml").read_text("utf-8"))
    assert written["title"] == "The Tinder-Box"
    assert {"soldier", "witch", "dog"} <= set(written["characters"])  # the dogs act: cast
    for path in sorted((series / "episodes").glob("*.yaml")):
        episode = yaml.safe_load(path.read_text("utf-8"))
        assert NOUN_PHRASE.fullmatch(episode["title"]), episode["title"]
        hook = episode["hook"]
        assert hook.lstrip('"')[:1].isupper() and hook.rstrip('"')[-1:] in ".!?", hook


def test_an_animal_that_acts_is_cast_and_one_named_in_passing_is_not() -> None:
    from storyboard.emulator.chat.answers import cast
    acts = cast(document("A dog sat by the door. The dog barked at the soldier.\n"))
    assert [c["name"] for c in acts["characters"]] == ["Dog", "Soldier"]
    passing = cast(document("The soldier sat by the fire with a cat on his knee.\n"))
    assert [c["name"] for c in passing["characters"]] == ["Soldier"]


def test_a_place_named_as_people_name_places_is_a_place_and_a_peoples_adjective_no_one() -> None:
    """The Dying Detective (Doyle, 1913, public domain): ``the heart of London`` and ``now
    visiting London`` name a place (it was cast twice, a place and ``london_character``),
    ``Scotland Yard`` is a place, ``an Asiatic disease`` names no one."""
    from storyboard.emulator.chat.answers import cast
    told = cast(document("It was Inspector Morton, of Scotland Yard. Smith is a resident of "
                         "Sumatra, now visiting London. He had an Asiatic disease in the heart "
                         "of London.\n"))
    assert [c["name"] for c in told["characters"]] == ["Inspector Morton", "Smith"]
    assert [p["name"] for p in told["places"]] == ["Scotland Yard", "Sumatra", "London"]


def test_a_long_speech_names_no_one_and_whom_speeches_call_by_name_is_cast() -> None:
    """The Dying Detective: a speech longer than 400 characters paired its close with the next
    one's opening, so the names inside speeches (``of Tapanuli fever``) were cast; Watson, the
    narrator, is named only when spoken to (``Well, Watson,``), twice at least, and is cast."""
    from storyboard.emulator.chat.answers import cast
    long = " ".join(["It is a coolie disease from Sumatra, a thing the Dutch know of."] * 8)
    told = cast(document(f'Holmes lay in bed. "Well, Watson, {long}" he said.\n'
                         '"What do you know, pray, of Tapanuli fever?" asked Holmes. "It is '
                         'for your own sake, Watson," he croaked. "Nitre," I replied.\n'))
    assert [c["name"] for c in told["characters"]] == ["Holmes", "Watson"], told


def test_the_ass_of_the_travelling_musicians_is_cast_and_a_title_ends_no_sentence() -> None:
    """The ass leads Grimm's The Travelling Musicians (Taylor's translation, public domain) and
    was not cast; a cast entry's words ran to ``Mrs.`` and stopped there."""
    from storyboard.emulator.chat.answers import cast
    musicians = cast(document("The ass met a dog by the road. 'Alas!' said the dog. The ass "
                              "said the dog might come.\n"))
    assert [c["name"] for c in musicians["characters"]] == ["Ass", "Dog"]
    pie = cast(document("Peter's father was put in a pie by Mrs. McGregor. Mr. McGregor "
                        "planted cabbages. McGregor ran after Peter.\n"))
    told = {c["name"]: c["appearance"] for c in pie["characters"]}
    assert "by Mrs. McGregor." in told["Peter"], told


def test_a_speaker_in_single_quotes_is_cast_with_her_title_and_no_placeholder_is() -> None:
    """Peter Rabbit as Project Gutenberg prints it (straight single quotes, ``[Illustration]``
    between paragraphs): Mrs. Rabbit, who speaks, is cast by her name, not ``Rabbit`` or
    ``old Mrs``; the four little Rabbits are what they are, and the placeholder is no one."""
    from storyboard.emulator.chat.answers import cast
    text = ("Once upon a time there were four little Rabbits, and their names were Flopsy, "
            "Mopsy, and Peter.\n\n[Illustration]\n\n'Now my dears,' said old Mrs. Rabbit one "
            "morning, 'you may go into the fields.'\n\n[Illustration]\n\nPeter ran away.\n")
    names = [c["name"] for c in cast(document(text))["characters"]]
    assert names[-2:] == ["Peter", "Mrs. Rabbit"], names  # ("were Flopsy": what one is)
    assert not {"Rabbit", "Rabbits", "Illustration", "old Mrs"} & set(names), names


def test_a_line_is_never_given_to_whom_it_names_nor_to_whom_said_he_cannot_be() -> None:
    """Conan Doyle's The Dying Detective (public domain): ``"Well, Watson, ..." said he`` is
    Holmes's, not Watson's (the quote speaks to him) nor Mrs. Hudson's (named nearer, but
    ``he``); a line whose verb names its speaker still goes to them."""
    from storyboard.emulator.chat.speaking import QUOTE, speaker_of
    text = ("Sherlock Holmes lay ill, and Mrs. Hudson let me in. \"Well, Watson, we seem to have "
            "fallen upon evil days,\" said he in a feeble voice.")
    quote = next(QUOTE.finditer(text))
    assert speaker_of(text, quote, ["Sherlock Holmes", "Mrs. Hudson", "Watson"]) == \
        "Sherlock Holmes"
    she = 'Mrs. Hudson let me in to see Mr. Holmes. "He is very ill," she said.'
    assert speaker_of(she, next(QUOTE.finditer(she)), ["Mr. Holmes", "Mrs. Hudson"]) == \
        "Mrs. Hudson"  # "she said", nearer him: hers
    said = "Sherlock Holmes lay ill. \"Come in, Watson,\" said Mrs. Hudson."
    assert speaker_of(said, next(QUOTE.finditer(said)),
                      ["Sherlock Holmes", "Mrs. Hudson", "Watson"]) == "Mrs. Hudson"


def test_a_span_begun_inside_a_quote_and_a_line_called_out_go_to_their_speakers() -> None:
    """Potter's The Tale of Peter Rabbit (public domain): a shot's lines that open inside Mrs.
    Rabbit's single-quoted warning leave her next line hers, not Mr. McGregor's (named in the
    warning); ``Mr. McGregor ... ran after Peter, waving a rake and calling out, 'Stop thief!'``
    is McGregor's, the subject who calls, not Peter, named nearer."""
    from storyboard.emulator.chat.speaking import QUOTE, balanced, speaker_of
    cast = ["Peter", "Mrs. Rabbit", "McGregor"]
    warned = balanced("he was put in a pie by Mrs. McGregor.' 'Now run along, and don't get into "
                      "mischief.' Then old Mrs. Rabbit took a basket.")
    quotes = list(QUOTE.finditer(warned))
    assert [q.group() for q in quotes][-1] == "'Now run along, and don't get into mischief.'"
    assert speaker_of(warned, quotes[-1], cast) == "Mrs. Rabbit"
    called = ("Mr. McGregor was on his hands and knees, but he jumped up and ran after Peter, "
              "waving a rake and calling out, 'Stop thief!'")
    assert speaker_of(called, next(QUOTE.finditer(called)), cast) == "McGregor"


def test_a_verb_after_the_next_quote_is_that_quotes() -> None:
    """Grimm's Rumpelstiltskin: ``the Queen said, "Perhaps your name is Rumpelstiltskin?" "The
    devil has told you that!" cried the little man``: the first line is the Queen's."""
    from storyboard.emulator.chat.speaking import QUOTE, speaker_of
    text = ('On the third day the little man came, and the Queen said, "Perhaps your name is '
            'Rumpelstiltskin?" "The devil has told you that!" cried the little man.')
    cast = ["Little Man", "Queen"]
    assert [speaker_of(text, q, cast) for q in QUOTE.finditer(text)] == ["Queen", "Little Man"]


def test_a_line_said_by_a_pronoun_is_the_sentence_befores_subject() -> None:
    """Burgess's Adventures of Buster Bear: ``Grandfather Frog looked up at jolly, round, bright
    Mr. Sun ... "There comes a foolish green fly," said he.``: Grandfather Frog's line, not the
    nearer Mr. Sun's (a title's stop ends no sentence)."""
    from storyboard.emulator.chat.speaking import QUOTE, speaker_of
    text = ('Little Joe growled. Grandfather Frog looked up at jolly, round, bright Mr. Sun and '
            'slowly winked one of his great, goggly eyes. "There comes a foolish green fly," '
            'said he.')
    cast = ["Little Joe", "Grandfather Frog", "Mr. Sun"]
    assert speaker_of(text, next(QUOTE.finditer(text)), cast) == "Grandfather Frog"


def test_a_band_that_acts_is_cast_as_one_and_a_princess_named_once_still_is() -> None:
    from storyboard.emulator.chat.answers import kinds
    assert kinds("The robbers fled. Then the robbers came back.", []) == [(4, "Robbers")]
    assert kinds("A light shone from the house of the robbers.", []) == []  # once: in passing
    assert kinds("The princess sat by the well.", []) == [(4, "Princess")]


# Conan Doyle's The Dying Detective (1913, public domain): a landlady named by her title, with
# "he" and "him" (Holmes) all around her name.
LANDLADY = ("Mrs. Hudson, the landlady of Sherlock Holmes, was a long-suffering woman. He paid her "
            "well. Mrs. Hudson came to me. He was dying, she said, and he would not let her "
            "fetch a doctor for him. Holmes lay in his bed. He said he was dying.")


@pytest.mark.parametrize(("text", "name", "who"), [
    (LANDLADY, "Hudson", "woman's"),  # "Mrs." says so, whatever "he" surrounds her name
    (LANDLADY, "Sherlock Holmes", "man's"),
    ("Mr. Morton came in. She looked at him; he spoke to her and she nodded.", "Morton", "man's"),
    # a family's two, "Mr. Rabbit" and "Mrs. Rabbit": the titles disagree, the pronouns decide
    ("Mrs. Rabbit spoke. She smiled. Mr. Rabbit was out. She waited, and she sang.", "Rabbit",
     "woman's"),
])
def test_a_titled_name_gets_the_voice_its_title_says(text: str, name: str, who: str) -> None:
    from storyboard.emulator.chat.names import voice
    assert f" {who} voice" in voice(name, text)
