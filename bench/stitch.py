"""Benchmark: storyboard.stitch against MoviePy 2's concatenate_videoclips, on the same clips.

    python bench/stitch.py [--shots N] [--small N] [--variants N] [--baseline-variants N]
                           [--only-variants]

Makes N shots of 5 s at 720p from ffmpeg test sources (in a temporary folder), then times
  (a) the copy path (every shot matches), (b) normalisation (every other shot 960x540 at 25 fps),
  (c) crossfades between all shots,
  and MoviePy's plain ``concatenate_videoclips`` + ``write_videofile`` on the matching shots.
Each storyboard scenario runs twice: *cold* (no stitch cache: every clip probed, every mezzanine
encoded in the run) and *warm* (the clip facts, mezzanines and the clips' sound encodes were
recorded beforehand, in another process, as they are when the shots arrive or after a first
stitch; joins and transitions are always made in the run: the transitions that first stitch kept
are removed before it).
Each run happens in its own child process so its peak memory is its own: for storyboard the peak
resident size of the Python process and of its largest ffmpeg child (``RUSAGE_CHILDREN``), for
MoviePy its own process (``RUSAGE_SELF``; it decodes frames into numpy arrays in Python) and its
ffmpeg children. Every scenario is also run with ``--small`` shots to show memory stays flat.

(d) variants: ``--variants`` episodes of 6 shots (30 s) drawn from 10 distinct shots, in different
orders with different transitions, stitched with one shared cache (prepared once, as ``render``
prepares a matrix while its shots arrive: the mezzanines, and each variant's clip sounds where it
puts them; that time is printed and spread over the variants too), against a full re-encode of
each variant's timeline in one ffmpeg process (the same x264 preset and CRF; measured on the
first ``--baseline-variants`` variants). A variant that crosses two shots the same way as an
earlier variant (same shots, kind and length) copies that transition, as a matrix render does;
the preparation's own transitions are removed before the variants run.
MoviePy is a bench-only extra: ``pip install "moviepy>=2"``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

from storyboard.language.request import Transition
from storyboard.media import ffmpeg, samples
from storyboard.stitch import Clip, StitchOptions, prepare_sound, stitch
from storyboard.stitch.join import mezzanine
from storyboard.stitch.timeline import plan
from storyboard.stitch.transitions import xfade_name

# Each stitch timed here encodes its own shots: no folder shared by the machine's series
# (``STORYBOARD_STITCH_SHARED``, which the test suite sets) hands it a copy.
os.environ.pop("STORYBOARD_STITCH_SHARED", None)

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


def run_ours(scenario: str, shots: dict[str, list[Path]], out: Path, cache: Path | None) -> str:
    options = StitchOptions(loudness=None, subtitles=False, cache_dir=cache)
    if scenario == "copy":
        return stitch([Clip(p) for p in shots["matching"]], out, options).path_taken
    if scenario == "normalized":
        return stitch([Clip(p) for p in shots["mixed"]], out, options).path_taken
    clips = [Clip(p, Transition("crossfade", 0.5) if i else Transition())
             for i, p in enumerate(shots["matching"])]
    return stitch(clips, out, options).path_taken


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
    """One measured run (in a fresh process): prints seconds and peak memory as JSON.

    ``copy-warm`` etc. use a stitch cache that a ``prepare-...`` run (another process) filled.
    """
    shots = make_shots(folder, count)
    out = folder / f"out-{scenario}-{count}.mp4"
    name = scenario.removesuffix("-warm").removeprefix("prepare-")
    cache = folder / f"cache-{name}-{count}" if scenario != name else None
    start = time.perf_counter()
    path = (run_moviepy(shots, out) if scenario == "moviepy"
            else run_ours(name, shots, out, cache))
    seconds = time.perf_counter() - start
    if scenario.startswith("prepare-") and cache is not None:
        forget_transitions(cache)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "self_mb": own, "children_mb": children, "path": path}))


def forget_transitions(cache: Path) -> None:
    """Remove the transitions a stitch kept (``stitch.join.blends``), so the next makes its own."""
    for blend in (cache / "mezzanine").glob(f"*{mezzanine.BLEND_MARK}*.mp4"):
        blend.unlink()


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
    parser.add_argument("--variants", type=int, default=100)
    parser.add_argument("--baseline-variants", type=int, default=10,
                        help="variants also fully re-encoded, for the baseline")
    parser.add_argument("--only-variants", action="store_true", help="run (d) alone")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.folder, args.shots)
        return
    with tempfile.TemporaryDirectory(prefix="stitch-bench-") as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        count = DISTINCT if args.only_variants else max(args.shots, args.small, DISTINCT)
        made = make_shots(folder, count)["matching"]
        print(f"made {len(made)} shots of {SECONDS:g} s at {SIZE[0]}x{SIZE[1]} "
              f"in {time.perf_counter() - t0:.1f} s")
        if not args.only_variants:
            report(folder, args.shots, args.small)
        report_variants(folder, args.variants, min(args.baseline_variants, args.variants))


SCENARIOS = ("copy", "normalized", "crossfade")


def _ratio(base: dict[str, dict[str, float | str]], name: str) -> float:
    return float(base["moviepy"]["seconds"]) / float(base[name]["seconds"])


def report(folder: Path, shots: int, small: int) -> None:
    big = {"moviepy": measure("moviepy", folder, shots)}
    little: dict[str, dict[str, float | str]] = {}
    for s in SCENARIOS:
        big[s] = measure(s, folder, shots)
        little[s] = measure(s, folder, small)
        for count in (shots, small):
            measure(f"prepare-{s}", folder, count)  # facts and mezzanines, in another process
        big[f"{s}-warm"] = measure(f"{s}-warm", folder, shots)
        little[f"{s}-warm"] = measure(f"{s}-warm", folder, small)
    base = float(big["moviepy"]["seconds"])
    print(f"\n{'run':<30}{'seconds':>9}{'vs MoviePy':>12}{'python MB':>11}{'ffmpeg MB':>11}"
          f"{'ffmpeg MB @' + str(small):>15}")
    for name, row in big.items():
        secs = float(row["seconds"])
        label = "MoviePy concatenate" if name == "moviepy" else f"storyboard {name}"
        small_mb = f"{float(little[name]['children_mb']):.0f}" if name in little else "-"
        print(f"{label:<30}{secs:>9.2f}{base / secs:>11.1f}x{float(row['self_mb']):>11.0f}"
              f"{float(row['children_mb']):>11.0f}{small_mb:>15}")
    print(f"\ntargets (warm): copy >= 150x MoviePy: {_ratio(big, 'copy-warm'):.0f}x; "
          f"crossfade >= 10x: {_ratio(big, 'crossfade-warm'):.1f}x; "
          f"normalisation >= 10x: {_ratio(big, 'normalized-warm'):.1f}x")
    print("python MB = peak RSS of the process itself; ffmpeg MB = peak RSS of its largest ffmpeg"
          f" child, for {shots} shots and for {small} shots (flat = does not grow with shots)")


# --- (d) variants ------------------------------------------------------------------------------

DISTINCT = 10
PER_VARIANT = 6
KINDS = ("cut", "crossfade", "fade", "wipeleft", "slideup", "dissolve")


def variants(shots: list[Path], count: int) -> list[list[Clip]]:
    """``count`` 6-shot episodes from the distinct shots: seeded orders and transitions."""
    rng = random.Random(13)
    out = []
    for _ in range(count):
        order = rng.sample(shots[:DISTINCT], PER_VARIANT)
        out.append([Clip(p, Transition() if i == 0 else
                         Transition(k := rng.choice(KINDS), 0.0 if k == "cut" else
                                    rng.choice((0.25, 0.5, 1.0))))
                    for i, p in enumerate(order)])
    return out


def full_reencode(clips: list[Clip], out: Path, options: StitchOptions) -> None:
    """The baseline: the whole timeline decoded, blended and encoded by one ffmpeg process."""
    lengths = [SECONDS] * len(clips)
    tl = plan(lengths, [c.transition for c in clips], Fraction(30), [str(c.path) for c in clips])
    args: list[str] = []
    chains = []
    for i, c in enumerate(clips):
        args += ["-i", str(c.path)]
        chains.append(f"[{i}:v]trim=end_frame={tl.frames[i]},setpts=PTS-STARTPTS,settb=AVTB[v{i}]")
        chains.append(f"[{i}:a]aresample=48000,atrim=end_sample={tl.sample(tl.frames[i])},"
                      f"asetpts=PTS-STARTPTS[a{i}]")
    video, sound, length = "v0", "a0", tl.frames[0]
    for i in range(1, len(clips)):
        o = tl.overlaps[i]
        if o:
            chains.append(f"[{video}][v{i}]xfade=transition={xfade_name(tl.kinds[i])}:"
                          f"duration={o / 30:.6f}:offset={(length - o) / 30:.6f}[w{i}]")
            chains.append(f"[{sound}][a{i}]acrossfade=ns={tl.sample(o)}[b{i}]")
        else:
            chains.append(f"[{video}][v{i}]concat=n=2:v=1:a=0,settb=AVTB[w{i}]")
            chains.append(f"[{sound}][a{i}]concat=n=2:v=0:a=1[b{i}]")
        video, sound, length = f"w{i}", f"b{i}", length + tl.frames[i] - o
    ffmpeg.run([*args, "-filter_complex", ";".join(chains), "-map", f"[{video}]", "-map",
                f"[{sound}]", "-c:v", "libx264", "-preset", options.preset, "-crf",
                str(options.crf), "-pix_fmt", "yuv420p", "-c:a", "aac", "-movflags", "+faststart",
                str(out)], what="full re-encode")


def report_variants(folder: Path, count: int, baseline: int) -> None:
    shots = make_shots(folder, DISTINCT)["matching"]
    episodes = variants(shots, count)
    options = StitchOptions(loudness=None, subtitles=False, cache_dir=folder / "variant-cache")
    start = time.perf_counter()  # once: facts and a mezzanine per distinct shot, and each
    stitch([Clip(p, Transition("crossfade", 0.5) if i else Transition())  # variant's clip sounds
            for i, p in enumerate(shots)], folder / "prepare.mp4", options)  # where it puts them,
    for clips in episodes:  # as `render` makes them while the shots arrive (storyboard.run.boards.ahead)
        prepare_sound(clips, options)
    forget_transitions(folder / "variant-cache")
    prepare = time.perf_counter() - start
    start = time.perf_counter()
    for n, clips in enumerate(episodes):
        stitch(clips, folder / f"variant{n % 2}.mp4", options)
    ours = (time.perf_counter() - start) / count
    start = time.perf_counter()
    for n, clips in enumerate(episodes[:baseline]):
        full_reencode(clips, folder / f"full{n % 2}.mp4", options)
    theirs = (time.perf_counter() - start) / max(1, baseline)
    amortised = ours + prepare / count
    made = len(list((folder / "variant-cache" / "mezzanine").glob(f"*{mezzanine.BLEND_MARK}*")))
    crossed = sum(c.transition.type != "cut" for clips in episodes for c in clips[1:])
    print(f"\n(d) {count} variants of {PER_VARIANT} x {SECONDS:g} s from {DISTINCT} distinct shots:"
          f" {ours:.2f} s per variant, {amortised:.2f} s with the one-time preparation "
          f"({prepare:.1f} s) spread over them; full re-encode (mean of {baseline}): "
          f"{theirs:.2f} s per variant: {theirs / ours:.1f}x, {theirs / amortised:.1f}x with "
          f"preparation (target 8x); {made} of the {crossed} transitions encoded, the others "
          "copied from an earlier variant")


if __name__ == "__main__":
    main()
