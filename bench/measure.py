"""Benchmark (issue 47): measuring a take on arrival against stitching it, on the same file.

    python bench/measure.py [--seconds 5] [--repeat 5]

Makes one take of ``--seconds`` s at 720p (24 fps, an AAC tone) from ffmpeg's test sources and times,
interleaved (a, b, a, b, ...; one warm-up round not counted), medians of ``--repeat`` runs:

  (a) ``stitch``: storyboard's stitch of an episode of that one take, cold (a fresh cache folder
      each time: the mezzanine, the loudness pass and the final join): the baseline;
  (b) ``measure``: ``storyboard.media.probes.measure.measure``: the one ffmpeg pass a take gets on
      arrival (scene score, black, freeze, silence, peak, loudness).

It prints each median and measure's share of the stitch (the ratio against the baseline measured in
the same run), and checks the measurement found nothing in the clean take.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's storyboard

from storyboard.media import memo, samples
from storyboard.media.probes.measure import measure
from storyboard.run.state.measured import Thresholds, judge
from storyboard.stitch import Clip, StitchOptions, stitch

# Each stitch timed here encodes its own shots: no folder shared by the machine's series
# (``STORYBOARD_STITCH_SHARED``, which the test suite sets) hands it a copy.
os.environ.pop("STORYBOARD_STITCH_SHARED", None)

SIZE = (1280, 720)


def time_stitch(take: Path, folder: Path, round_no: int) -> float:
    work = folder / f"stitch{round_no}"
    options = StitchOptions(subtitles=False, cache_dir=work / "cache")
    memo.forget("made")  # each round encodes its mezzanine, not a copy of the last (``media.memo``)
    started = time.perf_counter()
    stitch([Clip(take)], work / "ep.mp4", options)
    return time.perf_counter() - started


def time_measure(take: Path) -> float:
    memo.forget("measure")  # measured again each round, not recalled (``media.memo``)
    started = time.perf_counter()
    found = measure(take)
    elapsed = time.perf_counter() - started
    assert judge(found, None, Thresholds()) == [], "the clean take has findings"
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-measure-") as tmp:
        folder = Path(tmp)
        take = samples.video(folder / "take.mp4", *SIZE, args.seconds, fps=24)
        stitched, measured = [], []
        for round_no in range(args.repeat + 1):
            s, m = time_stitch(take, folder, round_no), time_measure(take)
            if round_no:  # round 0 warms the caches up
                stitched.append(s)
                measured.append(m)
    s, m = statistics.median(stitched), statistics.median(measured)
    print(f"a {args.seconds:g} s {SIZE[0]}x{SIZE[1]} take, medians of {args.repeat}")
    print(f"  stitch (baseline)  {s:7.3f} s  1.00x")
    print(f"  measure            {m:7.3f} s  {m / s:.2f}x of the stitch "
          f"({s / m:.1f}x faster)")


if __name__ == "__main__":
    main()
