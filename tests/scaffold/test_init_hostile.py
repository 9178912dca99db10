"""`storyboard init` against hostile input: nothing from a screenplay becomes a key, every hostile
screenplay finishes quickly with a series that checks clean or a located error, and init never
writes through a link, under a file, or leaves its staging folder behind when killed.

Each screenplay here is made by the test; the property test draws line separators and control
characters into every field a screenplay (and its file name) gives the writer.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import storyboard
from storyboard.cli import cli
from storyboard.language.read.load import parse as load_yaml
from storyboard.scaffold.blueprint import Blueprint
from storyboard.scaffold.screenplay import blueprint_of
from tests.fixtures.compiler import settled

SEPARATORS = ["\n", "\r", "\r\n", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029",
              "\t", "\x00", "\x07", "\x1b", "\x7f", "\x9f", "\ufeff", "\ufffe", "\U000e0001"]
PAYLOADS = ["provider: {base_url: 'http://127.0.0.1:9/'}", "title: hijacked", "episodes: []",
            "- id: injected", "  api_key: x", "}", "# ", '"', "'", "{{ 7 * 7 }}", "@ruth", ": ", "x"]
SERIES_KEYS = {"storyboard", "title", "defaults", "voices", "characters", "episodes"}
CHARACTER_KEYS = {"image", "voice", "description"}
IMAGE_KEYS = {"generate", "kind"}
VOICE_KEYS = {"design", "sample", "language"}
EPISODE_KEYS = {"id", "title", "shots"}
SHOT_KEYS = {"id", "transition", "duration", "cast", "scenes"}
LOCATED = re.compile(r"^\S+:\d+:\d+: error: ", re.M)

hostile = st.lists(st.sampled_from(SEPARATORS + PAYLOADS), max_size=8).map("".join)
file_part = st.lists(st.sampled_from([s for s in SEPARATORS if s not in ("\x00",)] +
                                     ["provider: x", "title- y", "a"]), max_size=5).map("".join)


def run_init(*args: str | Path) -> Result:
    result = CliRunner().invoke(cli, ["init", *[str(a) for a in args]])  # as `storyboard init`
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    return result


def screenplay(fields: dict[str, str]) -> str:
    return (f"Title: {fields['title']}\nCredit: {fields['credit']}\nAuthor: {fields['author']}\n"
            f"Draft date: {fields['date']}\nNotes: {fields['notes']}\n\n"
            f"INT. {fields['place']} - DAY\n\n{fields['action']}\n\n"
            f"RUTH ({fields['age']}), {fields['intro']}\n\n"
            f"RUTH\n{fields['line']}\n\n[[{fields['note']}]]\n\n= {fields['synopsis']}\n\n"
            f"CUT TO:\n\n.{fields['forced']} #{fields['number']}#\n\nRuth waits.\n\n"
            f"@{fields['cue']}\nHello {fields['line']}.\n\n> {fields['transition']}\n\n"
            f"# {fields['section']}\n\nEXT. YARD\n\n~{fields['lyrics']}\n\n>{fields['centered']}<\n\n"
            f"ACT {fields['act']}\n\n")


def loaded(blueprint: Blueprint) -> dict[str, Any]:
    """Each file of ``blueprint`` read back, by PyYAML and by storyboard's own loader alike."""
    found: dict[str, Any] = {}
    for name, (_, text) in blueprint.files.items():
        data = yaml.safe_load(text)
        document, problems = load_yaml(text, Path(name))
        assert problems == [], (name, problems)
        assert document.data == data, name
        found[name] = data
    return found


def assert_own_keys(files: dict[str, Any]) -> None:
    series = files.pop("storyboard.yaml")
    assert set(series) <= SERIES_KEYS, set(series) - SERIES_KEYS
    for character in series["characters"].values():
        assert set(character) <= CHARACTER_KEYS, character
        assert set(character["image"]) <= IMAGE_KEYS and isinstance(
            character["image"]["generate"], str), character
        if "voice" in character:
            assert character["voice"] in series["voices"], character
    for voice in series.get("voices", {}).values():
        assert set(voice) <= VOICE_KEYS and {"design", "sample"} <= set(voice), voice
        assert isinstance(voice["design"], str) and isinstance(voice["sample"], str), voice
    for name, episode in files.items():
        assert set(episode) <= EPISODE_KEYS, (name, set(episode) - EPISODE_KEYS)
        for shot in episode["shots"]:
            assert set(shot) <= SHOT_KEYS, (name, shot)
            for scene in shot["scenes"]:
                assert set(scene) <= {"at", "action", "say"}, scene


