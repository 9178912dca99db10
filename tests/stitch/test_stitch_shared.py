"""Mezzanines shared by the series of one machine (``STORYBOARD_STITCH_SHARED``,
``stitch.join.shared``): a process that never made a mezzanine copies it from the folder another
made it into, sound and all, and writes the same episode; an entry of another binary or with a
damaged record is not used; a folder not set shares nothing; an entry no stitch used for a month
goes."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

from storyboard.media import memo
from storyboard.stitch import stitch
from storyboard.stitch.join import mezzanine, shared
from tests.fixtures.ffmpeg_runs import nothing_remembered
from tests.stitch.test_stitch_mezzanine_memo import MakeMedia, clips, encodes, options, what_runs


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    """What each ffmpeg run is for, nothing remembered, the folder ``tmp_path/shared`` shared."""
    nothing_remembered(monkeypatch)
    monkeypatch.setenv(shared.SHARED_ENV, str(tmp_path / "shared"))
    return what_runs(monkeypatch)


def records(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.json"))


def test_another_process_copies_what_one_shared_and_writes_the_same_bytes(
        make_media: MakeMedia, tmp_path: Path, runs: list[str]) -> None:
    shots = clips(make_media, tmp_path)
    first = stitch(shots, tmp_path / "a.mp4", options(tmp_path / "a", keep_sound=False))
    assert len(encodes(runs)) == 3 and len(records(tmp_path / "shared")) == 3
    memo.forget()  # as a new process: nothing made here before
    runs.clear()
    second = stitch(shots, tmp_path / "b.mp4", options(tmp_path / "b", keep_sound=False))
    # the shared entries keep the sound a render's stitch does not: no audio pass either
    assert encodes(runs) == [] and not [w for w in runs if w.startswith("preparing the sound")]
    assert second.out.read_bytes() == first.out.read_bytes()


def test_a_damaged_entry_or_another_binarys_is_not_used(
        make_media: MakeMedia, tmp_path: Path, runs: list[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    shots = clips(make_media, tmp_path)
    first = stitch(shots, tmp_path / "a.mp4", options(tmp_path / "a"))
    entries = records(tmp_path / "shared")
    entries[0].write_text("{not json", encoding="utf-8")
    memo.forget()
    runs.clear()
    second = stitch(shots, tmp_path / "b.mp4", options(tmp_path / "b"))
    assert len(encodes(runs)) == 1 and second.out.read_bytes() == first.out.read_bytes()
    assert json.loads(entries[0].read_text(encoding="utf-8"))["frames"] > 0  # given back whole
    ours = shared.entry(tmp_path / "shared", "k")

    class Another:
        def require(self) -> str:
            return sys.executable  # any other file: another binary's entries are named apart
    monkeypatch.setattr(shared.ffbinary, "current", Another)
    assert shared.entry(tmp_path / "shared", "k") != ours
    assert shared.entry(tmp_path / "shared", "k").name.startswith("k-")


def test_no_folder_set_shares_nothing(make_media: MakeMedia, tmp_path: Path, runs: list[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(shared.SHARED_ENV)
    shots = clips(make_media, tmp_path)
    stitch(shots, tmp_path / "a.mp4", options(tmp_path / "a"))
    memo.forget()
    runs.clear()
    stitch(shots, tmp_path / "b.mp4", options(tmp_path / "b"))
    assert len(encodes(runs)) == 3 and not (tmp_path / "shared").exists()


def test_an_entry_no_stitch_used_for_a_month_goes(make_media: MakeMedia, tmp_path: Path,
                                                   runs: list[str]) -> None:
    shots = clips(make_media, tmp_path)
    stitch(shots[:1], tmp_path / "a.mp4", options(tmp_path / "a"))
    (old,) = records(tmp_path / "shared")
    month = time.time() - (mezzanine.UNUSED_DAYS + 1) * 86400
    os.utime(old, (month, month))
    stitch(shots[1:2], tmp_path / "b.mp4", options(tmp_path / "b"))
    assert [p.name for p in records(tmp_path / "shared")] != [old.name]
    assert not old.exists() and not old.with_suffix(".mp4").exists()
    assert len(records(tmp_path / "shared")) == 1
