"""Each clip's sound into loudness facts, and an episode's clips into its loudness without reading it.

EBU R128's integrated loudness is a gated mean of the powers of 400 ms blocks taken every 100 ms
(ITU-R BS.1770: blocks under -70 LUFS are dropped, then those more than 10 LU under the mean of
the rest). Each clip's blocks and its true peak are measured once, by ffmpeg's own meter
(``ebur128``, whose per-block readings are the same on every ffmpeg this project supports), from
its mezzanine's sound, and kept beside the mezzanine (``<mezzanine>.r128``). An episode's
loudness is then the gating of all its clips' blocks: after an edit, only the edited clip is
measured, and no pass reads the whole episode. The blocks a cut straddles are left out, and a
crossfade's blocks are weighed as the fade leaves them (``weighted_blocks``): the tests hold the
result within 0.1 LU of the meter's reading of the joined sound, a quarter of it crossfades. The
true peak of cuts and of triangular crossfades (at each sample a weighted mean of the two sides)
is at most the largest clip's.

``spliced_gain`` turns that into the gain the spliced sound is encoded with (``splice``), rounded
to ``GAIN_STEP`` dB so that an edit which moves the episode's loudness by less than that keeps
every kept encode; None when the gain would push a peak over the ceiling (then the whole sound
is measured, limited and encoded: ``audio.normalise``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

from storyboard.media import ffmpeg
from storyboard.stitch.join import mezzanine
from storyboard.stitch.join.mezzanine import Mezzanine
from storyboard.stitch.model import StitchOptions

FACTS_VERSION = 1
BLOCK = 10  # blocks per second (100 ms steps); each reading covers the last 400 ms
FIRST_FULL = 3  # the first reading whose 400 ms lie wholly inside the clip
ABSOLUTE_GATE = -70.0
RELATIVE_GATE = 10.0
OFFSET = -0.691  # BS.1770's constant: loudness = OFFSET + 10 log10(power)
GAIN_STEP = 0.1  # dB: well inside the stitch's 0.2 LU tolerance
MAX_GAIN_DB = 40.0
SILENCE_LUFS = -70.0


def facts_path(mezz: Mezzanine) -> Path:
    return mezz.video.with_suffix(mezzanine.LOUDNESS)


def _reading(line: str, key: str) -> float | None:
    """The value of ``lavfi.r128.<key>`` on a line of ffmpeg's log, if it has one."""
    prefix = f"lavfi.r128.{key}="
    at = line.find(prefix)
    return float(line[at + len(prefix):].split()[0]) if at >= 0 else None


def parse(printed: str) -> tuple[list[float], float]:
    """(each block's loudness in LUFS, the true peak in dBTP) from ``ametadata``'s printout in
    ffmpeg's log."""
    blocks = [v for line in printed.splitlines() if (v := _reading(line, "M")) is not None]
    peaks = [v for line in printed.splitlines() if (v := _reading(line, "true_peak")) is not None]
    peak = max(peaks, default=0.0)
    return blocks[FIRST_FULL:], 20 * math.log10(peak) if peak > 0 else -math.inf


def measure(sound: Path, out: Path, sample_rate: int) -> None:
    """Measure ``sound``'s blocks and true peak into ``out`` (written whole or not at all)."""
    chain = (f"asetnsamples=n={sample_rate // BLOCK}:p=0,ebur128=metadata=1:peak=true,"
             "ametadata=mode=print")
    log = ffmpeg.run(["-i", str(sound), "-af", chain, "-f", "null", "-"],
                     what=f"measuring the loudness of {sound.name}")
    write(out, *parse(log))


def write(out: Path, blocks: Sequence[float], peak: float) -> None:
    """Keep a clip's facts in ``out``, whole or not at all."""
    with ffmpeg.atomic_output(out) as tmp:  # silence may read -inf or nan: kept as null
        tmp.write_text(json.dumps({"version": FACTS_VERSION, "blocks": [_finite(b) for b in blocks],
                                   "peak": _finite(peak)}, allow_nan=False), encoding="utf-8")


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def read(path: Path) -> tuple[list[float], float] | None:
    """Kept facts, or None when missing or unreadable (then measured again)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("version") != FACTS_VERSION:
            return None
        blocks, peak = data["blocks"], data["peak"]
        return ([-math.inf if b is None else float(b) for b in blocks],
                -math.inf if peak is None else float(peak))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def clip_facts(mezz: Sequence[Mezzanine], sample_rate: int, workers: int
               ) -> list[tuple[list[float], float]]:
    """Each clip's (blocks, true peak), measured for those not kept yet (their sound made first)."""
    missing = {facts_path(m): m for m in mezz if read(facts_path(m)) is None}
    mezzanine.ensure_sounds(missing.values(), workers)
    for path, m in missing.items():
        measure(m.audio, path, sample_rate)
    found = [read(facts_path(m)) for m in mezz]
    if any(f is None for f in found):
        raise OSError("loudness facts could not be kept")
    return [f for f in found if f is not None]


Block = tuple[float, float]  # (loudness in LUFS, how much it counts: 1 for a whole block)


def integrated(blocks: Sequence[Block]) -> float:
    """BS.1770's gated loudness of these blocks (LUFS); -inf when none passes the gates."""
    audible = [b for b in blocks if b[0] > ABSOLUTE_GATE]
    if not audible:
        return -math.inf
    gate = _loudness(audible) - RELATIVE_GATE
    return _loudness([b for b in audible if b[0] > gate])


def _loudness(blocks: Sequence[Block]) -> float:
    power = sum(w * 10 ** ((b - OFFSET) / 10) for b, w in blocks) / sum(w for _, w in blocks)
    return OFFSET + 10 * math.log10(power)


def weighted_blocks(blocks: Sequence[float], fades: tuple[int, int, int], sample_rate: int
                    ) -> list[Block]:
    """The clip's blocks as they sound in the episode: ``fades`` is (samples faded in at its
    start, samples faded out before its end, its take). Over a crossfade the mix's power is
    about a third of each side's (the mean of a linear fade's square) added, and both sides'
    blocks cover it: each is taken at two thirds of its power and counts half, so the pair
    stands for one block of the mix."""
    step = sample_rate // BLOCK
    head, tail, take = fades
    out = []
    for j, b in enumerate(blocks):
        start, end = j * step, (j + FIRST_FULL + 1) * step
        if end > take:
            break
        faded = max(0, min(end, head) - start) + max(0, end - max(start, take - tail))
        part = min(1.0, faded / (end - start))
        out.append((b + 10 * math.log10(1 - part / 3), 1 - part / 2))
    return out


def spliced_gain(mezz: Sequence[Mezzanine], fades: Sequence[tuple[int, int, int]],
                 sample_rate: int, options: StitchOptions) -> float | None:
    """The gain (dB, a multiple of ``GAIN_STEP``) that brings the episode to its target with no
    limiter, 0 for silence; None when a peak would pass the ceiling. ``fades``: each clip's
    (``weighted_blocks``)."""
    assert options.loudness is not None
    facts = clip_facts(mezz, sample_rate, options.workers())
    blocks = [b for (found, _), fade in zip(facts, fades, strict=True)
              for b in weighted_blocks(found, fade, sample_rate)]
    loudness = integrated(blocks)
    if not math.isfinite(loudness) or loudness < SILENCE_LUFS:
        return 0.0
    gain = min(MAX_GAIN_DB, options.loudness - loudness)
    gain = round(round(gain / GAIN_STEP) * GAIN_STEP, 1)
    peak = max(p for _, p in facts)
    return gain if peak + gain <= options.true_peak else None
