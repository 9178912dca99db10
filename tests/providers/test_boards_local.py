"""The local drawn board: the shot's words over the cast's local cards, the same bytes every time."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from pathlib import Path

import storyboard
from storyboard.animatic.boards import board_size
from storyboard.animatic.cast import draw_card
from storyboard.emulator.cast.standins import png_size
from storyboard.language.request import (
    BOARDS,
    AssetRequest,
    CompiledShot,
    MediaRef,
    ShotRequest,
)
from storyboard.providers.local import LocalProvider

WORDS = "Mia hands Tom the cup across the counter. Close-up, slow push in. The cafe at dawn."


def cards(folder: Path) -> list[Path]:
    """Two cast stand-ins, as the local provider draws them for the cast."""
    return [draw_card(folder / f"{name}.png", name=name, prompt=f"{name}: a barista",
                      content_hash=hashlib.sha256(name.encode()).hexdigest())
            for name in ("mia", "tom")]


def board(refs: tuple[MediaRef, ...], *, size: str = "2560*1440", take: int = 1,
          words: str = WORDS) -> CompiledShot:
    asset = AssetRequest(kind="image", subject="board", model="wan2.7-image", prompt=words,
                         name="ep01/counter", refs=refs, size=size)
    digest = hashlib.sha256(repr((asset, take)).encode()).hexdigest() + ".png"
    return CompiledShot("cafe", "boards", "ep01/counter" + (f"#{take}" if take > 1 else ""),
                        ShotRequest(model=asset.model, prompt=asset.prompt, media=(),
                                    resolution="", ratio="16:9", duration=0,
                                    prompt_extend=None, watermark=False), digest,
                        asset=asset, take=take)


def drawn(provider: LocalProvider, shot: CompiledShot) -> bytes:
    async def go() -> bytes:
        task_id = await provider.submit(shot, None)
        return provider.path(task_id).read_bytes()
    return asyncio.run(go())


def test_a_drawn_board_is_the_same_bytes_twice(tmp_path: Path) -> None:
    refs = tuple(MediaRef(path=p) for p in cards(tmp_path))
    first = drawn(LocalProvider(tmp_path / "one"), board(refs))
    again = drawn(LocalProvider(tmp_path / "two"), board(refs))
    assert first == again
    size = png_size(first)
    assert size is not None and size[:2] == (1280, 720)  # 2560*1440 in its shape, 1280 at most


def test_a_board_shows_its_words_and_its_cards(tmp_path: Path) -> None:
    refs = tuple(MediaRef(path=p) for p in cards(tmp_path))
    provider = LocalProvider(tmp_path / "out")
    with_cards = drawn(provider, board(refs))
    alone = drawn(provider, board(()))
    other_words = drawn(provider, board(refs, words="Tom leaves."))
    assert len({with_cards, alone, other_words}) == 3
    second = drawn(provider, board(refs, take=2))
    assert second != with_cards  # a take of its own: its number drawn in a corner


def test_a_board_keeps_its_shape_and_names_a_default() -> None:
    assert board_size("1080*1920") == (720, 1280)
    assert board_size("640*360") == (640, 360)
    assert board_size("") == (1280, 720)
    assert board_size("0*10") == (1280, 720)


SERIES = """\
storyboard: 1
title: Boards
defaults: {resolution: 720P, duration: 2}
characters:
  mia: {image: media/mia.png}
  sam: {image: {generate: "a tall man in a grey coat"}}
boards: {model: doubao-seedream-4-5-251128}
episodes:
  - id: ep1
    shots:
      - id: hook
        scenes: ["[0-2s] Close-up: @mia hands @sam a cup"]
"""


def test_on_local_every_board_is_drawn_from_a_series(make_media: Callable[..., Path],
                                                    tmp_path: Path) -> None:
    """Whatever its image model (Seedream here), a local run draws the board, free, with the
    cast's local stand-ins as its cards; the same series draws the same bytes again."""
    drawn_boards = []
    for copy in ("one", "two"):
        root = tmp_path / copy
        make_media("image", root / "media" / "mia.png", width=320, height=320)
        (root / "storyboard.yaml").write_text(SERIES, encoding="utf-8")
        report = storyboard.render(root, yes=True)
        assert report.ok, report
        manifest = storyboard.compile(root)
        board = next(s for s in manifest.cast if s.episode == BOARDS)
        found = list((root / ".storyboard" / "cache").rglob(board.hash))
        assert len(found) == 1
        drawn_boards.append(found[0].read_bytes())
    assert drawn_boards[0] == drawn_boards[1]
    size = png_size(drawn_boards[0])
    assert size is not None and size[:2] == (1280, 720)
