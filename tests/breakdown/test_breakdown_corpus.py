"""The free stand-in on the breakdown's corpus (issue 84): eight public-domain stories nobody here
wrote and the breakdown was never tuned on (bench/corpus/SOURCES.md), one a shape (chapters, no
headings, one sentence a line, dialogue-heavy, a narrator, a costume change, single curly quotes
and animals, straight single quotes and titles). Each, asked for
its N episodes, gets N of N, a cast of names (never a word that opens a sentence and that the
story also writes in lower case; never its title page's author, a contraction, a number or a
season; the band that acts, cast as one), no answer refused or sent back, and a series that checks clean
with no warning; and where its episodes cannot be written, the command never exits 0 with fewer
than N."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from storyboard.breakdown.shape import skeleton
from storyboard.breakdown.source import Chapter
from storyboard.breakdown.stages.speakers import missing
from storyboard.cli.main import cli as group
from storyboard.emulator.server import EmulatorServer
from tests.fixtures.breakdown import KEY_ENV, chat_base

CORPUS = Path(__file__).resolve().parents[2] / "bench" / "corpus"
TABLE: dict[str, Any] = yaml.safe_load((CORPUS / "corpus.yaml").read_text("utf-8"))
STORIES = {story["shape"]: story for story in TABLE["stories"]}
SECONDS = TABLE["episode_seconds"]
OPENS = re.compile(r"(?:^|[.!?…][\"”’')\]]*\s+|[\"“‘(]\s*)([A-Z][\w'’]*)")
WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
FURNITURE = re.compile(r"_{5}|\[Illustration\]", re.I)  # an edition's rule or placeholder
# Who each story's cast holds, and what no entry of it is (in the cast, or written commented out:
# the title page's author, a contraction, a number or a season written out, a plate's caption).
CAST = {"single curly quotes and animals": {"ass", "dog", "cat", "robbers"},
        "dialogue-heavy": {"sherlock_holmes", "watson", "hudson"}}
NOT_CAST = {
    "dialogue-heavy": {"arthur_conan_doyle", "adventure", "don_t", "you_ll", "i_ll", "you_re",
                       "asiatic", "london_character", "scotland_yard_character"},
    "a narrator": {"edgar_allan_poe", "cask"},
    "a costume change": {"three", "eight", "twenty_one"},
    "no headings": {"spring", "summer", "autumn", "winter"},
    "one sentence a line": {"illustration", "page", "thereafter", "doesn_t", "isn_t", "i_d",
                            "twas"}}
# What each story's cast holds as a place, never a person (``in the heart of London``,
# ``Inspector Morton, of Scotland Yard``): one entry, its look an establishing view.
PLACES = {"dialogue-heavy": {"london", "scotland_yard"}}
TITLE_PAGE = {"dialogue-heavy": "Adventure of the Dying", "a narrator": "Amontillado by"}
BEGUN_INSIDE = {"dialogue-heavy": "which my poor friend"}  # a sentence its shot's span cut
ENTRY = re.compile(r"^  (?:# )?([a-z0-9_]+): \{", re.M)  # a cast entry, commented out or not
# The stand-in's lines given to another than the story's speaker, by the story's line, and whom
# to: sent back (``speakers.misgiven``, reading the episode's lines around the shot's: the
# sentence naming Mr. McGregor starts before the shot's), heeded, and written so. Each is the
# story's (``"...?" said Hans sneeringly``, ``"...," said the Skin Horse``, ``Mr. McGregor ...
# calling out, 'Stop thief!'``).
MISGIVEN = {"chapters": {270: "hans"}, "no headings": {80: "skin_horse_character"},
            "straight single quotes and titles": {68: "mcgregor"},
            # rules 4: "declared Little Joe" after the quote's line, and two cries whose subject
            # is named mid-sentence ("..., Sammy Jay flying just behind him and screaming,": its
            # line 879, written at the first line that holds the same words)
            "one sentence a line": {204: "little_joe", 867: "sammy_jay", 880: "blacky"}}


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "sk-test-breakdown")


def breakdown(emulator: EmulatorServer, story: dict[str, Any], series: Path
              ) -> tuple[int, str, dict[str, Any]]:
    """The exit code, what was said, and the ``--json`` report."""
    done = CliRunner().invoke(group, [
        "breakdown", str(CORPUS / story["file"]), str(series), "--base-url", chat_base(emulator),
        "--api-key-env", KEY_ENV, "--yes", "--json", "--episodes", str(story["episodes"]),
        "--episode-seconds", str(SECONDS), "--ratio", TABLE["ratio"]])
    return done.exit_code, done.stderr, json.loads(done.stdout)


def written(series: Path) -> list[dict[str, Any]]:
    return [yaml.safe_load(path.read_text("utf-8"))
            for path in sorted((series / "episodes").glob("*.yaml"))]


def sentence_words(text: str) -> set[str]:
    """The words that open a sentence (a quote's too) and that the story also writes in lower
    case: each paragraph read whole, or each line where every line is one (no blank line)."""
    lines = text.splitlines()
    blocks = lines if "" not in (line.strip() for line in lines[:50]) else \
        [" ".join(block.split()) for block in re.split(r"\n\s*\n", text)]
    lower = {word for word in WORD.findall(text) if word[0].islower()}
    return {m.group(1).lower() for block in blocks for m in OPENS.finditer(block)} & lower


@pytest.mark.parametrize("shape", sorted(STORIES))
def test_the_stand_in_writes_n_of_n_episodes_of_every_story_and_a_series_that_checks_clean(
        chat_emulator: EmulatorServer, tmp_path: Path, shape: str) -> None:
    story, series = STORIES[shape], tmp_path / "series"
    code, said, report = breakdown(chat_emulator, story, series)
    assert code == 0 and "error" not in said, said
    backs = [line for line in said.splitlines() if "sent back to the model" in line]
    assert len(backs) == len(MISGIVEN.get(shape, {})), said  # those alone sent back, once each
    assert all(line.strip().startswith("the shot call for shot ") and "1 problem(s)" in line
               for line in backs), backs
    assert report["sent"] == len(report["calls"]) + len(backs), said  # nothing refused
    assert report["problems"] == report["read_as_meant"] == report["warnings"] == [], report
    episodes = written(series)
    made = skeleton.shape(SECONDS)
    assert isinstance(made, skeleton.Shape)
    assert len(episodes) == story["episodes"]
    assert [sum(shot["duration"] for shot in e["shots"]) for e in episodes] == \
        [made.total] * story["episodes"]
    done = CliRunner().invoke(group, ["check", "--json", str(series)])
    assert done.exit_code == 0 and json.loads(done.output) == [], done.output
    for line, own in MISGIVEN.get(shape, {}).items():  # each given, as sent back, to its speaker
        assert re.search(rf"say: \{{{own}: .*# {story['file']}: line {line}$",
                         "\n".join(e.read_text("utf-8") for e in sorted(
                             (series / "episodes").glob("*.yaml"))), re.M), line
    actions = [scene["action"].partition(":")[2] for e in episodes for shot in e["shots"]
               for scene in shot["scenes"]]
    assert not [a for a in actions if FURNITURE.search(a)], actions  # nothing the edition adds
    title = TITLE_PAGE.get(shape, "no one's")  # nor its title page: no shot films it
    assert not [a for a in actions if title.lower() in a.replace("@", "").lower()], actions
    begun = BEGUN_INSIDE.get(shape, "no one's")  # a shot's action told from a whole sentence
    assert not [a for a in actions if a.strip().startswith(begun)], actions
    written_cast = (series / "storyboard.yaml").read_text("utf-8")
    cast = yaml.safe_load(written_cast)["characters"]
    ordinary = sentence_words((CORPUS / story["file"]).read_text("utf-8"))
    assert not {key for key in cast if "_" not in key} & ordinary, sorted(cast)
    entries = set(ENTRY.findall(written_cast.partition("\ncharacters:\n")[2]))
    assert CAST.get(shape, set()) <= set(cast) and not NOT_CAST.get(shape, set()) & entries, \
        sorted(entries)
    for key in PLACES.get(shape, set()):
        entry = re.search(rf"^  (?:# )?{key}: \{{.*$", written_cast, re.M)
        assert entry is not None and 'kind: "place"' in entry.group(), (key, written_cast)


@pytest.mark.parametrize("shape", sorted(STORIES))
def test_a_story_whose_episodes_are_refused_never_exits_0_with_fewer_than_asked(
        chat_emulator: EmulatorServer, tmp_path: Path, shape: str) -> None:
    """Every episode answer bent (its first scene's seconds ``NaN``), sent back and bent
    again: the run exits 1, each episode not written named with why."""
    story, series = STORIES[shape], tmp_path / "series"
    chat_emulator.add_rate("chat:nan:1")
    try:
        code, said, report = breakdown(chat_emulator, story, series)
    finally:
        chat_emulator.clear_faults()
    count = len(written(series)) if (series / "episodes").exists() else 0
    assert code == 1 and count < story["episodes"], said
    told = " ".join(p["message"] for p in report["problems"])
    assert all(f"episode {n} " in told for n in range(count + 1, story["episodes"] + 1)), told
    assert "NaN is not a number JSON allows" in told and "Traceback" not in said


def test_a_narrators_as_i_said_is_no_one_the_cast_leaves_out() -> None:
    """``"True," I replied; "the Amontillado." As I said these words``: no one called "As I"
    speaks (the cast was sent back for them until the run stopped); Fortunato still does."""
    chapter = Chapter("cask.txt", 1, "One", 1, (
        '"True," I replied; "the Amontillado."', "",
        "As I said these words I busied myself among the pile of bones.", "",
        '"Proceed," said Fortunato.'))
    cast = {"characters": [], "places": [], "props": []}
    assert missing(cast, chapter) == ["characters: 'Fortunato' speaks in this chapter (line 5) "
                                      "and is not in the cast: add them, with their appearance "
                                      "and voice"]
