"""A series' languages and its version files (issue 68.1, 68.3, 68.4): the file's bytes, its reader's
errors at their lines, the lines that take a lip-sync pass, an episode's languages and a voice
refused at the line, and what ``check`` says of a version file against the series."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from storyboard.cli.main import cli
from storyboard.errors import ProblemsFound
from storyboard.language.compile import compile_lenient
from storyboard.language.read.series import load_source
from storyboard.language.versions.linefit import fit_warning
from storyboard.language.versions.versioncheck import MEASURED
from storyboard.language.versions.versionfile import (
    Version,
    VersionLine,
    is_hand_fixed,
    needs_pass,
    read_version,
    text_hash,
    version_path,
    version_text,
    write_version,
)
from tests.fixtures.versions import versioned

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "version-es-ep01.yaml"
MADE = "Por la jubilación."
VERSION = Version("es", "en", "ep01", (
    VersionLine("toast", 1, "mia", 0, 4, "lipsync", "To retirement.", MADE, text_hash(MADE)),
    VersionLine("later", 1, "narrator", 2, 5.5, "none", 'She said "never".\u2028', ""),
))


def test_the_file_is_the_same_bytes_each_time_and_reads_back(tmp_path: Path) -> None:
    path = version_path(tmp_path, "es", "ep01")
    assert path == tmp_path / "languages" / "es" / "ep01.yaml"
    write_version(path, VERSION)
    if os.environ.get("STORYBOARD_WRITE_GOLDEN"):
        GOLDEN.write_bytes(path.read_bytes())
    assert path.read_bytes() == GOLDEN.read_bytes()
    assert version_text(VERSION).encode() == GOLDEN.read_bytes()
    back = read_version(path, tmp_path)
    assert back == VERSION
    assert back.lines[0].span is not None and back.lines[0].span.line == 7


def test_a_hand_fix_and_the_lines_that_take_a_pass() -> None:
    made, narrated = VERSION.lines
    assert not is_hand_fixed(made) and not is_hand_fixed(narrated)  # no words yet: not a fix
    fixed = VersionLine("toast", 1, "mia", 0, 4, "lipsync", "To retirement.", "¡Salud!", made.made)
    assert is_hand_fixed(fixed)
    assert is_hand_fixed(VersionLine("toast", 1, "mia", 0, 4, "lipsync", "a", "b"))  # no made
    assert needs_pass(made) and not needs_pass(narrated)
    for route in ("voice_reference", "driving_audio"):
        assert needs_pass(VersionLine("s", 1, "mia", 0, 1, route, "a", "b"))


def test_a_line_over_its_window_warns_with_the_seconds_over() -> None:
    line = VERSION.lines[0]
    warned = fit_warning(line, 4.62, line.window)
    assert warned is not None and warned.severity == "warning" and warned.code == "version-fit"
    assert "4.62 s as made, 0.62 s over its 4 s window (0-4s)" in warned.message
    assert fit_warning(line, None, line.window) is None  # not measured: nothing guessed
    assert fit_warning(line, 4.02, line.window) is None


@pytest.mark.parametrize(("edit", "where", "said"), [
    ("    n: 1\n", "8:8", "expected n: the shot's line number"),
    ("    at: 0-4s\n", "10:9", "expected at as A-Bs with A < B"),
    ("    route: lipsync\n", "11:5", "unknown key 'rout'"),
])
def test_a_broken_file_is_refused_at_its_line(tmp_path: Path, edit: str, where: str,
                                              said: str) -> None:
    bad = {"    n: 1\n": "    n: 0\n", "    at: 0-4s\n": "    at: 4-1s\n",
           "    route: lipsync\n": "    rout: lipsync\n"}[edit]
    path = version_path(tmp_path, "es", "ep01")
    write_version(path, VERSION)
    path.write_text(path.read_text("utf-8").replace(edit, bad, 1), "utf-8")
    with pytest.raises(ProblemsFound) as found:
        read_version(path, tmp_path)
    assert any(f"ep01.yaml:{where}" in str(d.span) and said in d.message
               for d in found.value.diagnostics), found.value.format()


def _problems(root: Path) -> list[str]:
    _, found = compile_lenient(load_source(root))
    return [d.format() for d in found if d.severity == "error"]


def test_an_episode_may_narrow_the_languages_never_widen_them(
        tmp_path: Path, make_media: Callable[..., Path]) -> None:
    root = versioned(tmp_path, make_media)
    episode = root / "episodes" / "ep02.yaml"
    episode.write_text(episode.read_text().replace("id: ep02\n", "id: ep02\nlanguages: [en, fr]\n"))
    found = _problems(root)
    assert len(found) == 1 and "ep02.yaml:2:17: error: 'fr' is not one of the series' " \
                                "languages (en, es)" in found[0]
    episode.write_text(episode.read_text().replace("[en, fr]", "[en]"))
    assert _problems(root) == []


def test_a_voice_that_cannot_speak_a_version_is_refused_at_the_line(
        tmp_path: Path, make_media: Callable[..., Path]) -> None:
    root = versioned(tmp_path, make_media)
    series = root / "storyboard.yaml"
    series.write_text(series.read_text().replace("[en, es]", "[en, es, ar]"))
    found = _problems(root)
    assert len(found) == 2, found
    assert "storyboard.yaml:9:38: error: mia's designed voice 'mia-voice' cannot speak ar" \
        in found[0] and "zh, en, de, it, pt, es, ja, ko, fr, ru" in found[0]
    assert "narrator's designed voice 'old-voice' cannot speak ar" in found[1]
    # a recorded clip cannot say a version's words: what to declare instead
    make_media("voice", root / "media" / "clip.wav", seconds=2.0)
    series.write_text(series.read_text().replace("[en, es, ar]", "[en, pt-BR]").replace(
        "  old-voice: {design", "  clip: {audio: media/clip.wav}\n  old-voice: {design").replace(
        "voice: old-voice}", "voice: clip}"))
    found = _problems(root)
    assert len(found) == 1 and "narrator speaks in the pt-BR version(s) and has voice 'clip', " \
                                "a recorded clip" in found[0] and "voices: {NAME: {design" in found[0]


def _check(root: Path) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["check", str(root)])
    return result.exit_code, result.output


def test_check_says_a_stale_a_wordless_a_missing_and_a_long_line(
        tmp_path: Path, make_media: Callable[..., Path]) -> None:
    root = versioned(tmp_path, make_media)
    write_version(version_path(root, "es", "ep01"), Version("es", "en", "ep01", (
        VersionLine("toast", 1, "mia", 0, 4, "lipsync", "To retirement!", MADE, text_hash(MADE)),
        VersionLine("gone", 1, "mia", 0, 4, "lipsync", "Hi.", "Hola."),
    )))
    write_version(version_path(root, "es", "ep02"), Version("es", "en", "ep02", (
        VersionLine("morning", 1, "mia", 0, 3, "voice_reference", "Good morning, everyone.",
                    "Buenos días a todos."),)))
    code, said = _check(root)
    assert code == 0, said
    assert "ep01.yaml:7:5: warning: stale: the source line is now 'To retirement.'" in said
    assert "ep01.yaml:15:5: warning: shot gone has no line 1 in the series any more" in said
    assert "ep01.yaml:1:1: warning: 1 line(s) of episode ep01 have no entry (later 1)" in said
    assert "over its" not in said  # never measured: nothing guessed
    measured = root / MEASURED / "es" / "ep02.json"
    measured.parent.mkdir(parents=True)
    measured.write_text(json.dumps({"lines": [{"shot": "morning", "n": 1, "seconds": 3.9,
                                               "text": text_hash("Buenos días a todos.")}]}))
    code, said = _check(root)
    assert "ep02.yaml:7:5: warning: this line lasts 3.90 s as made, 0.90 s over its 3 s " \
           "window (0-3s)" in said
    assert "nothing is stretched; as it is, it is cut at 3 s (the next line or the shot's end)" \
        in said  # the 3 s shot leaves it no room: check says what render does
    path = version_path(root, "es", "ep02")
    path.write_text(path.read_text().replace("Buenos días a todos.", "Buenos días."))
    assert "over its" not in _check(root)[1]  # measured for other words: not these
    stray = version_path(root, "fr", "ep01")
    write_version(stray, Version("fr", "en", "ep01", ()))
    assert "fr/ep01.yaml:1:1: warning: this file is not used: no episode 'ep01' is versioned " \
           "into 'fr'" in _check(root)[1]
    path.write_text(path.read_text().replace("n: 1", "n: one"))
    code, said = _check(root)
    assert code == 1 and "ep02.yaml:8:8: error: expected n: the shot's line number" in said


def test_no_word_of_a_line_can_become_a_key_or_end_a_comment(tmp_path: Path) -> None:
    hostile = Version("es", "en", "ep01", (
        VersionLine("toast", 1, "mia: {x: 1}\n# y", 0, 4, "lip: sync", "a\u2028b: c\x85",
                    "}}{{ '\"\\\\ \t#", "x\ny"),))
    path = version_path(tmp_path, "es", "ep01")
    write_version(path, hostile)
    text = path.read_text("utf-8")
    assert len(text.splitlines()) == 2 + 4 + 8  # the header, the top keys, the line's 8 keys
    assert read_version(path, tmp_path) == hostile


def test_a_variation_may_narrow_the_languages_never_widen_them(
        tmp_path: Path, make_media: Callable[..., Path]) -> None:
    from storyboard.language.expansion.expand import expand
    root = versioned(tmp_path, make_media)
    series = root / "storyboard.yaml"
    series.write_text(series.read_text().replace("[en, es]", "[en, es, fr]") + (
        "variations:\n"
        "  matrix:\n"
        "    market: [{name: eu, languages: [en, fr]}, {name: world}]\n"
        "  include: [{market: us, languages: [en]}]\n"))
    found = {v.name: v.source.series.data["languages"] for v in expand(load_source(root)).variations}
    assert found == {"eu": ["en", "fr"], "world": ["en", "es", "fr"], "us-en": ["en"]}
    episode = root / "episodes" / "ep02.yaml"  # narrowed to es, a language eu leaves out:
    episode.write_text(episode.read_text().replace("id: ep02\n", "id: ep02\nlanguages: [en, es]\n"))
    assert _check(root)[0] == 0, _check(root)[1]  # held to the series' list, not eu's
    series.write_text(series.read_text().replace("languages: [en, fr]}", "languages: [fr]}"))
    found = {v.name: v.source.series.data["languages"] for v in expand(load_source(root)).variations}
    assert found["eu"] == ["en", "fr"]  # the original stays first: the cut is made in it
    series.write_text(series.read_text().replace("languages: [fr]}", "languages: [fr, de]}"))
    code, said = _check(root)
    assert code == 1 and "storyboard.yaml:15:41: error: 'de' is not one of the series' " \
        "languages (en, es, fr); expected a subset of them" in said, said
    series.write_text(series.read_text().replace("languages: [fr, de]}", "languages: fr}"))
    code, said = _check(root)
    assert code == 1 and "storyboard.yaml:15:36: error:" in said, said
    series.write_text(series.read_text().replace("languages: [en, es, fr]\n", ""))
    code, said = _check(root)
    assert code == 1 and "this variation narrows the series' languages, and the series " \
        "declares none" in said, said
