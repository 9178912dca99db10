"""A timeline's transitions into blend files: their frames decoded, blended, encoded once, kept.

A *blend* is what lies between two copied shot bodies (``segments``): a transition, widened to the
keyframes around it, or frames under burnt-in text. Its frames are decoded from the mezzanines,
blended and encoded with the mezzanines' own encoder settings into a file of its own, starting on a
keyframe, so its packets join the copied bodies into one strict stream.

A blend file is named after a hash of its whole recipe: the mezzanines it reads and from where, its
filters, the encoder settings and any burnt-in text. Another episode or variant that crosses the
same two shots the same way (an ad matrix shuffling ten shots) copies it instead of encoding it
again, and a re-stitch after one shot changed encodes only the transitions that touch it. A blend
is kept beside its first clip's mezzanine, and removed with it or when no stitch has used it for as
long (``mezzanine.prune``). A few blends are encoded by one ffmpeg process (one output each),
which saves process start-up.

Beside each kept blend lies a listing of its first packet (``LISTING``), which holds its parameter
sets (``#extradata``) as a mezzanine's record holds its own: a blend kept from another x264 build
has parameter sets of its own, and the final join must then carry them in-band (``segments``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from storyboard.media import ffmpeg
from storyboard.stitch.join import mezzanine
from storyboard.stitch.join.concat import EpisodeFormat
from storyboard.stitch.join.mezzanine import Mezzanine
from storyboard.stitch.model import StitchOptions
from storyboard.stitch.timeline import Timeline, seconds_text
from storyboard.stitch.transitions import NOISE_SEED, Noise, dissolve_420, xfade_420

BLEND_VERSION = 1  # bump when a blend's recipe means other frames than it did
GROUP = 4  # blends per ffmpeg process: fewer process starts, memory still bounded
STAND_IN_NOISE = "noise.yuv"  # the noise picture's name in a blend's key (made in each stitch)
MARK = mezzanine.BLEND_MARK  # in a kept blend's name, after its first clip's mezzanine's stem
LISTING = mezzanine.BLEND_LISTING  # beside a kept blend: its first packet, listed by ffmpeg


@dataclass(frozen=True)
class Blend:
    """Episode frames [start, end), re-encoded: clips ``clips`` from ``first`` (in the first one)."""

    start: int
    end: int
    clips: tuple[int, ...]
    first: int


Part = tuple[int, int, int] | tuple[int, int]


def blend_parts(blend: Blend, tl: Timeline) -> list[Part]:
    """The blend in order: ``(clip, first, last)`` frames shown as they are, ``(a, b)`` for the
    transition from clip ``a`` into clip ``b`` (their overlap, blended)."""
    parts: list[Part] = []
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


def _needs(parts: Sequence[Part], tl: Timeline) -> dict[int, int]:
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
            inputs += ["-noaccurate_seek", "-ss", seconds_text(base[i], tl.fps, "up")]
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
    return (f",setpts=PTS-STARTPTS+{seconds_text(start, fps, 'down')}/TB,subtitles=filename="
            f"{ffmpeg.filter_value(str(script))}:fontsdir="
            f"{ffmpeg.filter_value(str(ffmpeg.font_path().parent))},setpts=PTS-STARTPTS")


def _trim(first: int, last: int) -> str:
    return f"trim=start_frame={first}:end_frame={last},setpts=PTS-STARTPTS"


# --- kept blend files --------------------------------------------------------------------------

@dataclass(frozen=True)
class Recipe:
    """What a stitch's blends are made of, besides the blends themselves."""

    tl: Timeline
    mezz: Sequence[Mezzanine]
    fmt: EpisodeFormat
    options: StitchOptions
    noise: Noise | None = None
    burn: Path | None = None  # the ASS script of the burnt-in text
    spans: tuple[tuple[int, int], ...] = ()  # episode frames [first, end) it draws on

    @functools.cached_property
    def script_digest(self) -> str:
        """The burnt-in script's content hash (read once, however many blends it is drawn on)."""
        return hashlib.sha256(self.burn.read_bytes()).hexdigest() if self.burn else ""


def _script(blend: Blend, recipe: Recipe) -> Path | None:
    """The script to draw on ``blend``: only one that has text on its frames (so a transition
    away from any text is kept whatever the text says)."""
    if any(a < blend.end and b > blend.start for a, b in recipe.spans):
        return recipe.burn
    return None


