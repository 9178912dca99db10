"""The neutral form keeps mentions as tokens; the native output stays byte-for-byte what it was."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from storyboard.dialects.manifest import to_json
from storyboard.language.compile import compile_path
from storyboard.language.request import Mention, native_label, write
from storyboard.language.tokens import mention_tokens
from tests.fixtures.example import copy_example

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "coffee-shop"
GOLDEN = Path(__file__).resolve().parents[1] / "golden"


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_example(tmp_path_factory.mktemp("ex") / "coffee-shop",
                        ignore=shutil.ignore_patterns(".storyboard"))


@pytest.fixture(scope="module")
def example_with_boards(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_example(tmp_path_factory.mktemp("ex") / "coffee-shop", boards=True,
                        ignore=shutil.ignore_patterns(".storyboard"))


def test_native_compile_output_is_byte_for_byte_unchanged(example: Path) -> None:
    assert to_json(compile_path(example)) == (GOLDEN / "native-compile.json").read_text()


def test_shot_hashes_match_the_committed_lock_file(example_with_boards: Path) -> None:
    lock = json.loads((EXAMPLE / "storyboard.lock").read_text())["shots"]
    hashes = {f"{s.series}/{s.episode}/{s.id}": s.hash
              for s in compile_path(example_with_boards).shots()}
    assert hashes and hashes == {key: entry["hash"] for key, entry in lock.items()}


def test_every_prompt_is_its_tokens_in_the_native_style(example: Path) -> None:
    shots = compile_path(example).shots()
    for shot in shots:
        assert shot.request.tokens, shot.id
        assert write(shot.request.tokens, native_label) == shot.request.prompt
    mentions = {t for s in shots for t in s.request.tokens if isinstance(t, Mention)}
    assert {(m.kind, m.index) for m in mentions} >= {("image", 1), ("image", 2), ("video", 1)}
    squeezed = shots[0].request.prompt_in(lambda m: f"{m.kind.capitalize()}{m.index}")
    assert "Image1" in squeezed and "Image 1" not in squeezed


def test_mention_tokens_split_names_and_unescape_at_signs() -> None:
    mia = Mention("mia", "image", 2)
    tokens = mention_tokens("@mia mails a@@b.c to @nobody", {"mia": mia})
    assert tokens == [mia, " mails a@b.c to @nobody"]
    assert write(tokens, lambda m: f"<{m.name}>") == "<mia> mails a@b.c to @nobody"
