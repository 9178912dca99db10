"""Transition names into xfade/acrossfade filters: how two clips overlap for a declared transition.

A transition of duration ``d`` between clips A and B overlaps A's last ``d`` seconds with B's first
``d`` seconds, so the pair lasts ``len(A) + len(B) - d``. xfade's ``offset`` is the moment at which
the transition starts, measured on its *first* input's timeline (that input's timestamps, not the
episode's). Each piece feeds xfade one clip (already trimmed of its incoming transition, timestamps
from 0) and the next clip's first ``d`` seconds, so ``offset = len(piece) - d``, computed from
whole frames: the piece lasts exactly ``len(piece)`` and no offset arithmetic accumulates along the
episode. Audio uses acrossfade over the same stretch, sized in samples, so sound and picture end
together.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

CUT = "cut"

# Our transition names -> xfade transition names.
XFADE_NAMES: dict[str, str] = {
    "crossfade": "fade",
    "fade": "fadeblack",  # through black
    "dissolve": "dissolve",
    "wipeleft": "wipeleft",
    "wiperight": "wiperight",
    "wipeup": "wipeup",
    "wipedown": "wipedown",
    "slideleft": "slideleft",
    "slideright": "slideright",
    "slideup": "slideup",
    "slidedown": "slidedown",
}

TRANSITIONS: tuple[str, ...] = (CUT, *XFADE_NAMES)
THROUGH_A_COLOUR = frozenset({"fade"})  # blends towards black: xfade treats chroma apart


def xfade_name(transition: str) -> str:
    """The xfade ``transition=`` value for one of our names (not ``cut``)."""
    return XFADE_NAMES[transition]


def xfade_420(a: str, b: str, transition: str, seconds: float, out: str) -> list[str]:
    """Filter chains crossing ``[a]`` into ``[b]`` (yuv420p, both as long as the transition) into
    ``[out]``, without leaving 4:2:0.

    xfade only takes 4:4:4 (or gray), so a plain ``xfade`` converts both inputs up and its output
    back down: two resamplings per frame that cost more than decoding it and blur the colour.
    Here every plane goes through xfade as a gray picture; for a fade through black the two chroma
    planes go as the U and V of a quarter-size 4:4:4 picture instead (its Y a placeholder), so
    black stays neutral in the chroma as it does in xfade's own YUV handling. A wipe's edge and a
    slide's offset scale with each plane's size, so luma and chroma move together; the luma is
    xfade's to the bit. Where a slide has moved an odd number of pixels, the chroma (which moves in
    whole chroma samples) sits half a chroma sample (one pixel) behind where a resampled 4:4:4
    picture would put it, in a picture moving by dozens of pixels a frame. Resampling to 4:4:4 and
    back for that half sample cost half again the time of the whole blend.
    """
    spec = f"transition={xfade_name(transition)}:duration={seconds:.6f}:offset=0"
    t = out
    planes = [f"[{a}]extractplanes=y+u+v[{t}ay][{t}au][{t}av]",
              f"[{b}]extractplanes=y+u+v[{t}by][{t}bu][{t}bv]",
              f"[{t}ay][{t}by]xfade={spec}[{t}y]"]
    if transition in THROUGH_A_COLOUR:  # the chroma must fade to neutral, not to zero
        planes += [f"[{t}au][{t}av]mergeplanes=0x000010:yuv444p[{t}ac]",
                   f"[{t}bu][{t}bv]mergeplanes=0x000010:yuv444p[{t}bc]",
                   f"[{t}ac][{t}bc]xfade={spec},extractplanes=u+v[{t}u][{t}v]"]
    else:  # a mix, a wipe or a slide treats every plane alike: each chroma plane as grey
        planes += [f"[{t}au][{t}bu]xfade={spec}[{t}u]", f"[{t}av][{t}bv]xfade={spec}[{t}v]"]
    return [*planes, f"[{t}y][{t}u][{t}v]mergeplanes=0x001020:yuv420p,setsar=1[{out}]"]


NOISE_SEED = 13  # the dissolve's pattern: fixed, so the same episode gives the same bytes


@dataclass(frozen=True)
class Noise:
    """A fixed noise picture (one raw yuv420p frame) deciding when each pixel of a dissolve
    switches from the first clip to the second."""

    path: Path
    width: int
    height: int

    def input_args(self, fps: Fraction) -> list[str]:
        return ["-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{self.width}x{self.height}",
                "-framerate", str(fps), "-i", str(self.path)]


def write_noise(path: Path, width: int, height: int) -> Noise:
    """Uniform noise for the luma; each chroma sample takes the value of the top-left luma pixel
    of its 2x2 block, so a pixel's colour mostly switches with its brightness."""
    luma = random.Random(NOISE_SEED).randbytes(width * height)
    chroma = b"".join(luma[row * width:(row + 1) * width:2] for row in range(0, height, 2))
    path.write_bytes(luma + chroma + chroma)
    return Noise(path, width, height)


def dissolve_420(a: str, b: str, noise: str, frames: int, size: tuple[int, int], fps: Fraction,
                 out: str) -> list[str]:
    """Filter chains dissolving ``[a]`` into ``[b]`` (``frames`` long, yuv420p) into ``[out]``.

    xfade's own dissolve draws a random number per pixel per frame in floating point (many times
    the cost of decoding the frame). Here pixel (x, y) shows ``b`` from frame ``k`` on once the
    noise picture's value there is below ``256 k / frames``: one ``threshold`` per frame, the same
    look (a share ``k / frames`` of the pixels switched, at random places, never switching back).
    """
    level = f"floor(256*N/{frames})"
    return [f"[{noise}]loop=loop={frames - 1}:size=1[{out}n]",
            f"color=c=black:s=2x2:r={fps},format=yuv420p,trim=end_frame={frames},"
            f"geq=lum='{level}':cb='{level}':cr='{level}',"
            f"scale={size[0]}:{size[1]}:flags=neighbor[{out}t]",
            f"[{out}n][{out}t][{b}][{a}]threshold,setsar=1[{out}]"]