def key(blend: Blend, recipe: Recipe) -> str:
    """The hash of everything that decides a blend's bytes. The stitch's own temporary files (the
    noise picture, the script) stand in by name and content, not by where this stitch keeps them."""
    noise = recipe.noise and dataclasses.replace(recipe.noise, path=Path(STAND_IN_NOISE))
    burn = _script(blend, recipe)
    inputs, chains, _ = blend_graph(blend, recipe.tl, recipe.mezz, 0, "", noise,
                                    burn and Path("burn.ass"))
    described = [BLEND_VERSION, inputs, chains, NOISE_SEED if STAND_IN_NOISE in inputs else 0,
                 recipe.script_digest if burn else "",
                 mezzanine.encoder_args(recipe.fmt, recipe.options, quick=True)]
    return hashlib.sha256(json.dumps(described).encode("utf-8")).hexdigest()[:32]


def files(blends: Sequence[Blend], recipe: Recipe) -> dict[Blend, Path]:
    """Where each blend is kept: beside its first clip's mezzanine, named by its recipe."""
    def where(blend: Blend) -> Path:
        video = recipe.mezz[blend.clips[0]].video
        return video.with_name(f"{video.stem}{MARK}{key(blend, recipe)}.mp4")
    return {blend: where(blend) for blend in blends}


def to_make(kept: dict[Blend, Path]) -> list[list[Blend]]:
    """The blends whose files are missing, each file once, ``GROUP`` to a process. The others
    are marked as used (so pruning keeps them)."""
    missing: dict[Path, Blend] = {}
    for blend, path in kept.items():
        try:
            os.utime(path)
        except FileNotFoundError:
            missing.setdefault(path, blend)
        except OSError:
            pass  # kept in a read-only cache: used as it is
    todo = list(missing.values())
    return [todo[n:n + GROUP] for n in range(0, len(todo), GROUP)]


def encode(group: Sequence[Blend], kept: dict[Blend, Path], recipe: Recipe) -> None:
    """Encode ``group``'s blends in one ffmpeg process, each into its own file (its first frame a
    keyframe); a file appears only when the whole process succeeded."""
    inputs: list[str] = []
    chains: list[str] = []
    outs: list[str] = []
    for j, blend in enumerate(group):
        more, chain, out = blend_graph(blend, recipe.tl, recipe.mezz, inputs.count("-i"), f"g{j}",
                                       recipe.noise, _script(blend, recipe))
        inputs, chains, outs = [*inputs, *more], [*chains, *chain], [*outs, out]
    args = [*inputs, "-filter_complex", ";".join(chains)]
    encoder = mezzanine.encoder_args(recipe.fmt, recipe.options, quick=True)
    spans = ", ".join(f"{b.start}-{b.end}" for b in group)
    with contextlib.ExitStack() as stack:
        for blend, out in zip(group, outs, strict=True):
            tmp = stack.enter_context(ffmpeg.atomic_output(kept[blend]))
            args += ["-map", f"[{out}]", "-an", *encoder, str(tmp)]
        ffmpeg.run(args, what=f"blending episode frames {spans}")
    _list_first_packets([(kept[b], kept[b].with_suffix(LISTING)) for b in group])


def parameter_sets(kept: Sequence[Path], work: Path) -> list[str]:
    """Each kept blend's parameter sets, as ``mezzanine`` records a mezzanine's (the
    ``#extradata`` line of a ``framecrc`` listing; "" when unreadable). Read from the listing
    beside the blend; those without one (kept by an older storyboard) are listed now, by one
    ffmpeg process (in ``work`` when their folder cannot be written)."""
    listings = {path: _listing(path, work) for path in kept}
    _list_first_packets([(p, listing) for p, listing in listings.items()
                         if not listing.is_file()])
    return [_extradata(listings[path]) for path in kept]


def _listing(blend: Path, work: Path) -> Path:
    beside = blend.with_suffix(LISTING)
    return beside if beside.is_file() or os.access(blend.parent, os.W_OK) else (
        work / f"{blend.stem}{LISTING}")


def _list_first_packets(pairs: Sequence[tuple[Path, Path]]) -> None:
    """For each (video, listing): the video's first packet, copied, listed by ffmpeg
    (``framecrc``: its header names the stream's parameter sets); one process for all."""
    if not pairs:
        return
    args = [arg for video, _ in pairs for arg in ("-i", str(video))]
    with contextlib.ExitStack() as stack:
        for n, (_, listing) in enumerate(pairs):
            tmp = stack.enter_context(ffmpeg.atomic_output(listing))
            args += ["-map", f"{n}:v:0", "-c", "copy", "-frames:v", "1", "-f", "framecrc",
                     str(tmp)]
        ffmpeg.run(args, what="listing the transitions' parameter sets")


def _extradata(listing: Path) -> str:
    try:
        text = listing.read_text(encoding="utf-8")
    except OSError:
        return ""
    return next((line for line in text.splitlines() if line.startswith("#extradata 0")), "")
