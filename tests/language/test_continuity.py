"""The continuity lints of ``check``: a description against a character's own words, words that
refer across shots, a cast member named without its reference; each a located warning, each
switched off by ``lint:``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import storyboard
from storyboard.cli import cli
from storyboard.errors import Diagnostic
from tests.fixtures.compiler import write_series

HEAD = """\
storyboard: 1
title: Lint
defaults: {resolution: 720P, ratio: "16:9", duration: 2}
characters:
  mia: {image: media/mia.png, description: barista with red hair in a green apron}
  sam: {video: media/sam.mp4, description: a regular in a brown coat}
  guitar: {image: media/guitar.png}
  old_cafe: {image: {generate: "a small cafe with a blue door", kind: place}}
"""

SHOTS = """\
- id: ep01
  shots:
    - {id: a, prompt: "@mia, a blonde woman in a yellow apron, waves at @sam and @old_cafe"}
    - {id: b, prompt: "@sam, a blonde man, nods at @mia with red hair in @guitar light"}
    - id: c
      scenes:
        - at: 0-2s
          action: "the same man tunes the guitar again for @mia"
    - {id: d, prompt: "@mia walks past the old cafe while @sam plays @guitar"}
"""


def lints(series: Path) -> list[Diagnostic]:
    return [d for d in storyboard.check(series) if "lint:" in d.message]


def where(found: list[Diagnostic], text: str) -> list[tuple[int, int]]:
    return [(d.span.line, d.span.col) for d in found if text in d.message and d.span]


@pytest.fixture
def series(tmp_path: Path, make_media: object) -> Path:
    return write_series(tmp_path / "lint", make_media, SHOTS, head=HEAD)  # type: ignore[arg-type]


def at(series: Path, needle: str, within: str = "") -> tuple[int, int]:
    """The 1-based line and column of ``needle`` on the first line holding ``within`` (or it)."""
    lines = (series / "storyboard.yaml").read_text("utf-8").splitlines()
    number = next(i for i, text in enumerate(lines, 1) if (within or needle) in text)
    return number, lines[number - 1].index(needle) + 1


def test_a_description_against_the_characters_own_words(series: Path) -> None:
    found = lints(series)
    said = [d.message for d in found if "own words say" in d.message]
    assert len(said) == 2, said
    assert "@mia with blonde hair here, but mia's own words say red hair" in said[0]
    assert "@mia with yellow apron here, but mia's own words say green apron" in said[1]
    shot_a = "id: a,"
    assert where(found, "own words say") == [at(series, "blonde", shot_a),
                                             at(series, "yellow", shot_a)]
    # "@sam, a blonde man" describes sam (no hair in his words); "@mia with red hair" agrees


def test_words_that_refer_across_shots(series: Path) -> None:
    found = lints(series)
    assert where(found, "refers to another shot") == [at(series, "the same man"),
                                                      at(series, "again", "the same man")]
    assert any(d.message.startswith("'the same man' refers to another shot") for d in found)


def test_a_cast_member_named_without_its_reference(series: Path) -> None:
    found = lints(series)
    unref = [((d.span.line, d.span.col), d.message.split(",")[0])
             for d in found if "names the cast's" in d.message and d.span]
    assert unref == [(at(series, "guitar", "the same man"), "'guitar' names the cast's @guitar"),
                     (at(series, "old cafe"), "'old cafe' names the cast's @old_cafe")]


@pytest.mark.parametrize(("setting", "gone"), [("contradiction", "own words say"),
                                               ("across_shots", "refers to another shot"),
                                               ("unreferenced", "names the cast's")])
def test_each_lint_is_switched_off_by_its_setting(tmp_path: Path, make_media: object,
                                                  setting: str, gone: str) -> None:
    head = HEAD + f"lint: {{{setting}: false}}\n"
    series = write_series(tmp_path / setting, make_media, SHOTS, head=head)  # type: ignore[arg-type]
    said = [d.message for d in lints(series)]
    assert not [m for m in said if gone in m]
    others = {"own words say", "refers to another shot", "names the cast's"} - {gone}
    assert all(any(o in m for m in said) for o in others)


def test_check_prints_them_as_located_warnings_and_a_bad_setting_is_an_error(
        series: Path, tmp_path: Path, make_media: object) -> None:
    result = CliRunner().invoke(cli, ["check", str(series)])
    assert result.exit_code == 0, result.output
    line, col = at(series, "again", "the same man")
    assert f"storyboard.yaml:{line}:{col}: warning: 'again'" in result.stderr
    bad = write_series(tmp_path / "bad", make_media, SHOTS,  # type: ignore[arg-type]
                       head=HEAD + "lint: {contradiction: no-thanks, spelling: false}\n")
    result = CliRunner().invoke(cli, ["check", str(bad)])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert f"storyboard.yaml:{at(bad, 'no-thanks')[0]}:" in result.stderr
    assert "true or false" in result.stderr
    assert "spelling" in result.stderr


def test_only_words_that_can_contradict_are_read_for_colours(
        series: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from storyboard.language.lint import continuity
    read: list[str] = []
    said = continuity._said_traits
    monkeypatch.setattr(continuity, "_said_traits",
                        lambda text: (read.append(text), said(text))[1])
    found = lints(series)
    assert len([d for d in found if "own words say" in d.message]) == 2  # mia's, as before
    # sam's words give a colour (his coat); guitar's and old_cafe's give none: their mentions'
    # words are never read ("in @guitar light" would be, were every mention read)
    assert read and not any("light" in text for text in read)


def test_check_shows_each_warning_and_other_commands_one_line(series: Path) -> None:
    """Issue 65.13: the lints at their lines, carets and all, are ``check``'s; ``plan`` (and
    ``--json``, whose stdout stays one JSON document) says them in one line on stderr."""
    count = len(storyboard.check(series))
    checked = CliRunner().invoke(cli, ["check", str(series)])
    assert checked.exit_code == 0, checked.output
    assert checked.stderr.count("^") == count and "refers to another shot" in checked.stderr
    for args in (["plan", str(series)], ["plan", str(series), "--json"],
                 ["compile", str(series)]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, result.output
        assert "^" not in result.stderr and "refers to another shot" not in result.stderr
        [line] = [x for x in result.stderr.splitlines() if "warning" in x]
        assert line.startswith(f"warning: {count} warning(s) in the series (")
        assert line.endswith(f"`storyboard check {series}` shows each")
        assert "2 lint-across_shots" in line and "2 lint-contradiction" in line, line
        if "--json" in args or "compile" in args:
            json.loads(result.stdout)  # nothing but the document


FULL_HEAD = """\
storyboard: 1
title: Full
defaults: {resolution: 720P, ratio: "16:9", duration: 2}
characters:
""" + "".join(f"  {n}: {{image: {{generate: \"{n}, a guest at the feast\"}}}}\n"
              for n in ("ann", "ben", "cat", "dan", "eve", "fay"))

FULL_SHOTS = """\
- id: ep01
  shots:
    - {id: full, prompt: "@ann, @ben, @cat, @dan, @eve and Fay sit down"}
    - {id: room, prompt: "@ann, @ben, @cat, @dan and Fay sit down"}
"""


def test_a_name_in_words_is_not_said_of_a_shot_at_its_models_reference_limit(
        tmp_path: Path, make_media: object) -> None:
    series = write_series(tmp_path / "full", make_media, FULL_SHOTS,  # type: ignore[arg-type]
                          head=FULL_HEAD)
    unref = [d.span.line for d in lints(series) if "names the cast's @fay" in d.message
             and d.span]
    lines = (series / "storyboard.yaml").read_text("utf-8").splitlines()
    # wan2.7-r2v takes 5: the full shot has no room for @fay; the other has, and is told
    assert unref == [next(i for i, t in enumerate(lines, 1) if "id: room" in t)]
