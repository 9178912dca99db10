"""Benchmark (issue 20): the final join of a strict episode, by ffmpeg and by PyAV, on the same pieces.

    python bench/join.py [--shots 20] [--seconds 5] [--repeat 7] [--shot-minutes 3]

Makes ``--shots`` shots of 5 s at 720p from ffmpeg test sources (as ``bench/stitch.py`` does) and
stitches them with a 0.5 s crossfade at every join through storyboard's own ``stitch`` (a cache
folder, ``loudness=None``), once cold and once warm (everything kept: the stitch is then little
more than its final join). The warm stitch's final join is intercepted (``stitcher.final_join``): its
``Joinable`` (the mezzanine bodies and kept transitions as frame ranges, the encoded sound) is
exactly what storyboard's final join gets. On those inputs it then times

  (a) ``ffmpeg concat``: storyboard's final join, ``stitch.sound.audio.mux(..., strict=True)``: the
      concat demuxer (``-auto_convert 0``), ``-c copy -movflags +faststart``; the baseline;
  (b) ``PyAV remux``, when PyAV is installed: each piece opened with PyAV, seeked to its first
      frame, its packets muxed with rebased timestamps, interleaved with the sound's packets by
      time, into one MP4 with ``movflags=+faststart`` (moov first, like the other).

The hand-written MP4 writer this bench was first written to weigh (``stitch.mp4``) is gone: its
row, measured before it was removed, lives in git; docs/benchmarks.md ("The final join") says why.

Each measurement is a fresh child process (interleaved: a, b, a, b, ...; one warm-up round
not counted), so its peak memory is its own: the Python process's peak RSS (``RUSAGE_SELF``; also
its RSS before the join, after its imports) and its largest child's (``RUSAGE_CHILDREN``: ffmpeg).
Wall and CPU seconds (self + children) are medians of ``--repeat`` runs. The outputs are
checked to decode to the same frames (``ffmpeg -f framemd5``, video and sound) and to have the
same stream lengths. PyAV is a bench-only extra: ``pip install av``; without it, only the concat
join is timed.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import resource
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's storyboard

# storyboard imports (few): ffmpeg and samples, the request's Transition, and storyboard.stitch.
import storyboard.stitch.stitcher as stitching
from storyboard.language.request import Transition
from storyboard.media import ffmpeg, samples
from storyboard.stitch import Clip, StitchOptions
from storyboard.stitch.join.segments import Entry, Joinable
from storyboard.stitch.sound import audio

# Each stitch timed here encodes its own shots: no folder shared by the machine's series
# (``STORYBOARD_STITCH_SHARED``, which the test suite sets) hands it a copy.
os.environ.pop("STORYBOARD_STITCH_SHARED", None)

SIZE = (1280, 720)
HAVE_AV = importlib.util.find_spec("av") is not None
METHODS = ("concat", "pyav") if HAVE_AV else ("concat",)
LABELS = {"concat": "ffmpeg concat (baseline)", "pyav": "PyAV remux"}
MB = 1024  # ru_maxrss is in KiB on Linux


# --- the pieces ---------------------------------------------------------------------------------


def make_pieces(folder: Path, shots: int, seconds: float) -> dict[str, Any]:
    """Shots, a cold and a warm stitch with crossfades; the warm stitch's Joinable, saved."""
    t0 = time.perf_counter()
    paths = []
    for i in range(shots):
        shot = folder / f"shot{i:02d}.mp4"
        samples.video(shot, *SIZE, seconds, tone=220 + 40 * i)
        paths.append(shot)
    made = time.perf_counter() - t0
    clips = [Clip(p, Transition("crossfade", 0.5) if i else Transition())
             for i, p in enumerate(paths)]
    options = StitchOptions(loudness=None, subtitles=False, cache_dir=folder / "cache")
    caught: list[Joinable] = []
    real_join = stitching.final_join
    joins: list[float] = []

    def spy(joinable: Joinable, out: Path, work: Path) -> None:
        start = time.perf_counter()
        real_join(joinable, out, work)
        joins.append(time.perf_counter() - start)
        kept = folder / "sound.m4a"  # the sound lives in the stitch's work folder: keep a copy
        shutil.copyfile(joinable.sound, kept)
        caught.append(Joinable(kept, joinable.strict, joinable.entries, joinable.fps))

    stitching.final_join = spy  # type: ignore[assignment]
    try:
        start = time.perf_counter()
        cold = stitching.stitch(clips, folder / "cold.mp4", options)
        cold_s = time.perf_counter() - start
        start = time.perf_counter()
        stitching.stitch(clips, folder / "warm.mp4", options)
        warm_s = time.perf_counter() - start
    finally:
        stitching.final_join = real_join  # type: ignore[assignment]
    joinable = caught[-1]
    assert cold.path_taken == "filtered" and joinable.strict, (cold.path_taken, joinable.strict)
    spec = {"sound": str(joinable.sound), "fps": [joinable.fps.numerator, joinable.fps.denominator],
            "entries": [[str(e.file), e.first, e.last] for e in joinable.entries]}
    (folder / "joinable.json").write_text(json.dumps(spec), encoding="utf-8")
    return {"shots_s": made, "cold_s": cold_s, "warm_s": warm_s, "join_in_stitch_s": joins[-1],
            "entries": len(joinable.entries), "duration": cold.duration,
            "bytes": sum(Path(e.file).stat().st_size for e in {e.file: e for e in
                                                                 joinable.entries}.values())}


