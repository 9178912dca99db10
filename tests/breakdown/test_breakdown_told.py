"""A shot whose action tells what its lines do not is sent back (issue 98, item 7), in a series
asked by rules 3: ``questions.told`` reads each scene's action word by word against the shot's
lines; the free stand-in's ``invented`` fault pads each scene as a small model does. A series
begun by rules 2 is judged as it was (its answers stored, asked again they would be paid again)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from storyboard.breakdown.pipeline import Options, Report, breakdown
from storyboard.breakdown.questions.told import problems, spent, stem, untold
from storyboard.breakdown.source import Chapter
from storyboard.breakdown.state.answerstore import FOLDER, QUESTIONS
from storyboard.emulator.chat.faults import INVENTED
from storyboard.emulator.server import EmulatorServer
from tests.fixtures.breakdown import KEY_ENV, chat_base, requests

LINES = ("Peter ran straight away to Mr. McGregor's garden, and squeezed under the gate!",
         "First he ate some lettuces and some French beans; and then he ate some radishes.")
CALL = Chapter("peter.md", 1, "One", 5, LINES, rules=3)
CAST = ["peter", "mr_mcgregor", "garden"]
STORY = """\
# The Garden

Peter ran straight away to Mr. McGregor's garden, and squeezed under the gate!

First he ate some lettuces and some French beans; and then he ate some radishes.

Mr. McGregor was on his hands and knees planting out young cabbages.

