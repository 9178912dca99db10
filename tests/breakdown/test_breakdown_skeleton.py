"""A season's first guarantee (issue 84): ``storyboard breakdown --episodes N`` writes N of N
episodes, each of the skeleton's K shots of d seconds, or refuses before any request saying why
(a story of fewer sentences than N; an episode's seconds no shots make). On the emulator's
stand-in, for each shape a story comes in (chapters, no headings, one sentence a line,
dialogue-heavy, a narrator), each a public-domain tale."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from storyboard.breakdown.shape import skeleton
from storyboard.breakdown.shape.skeleton import sentences
from storyboard.breakdown.source import read_story
from storyboard.cli.main import cli as group
from storyboard.emulator.chat.answers import names
from storyboard.emulator.server import EmulatorServer
from tests.fixtures.breakdown import KEY_ENV, chat_base, requests

DATA = Path(__file__).resolve().parents[1] / "data" / "breakdown"
# shape: (tale, episodes its outline's beats carried, more: cut on its sentences)
SHAPES = {
    "chapters": ("rumpelstiltskin-three.md", 5, 9),
    "no headings": ("fox-and-crow.md", 7, 12),
    "one sentence a line": ("ugly-duckling-lines.md", 8, 30),
    "dialogue-heavy": ("little-red-cap.md", 12, 25),
    "a narrator": ("tell-tale-heart.md", 4, 12),
}
OPENS = re.compile(r"(?:^|[.!?]\s+|[\"“]\s*)([A-Z][a-z]+)\b", re.M)


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "sk-test-breakdown")


def breakdown(emulator: EmulatorServer, source: Path, series: Path, episodes: int
              ) -> tuple[int, str, int]:
    """The exit code, what was said, and the requests the emulator answered."""
    before = requests(emulator)
    done = CliRunner().invoke(group, ["breakdown", str(source), str(series), "--base-url",
                                      chat_base(emulator), "--api-key-env", KEY_ENV, "--yes",
                                      "--episodes", str(episodes)])
    return done.exit_code, done.output + done.stderr, requests(emulator) - before


def written(series: Path) -> int:
    return len(list((series / "episodes").glob("*.yaml")))


def openers(text: str) -> set[str]:
    """The words that open a sentence in ``text`` and that it also writes in lower case, not
    after ``the`` or ``a`` (a kind of person, ``the wolf``, is a character by what it is)."""
    lower = set(re.findall(r"\b[a-z]+\b", text))
    kinds = set(re.findall(r"\b(?:the|a|an)\s+([a-z]+)\b", text, re.I))
    return {w.lower() for w in OPENS.findall(text)} & lower - {k.lower() for k in kinds}


def seconds_of(series: Path) -> list[int]:
    """Each written episode's seconds: its shots' durations added up."""
    return [sum(shot["duration"] for shot in yaml.safe_load(path.read_text("utf-8"))["shots"])
            for path in sorted((series / "episodes").glob("*.yaml"))]


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_each_shape_of_story_is_as_many_episodes_as_asked_each_of_the_skeletons_seconds(
        chat_emulator: EmulatorServer, tmp_path: Path, shape: str) -> None:
    """N of N episodes, each of K shots of d seconds: at the count the old outline's beats
    carried, and past it (the Ugly Duckling pasted one sentence a line: 30 episodes, where the
    old season wrote 29 and exited 1), the story cut finer instead."""
    tale, episodes, more = SHAPES[shape]
    made = skeleton.shape(None)
    assert isinstance(made, skeleton.Shape)
    for count in (episodes, more):
        series = tmp_path / f"series-{count}"
        code, said, _sent = breakdown(chat_emulator, DATA / tale, series, count)
        assert code == 0 and "error" not in said, said
        assert written(series) == count
        assert seconds_of(series) == [made.total] * count
        season = yaml.safe_load((series / "season.yaml").read_text("utf-8"))["season"]
        assert [e["episode"] for e in season] == list(range(1, count + 1))
        done = CliRunner().invoke(group, ["check", "--json", str(series)])
        assert done.exit_code == 0 and yaml.safe_load(done.output) == [], done.output
    cast = yaml.safe_load((series / "storyboard.yaml").read_text("utf-8"))["characters"]
    text = (DATA / tale).read_text("utf-8")
    assert not openers(text) & {k.replace("_", " ") for k in cast}, sorted(cast)


def test_an_episode_of_seconds_no_shots_make_is_refused_before_any_request(
        chat_emulator: EmulatorServer, tmp_path: Path) -> None:
    before = requests(chat_emulator)
    done = CliRunner().invoke(group, [
        "breakdown", str(DATA / "fox-and-crow.md"), str(tmp_path / "series"), "--base-url",
        chat_base(chat_emulator), "--api-key-env", KEY_ENV, "--yes", "--episodes", "2",
        "--episode-seconds", "1"])
    said = done.output + done.stderr
    assert done.exit_code == 1 and requests(chat_emulator) == before, said
    assert "an episode of 1 s cannot be filmed in shots of 2 to 15 s within 20% of it" in said


def test_a_story_of_fewer_sentences_than_episodes_is_refused_before_any_request(
        chat_emulator: EmulatorServer, tmp_path: Path) -> None:
    source = tmp_path / "fable.md"
    source.write_text("A Wolf met a Lamb at a brook.\nThe Lamb ran.\n\nThe Wolf said: 'Stop!' "
                      "The Lamb did not.\n\n# The End\n\nAnd that was all\n", encoding="utf-8")
    assert sentences(read_story(source)) == 5
    code, said, sent = breakdown(chat_emulator, source, tmp_path / "series", 8)
    assert (code, sent) == (1, 0), said
    assert "the story has 5 sentences: at most 5 episodes, and 8 were asked" in said, said
    assert "Traceback" not in said and not (tmp_path / "series" / "episodes").exists()
    code, said, sent = breakdown(chat_emulator, source, tmp_path / "series", 5)
    assert sent > 0 and "the story has" not in said, said  # five may be tried


def test_the_stand_in_never_casts_a_word_that_opens_sentences_and_is_written_in_lower_case(
        ) -> None:
    text = ('Could he see it? Sam stood. "I could not," said Sam. Are they gone? "We are '
            'here," said Sam. Do you know? "I do," said Sam. Will went home.')
    people, _ = names(text)
    assert people == ["Sam", "Will"]


def test_the_stand_ins_own_answers_are_taken_as_given_on_every_tale(
        chat_emulator: EmulatorServer, tmp_path: Path) -> None:
    """Streamed (as the free trial asks), no answer of the stand-in reads as a loop (its cast
    said one sentence for several people: cut, read as meant or refused), none is sent back."""
    wrong = {}
    for tale in sorted(p for p in DATA.glob("*.md") if p.name != "README.md"):
        code, said, _sent = breakdown(chat_emulator, tale, tmp_path / tale.stem, 3)
        if code != 0 or "read as meant" in said or "sent back to the model" in said:
            wrong[tale.name] = said
    assert not wrong, wrong


@pytest.mark.parametrize(("written", "wanted", "reasons", "said"), [
    (4, 4, [], None), (5, 4, ["x"], None),
    (3, 4, ["episode 2 (The Storm) got no shot from its answers"],
     "3 of 4 episodes written: episode 2 (The Storm) got no shot from its answers. The series is "
     "not the season asked: ask for fewer episodes (--episodes), or edit season.yaml and run "
     "again"),
    (0, 1, ["a", "b", "a"], "0 of 1 episode written: a; b. The series"),  # each reason once
    (2, 3, [], "2 of 3 episodes written: no shot was written for the others. The series")])
def test_a_season_that_wrote_fewer_episodes_says_how_many_of_how_many_and_why(
        written: int, wanted: int, reasons: list[str], said: str | None) -> None:
    """``skeleton.shortfall``: the run's last word on a season short of episodes (issue 95: no
    test reached it; the hostile-answer tests reach it through a run too)."""
    found = skeleton.shortfall(written, wanted, reasons)
    assert found == said if said is None or said.endswith("again") else \
        found is not None and found.startswith(said)