def load(folder: Path) -> Joinable:
    spec = json.loads((folder / "joinable.json").read_text(encoding="utf-8"))
    entries = tuple(Entry(Path(f), a, b) for f, a, b in spec["entries"])
    return Joinable(Path(spec["sound"]), True, entries, Fraction(*spec["fps"]))


# --- the joins ----------------------------------------------------------------------------------


def join_concat(j: Joinable, out: Path, work: Path) -> None:
    """Exactly storyboard's final join of a strict video (``stitcher.final_join``)."""
    audio.mux(j.write_list(work / "segments.ffconcat"), j.sound, out, strict=True)


def join_pyav(j: Joinable, out: Path, work: Path) -> None:
    """The pieces' packets (frames [first, last) of each) one after the other, timestamps rebased
    to one frame each, and the sound's packets as they are, interleaved by time, moov first."""
    import heapq

    import av

    def video(template: Any) -> Any:
        done = 0
        for e in j.entries:
            with av.open(str(e.file)) as src:
                s = src.streams.video[0]
                if s.time_base != template.time_base:
                    raise ValueError(f"{e.file}: time base {s.time_base}")
                tick = Fraction(1) / (s.time_base * j.fps)
                if tick.denominator != 1:
                    raise ValueError(f"{e.file}: a frame is not a whole number of ticks")
                tick_i, origin = int(tick), s.start_time or 0
                if e.first:
                    src.seek(origin + e.first * tick_i, stream=s)  # a keyframe: lands on it
                for p in src.demux(s):
                    if p.dts is None:
                        continue
                    n, rest = divmod(p.pts - origin, tick_i)
                    if rest:
                        raise ValueError(f"{e.file}: a frame off the frame grid")
                    if n < e.first:
                        continue
                    if n >= e.last:
                        break
                    p.pts = p.dts = (done + n - e.first) * tick_i
                    p.duration = tick_i
                    yield p.pts * s.time_base, p
            done += e.last - e.first

    def sound(src: Any) -> Any:
        s = src.streams.audio[0]
        for p in src.demux(s):
            if p.dts is not None:
                yield p.dts * s.time_base, p

    with av.open(str(j.sound)) as snd, av.open(str(j.entries[0].file)) as first, \
            av.open(str(out), "w", format="mp4", options={"movflags": "+faststart"}) as dst:
        vin, ain = first.streams.video[0], snd.streams.audio[0]
        vout = dst.add_stream_from_template(vin)
        aout = dst.add_stream_from_template(ain)
        for _, packet in heapq.merge(video(vin), sound(snd), key=lambda t: t[0]):
            packet.stream = vout if packet.stream.type == "video" else aout
            dst.mux(packet)


JOINS = {"concat": join_concat, "pyav": join_pyav}


def status_mb(field: str) -> float:
    """A field of /proc/self/status (VmRSS, VmHWM), in MB."""
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / MB
    return float("nan")


def reset_peak() -> float:
    """Reset this process's peak RSS (VmHWM) to its current RSS (Linux: ``clear_refs`` 5), so
    the peak read after the join is the join's own, not the imports' before it; returns the RSS."""
    Path("/proc/self/clear_refs").write_text("5", encoding="ascii")
    return status_mb("VmRSS")


