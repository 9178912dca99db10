"""Checks that reuse what did not change: the parse cache on disk, and what a save re-parses.

A re-check must give exactly what a cold check gives (the same manifest, the same problems at
the same places); only the work differs. Series are written by the tests, media made by ffmpeg.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from storyboard.dialects.manifest import to_json
from storyboard.language.cache import incremental
from storyboard.language.compile import compile_lenient, compile_path
from storyboard.language.read.series import load_source
from tests.fixtures.compiler import MIA_HEAD, write_series

MakeMedia = Callable[..., Path]
EPISODES = """\
- episodes/*.yaml
"""


def episode(number: int, shots: int, word: str = "smiles") -> str:
    lines = [f"id: ep{number}", "shots:"]
    for s in range(shots):
        lines += [f"  - id: s{s}", f"    prompt: \"@mia {word} in take {s}\""]
    return "\n".join(lines) + "\n"


def make(tmp_path: Path, make_media: MakeMedia, episodes: int = 3, shots: int = 4) -> Path:
    root = write_series(tmp_path / "s", make_media, EPISODES, head=MIA_HEAD)
    (root / "episodes").mkdir()
    for number in range(episodes):
        (root / "episodes" / f"{number}.yaml").write_text(episode(number, shots))
    return root


def test_the_parse_cache_is_never_written_through_a_linked_state_folder(
        tmp_path: Path, make_media: MakeMedia) -> None:
    root = make(tmp_path, make_media)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (root / ".storyboard").mkdir()
    os.symlink(elsewhere, root / ".storyboard" / "parsed")
    first = to_json(compile_path(root))
    assert list(elsewhere.iterdir()) == []  # nothing written where the link leads
    (elsewhere / "planted.json").write_text("{}")
    assert to_json(compile_path(root)) == first
    os.unlink(root / ".storyboard" / "parsed")
    incremental.forget()  # a new process: nothing kept in memory
    compile_path(root)
    assert len(list((root / ".storyboard" / "parsed").iterdir())) == 4  # series + 3 episodes


def check(root: Path) -> tuple[str, list[str]]:
    """The manifest and every problem, as shown, from a check in this process."""
    manifest, problems = compile_lenient(load_source(root))
    return to_json(manifest), [p.format() for p in problems]


def cold(root: Path) -> tuple[str, list[str]]:
    """The same from a process that has kept nothing."""
    incremental.forget()
    return check(root)


@pytest.fixture
def counted() -> dict[str, int]:
    incremental.forget()
    return incremental.STATS


def episodes_of(counted: dict[str, int]) -> dict[str, int]:
    """The episodes' counts (resolved anew, taken as kept, compiled anew)."""
    return {name: counted[name] for name in ("resolved", "reused", "compiled")}


def test_an_edit_to_one_episode_resolves_that_episode_and_gives_what_a_cold_check_gives(
        tmp_path: Path, make_media: MakeMedia, counted: dict[str, int]) -> None:
    root = make(tmp_path, make_media, episodes=4)
    first = check(root)
    assert episodes_of(counted) == {"resolved": 4, "reused": 0, "compiled": 4}
    assert check(root) == first and counted["resolved"] == 4  # nothing changed: nothing redone
    (root / "episodes" / "2.yaml").write_text(episode(2, 4, word="frowns"))
    counted.update(resolved=0, reused=0, compiled=0)
    edited = check(root)
    assert episodes_of(counted) == {"resolved": 1, "reused": 3, "compiled": 1}
    assert edited != first and "frowns" in edited[0]
    assert edited == cold(root)


def test_an_edited_episode_lets_its_earlier_texts_go(
        tmp_path: Path, make_media: MakeMedia, counted: dict[str, int]) -> None:
    root = make(tmp_path, make_media, episodes=2)
    for word in ("frowns", "waves", "laughs", "smiles"):
        (root / "episodes" / "1.yaml").write_text(episode(1, 4, word=word))
        check(root)
    kept = [identity for identity in incremental._KEPT if identity[3].endswith("1.yaml")]
    assert len(kept) == 1 and len(incremental._KEPT) == 2  # one text per episode, the last
    counted.update(resolved=0, reused=0)
    check(root)
    assert episodes_of(counted)["resolved"] == 0  # the last text is still reused


def test_a_change_to_a_character_resolves_only_the_episodes_that_use_it(
        tmp_path: Path, make_media: MakeMedia, counted: dict[str, int]) -> None:
    root = write_series(tmp_path / "s", make_media, EPISODES)
    (root / "episodes").mkdir()
    (root / "episodes" / "a.yaml").write_text("id: a\nshots:\n  - prompt: \"@mia sings\"\n")
    (root / "episodes" / "b.yaml").write_text("id: b\nshots:\n  - prompt: \"@sam plays @guitar\"\n")
    check(root)
    series = root / "storyboard.yaml"
    series.write_text(series.read_text().replace("guitar: {image: media/guitar.png}",
                                                 "guitar: {image: media/mia.png}"))
    counted.update(resolved=0, reused=0, compiled=0)
    changed = check(root)
    assert episodes_of(counted) == {"resolved": 1, "reused": 1, "compiled": 1}  # b only
    assert changed == cold(root)


def test_new_bytes_in_a_media_file_recompile_the_episodes_naming_it(
        tmp_path: Path, make_media: MakeMedia, counted: dict[str, int]) -> None:
    root = make(tmp_path, make_media, episodes=2)
    first = check(root)
    make_media("image", root / "media" / "mia.png", width=320, height=320, color="green")
    counted.update(resolved=0, reused=0, compiled=0)
    again = check(root)
    assert episodes_of(counted) == {"resolved": 0, "reused": 2, "compiled": 2}
    assert again != first and again == cold(root)


def test_problems_stay_where_a_cold_check_puts_them(
        tmp_path: Path, make_media: MakeMedia, counted: dict[str, int],
        monkeypatch: pytest.MonkeyPatch) -> None:
    root = make(tmp_path, make_media, episodes=3)
    (root / "episodes" / "1.yaml").write_text(
        "id: ep1\nshots:\n  - prompt: \"@mai waves\"\n    transition: crossfade\n")
    first = check(root)
    assert any("unknown character @mai" in p for p in first[1])
    series = root / "storyboard.yaml"  # lines move in the series file: its problems move too
    series.write_text("# a comment\n" + series.read_text().replace(
        "characters:\n", "characters:\n  bob: {image: media/mia.png}\n"))
    counted.update(resolved=0, reused=0, compiled=0)
    moved = check(root)
    assert counted["resolved"] == 1  # the episode with a problem: every name is in its message
    assert moved == cold(root) and any("@bob" in p for p in moved[1])
    monkeypatch.chdir(root)  # problems are shown relative to the working folder
    assert check(root) == cold(root)


CAST_HEAD = """\
storyboard: 1
title: Cast
characters:
  mia: {image: {generate: "a barista", refs: [media/ref.png]}}
voices:
  mia-voice: {design: "a warm voice", sample: "Morning!"}
"""
SPOKEN = """\
- id: ep01
  shots:
    - {id: a, prompt: "@mia smiles"}
    - id: b
      model: wan2.7-i2v
      first_frame: media/ref.png
      prompt: "she speaks"
      driving_audio: {say: "Good morning to you all, and welcome back.", voice: mia-voice}
"""


def test_a_kept_episode_keeps_its_spoken_lines_and_follows_the_casts_references(
        tmp_path: Path, make_media: MakeMedia, counted: dict[str, int]) -> None:
    root = tmp_path / "c"
    make_media("image", root / "media" / "ref.png", width=320, height=320)
    (root / "storyboard.yaml").write_text(
        CAST_HEAD + "episodes:\n" + "\n".join("  " + line for line in SPOKEN.splitlines()) + "\n")
    first = check(root)
    assert '"id": "lines/ep01/b"' in first[0]
    assert check(root) == first and counted["reused"] == 1  # the line is still there
    make_media("image", root / "media" / "ref.png", width=320, height=320, color="green")
    again = check(root)  # the sheet's reference changed: so do the shots using the sheet
    assert again == cold(root) and again[0] != first[0]


def test_media_facts_are_never_read_or_written_through_a_linked_state_folder(
        tmp_path: Path, make_media: MakeMedia) -> None:
    root = make(tmp_path, make_media)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.symlink(elsewhere, root / ".storyboard")
    first = to_json(compile_path(root))
    assert not (elsewhere / "media.json").exists()  # nothing written where the link leads
    planted = {"version": 3, "files": {str(root / "media" / "mia.png"): {"size": 0}}}
    (elsewhere / "media.json").write_text(json.dumps(planted))
    incremental.forget()
    assert to_json(compile_path(root)) == first  # and nothing read from there
