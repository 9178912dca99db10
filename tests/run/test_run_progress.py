"""A render's stitching is never silent: the library's ``on_episode`` hears each episode begin
(its place among those stitched), each report of its ffmpeg runs (ffmpeg's own ``-progress``),
and its end; ``render`` in a pipe prints the same as lines, as it goes."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import storyboard
from storyboard.stitch.series.episodes import EpisodeOutput
from tests.fixtures.cli import invoke
from tests.fixtures.compiler import MIA_HEAD, write_series

MakeMedia = Callable[..., Path]
EPISODES = """\
- id: ep01
  shots:
    - {id: a, prompt: "@mia waves"}
    - {id: b, prompt: "@mia waves back", transition: {type: dissolve, duration: 0.5}}
- id: ep02
  shots:
    - {id: a, prompt: "@mia sits down"}
"""


def series(root: Path, make_media: MakeMedia) -> Path:
    return write_series(root, make_media, EPISODES, head=MIA_HEAD)


def test_on_episode_hears_each_episode_and_its_ffmpeg_runs(tmp_path: Path,
                                                           make_media: MakeMedia) -> None:
    heard: list[EpisodeOutput] = []
    report = storyboard.render(series(tmp_path / "s", make_media), draft=True, yes=True,
                               on_episode=heard.append)
    assert report.ok
    for number, episode in enumerate(("ep01", "ep02"), 1):
        mine = [e for e in heard if e.id == episode]
        assert {(e.number, e.count) for e in mine} == {(number, 2)}
        assert mine[0].state == "stitching" and mine[0].progress is None
        assert mine[-1].state == "stitched" and mine[-1].progress is None
        runs = [e.progress for e in mine[1:-1] if e.progress is not None]
        assert runs and all(e.state == "stitching" for e in mine[1:-1])
        assert any(p.done for p in runs) and all(p.what for p in runs)
        assert max(p.seconds for p in runs) > 0
    # the episode with a dissolve is encoded: its clips' runs know their length
    assert any(e.progress.length for e in heard if e.id == "ep01" and e.progress is not None)


def test_render_in_a_pipe_says_each_episode_and_how_far_its_runs_are(
        tmp_path: Path, make_media: MakeMedia) -> None:
    result = invoke("render", series(tmp_path / "s", make_media), "--draft", "--yes")
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    for episode in ("ep01 (1 of 2)", "ep02 (2 of 2)"):
        begun = lines.index(f"stitching {episode}")
        ended = next(i for i, line in enumerate(lines) if line.startswith(f"stitched {episode} in "))
        assert begun < ended
    # the first report of an ffmpeg run is printed at once (later ones at most every 5 s)
    reported = [line for line in lines if line.startswith("stitching ep01 (1 of 2): ")]
    assert reported and re.search(r": [0-9.]+( of [0-9.]+)? s(, done)?$", reported[0]), lines
