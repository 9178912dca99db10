"""One way to write a file (``files.write_atomic``): whole or not at all, the usual mode, a temporary
name a later run knows as a leftover, and durability decided by each call."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from storyboard.files import (
    NEW_FILE_MODE,
    LinkedStateFolder,
    clean_stale_temporaries,
    made_series_folder,
    series_folder,
    temp_prefix,
    write_atomic,
)


@pytest.mark.parametrize("durable", [True, False])
def test_text_and_bytes_land_whole_with_the_usual_mode(tmp_path: Path, durable: bool) -> None:
    text = write_atomic(tmp_path / "deep" / "notes.yaml", "café: 1\n", durable=durable)
    data = write_atomic(tmp_path / "clip.bin", b"\x00\x01", durable=durable)
    assert text.read_bytes() == "café: 1\n".encode()
    assert data.read_bytes() == b"\x00\x01"
    assert stat.S_IMODE(text.stat().st_mode) == NEW_FILE_MODE  # not mkstemp's private 0600
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["clip.bin", "deep", "notes.yaml"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = write_atomic(tmp_path / "storyboard.lock", "old\n", durable=True)
    with pytest.raises(TypeError):
        write_atomic(target, 42, durable=True)  # type: ignore[arg-type]
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["storyboard.lock"]


def test_a_killed_writers_temporary_is_known_as_a_leftover(tmp_path: Path) -> None:
    """The temporary's name is ``temp_prefix``'s, so a later run removes one whose process is
    gone and keeps a live one's."""
    write_atomic(tmp_path / "facts.json", "{}", durable=False)
    mine = tmp_path / f"{temp_prefix('facts')}abcdefgh.json"
    mine.write_text("half")
    gone = tmp_path / f".facts.p{2**22 + 7}.abcdefgh.json"  # beyond any pid the kernel gives
    gone.write_text("half")
    assert clean_stale_temporaries(tmp_path) == [gone]
    assert mine.exists() and not gone.exists()
    os.unlink(mine)


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_a_state_file_is_never_written_through_a_linked_folder_at_any_depth(
        tmp_path: Path, depth: int) -> None:
    """``.storyboard/stitch/languages/es/ep01.json`` with any folder from ``.storyboard`` down a
    link to a folder outside the series: refused naming the link, nothing written there."""
    series, elsewhere = tmp_path / "s", tmp_path / "elsewhere"
    elsewhere.mkdir()
    folders = [series / ".storyboard" / "stitch", series / ".storyboard" / "stitch" / "languages",
               series / ".storyboard" / "stitch" / "languages" / "es"]
    linked = folders[depth - 1]
    linked.parent.mkdir(parents=True)
    linked.symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(LinkedStateFolder, match=f"{linked} is a link"):
        write_atomic(folders[-1] / "ep01.json", "{}", durable=False)
    assert list(elsewhere.iterdir()) == []


def test_every_folder_written_into_inside_the_series_is_a_real_one(tmp_path: Path) -> None:
    """``series_folder``: a link anywhere from the series down to the folder is refused (one
    folder down as at the top); a folder outside the series (``-o`` elsewhere) is the user's."""
    series, elsewhere = tmp_path / "s", tmp_path / "elsewhere"
    (series / "languages").mkdir(parents=True)
    elsewhere.mkdir()
    (series / "languages" / "es").symlink_to(elsewhere, target_is_directory=True)
    for folder in (series / "languages" / "es", series / "languages" / "es" / "base"):
        with pytest.raises(LinkedStateFolder, match="languages/es is a link"):
            made_series_folder(series, folder)
    assert list(elsewhere.iterdir()) == []
    assert made_series_folder(series, series / "out" / "es").is_dir()
    assert series_folder(series, elsewhere / "out") == elsewhere / "out"
