"""Input snapshots (``.storyboard/inputs``): made while hashing, removed once no run used them
for 30 days, and never left half-written by a killed run."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from compiler_fixtures import MIA_HEAD, write_series

import storyboard

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