def worker(method: str, folder: Path, out: Path) -> None:
    """One measured join, in a fresh process: prints seconds, CPU and peak memory as JSON."""
    j = load(folder)
    work = folder / f"work-{method}"
    work.mkdir(exist_ok=True)
    out.unlink(missing_ok=True)  # a new file, as in a stitch (not one the last run left)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / MB
    imported = 0.0
    if method == "pyav":  # loading PyAV's FFmpeg libraries: once per process, timed on its own
        start = time.perf_counter()
        import av  # noqa: F401

        imported = time.perf_counter() - start
    resident = reset_peak()
    before = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    JOINS[method](j, out, work)
    seconds = time.perf_counter() - start
    join_peak = status_mb("VmHWM")
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (own.ru_utime + own.ru_stime - before.ru_utime - before.ru_stime
           + children.ru_utime + children.ru_stime - kids.ru_utime - kids.ru_stime)
    print(json.dumps({"seconds": seconds, "cpu": cpu, "import_s": imported, "before_mb": rss_before,
                      "join_mb": join_peak - resident,
                      "self_mb": own.ru_maxrss / MB, "children_mb": children.ru_maxrss / MB,
                      "sha256": hashlib.sha256(out.read_bytes()).hexdigest()}))


def measure(method: str, folder: Path, out: Path) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, __file__, "--worker", method, "--folder", str(folder),
                           "--out", str(out)], capture_output=True, text=True, check=False)
    if proc.returncode:
        raise SystemExit(f"{method} failed:\n{proc.stderr}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


# --- checks -------------------------------------------------------------------------------------


def frame_md5s(path: Path) -> dict[str, list[str]]:
    """Each decoded frame's md5, video and sound (``-f framemd5``)."""
    proc = subprocess.run([ffmpeg.binary(), "-hide_banner", "-nostdin", "-i", str(path), "-map",
                           "0:v:0", "-map", "0:a:0", "-f", "framemd5", "-"],
                          capture_output=True, text=True, check=True)
    found: dict[str, list[str]] = {"0": [], "1": []}
    for line in proc.stdout.splitlines():
        if line and not line.startswith("#"):
            fields = [f.strip() for f in line.split(",")]
            found[fields[0]].append(fields[-1])
    return {"video": found["0"], "audio": found["1"]}


def top_boxes(path: Path) -> list[str]:
    kinds, at, end = [], 0, path.stat().st_size
    with path.open("rb") as f:
        while at < end and len(kinds) < 8:
            f.seek(at)
            size, kind = struct.unpack(">I4s", f.read(8))
            if size == 1:
                size = struct.unpack(">Q", f.read(8))[0]
            kinds.append(kind.decode("latin-1"))
            at += size or end - at
    return kinds


# --- the report ---------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--shot-minutes", type=float, default=3.0,
                        help="minutes one shot takes to render, for the render-time estimate")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.folder, args.out)
        return
    with tempfile.TemporaryDirectory(prefix="join-bench-") as tmp:
        run(Path(tmp), args)


def versions() -> str:
    if not HAVE_AV:
        return f"ffmpeg: {ffmpeg.binary()}; PyAV not installed (pip install av): concat only"
    import av

    return (f"ffmpeg: {ffmpeg.binary()}; PyAV {av.__version__} "
            f"(libavformat {'.'.join(map(str, av.library_versions['libavformat']))})")


