"""``check`` holds a written series' lines to who the story says says them (issue 98, item 2):
a line edited into another character's mouth is a warning at its ``say:`` key naming the story's
line and speaker; a line whose speaker the story does not name is not judged; a series the
breakdown did not write is not read. And the free stand-in gives a line to whom a send-back says.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from storyboard.breakdown.linecheck import line_problems
from storyboard.breakdown.pipeline import Options, breakdown
from storyboard.breakdown.source import Chapter
from storyboard.breakdown.stages.episode import newest
from storyboard.breakdown.stages.speakers import misgiven
from storyboard.cli.main import cli
from storyboard.emulator.chat.answers import heeded
from storyboard.emulator.server import EmulatorServer
from tests.fixtures.breakdown import KEY_ENV, chat_base

STAIRS = """\
# The Stairs

Mia stood at the top of the stairs and looked down at Sam.

"Are you coming up?" said Mia.

Sam put down his cup. "In a minute," said Sam. "The kettle is on."

"Then bring me one too," she said.
"""


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "sk-test-breakdown")


def written(emulator: EmulatorServer, folder: Path) -> Path:
    source, series = folder / "stairs.md", folder / "series"
    source.write_text(STAIRS, encoding="utf-8")
    report = breakdown(source, series, Options(base_url=chat_base(emulator), key_env=KEY_ENV,
                                               yes=True, stream="false"))
    assert report.problems == [], report.problems
    return series


def test_a_line_given_to_another_than_the_storys_speaker_is_said_at_its_line(
        chat_emulator: EmulatorServer, tmp_path: Path) -> None:
    series = written(chat_emulator, tmp_path)
    assert line_problems(series) == []  # as the breakdown wrote it: each line its speaker's
    episode = next((series / "episodes").glob("*.yaml"))
    text = episode.read_text("utf-8")
    assert 'say: {mia: "Are you coming up?"}' in text, text
    episode.write_text(text.replace('say: {mia: "Are you coming up?"}',
                                    'say: {sam: "Are you coming up?"}'), encoding="utf-8")
    done = CliRunner().invoke(cli, ["check", "--json", str(series)])
    found = [d for d in json.loads(done.output) if d["code"] == "line-speaker"]
    row = next(n for n, line in enumerate(text.splitlines(), 1) if "Are you coming up?" in line)
    assert [(d["severity"], d["line"], d["message"]) for d in found] == [(
        "warning", row, "the story gives this line to Mia (stairs.md:5: 'Are you coming up?'), "
        "and here sam says it; expected the story's speaker: give it to mia")], done.output
    assert done.exit_code == 0  # a warning: the render is not refused
    (series / ".storyboard" / "breakdown" / "last.json").unlink()  # not the breakdown's now
    assert line_problems(series) == []


def test_a_line_whose_speaker_the_story_does_not_name_is_not_judged(
        chat_emulator: EmulatorServer, tmp_path: Path) -> None:
    series = written(chat_emulator, tmp_path)
    episode = next((series / "episodes").glob("*.yaml"))
    text = episode.read_text("utf-8")
    scene = '        action: "wide shot, static: she said."\n'
    assert scene in text, text
    said = '        say: {sam: "Then bring me one too,"}   # stairs.md: line 9\n'
    episode.write_text(text.replace(scene, scene + said), encoding="utf-8")
    assert line_problems(series) == []  # "she said": the story names no one (it is Mia's)
    episode.write_text(text.replace(scene, scene + said.replace("line 9", "line 5").replace(
        "Then bring me one too,", "Are you coming up?")), encoding="utf-8")
    assert [d.code for d in line_problems(series)] == ["line-speaker"]  # the same, judged


def test_a_speakers_two_lines_written_joined_are_each_judged(
        chat_emulator: EmulatorServer, tmp_path: Path) -> None:
    """A scene's ``say:`` holds one line a speaker: the writer joins a speaker's two lines into
    one, which the story holds nowhere whole. Each of its stretches is judged at its own line."""
    series = written(chat_emulator, tmp_path)
    episode = next((series / "episodes").glob("*.yaml"))
    text = episode.read_text("utf-8")
    scene = '        action: "wide shot, static: she said."\n'
    assert scene in text, text

    def judged(say: str, line: int) -> list[str]:
        episode.write_text(text.replace(scene, f"{scene}        say: {{{say}}}   # stairs.md: "
                                                f"line {line}\n"), encoding="utf-8")
        return [d.message for d in line_problems(series)]

    assert judged('mia: "Are you coming up? In a minute,"', 5) == [
        "the story gives this line to Sam (stairs.md:7: 'In a minute,'), and here mia says it; "
        "expected the story's speaker: give it to sam"]  # its second stretch, Sam's
    assert judged('mia: "In a minute, Then bring me one too,"', 7) == [
        "the story gives this line to Sam (stairs.md:7: 'In a minute,'), and here mia says it; "
        "expected the story's speaker: give it to sam"]
    assert judged('sam: "In a minute, Then bring me one too,"', 7) == []  # "she said": unjudged
    assert judged('mia: "Are you coming up? Then bring me one too,"', 5) == []
    assert judged('sam: "Are you coming up? In a minute,"', 5)[0].startswith(
        "the story gives this line to Mia (stairs.md:5: 'Are you coming up?')")


def test_the_stand_in_gives_a_line_to_whom_a_send_back_says() -> None:
    answer = {"camera": "close", "cast": ["Mia"], "scenes": [
        {"seconds": 3, "action": "Mia speaks.",
         "lines": [{"speaker": "Mia", "quote": "In a minute"}]}]}
    back = [{"role": "system", "content": "..."}, {"role": "user", "content": "{}"},
            {"role": "assistant", "content": json.dumps(answer)},
            {"role": "user", "content": "Your answer has these problems; answer again:\n- "
             "scenes[0].lines[0].speaker: 'Mia', but the story says Sam says 'In a minute': "
             "give the line to Sam"}]
    assert heeded(answer, back)["scenes"][0]["lines"] == [{"speaker": "Sam",
                                                           "quote": "In a minute"}]


def test_a_shots_speaker_is_read_around_its_lines_in_a_series_asked_by_rules_2() -> None:
    """The sentence naming the speaker may start before the shot's own lines: a series asked by
    rules 2 reads it in the episode's lines around them; one begun before, in the shot's alone
    (as its kept answers were judged: nothing is sent back that was not then)."""
    told = ("Mr. McGregor was planting cabbages, but he jumped up and ran after Peter, waving a",
            "rake and calling out,", "'Stop thief!'")
    around = Chapter("peter.txt", 1, "One", 1, told)
    answer = {"shots": [{"scenes": [{"lines": [{"speaker": "Peter", "quote": "Stop thief!"}]}]}]}
    for rules, found in ((2, ["shots[0].scenes[0].lines[0].speaker: 'Peter', but the story says "
                              "Mr. McGregor says 'Stop thief!': give the line to Mr. McGregor"]),
                         (1, [])):
        call = Chapter("peter.txt", 1, "One", 2, told[1:], rules=rules)
        assert misgiven(answer, call, ["Peter", "Mr. McGregor"], around) == found, rules


def test_a_line_is_never_given_to_a_place_or_prop_named_as_its_speaker(
        chat_emulator: EmulatorServer, tmp_path: Path) -> None:
    """The Velveteen Rabbit on llama-server: the story's "said the little Rabbit" is the
    Velveteen Rabbit, and the cast held a prop "the little rabbit"; a line's speaker is only
    ever a character, so no warning says to give the line to the prop."""
    series = written(chat_emulator, tmp_path)
    episode = next((series / "episodes").glob("*.yaml"))
    text = episode.read_text("utf-8")
    episode.write_text(text.replace('say: {mia: "Are you coming up?"}',
                                    'say: {sam: "Are you coming up?"}'), encoding="utf-8")
    assert len(line_problems(series)) == 1  # Mia, a character: said
    path = series / "storyboard.yaml"
    cast = path.read_text("utf-8")
    path.write_text(cast.replace("characters:\n", "characters:\n  the_mia_statue: {image: {"
                                 "generate: \"a stone statue\", kind: \"prop\"}, description: "
                                 "\"Mia\"}\n", 1).replace("  mia:", "  doll:", 1).replace(
                        'description: "Mia"}   # character', 'description: "a doll"}   # c'),
                    encoding="utf-8")
    assert "the_mia_statue" in path.read_text("utf-8")
    assert line_problems(series) == []  # only a prop is named Mia now: not a speaker


def test_a_line_given_to_the_one_it_speaks_to_is_said_at_its_line(
        chat_emulator: EmulatorServer, tmp_path: Path) -> None:
    """Rules 4's other reading, in ``check`` too: The King of the Golden River's "No, it
    wouldn't, Gluck, my boy," said the little man, written as Gluck's by three kept runs."""
    series = written(chat_emulator, tmp_path)
    source = tmp_path / "stairs.md"
    source.write_text(STAIRS + '\n"Sam, the kettle!" cried the little voice.\n\n'
                      '"Up, Sam, up!" said Sam to himself.\n', encoding="utf-8")
    lines = source.read_text("utf-8").splitlines()
    kettle, up = lines.index('"Sam, the kettle!" cried the little voice.') + 1, len(lines)
    episode = next((series / "episodes").glob("*.yaml"))
    text = episode.read_text("utf-8")
    scene = '        action: "wide shot, static: she said."\n'
    assert scene in text, text
    said = (f'        say: {{sam: "Sam, the kettle!", mia: "Up, Sam, up!"}}   # stairs.md: line '
            f'{kettle}, line {up}\n')
    episode.write_text(text.replace(scene, scene + said), encoding="utf-8")
    found = [(d.message, d.code) for d in line_problems(series)]
    assert found == [(f"this line speaks to Sam (stairs.md:{kettle}: 'Sam, the kettle!'), and "
                      "here sam says it; expected another speaker: the story gives it to little "
                      "voice", "line-speaker"), (
        f"the story gives this line to Sam (stairs.md:{up}: 'Up, Sam, up!'), and here mia says "
        "it; expected the story's speaker: give it to sam", "line-speaker")]
    episode.write_text(text.replace(scene, scene + said.replace(
        '{sam: "Sam, the kettle!", mia: "Up, Sam, up!"}', '{mia: "Sam, the kettle!", sam: '
        '"Up, Sam, up!"}')), encoding="utf-8")
    assert line_problems(series) == []  # to Sam from another; Sam's own, as the story says


SCREAMED = ("And so they reached the wood, Buster Bear running as hard as ever he could, Sammy Jay "
            'flying just behind him and screaming, "Thief, thief, thief!"', "",
            '"Jim, darling," she cried.')


def shot_of(speaker: str, quote: str, cast: list[str]) -> dict[str, Any]:
    return {"shots": [{"from_line": 1, "to_line": 3, "camera": "wide shot", "cast": cast,
                       "scenes": [{"seconds": 6, "action": "Buster Bear runs.",
                                   "lines": [{"speaker": speaker, "quote": quote}]}]}]}


@pytest.mark.parametrize("rules", [1, 2, 3])
def test_a_series_asked_by_older_rules_writes_its_lines_as_todays_rules_read_them(
        rules: int) -> None:
    """Buster Bear and The Gift of the Magi, kept runs of rules 1 and 3: a cry whose subject is
    named mid-sentence and a line said to its own speaker, read so only by rules 4. The series
    keeps its rules for its calls; its lines are written as rules 4 reads them, each said."""
    call = Chapter("buster.txt", 1, "One", 1, SCREAMED, rules=rules)
    names = {"character": ["Buster Bear", "Sammy Jay", "Jim"], "place": [], "prop": []}
    two = ["Buster Bear", "Sammy Jay"]
    assert misgiven(shot_of("Buster Bear", "Thief, thief, thief!", two), call,
                    names["character"], call) == []  # not sent back: judged by its own rules
    given, said = newest(shot_of("Buster Bear", "Thief, thief, thief!", two), call, names, call)
    assert given == shot_of("Sammy Jay", "Thief, thief, thief!", two)
    assert said == ["scenes[0].lines[0].speaker: 'Buster Bear', but the story says Sammy Jay "
                    "says 'Thief, thief, thief!': given to Sammy Jay (as storyboard reads the "
                    "story today)"]
    left, said = newest(shot_of("Jim", "Jim, darling", two), call, names, call)
    assert left["shots"][0]["scenes"][0]["lines"] == [] and "the line is left out" in said[0]
    crowd = ["Buster Bear", "Mole", "Owl", "Fox", "Hare"]  # Sammy Jay would be a sixth
    full = shot_of("Buster Bear", "Thief, thief, thief!", crowd)
    left, said = newest(full, call, {**names, "character": [*names["character"], *crowd[1:]]},
                        call)  # given, the shot would show more than it may: never misgiven
    assert left["shots"][0]["scenes"][0]["lines"] == [] and left["shots"][0]["cast"] == crowd
    assert said == ["scenes[0].lines[0].speaker: 'Buster Bear', but the story says Sammy Jay "
                    "says 'Thief, thief, thief!': given to Sammy Jay, but the shot would then "
                    "show more than it may: the line is left out (as storyboard reads the story "
                    "today)"]
    today = replace(call, rules=4)  # asked by today's rules: sent back, never mended here
    assert misgiven(shot_of("Buster Bear", "Thief, thief, thief!", two), today,
                    names["character"], today)
    assert newest(shot_of("Jim", "Jim, darling", two), today, names, today)[1] == []
