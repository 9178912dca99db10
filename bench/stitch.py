"""Benchmark: storyboard.stitch against MoviePy 2's concatenate_videoclips, on the same clips.

    python bench/stitch.py [--shots N] [--small N]

Makes N shots of 5 s at 720p from ffmpeg test sources (in a temporary folder), then times
  (a) the copy path (every shot matches), (b) normalisation (every other shot 960x540 at 25 fps),
  (c) crossfades between all shots,
  and MoviePy's plain ``concatenate_videoclips`` + ``write_videofile`` on the matching shots.
Each run happens in its own child process so its peak memory is its own: for storyboard the peak
resident size of the Python process and of its largest ffmpeg child (``RUSAGE_CHILDREN``), for
MoviePy its own process (``RUSAGE_SELF``; it decodes frames into numpy arrays in Python) and its
ffmpeg children. Every scenario is also run with ``--small`` shots to show memory stays flat.
MoviePy is a bench-only extra: ``pip install "moviepy>=2"``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from storyboard import samples
from storyboard.request import Transition
from storyboard.stitch import Clip, StitchOptions, stitch

SECONDS = 5.0
SIZE = (1280, 720)
ODD_SIZE = (960, 540)


def make_shots(folder: Path, count: int) -> dict[str, list[Path]]:
    """Matching shots, and a mixed set where every other shot has another size and frame rate."""
    matching, mixed = [], []
    for i in range(count):
        tone = 220 + 40 * i
        shot = folder / f"shot{i:02d}.mp4"
        if not shot.exists():
            samples.video(shot, *SIZE, SECONDS, tone=tone)
        matching.append(shot)
        odd = folder / f"odd{i:02d}.mp4"
        if i % 2 and not odd.exists():
            samples.video(odd, *ODD_SIZE, SECONDS, fps=25, tone=tone, pattern="testsrc")
        mixed.append(odd if i % 2 else shot)
    return {"matching": matching, "mixed": mixed}


def run_ours(scenario: str, shots: dict[str, list[Path]], out: Path) -> str:
    if scenario == "copy":
        return stitch([Clip(p) for p in shots["matching"]], out,
                      StitchOptions(loudness=None, subtitles=False)).path_taken
    if scenario == "normalized":
        return stitch([Clip(p) for p in shots["mixed"]], out,
                      StitchOptions(loudness=None, subtitles=False)).path_taken
    clips = [Clip(p, Transition("crossfade", 0.5) if i else Transition())
             for i, p in enumerate(shots["matching"])]
    return stitch(clips, out, StitchOptions(loudness=None, subtitles=False)).path_taken


def run_moviepy(shots: dict[str, list[Path]], out: Path) -> str:
    from moviepy import VideoFileClip, concatenate_videoclips

    clips = [VideoFileClip(str(p)) for p in shots["matching"]]
    episode = concatenate_videoclips(clips)
    episode.write_videofile(str(out), codec="libx264", audio_codec="aac", fps=30,
                            preset="veryfast", logger=None)
    for c in clips:
        c.close()
    return "moviepy"


def worker(scenario: str, folder: Path, count: int) -> None:
    """One measured run (in a fresh process): prints seconds and peak memory as JSON."""
    shots = make_shots(folder, count)
    out = folder / f"out-{scenario}-{count}.mp4"
    start = time.perf_counter()
    path = run_moviepy(shots, out) if scenario == "moviepy" else run_ours(scenario, shots, out)
    seconds = time.perf_counter() - start
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "self_mb": own, "children_mb": children, "path": path}))


def measure(scenario: str, folder: Path, count: int) -> dict[str, float | str]:
    proc = subprocess.run([sys.executable, __file__, "--worker", scenario, "--folder",
                           str(folder), "--shots", str(count)],
                          capture_output=True, text=True, check=True)
    result: dict[str, float | str] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=int, default=20)
    parser.add_argument("--small", type=int, default=5, help="shots for the memory comparison")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.folder, args.shots)
        return
    with tempfile.TemporaryDirectory(prefix="stitch-bench-") as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        make_shots(folder, max(args.shots, args.small))
        print(f"made {args.shots} shots of {SECONDS:g} s at {SIZE[0]}x{SIZE[1]} "
              f"in {time.perf_counter() - t0:.1f} s")
        report(folder, args.shots, args.small)


def report(folder: Path, shots: int, small: int) -> None:
    big = {s: measure(s, folder, shots) for s in ("moviepy", "copy", "normalized", "crossfade")}
    little = {s: measure(s, folder, small) for s in ("copy", "normalized", "crossfade")}
    base = float(big["moviepy"]["seconds"])
    print(f"\n{'run':<26}{'seconds':>9}{'vs MoviePy':>12}{'python MB':>11}{'ffmpeg MB':>11}"
          f"{'ffmpeg MB @' + str(small):>15}")
    for name, row in big.items():
        secs = float(row["seconds"])
        label = "MoviePy concatenate" if name == "moviepy" else f"storyboard {name}"
        small_mb = f"{float(little[name]['children_mb']):.0f}" if name in little else "-"
        print(f"{label:<26}{secs:>9.2f}{base / secs:>11.1f}x{float(row['self_mb']):>11.0f}"
              f"{float(row['children_mb']):>11.0f}{small_mb:>15}")
    print(f"\ntargets: copy >= 50x MoviePy: {base / float(big['copy']['seconds']):.0f}x; "
          f"crossfade no slower than MoviePy: {base / float(big['crossfade']['seconds']):.2f}x")
    print("python MB = peak RSS of the process itself; ffmpeg MB = peak RSS of its largest ffmpeg"
          f" child, for {shots} shots and for {small} shots (flat = does not grow with shots)")


if __name__ == "__main__":
    main()