def run(folder: Path, args: argparse.Namespace) -> None:
    print(versions())
    facts = make_pieces(folder, args.shots, args.seconds)
    print(f"{args.shots} shots of {args.seconds:g} s at {SIZE[0]}x{SIZE[1]} made in "
          f"{facts['shots_s']:.1f} s; episode {facts['duration']:.2f} s with {args.shots - 1} "
          f"crossfades: stitch cold {facts['cold_s']:.1f} s, warm {facts['warm_s']:.2f} s (its "
          f"final join {facts['join_in_stitch_s']:.3f} s); the join reads "
          f"{facts['entries']} pieces, {facts['bytes'] / 1e6:.1f} MB of video")
    outs = {m: folder / f"joined-{m}.mp4" for m in METHODS}
    runs: dict[str, list[dict[str, Any]]] = {m: [] for m in METHODS}
    for round_ in range(args.repeat + 1):  # round 0 warms the page cache and is not counted
        for m in METHODS:
            result = measure(m, folder, outs[m])
            if round_:
                runs[m].append(result)

    med = {m: {k: statistics.median(r[k] for r in runs[m]) for k in runs[m][0] if k != "sha256"}
           for m in METHODS}
    peak = {m: {k: max(r[k] for r in runs[m])
                for k in ("self_mb", "children_mb", "join_mb")}
            for m in METHODS}
    base = med["concat"]
    print(f"\nmedians of {args.repeat} runs each (interleaved, one fresh process per run)")
    print(f"{'join':<26}{'wall s':>8}{'vs concat':>11}{'CPU s':>8}{'vs concat':>11}"
          f"{'py MB':>8}{'join +MB':>10}{'ffmpeg MB':>11}{'out MB':>8}")
    for m in METHODS:
        row = med[m]
        print(f"{LABELS[m]:<26}{row['seconds']:>8.3f}{base['seconds'] / row['seconds']:>10.2f}x"
              f"{row['cpu']:>8.3f}{base['cpu'] / max(row['cpu'], 1e-6):>10.2f}x"
              f"{peak[m]['self_mb']:>8.0f}"
              f"{peak[m]['join_mb']:>10.1f}"
              f"{peak[m]['children_mb'] if m == 'concat' else 0:>11.0f}"
              f"{outs[m].stat().st_size / 1e6:>8.2f}")
    if HAVE_AV:
        print(f"(PyAV's wall s excludes `import av`: {med['pyav']['import_s']:.3f} s more, once "
              "per process, not counted in its wall or CPU s)")
    print("(vs concat: how many times faster than the baseline; py MB = peak RSS of the Python "
          "process (its imports included); join +MB = how far the process's RSS rose above its RSS "
          "just before the join (PyAV's libraries loaded), during the join; ffmpeg MB = peak RSS of the "
          "ffmpeg child)")

    md5s = {m: frame_md5s(outs[m]) for m in METHODS}
    lengths = {m: ffmpeg.stream_lengths(outs[m]) for m in METHODS}
    durations = {m: ffmpeg.probe(outs[m]).duration for m in METHODS}
    print("\nchecks:")
    differ = []
    for m in METHODS:
        same_v = md5s[m]["video"] == md5s["concat"]["video"]
        same_a = md5s[m]["audio"] == md5s["concat"]["audio"]
        differ += [] if same_v and same_a else [LABELS[m]]
        print(f"  {LABELS[m]:<26} video {len(md5s[m]['video'])} frames "
              f"{'= concat' if same_v else '!= concat'}; sound {len(md5s[m]['audio'])} frames "
              f"{'= concat' if same_a else '!= concat'}; lengths video "
              f"{lengths[m].get('video', 0):.6f} s, sound {lengths[m].get('audio', 0):.6f} s; "
              f"container {durations[m]} s; boxes {' '.join(top_boxes(outs[m])[:4])}; same bytes "
              f"in all {len(runs[m])} runs: {'yes' if len({r['sha256'] for r in runs[m]}) == 1 else 'no'}")

    share(base["seconds"], facts, args)
    if differ:  # a join that does not decode to the baseline's frames is no join (CI's floors step)
        raise SystemExit(f"decoded frames differ from ffmpeg concat's: {', '.join(differ)}")
    if HAVE_AV:
        print(f"PyAV would save {base['seconds'] - med['pyav']['seconds']:.3f} s "
              f"({base['cpu'] - med['pyav']['cpu']:.3f} CPU-s) per episode over ffmpeg concat")


def share(join_s: float, facts: dict[str, Any], args: argparse.Namespace) -> None:
    """What the concat join weighs in a stitch and in a render."""
    serial = args.shots * args.shot_minutes * 60
    wave = args.shot_minutes * 60
    print(f"\nthe final join (ffmpeg concat, {join_s:.3f} s) is {join_s / facts['warm_s']:.1%} of a "
          f"warm stitch ({facts['warm_s']:.2f} s: everything kept), {join_s / facts['cold_s']:.1%} "
          f"of a cold one ({facts['cold_s']:.1f} s); {join_s / wave:.3%} of a render of "
          f"{args.shots} shots at {args.shot_minutes:g} min each all in parallel "
          f"({wave / 60:g} min), {join_s / serial:.4%} rendered one at a time ({serial / 60:g} min)")


if __name__ == "__main__":
    main()
