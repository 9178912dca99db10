"""Input snapshots (``.storyboard/inputs``): made while hashing, removed once no run used them
for 30 days, and never left half-written by a killed run."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

import storyboard
from storyboard.cli import cli
from storyboard.files import LinkedStateFolder, safe_to_delete
from storyboard.run.state.cache import OutputCache
from storyboard.run.trip.guards.inputs import prune_inputs
from storyboard.stitch.join import mezzanine
from tests.fixtures.compiler import MIA_HEAD, write_series

MakeMedia = Callable[..., Path]
HEAD = MIA_HEAD
EPISODE = "- id: one\n  shots:\n    - {id: a, prompt: '@mia waves'}\n"


def test_snapshots_no_run_used_for_a_month_are_removed(tmp_path: Path,
                                                      make_media: MakeMedia) -> None:
    series = write_series(tmp_path / "s", make_media, EPISODE, head=HEAD)
    assert storyboard.render(series, draft=True, yes=True, out=tmp_path / "out").ok
    inputs = series / ".storyboard" / "inputs"
    (used,) = list(inputs.iterdir())  # mia's picture, the one file shot a sends
    stale = inputs / f"{'0' * 64}.png"  # a picture no shot sends any more
    stale.write_bytes(b"old")
    leftover = inputs / ".in-killed"  # what a killed run was still copying
    leftover.write_bytes(b"half")
    month_ago = time.time() - 31 * 86400
    for path in (used, stale):
        os.utime(path, (month_ago, month_ago))
    # A changed shot that sends mia's picture again: that snapshot is used, so it stays.
    write_series(series, make_media, EPISODE.replace("waves", "nods"), head=HEAD)
    assert storyboard.render(series, draft=True, yes=True, out=tmp_path / "out").ok
    assert sorted(p.name for p in inputs.iterdir()) == [used.name]
    assert used.stat().st_mtime > month_ago + 86400


def _outside_with_documents(tmp_path: Path) -> Path:
    """A folder outside the series holding the user's files, all last touched a year ago."""
    outside = tmp_path / "documents"
    outside.mkdir()
    year_ago = time.time() - 365 * 86400
    for name in ("thesis.docx", "old.json", "old.mp4", ".in-draft", f"{'0' * 64}.png"):
        (outside / name).write_bytes(b"the user's")
        os.utime(outside / name, (year_ago, year_ago))
    return outside


def _documents(outside: Path) -> list[str]:
    return sorted(p.name for p in outside.iterdir())


@pytest.mark.parametrize("linked", ["inputs", "stitch-cache", "stitch-cache/mezzanine", "cache",
                                    "local"])
def test_a_state_folder_linked_outside_is_refused_and_nothing_there_is_removed(
        tmp_path: Path, make_media: MakeMedia, linked: str) -> None:
    series = write_series(tmp_path / "s", make_media, EPISODE, head=HEAD)
    assert storyboard.render(series, draft=True, yes=True, out=tmp_path / "out").ok
    outside = _outside_with_documents(tmp_path)
    before = _documents(outside)
    state = series / ".storyboard" / linked
    shutil.rmtree(state)
    state.symlink_to(outside, target_is_directory=True)
    write_series(series, make_media, EPISODE.replace("waves", "nods"), head=HEAD)
    result = CliRunner().invoke(cli, ["render", str(series), "--draft", "--yes", "-o",
                                      str(tmp_path / "out")])
    assert result.exit_code == 1, result.output
    assert f"{state} is a link" in result.output.replace("\n", "")
    assert "Traceback" not in result.output
    assert _documents(outside) == before


def test_pruning_never_follows_a_link_out(tmp_path: Path) -> None:
    outside = _outside_with_documents(tmp_path)
    before = _documents(outside)
    state = tmp_path / "s" / ".storyboard"
    state.mkdir(parents=True)
    (state / "stitch-cache").symlink_to(outside, target_is_directory=True)
    with pytest.raises(LinkedStateFolder, match="is a link"):
        mezzanine.prune(state / "stitch-cache", days=0)
    (state / "inputs").symlink_to(outside, target_is_directory=True)
    with pytest.raises(LinkedStateFolder, match="is a link"):
        prune_inputs(tmp_path / "s", days=0)
    assert _documents(outside) == before
    # a link inside the state folder is removed itself, never what it points at
    (state / "cache").mkdir()
    link = state / "cache" / ".abc.p999999999.part.mp4"
    link.symlink_to(outside / "thesis.docx")
    OutputCache(tmp_path / "s", "local").dir.mkdir(parents=True, exist_ok=True)
    assert safe_to_delete(link) == link
    link.unlink()
    assert _documents(outside) == before