FIELDS = ("title", "credit", "author", "date", "notes", "place", "action", "age", "intro", "line",
          "note",
          "synopsis", "forced", "number", "cue", "transition", "section", "lyrics", "centered", "act")


@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.fixed_dictionaries({name: hostile for name in FIELDS}), file_part)
def test_nothing_from_a_screenplay_becomes_a_key(tmp_path: Path, fields: dict[str, str],
                                                 name: str) -> None:
    folder = tmp_path / f"case-{time.monotonic_ns()}"
    folder.mkdir()
    path = folder / f"{name}play.fountain"
    path.write_bytes(screenplay(fields).encode("utf-8"))
    assert_own_keys(loaded(blueprint_of(path)))


def test_a_title_page_cannot_add_a_provider(tmp_path: Path) -> None:
    script = tmp_path / "evil\u2028provider: {base_url: x}.fountain"
    attack = "\u2028provider: {base_url: 'http://127.0.0.1:9/'}\x85title: other\u2029episodes: []"
    script.write_text(f"Title: Pilot\nCredit: by{attack}\nNotes: x{attack}\n\n"
                      f"INT. HALL{attack} - DAY\n\nRuth waits.{attack}\n", encoding="utf-8")
    result = run_init(tmp_path / "series", "--from", script)
    assert result.exit_code == 0, result.output
    text = (tmp_path / "series" / "storyboard.yaml").read_text(encoding="utf-8")
    assert "\u2028" not in text and "\x85" not in text and "\\u2028provider" in text
    main = yaml.safe_load(text)
    assert set(main) == SERIES_KEYS - {"voices"} and main["title"] == "Pilot"
    assert settled(storyboard.check(tmp_path / "series")) == []


# --- hostile screenplays: quick, and a series that checks clean or a located error ------------


def _spaces() -> str:
    pad = " " * 6000
    return (f"Title:{pad}x\n\nINT. HALL{pad}#1#\n\nRUTH{pad}(x\nHi.\n\nBOB{pad}x{pad}^\nYo.\n\n"
            f"Ruth{pad}waits{pad}- here.\n\n_a{pad}*b{pad}\n")


def _paragraph() -> str:
    return "INT. HALL - DAY\n\n" + " ".join(f"word{i % 97}" for i in range(12_000)) + "\n"


def _emphasis() -> str:
    return ("INT. HALL - DAY\n\n" + "*" * 20_000 + "x" + "*" * 20_000 + "\n\n" + " _a" * 20_000
            + "\n\n" + "**a " * 10_000 + "\n\nRUTH\n" + "_b_ " * 5_000 + "\n")


def _long_lines() -> str:
    heading = "EXT. " + "VERY LONG PLACE " * 3_000 + "- DAY"
    notes = "Notes: " + "n " * 100_000
    return f"Title: T\n{notes}\n\n{heading}\n\n.FORCED {'x' * 50_000}\n\nRUTH\n{'Hi. ' * 20_000}\n"


def _scenes(count: int = 100_000) -> str:
    return "EXT. YARD\n\n" * count