"Stop thief!" shouted Mr. McGregor, and he ran after Peter with a rake.
"""


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "sk-test-breakdown")


def test_an_action_is_read_word_by_word_against_the_shots_lines() -> None:
    assert stem("squeezed") == stem("squeezes") == "squeez" and stem("stopped") == "stop"
    told = "@peter squeezes under the gate of the garden and eats the radishes"
    assert untold(told, CALL, CAST) == []  # each content word in the lines, by its stem
    padded = "@peter plays with his wheelbarrow while his mother is cooking dinner"
    assert untold(padded, CALL, CAST) == ["plays", "wheelbarrow", "mother", "cooking", "dinner"]
    assert untold("@peter squeezes under the gate, smiling", CALL, CAST) == []  # one: too few
    many = "@peter squeezes under the gate among lettuces, beans and radishes, grinning widely"
    assert untold(many, CALL, CAST) == []  # two of seven: under a third
    assert untold("@mr_mcgregor hurries along", CALL, CAST) == ["hurries", "along"]
    assert untold("@peter squeezes under the gate as the camera pans, then pulls back", CALL,
                  CAST) == []  # a camera move's words are the camera's
    furniture = Chapter("peter.md", 1, "One", 9, ("[Illustration]", "", "(pause)", "_____"),
                        rules=3)
    assert untold("A moment passes.", furniture, CAST) == []  # no story to keep to
    chinese = Chapter("deng.md", 1, "One", 1, ("米娅爬上灯塔的楼梯。风在外面呼啸。",), rules=3)
    assert untold("米娅在雨中奔跑, 手里拿着一把红伞", chinese, CAST) == []  # no spaced words


def test_a_scene_telling_more_is_located_under_rules_3_alone() -> None:
    answer = {"shots": [{"scenes": [{"action": "@peter squeezes under the gate"},
                                    {"action": "@peter waves at a passing balloon seller"}]}]}
    assert problems(answer, CALL, CAST) == [
        "shots[0].scenes[1].action: tells what the shot's lines (5 to 6) do not ('waves', "
        "'passing', 'balloon', 'seller'): tell only what they say"]
    older = Chapter("peter.md", 1, "One", 5, LINES, rules=2)
    assert problems(answer, older, CAST) == []


def test_a_scene_telling_more_alone_is_sent_back_once_and_beside_another_problem_as_any() -> None:
    padded = "scenes[0].action: tells what the shot's lines (5 to 6) do not ('waves', 'balloon')"
    assert not spent([padded], 0) and spent([padded], 1) and spent([padded, padded], 2)
    wrong = "scenes[0].lines[0].speaker: 'sam', but the story says mia says it: give it to mia"
    assert not spent([padded, wrong], 1) and not spent([], 1)
    dense = "scenes[0]: too dense for the video model: 1.5 s for 2.5 load points"
    assert spent([padded, dense], 1) and not spent([dense], 1)  # density: never sent alone


def season(tmp_path: Path, emulator: EmulatorServer, rules: int | None = None
           ) -> tuple[Path, Report, int]:
    source, series = tmp_path / "garden.md", tmp_path / "series"
    tmp_path.mkdir(parents=True, exist_ok=True)
    source.write_text(STORY, encoding="utf-8")
    if rules is not None:  # a series begun by these rules
        (series / FOLDER).mkdir(parents=True)
        (series / FOLDER / QUESTIONS).write_text(f'{{"rules": {rules}}}\n', encoding="utf-8")
    options = Options(base_url=chat_base(emulator), key_env=KEY_ENV, yes=True, stream="false",
                      episodes=1, episode_seconds=12.0, ratio="9:16")
    before = requests(emulator)
    report = breakdown(source, series, options)
    return series, report, requests(emulator) - before


def actions(series: Path) -> list[str]:
    text = "\n".join(p.read_text("utf-8") for p in sorted((series / "episodes").glob("*.yaml")))
    return [line for line in text.splitlines() if "brass orchestra" in line]


def test_a_padded_shot_is_sent_back_once_and_one_still_padded_is_taken_with_a_warning(
        chat_emulator: EmulatorServer, tmp_path: Path) -> None:
    clean, report, asked = season(tmp_path / "clean", chat_emulator)
    assert report.problems == [] and not actions(clean)  # the stand-in tells its lines alone
    assert json.loads((clean / FOLDER / QUESTIONS).read_text("utf-8")) == {"rules": 4}
    shots = report.shots
    chat_emulator.script("chat:invented*200")  # every answer padded, send-backs too
    padded, report, asked_padded = season(tmp_path / "padded", chat_emulator)
    chat_emulator.clear_faults()
    assert report.problems == []
    warned = [str(w) for w in report.warnings if "tells what the shot's lines" in str(w)]
    scenes = actions(padded)  # written as given, each with its warning
    assert len(warned) == len(scenes) >= shots and all("'brass', 'orchestra'" in w for w in warned)
    assert asked_padded == asked + shots  # each shot sent back once, then taken


def test_a_series_begun_by_rules_2_is_not_sent_back_for_it(chat_emulator: EmulatorServer,
                                                           tmp_path: Path) -> None:
    _clean, report, asked = season(tmp_path / "clean", chat_emulator, rules=2)
    chat_emulator.script("chat:invented*200")
    padded, report, asked_padded = season(tmp_path / "padded", chat_emulator, rules=2)
    chat_emulator.clear_faults()
    assert asked_padded == asked and report.problems == []
    assert not any("tells what" in str(w) for w in report.warnings)
    assert len(actions(padded)) >= report.shots  # written as given


def test_a_padded_answer_the_send_back_mends_is_written_as_mended(
        chat_emulator: EmulatorServer, tmp_path: Path) -> None:
    _clean, report, asked = season(tmp_path / "clean", chat_emulator)
    first_shot = asked - report.shots  # the shots are asked last, one call each, in order
    chat_emulator.script(f"chat:ok*{first_shot}", "chat:invented")
    mended, report, asked_mended = season(tmp_path / "mended", chat_emulator)
    chat_emulator.clear_faults()
    assert report.problems == [] and asked_mended == asked + 1  # the first shot once again
    assert not actions(mended)
    assert not any("tells what" in str(w) for w in report.warnings)


def test_the_stand_in_pads_every_scene_it_is_asked_to() -> None:
    from storyboard.emulator.chat.faults import bent
    shot = {"camera": "wide", "cast": [], "scenes": [{"action": "Peter runs.", "lines": []}]}
    said, finish = bent(json.dumps(shot), "invented", {})
    assert finish == "stop" and json.loads(said)["scenes"][0]["action"] == "Peter runs" + \
        INVENTED + "."
