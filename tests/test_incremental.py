"""Checks that reuse what did not change: the parse cache on disk, and what a save re-parses.

A re-check must give exactly what a cold check gives (the same manifest, the same problems at
the same places); only the work differs. Series are written by the tests, media made by ffmpeg.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from storyboard.dialects.manifest import to_json
from storyboard.language.compile import compile_path
from tests.compiler_fixtures import MIA_HEAD, write_series

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
    compile_path(root)
    assert len(list((root / ".storyboard" / "parsed").iterdir())) == 4  # series + 3 episodes
