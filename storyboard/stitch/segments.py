"""A timeline and its mezzanines into segments: shot bodies copied, only transition frames encoded.

Each clip's *body* runs from the first keyframe after its incoming transition to the last keyframe
before its outgoing one; bodies are copied packet for packet from the clip's mezzanine (the concat
demuxer's ``inpoint``/``outpoint``, no file written, nothing decoded). What lies between two
bodies (a transition, widened to the keyframes around it) is a *blend*: its frames are decoded from
the mezzanines, crossfaded and encoded with the mezzanines' own encoder settings, so bodies and
blends share one set of parameter sets and join into one strict stream. A few blends share one
ffmpeg process and one file (each starts on a forced keyframe and is cut out by in/out points),
which saves process and encoder start-up. The sound is built once for the whole episode from the
mezzanines' WAVs (cuts joined, transitions crossfaded, sample-exact) and encoded once, while the
blends are made; the final join only copies.

Every position is a whole frame; the concat list gives each entry its exact duration in
microseconds, rounded from the episode clock (never summed), so no error accumulates.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from storyboard import ffmpeg
from storyboard.stitch import mezzanine
from storyboard.stitch.concat import EpisodeFormat
from storyboard.stitch.mezzanine import Mezzanine
from storyboard.stitch.model import StitchOptions
from storyboard.stitch.timeline import Timeline
from storyboard.stitch.transitions import Noise, dissolve_420, write_noise, xfade_420

MICRO = 1_000_000


@dataclass(frozen=True)
class Body:
    """Frames [first, last) of clip ``clip``, copied from its mezzanine."""

    clip: int
    first: int
    last: int


@dataclass(frozen=True)
class Blend:
    """Episode frames [start, end), re-encoded: clips ``clips`` from ``first`` (in the first one)."""

    start: int
    end: int
    clips: tuple[int, ...]
    first: int


Segment = Body | Blend


Span = tuple[int, int]  # episode frames [first, end)


def bodies(tl: Timeline, i: int, keys: Sequence[int], marks: Sequence[Span] = ()
           ) -> list[tuple[int, int]]:
    """Clip ``i``'s copyable runs of frames: between its overlaps and outside ``marks`` (episode
    frames that must be encoded: under burnt-in text), each from a keyframe to a keyframe (or to
    the clip's own end, where the next clip starts on one)."""
    n, start = tl.frames[i], tl.starts[i]
    outgoing = tl.overlaps[i + 1] if i + 1 < len(tl.frames) else 0
    free = [(tl.overlaps[i], n - outgoing)]
    for a, b in marks:
        free = [(lo, hi) for s, e in free
                for lo, hi in ((s, min(e, a - start)), (max(s, b - start), e)) if hi > lo]
    runs = []
    for s, e in free:
        first = s if s == 0 else min((k for k in keys if k >= s), default=n)
        last = e if e == n else max((k for k in keys if k <= e), default=0)
        if last > first:
            runs.append((first, last))
    return runs


def plan_segments(tl: Timeline, keyframes: Sequence[Sequence[int]], marks: Sequence[Span] = ()
                  ) -> list[Segment]:
    """Bodies and the blends between them, covering every episode frame once, in order."""
    out: list[Segment] = []
    cursor = 0
    for i in range(len(tl.frames)):
        for first, last in bodies(tl, i, keyframes[i], marks):
            if tl.starts[i] + first > cursor:
                out.append(_blend(tl, cursor, tl.starts[i] + first))
            out.append(Body(i, first, last))
            cursor = tl.starts[i] + last
    if cursor < tl.total:
        out.append(_blend(tl, cursor, tl.total))
    return out


def _blend(tl: Timeline, start: int, end: int) -> Blend:
    clips = tuple(i for i in range(len(tl.frames))
                  if tl.starts[i] < end and tl.starts[i] + tl.frames[i] > start)
    return Blend(start, end, clips, start - tl.starts[clips[0]])


def _seconds(frame: int, fps: Fraction, rounding: str) -> str:
    exact = frame * MICRO / fps
    micro = -(-exact.numerator // exact.denominator) if rounding == "up" else int(exact)
    return f"{micro // MICRO}.{micro % MICRO:06d}"


def _quoted(path: Path) -> str:
    return "'" + str(path.resolve()).replace("'", "'\\''") + "'"


@dataclass(frozen=True)
class Entry:
    """One line group of the concat script: frames [first, last) of ``file``."""

    file: Path
    first: int
    last: int


def concat_script(entries: Sequence[Entry], fps: Fraction) -> str:
    """An ffconcat script: each entry's exact duration and its in and out points.

    Durations are differences of the episode clock rounded to microseconds (so they never drift);
    an in point is rounded up and an out point down, so each lands on its own frame (a keyframe).
    """
    lines, start = ["ffconcat version 1.0"], 0
    for entry in entries:
        end = start + entry.last - entry.first
        lines.append(f"file {_quoted(entry.file)}")
        if entry.first:
            lines.append(f"inpoint {_seconds(entry.first, fps, 'up')}")
        lines.append(f"outpoint {_seconds(entry.last, fps, 'down')}")
        duration = round(end * MICRO / fps) - round(start * MICRO / fps)
        lines.append(f"duration {duration // MICRO}.{duration % MICRO:06d}")
        start = end
    return "\n".join(lines) + "\n"


def blend_parts(blend: Blend, tl: Timeline) -> list[tuple[int, int, int] | tuple[int, int]]:
    """The blend in order: ``(clip, first, last)`` frames shown as they are, ``(a, b)`` for the
    transition from clip ``a`` into clip ``b`` (their overlap, blended)."""
    parts: list[tuple[int, int, int] | tuple[int, int]] = []
    for n, i in enumerate(blend.clips):
        if n and tl.overlaps[i]:
            parts.append((blend.clips[n - 1], i))
        low = blend.first if n == 0 else tl.overlaps[i]
        last_clip = n == len(blend.clips) - 1
        outgoing = tl.overlaps[i + 1] if i + 1 < len(tl.frames) else 0
        high = blend.end - tl.starts[i] if last_clip else tl.frames[i] - outgoing
        if high > low:
            parts.append((i, low, high))
    return parts


def _needs(parts: Sequence[tuple[int, int, int] | tuple[int, int]], tl: Timeline) -> dict[int, int]:
    """For each clip of a blend, the frame just after the last one the blend shows of it."""
    needs: dict[int, int] = {}
    for part in parts:
        if len(part) == 3:
            ends = {part[0]: part[2]}
        else:
            a, b = part
            ends = {a: tl.frames[a], b: tl.overlaps[b]}
        for i, end in ends.items():
            needs[i] = max(needs.get(i, 0), end)
    return needs


def blend_graph(blend: Blend, tl: Timeline, mezz: Sequence[Mezzanine], first_input: int = 0,
                tag: str = "", noise: Noise | None = None, burn: Path | None = None
                ) -> tuple[list[str], list[str], str]:
    """Inputs, filter chains and output label of one blend (labels prefixed with ``tag``).

    Each input is read only as far as the blend needs it (``-t``, so nothing past it is decoded).
    Only the overlapping frames are blended (``xfade_420``, staying in 4:2:0; a dissolve with
    ``dissolve_420`` and the ``noise`` picture); frames outside an overlap are decoded and
    re-encoded untouched. ``burn``: an ASS script drawn on the blend, on the episode clock.
    """
    parts = blend_parts(blend, tl)
    uses = {i: sum(p[0] == i if len(p) == 3 else i in p for p in parts) for i in blend.clips}
    needs = _needs(parts, tl)
    inputs: list[str] = []
    chains: list[str] = []
    taps: dict[int, list[str]] = {}
    base = {i: blend.first if n == 0 else 0 for n, i in enumerate(blend.clips)}
    for n, i in enumerate(blend.clips):
        if base[i]:
            # A blend starts on a keyframe of its first clip: seek straight to it (rounded up, so
            # the demuxer's "keyframe at or before" is that one) and decode nothing before it.
            inputs += ["-noaccurate_seek", "-ss", _seconds(base[i], tl.fps, "up")]
        # Half a frame past the last frame needed: rounding cannot cut it off.
        span = Fraction(2 * (needs[i] - base[i]) + 1, 2) / tl.fps
        # One decoder thread: a few frames never fill a frame-threaded decoder's pipeline.
        inputs += ["-threads", "1", "-t", f"{float(span):.6f}", "-i", str(mezz[i].video)]
        taps[i] = [f"{tag}s{n}_{k}" for k in range(uses[i])]
        chains.append(f"[{first_input + n}:v]split={uses[i]}" + "".join(f"[{t}]" for t in taps[i]))
    labels = []
    for k, part in enumerate(parts):
        out = f"{tag}p{k}"
        if len(part) == 3:
            i, low, high = part
            chains.append(f"[{taps[i].pop(0)}]{_trim(low - base[i], high - base[i])}[{out}]")
        else:
            a, b = part
            overlap = tl.overlaps[b]
            tail = tl.frames[a] - base[a]
            chains.append(f"[{taps[a].pop(0)}]{_trim(tail - overlap, tail)}[{tag}a{k}]")
            chains.append(f"[{taps[b].pop(0)}]{_trim(0, overlap)}[{tag}b{k}]")
            if tl.kinds[b] == "dissolve" and noise is not None:
                index = first_input + inputs.count("-i")
                inputs += noise.input_args(tl.fps)
                chains += dissolve_420(f"{tag}a{k}", f"{tag}b{k}", f"{index}:v", overlap,
                                       (noise.width, noise.height), tl.fps, out)
            else:
                chains += xfade_420(f"{tag}a{k}", f"{tag}b{k}", tl.kinds[b],
                                    float(overlap / tl.fps), out)
        labels.append(f"[{out}]")
    chains.append("".join(labels) + f"concat=n={len(labels)}:v=1:a=0"
                  + (_burnt(burn, blend.start, tl.fps) if burn else "") + f"[{tag}blend]")
    return inputs, chains, f"{tag}blend"


def _burnt(script: Path, start: int, fps: Fraction) -> str:
    """Filters drawing ``script`` (ASS) on frames that start at episode frame ``start``."""
    return (f",setpts=PTS-STARTPTS+{_seconds(start, fps, 'down')}/TB,subtitles=filename="
            f"{ffmpeg.filter_value(str(script))}:fontsdir="
            f"{ffmpeg.filter_value(str(ffmpeg.font_path().parent))},setpts=PTS-STARTPTS")


def group_args(blends: Sequence[Blend], tl: Timeline, mezz: Sequence[Mezzanine],
               noise: Noise | None = None, burn: Path | None = None) -> list[str]:
    """Inputs and filter graph of several blends, one after the other in one stream."""
    inputs: list[str] = []
    chains: list[str] = []
    outs: list[str] = []
    for j, blend in enumerate(blends):
        more, chain, out = blend_graph(blend, tl, mezz, inputs.count("-i"), f"g{j}", noise, burn)
        inputs, chains, outs = [*inputs, *more], [*chains, *chain], [*outs, out]
    chains.append("".join(f"[{o}]" for o in outs) + f"concat=n={len(outs)}:v=1:a=0[blends]")
    return [*inputs, "-filter_complex", ";".join(chains), "-map", "[blends]"]


def _trim(first: int, last: int) -> str:
    return f"trim=start_frame={first}:end_frame={last},setpts=PTS-STARTPTS"


def group_starts(blends: Sequence[Blend]) -> list[int]:
    """Where each blend starts in its group's file (each of them on a forced keyframe)."""
    starts, at = [], 0
    for blend in blends:
        starts.append(at)
        at += blend.end - blend.start
    return starts


def render_group(blends: Sequence[Blend], tl: Timeline, mezz: Sequence[Mezzanine],
                 fmt: EpisodeFormat, options: StitchOptions, out: Path,
                 noise: Noise | None = None, burn: Path | None = None) -> Path:
    """Encode several blends into one file (one process, one encoder), each from a keyframe."""
    keys = mezzanine.force_times(group_starts(blends), tl.fps)
    args = [*group_args(blends, tl, mezz, noise, burn), "-an", "-force_key_frames", keys,
            *mezzanine.encoder_args(fmt, options, quick=True), str(out)]
    spans = ", ".join(f"{b.start}-{b.end}" for b in blends)
    ffmpeg.run(args, what=f"blending episode frames {spans}")
    return out


def dialogue(tl: Timeline, mezz: Sequence[Mezzanine], work: Path) -> Any:
    """Every clip's sound joined (cuts) or crossfaded (overlaps), sample-exact: an ffmpeg-python
    stream exactly ``tl.sample(tl.total)`` long."""
    g = ffmpeg.graph
    joined: Any = None
    for i, m in enumerate(mezz):
        source = g.input(str(_own_name(m.audio, i, mezz, work))).audio
        end = tl.starts[i] + tl.frames[i]
        take = tl.sample(end) - tl.sample(tl.starts[i])
        clip = source.filter("atrim", end_sample=take).filter("asetpts", "PTS-STARTPTS")
        if joined is None:
            joined = clip
            continue
        shared = tl.sample(tl.starts[i - 1] + tl.frames[i - 1]) - tl.sample(tl.starts[i])
        joined = (g.filter([joined, clip], "acrossfade", ns=shared, c1="tri", c2="tri") if shared
                  else g.concat(joined, clip, v=0, a=1))
    return joined


def _own_name(path: Path, i: int, mezz: Sequence[Mezzanine], work: Path) -> Path:
    """``path``, or a link to it when an earlier clip reads the same file: ffmpeg-python merges
    identical inputs into one, and one input feeding two clips needs an ``asplit``, which
    ffmpeg 5.1 ends early behind ``acrossfade``. Separate inputs read the file twice instead."""
    if all(m.audio != path for m in mezz[:i]):
        return path
    link = work / f"sound{i:05d}{path.suffix}"
    if not link.exists():
        try:
            link.symlink_to(path.resolve())
        except OSError:
            shutil.copyfile(path, link)
    return link


@dataclass(frozen=True)
class Joinable:
    """What the final join reads: the video concat script, the encoded sound, and whether the
    video is strict (one set of parameter sets)."""

    video_list: Path
    sound: Path
    strict: bool


GROUP = 4  # blends per ffmpeg process: fewer process and encoder starts, memory still bounded
SoundFinisher = Callable[[Callable[[], Any]], Path]  # the dialogue's maker -> encoded sound


@dataclass(frozen=True)
class Burn:
    """Burnt-in text: the ASS script, and the episode frames it is drawn on."""

    script: Path
    spans: tuple[Span, ...]


def render(tl: Timeline, mezz: Sequence[Mezzanine], fmt: EpisodeFormat, options: StitchOptions,
           work: Path, jobs: int, finish_sound: SoundFinisher, burn: Burn | None = None
           ) -> Joinable:
    """Encode the blends (a few per process) while the sound is joined and finished
    (``finish_sound``: music, loudness, encoding, reading the ``dialogue`` straight from the
    mezzanines), in parallel; write the video's concat list. With ``burn``, the frames under its
    text are encoded too (with the text drawn on them); the others are still copied."""
    segments = plan_segments(tl, [m.keyframes for m in mezz], burn.spans if burn else ())
    script = burn.script if burn else None
    blends = [s for s in segments if isinstance(s, Blend)]
    groups = [blends[n:n + GROUP] for n in range(0, len(blends), GROUP)]
    files = [work / f"blends{n:05d}.mp4" for n in range(len(groups))]
    noise = None
    if any(kind == "dissolve" and overlap for kind, overlap in zip(tl.kinds, tl.overlaps,
                                                                    strict=True)):
        noise = write_noise(work / "noise.yuv", fmt.width, fmt.height)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        sound = pool.submit(finish_sound, lambda: dialogue(tl, mezz, work))  # first: longest
        list(pool.map(lambda g, f: render_group(g, tl, mezz, fmt, options, f, noise, script),
                      groups, files))
        sound_file = sound.result()
    placed: dict[Blend, Entry] = {}
    for group, file in zip(groups, files, strict=True):
        for blend, at in zip(group, group_starts(group), strict=True):
            placed[blend] = Entry(file, at, at + blend.end - blend.start)
    entries = [Entry(mezz[s.clip].video, s.first, s.last) if isinstance(s, Body) else placed[s]
               for s in segments]
    video_list = work / "segments.ffconcat"
    video_list.write_text(concat_script(entries, tl.fps), encoding="utf-8")
    strict = len({m.extradata for m in mezz}) == 1
    return Joinable(video_list, sound_file, strict)