def _characters() -> str:
    names = ("".join(chr(65 + (i // 26 ** k) % 26) for k in range(3)) for i in range(5_000))
    return "INT. HALL - DAY\n\n" + "".join(f"CUE {name}\nHi.\n\n" for name in names)


def _notes() -> str:
    return "INT. HALL - DAY\n\n" + "Ruth [[n]] waits.\n" * 100_000


def _places(count: int = 1_000) -> str:
    return "".join(f"INT. ROOM {chr(65 + i % 26)}{i // 26} - DAY\n\nRuth waits.\n\n"
                   for i in range(count))


def _huge() -> str:
    return "INT. HALL - DAY\n\n" + "Ruth waits a while.\n" * 150_000


HOSTILE: dict[str, tuple[Callable[[], str], str]] = {  # kind: (screenplay, expected error or "")
    "spaces": (_spaces, ""), "paragraph": (_paragraph, ""), "emphasis": (_emphasis, ""),
    "long lines": (_long_lines, ""),
    "100,000 scenes": (_scenes, ":40001:1: error: more than 20,000 elements"),
    "3,001 scenes": (lambda: _scenes(3_001), ":6001:1: error: more than 3,000 scene headings"),
    "5,000 characters": (_characters, ":603:1: error: more than 200 characters"),
    "100,000 notes": (_notes, ":20003:6: error: more than 20,000 notes"),
    "1,000 places": (_places, ":1601:1: error: more than 400 places"),
    "3 MB": (_huge, ":1:1: error: the screenplay is over 2 MiB")}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", list(HOSTILE))
def test_a_hostile_screenplay_checks_clean_or_is_a_located_error(tmp_path: Path, kind: str) -> None:
    make, expected = HOSTILE[kind]
    script = tmp_path / "hostile.fountain"
    script.write_text(make(), encoding="utf-8")
    started = time.monotonic()
    result = run_init(tmp_path / "series", "--from", script)
    took = time.monotonic() - started
    if not expected:
        assert result.exit_code == 0, result.output[-2000:]
        assert settled(storyboard.check(tmp_path / "series")) == [], kind
        for episode in (tmp_path / "series" / "episodes").glob("*.yaml"):
            assert episode.stat().st_size < 1 << 20
    else:
        assert result.exit_code == 1 and LOCATED.search(result.output), result.output[-2000:]
        assert f"hostile.fountain{expected}" in result.output, result.output[-2000:]
        assert not (tmp_path / "series").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    assert took < 30, f"{kind} took {took:.1f} s"


# --- where init writes -----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["a link to an empty folder", "a dangling link", "under a file"])
def test_init_refuses_links_and_folders_under_files(tmp_path: Path, kind: str) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "file").write_text("x", encoding="utf-8")
    target = {"a link to an empty folder": tmp_path / "link", "a dangling link": tmp_path / "gone",
              "under a file": tmp_path / "file" / "series"}[kind]
    if kind == "a link to an empty folder":
        target.symlink_to(tmp_path / "empty")
    elif kind == "a dangling link":
        target.symlink_to(tmp_path / "nowhere")
    result = run_init(target)
    assert result.exit_code == 1
    expected = f"{tmp_path / 'file'} is a file" if kind == "under a file" else f"{target} is a link"
    assert f"error: {expected}" in result.output
    assert list((tmp_path / "empty").iterdir()) == [] and not (tmp_path / "nowhere").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["empty", "file", *([target.name] if kind != "under a file" else [])])


KILLED_MIDWAY = """
import os, signal, sys
from storyboard.cli import cli
from storyboard.scaffold import init
fill = init._fill
def midway(staging, blueprint):
    fill(staging, blueprint)  # the series is staged, not yet moved into place
    os.kill(os.getpid(), getattr(signal, sys.argv[1]))
init._fill = midway
cli(["init", *sys.argv[2:]])
"""


def _killed(tmp_path: Path, sig: str) -> int:
    """``storyboard init`` sent ``sig`` by the OS while its series is staged; its exit code."""
    script = tmp_path / "many.fountain"
    script.write_text(_places(150), encoding="utf-8")
    process = subprocess.run([sys.executable, "-c", KILLED_MIDWAY, sig, str(tmp_path / "s"),
                              "--from", str(script)], capture_output=True, timeout=60)
    return process.returncode


def test_a_killed_init_leaves_no_staging_folder(tmp_path: Path) -> None:
    assert _killed(tmp_path, "SIGTERM") == 128 + signal.SIGTERM
    assert sorted(p.name for p in tmp_path.iterdir()) == ["many.fountain"]


def test_the_next_init_removes_what_a_sigkill_left(tmp_path: Path) -> None:
    assert _killed(tmp_path, "SIGKILL") == -signal.SIGKILL
    left = list(tmp_path.glob(".s.init-*"))
    assert left, "a SIGKILL leaves the staging folder (nothing can clean up)"
    assert (left[0] / "storyboard.yaml").is_file()
    script = tmp_path / "many.fountain"
    script.write_text("\nINT. HALL - DAY\n\nRuth waits.\n", encoding="utf-8")
    result = run_init(tmp_path / "s", "--from", script)
    assert result.exit_code == 0, result.output
    assert all(not p.exists() for p in left)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["many.fountain", "s"]
