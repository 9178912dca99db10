"""A version's lines into speech assets (issue 68.4): each in its speaker's designed voice, hashed
over its words and language (the same words made once, a hand edit a new line), every problem at
its line of the version file; a line over its window said with the seconds over, never guessed."""

from __future__ import annotations

from pathlib import Path

import pytest

from storyboard.errors import ProblemsFound
from storyboard.language.request import (
    ASSET_SUFFIX,
    CompiledEpisode,
    CompiledShot,
    ShotRequest,
)
from storyboard.language.versions.linefit import fit_warning, room, said
from storyboard.language.versions.speech import version_line, version_lines
from storyboard.language.versions.versionfile import Version, VersionLine, read_version

VOICES = {"mia": ("voices/mia-voice", "a" * 64)}
REQUEST = ShotRequest(model="m", prompt="p", media=(), resolution="720P", ratio="16:9",
                      duration=4, prompt_extend=None, watermark=False)
EPISODES = {"ep01": CompiledEpisode("ep01", "One", [CompiledShot("s", "ep01", "hello", REQUEST,
                                                                 "h")])}


def line(text: str = "Hola.", *, shot: str = "hello", n: int = 1, start: float = 1.0,
         end: float = 3.0, speaker: str = "mia", route: str = "voice_reference") -> VersionLine:
    return VersionLine(shot, n, speaker, start, end, route, "Hello.", text)


def test_a_line_is_spoken_in_its_speakers_designed_voice_in_the_versions_language() -> None:
    made = version_line("s", "es", "ep01", line(), "voices/mia-voice", "a" * 64, "qwen3-tts-vd")
    asset = made.asset.asset
    assert asset is not None and (asset.kind, asset.language, asset.voice, asset.prompt) == (
        "speech", "es", "voices/mia-voice", "Hola.")
    assert made.asset_id == "lines/es/ep01/hello/1"
    assert made.asset.needs == {"voices/mia-voice": "a" * 64}
    assert made.asset.hash.endswith(ASSET_SUFFIX["speech"])


def test_the_hash_holds_the_words_the_language_and_the_voice_not_the_place() -> None:
    def hashed(text: str = "Hola.", lang: str = "es", voice: str = "a" * 64,
               shot: str = "hello") -> str:
        return version_line("s", lang, "ep01", line(text, shot=shot), "voices/mia-voice", voice,
                            "qwen3-tts-vd").asset.hash
    assert hashed() == hashed(shot="other")  # the same words in the same voice: made once
    assert len({hashed(), hashed("Hola, hola."), hashed(lang="pt"), hashed(voice="b" * 64)}) == 4


VERSION = """\
language: es
source: en
episode: ep01
lines:
  - shot: nowhere
    n: 1
    speaker: mia
    at: 1-3s
    route: voice_reference
    source: "Hello."
    text: "Hola."
  - shot: hello
    n: 1
    speaker: sam
    at: 1-3s
    route: none
    source: "Hi."
    text: "Buenas."
"""


def test_every_problem_of_a_version_is_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "ep01.yaml"
    path.write_text(VERSION, encoding="utf-8")
    version = read_version(path, tmp_path)
    with pytest.raises(ProblemsFound) as caught:
        version_lines("s", "es", [version], EPISODES, VOICES, "qwen3-tts-vd")
    found = [(d.span, d.message) for d in caught.value.diagnostics]
    assert len(found) == 2
    assert all(span is not None and Path(span.file).name == "ep01.yaml" for span, _ in found)
    assert found[0][0] is not None and found[0][0].line == 5
    assert "no shot 'nowhere': expected one of hello" in found[0][1]
    assert found[1][0] is not None and found[1][0].line == 12
    assert "sam has no designed voice" in found[1][1]


def test_a_line_with_no_words_is_refused_at_its_line() -> None:
    version = Version("es", "en", "ep01", (line(""),))
    with pytest.raises(ProblemsFound) as caught:
        version_lines("s", "es", [version], EPISODES, VOICES, "qwen3-tts-vd")
    assert "has no es words yet" in caught.value.diagnostics[0].message


def test_a_line_that_fits_or_is_not_made_says_nothing() -> None:
    assert fit_warning(line(), 1.9, 2.0, space=3.0) is None
    assert fit_warning(line(), None, 2.0, space=3.0) is None  # not made: never guessed


def test_a_line_over_its_window_is_said_with_the_seconds_over_and_what_becomes_of_it() -> None:
    runs = fit_warning(line(), 2.75, 2.0, space=3.0)
    assert runs is not None and "0.75 s over its 2 s window" in runs.message
    assert runs.message.endswith("it runs into the silence after it (room 3 s)")
    assert said(line(), runs).startswith("hello #1: this line lasts 2.75 s")  # no place: its shot
    cut = fit_warning(line(), 3.5, 2.0, space=3.0)
    assert cut is not None and "1.50 s over" in cut.message and "it is cut at 3 s" in cut.message


def test_a_lines_room_ends_at_the_next_line_of_its_shot_or_the_shots_end() -> None:
    first, second = line(start=0.0, end=2.0), line(n=2, start=3.0, end=4.0)
    other = line(shot="other", start=2.5, end=3.0)
    assert room(first, [first, second, other], 6.0) == 3.0
    assert room(second, [first, second, other], 6.0) == 3.0  # to the shot's end
