"""An episode's plain dialogue into an .m4a spliced from AAC: each clip's body encoded once (per
phase) and kept, the packets around each join encoded once per pair of clips and kept too.

This is the sound path when the sound is the clips' own, at their own level (no loudness target,
no music bed): then every sample away from a join is one clip's sample, so the AAC packets that
code it can come from an encode of that clip alone, made once and cached. AAC codes 1,024 samples
per packet on a grid that starts with the episode, so a clip starting at sample ``s`` needs an
encode whose grid is offset by ``s % 1024`` (its *phase*: 16 phases at 30 fps and 48 kHz): the
clip's sound after ``WARM`` packets and its phase of warm-up (its own first samples played
backwards). Around each join (a crossfade's overlap, or a cut) the real episode sound is encoded,
with enough packets before (the encoder's first dozen packets are poor) and after. The packets are
then laid end to end; a splice is only made where both encodes chose the same window for the
packet before it, so the overlap-add that rebuilds the samples between two packets gets the
halves it expects and nothing clicks. Where no such point is found, or little would be saved,
the caller encodes the whole sound as before.

A join's encode is made from its clips' sound alone (each cut to its take and joined or
crossfaded as the whole dialogue joins them: the same samples) and kept beside its first clip's
mezzanine, named after what its samples depend on (``joint_name``). So a re-stitch after an edit
encodes only the joins around what changed, and makes only the sound those encodes read (a
render keeps no float sound: ``Mezzanine.make_sound``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import itertools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from storyboard.media import ffmpeg
from storyboard.stitch.join import mezzanine
from storyboard.stitch.join.mezzanine import Mezzanine
from storyboard.stitch.model import StitchOptions
from storyboard.stitch.sound import aac, audio, loudness
from storyboard.stitch.timeline import Timeline

K = 1024  # samples per AAC packet
PRIMING = 1024  # ffmpeg's encoder delay: its first packet decodes to samples before the start
LOOK_BACK, LOOK_AHEAD = 1, 2  # packets beyond a packet's own span its coding may depend on
WARM = 12  # packets an encode runs before its packets are used (its rate control settles)
SLACK = 8  # packets a splice may move to find matching windows
SHORTEST_BODY = 2 * SLACK + 2  # a clip with fewer usable packets is left to its joins' encodes
WORTH = 0.6  # splice only when the joins are at most this share of the episode's packets


def packet_count(samples: int) -> int:
    """Packets ffmpeg's encoder writes for ``samples`` samples (the priming packet included)."""
    return -(-(samples + PRIMING) // K)


@dataclass(frozen=True)
class Clip:
    """Where a clip's sound sits in the episode, in samples and in packets."""

    start: int  # its first sample in the episode
    take: int  # samples of it the episode uses
    lo: int  # the first episode packet its own encode may give
    hi: int  # one past the last

    @property
    def phase(self) -> int:
        return self.start % K

    @property
    def offset(self) -> int:
        """The episode packet its own encode's packet 0 stands for: the first clip's encode is
        the episode's start; any other's begins with ``WARM`` packets of warm-up."""
        return self.start // K - WARM if self.start else 0

    @property
    def warm_up(self) -> int:
        """Samples before the clip in its own encode: the warm-up, then its phase."""
        return self.start % K + WARM * K if self.start else 0


def layout(tl: Timeline) -> list[Clip]:
    """Each clip's usable packets: those whose samples, and the few the encoder looks at around
    them, are that clip's alone (not shared with a neighbour in a crossfade)."""
    starts = [tl.sample(s) for s in tl.starts]
    ends = [tl.sample(s + f) for s, f in zip(tl.starts, tl.frames, strict=True)]
    last = packet_count(tl.sample(tl.total))
    clips = []
    for i, (start, end) in enumerate(zip(starts, ends, strict=True)):
        lo = 0 if i == 0 else -(-ends[i - 1] // K) + 1 + LOOK_BACK
        hi = last if i == len(starts) - 1 else starts[i + 1] // K - LOOK_AHEAD
        clips.append(Clip(start, end - start, lo, hi))
    return clips


@dataclass(frozen=True)
class Encode:
    """One AAC encode: its packet ``m`` stands for episode packet ``m + offset``; packets
    ``[valid_from, valid_to)`` (episode numbering) code the episode's own sound."""

    path: Path
    offset: int
    valid_from: int
    valid_to: int


def body_path(sound: Path, clip: Clip, options: StitchOptions, gain: float = 0.0) -> Path:
    """The cached encode of a clip's sound at its phase (and at the episode's loudness gain, if
    any), beside its mezzanine (pruned with it)."""
    where = f"p{clip.phase}.w{WARM}" if clip.start else "head"
    level = f".g{gain:+.1f}" if gain else ""
    return sound.with_name(f"{sound.stem}.{where}.n{clip.take}.{options.audio_bitrate}{level}"
                           ".adts")


def joint_span(before: Clip, after: Clip, total: int) -> tuple[int, int]:
    """The episode samples a join's encode reads: from ``WARM + SLACK`` packets before the first
    packet ``before`` cannot give, to ``SLACK`` packets (plus look-ahead) after ``after`` can."""
    first = max(0, before.hi - SLACK - WARM)
    end = min(total, (after.lo + SLACK + LOOK_AHEAD + 2) * K)
    return first * K, end


def joint(path: Path, span: tuple[int, int], total: int) -> Encode:
    start, end = span
    last = packet_count(total) if end == total else end // K - 1 - LOOK_AHEAD
    offset = start // K
    return Encode(path, offset, offset + (WARM if offset else 0), last)


def body(path: Path, clip: Clip) -> Encode:
    return Encode(path, clip.offset, clip.lo, clip.hi)


def chosen(clips: Sequence[Clip]) -> list[int]:
    """The clips whose own encodes are used: those with enough usable packets."""
    return [i for i, c in enumerate(clips) if c.hi - c.lo >= SHORTEST_BODY]


def worth_it(clips: Sequence[Clip], picked: Sequence[int], total: int) -> bool:
    """Whether the joins are a small enough share of the sound to be worth splicing."""
    if not picked or picked[0] != 0 or picked[-1] != len(clips) - 1:
        return False
    own = sum(clips[i].hi - clips[i].lo for i in picked)
    return packet_count(total) - own <= WORTH * packet_count(total)


# --- encoding ----------------------------------------------------------------------------------

def aac_args(options: StitchOptions) -> list[str]:
    """The whole-sound encode's settings (``audio.AAC``), to ADTS."""
    settings = {**audio.AAC, "b:a": options.audio_bitrate, "f": "adts"}
    return [part for name, value in settings.items() for part in (f"-{name}", str(value))]


def body_job(sound: Path, clip: Clip, out: Path) -> Job:
    """The clip's sound alone, after its warm-up: its own first samples played backwards (so the
    encoder starts in the state the clip's sound puts it in, with no jump where the clip begins),
    as long as the phase needs."""
    take = f"atrim=end_sample={clip.take},asetpts=PTS-STARTPTS"
    wav = ("-i", str(sound))
    if not clip.start:
        return Job((wav,), lambda n: f"[{n}:a]{take}[o{n}]", out)
    lead = clip.warm_up
    return Job((wav, wav), lambda n: (
        f"[{n}:a]atrim=end_sample={lead},apad=whole_len={lead},areverse[w{n}];"
        f"[{n + 1}:a]{take}[c{n}];[w{n}][c{n}]concat=n=2:v=0:a=1[o{n}]"), out)


JOIN_VERSION = 1  # part of every kept join's name: a change in how joins are made, a new name


def joint_name(clips: Sequence[Clip], mezz: Sequence[Mezzanine], a: int, b: int,
               span: tuple[int, int], options: StitchOptions, gain: float = 0.0) -> Path:
    """Where the encode of the join read over ``span`` from clips ``a`` to ``b`` is kept: beside
    clip ``a``'s mezzanine (pruned with it), named after all its samples depend on: each clip's
    sound (its mezzanine's name), where it sits in the span and how much of it is used, and the
    encoder's settings and gain. An edit elsewhere in the episode leaves the name, and the encode, as
    they were: only the joins of what changed are encoded again."""
    described = [JOIN_VERSION, span[1] - span[0], options.audio_bitrate, audio.AAC, gain,
                 [[mezz[j].audio.name, clips[j].start - span[0], clips[j].take]
                  for j in range(a, b + 1)]]
    digest = hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()[:24]
    return mezz[a].video.with_name(f"{mezz[a].video.stem}.j{digest}.adts")


def joint_job(clips: Sequence[Clip], mezz: Sequence[Mezzanine], a: int, b: int,
              span: tuple[int, int], out: Path) -> Job:
    """The episode's own sound over ``span`` (samples), made from clips ``a`` to ``b`` alone:
    each cut to its take and joined (cuts) or crossfaded (overlaps) as the whole episode's
    dialogue joins them (``segments.dialogue``), so the samples are the very ones it has there."""
    inputs = tuple(("-i", str(mezz[j].audio)) for j in range(a, b + 1))
    cut = f"atrim=start_sample={span[0] - clips[a].start}:end_sample={span[1] - clips[a].start}"

    def chain(n: int) -> str:
        parts = [f"[{n + k}:a]atrim=end_sample={clips[j].take},asetpts=PTS-STARTPTS[c{n}_{k}]"
                 for k, j in enumerate(range(a, b + 1))]
        label = f"c{n}_0"
        for k, j in enumerate(range(a + 1, b + 1), start=1):
            shared = clips[j - 1].start + clips[j - 1].take - clips[j].start
            join = (f"acrossfade=ns={shared}:c1=tri:c2=tri" if shared
                    else "concat=n=2:v=0:a=1")
            parts.append(f"[{label}][c{n}_{k}]{join}[d{n}_{k}]")
            label = f"d{n}_{k}"
        return ";".join([*parts, f"[{label}]{cut},asetpts=PTS-STARTPTS[o{n}]"])
    return Job(inputs, chain, out)


@dataclass(frozen=True)
class Job:
    """One encode: its inputs (each the arguments that open it), its filter chain (given its
    first input's index, ending in ``[o<index>]``), its ADTS output and the gain (dB) its sound
    is encoded at (the episode's loudness gain: ``loudness.spliced_gain``)."""

    inputs: tuple[tuple[str, ...], ...]
    chain: Callable[[int], str]
    out: Path
    gain: float = 0.0

    def graph(self, first: int) -> str:
        """The chain, with the gain applied last."""
        chain, end = self.chain(first), f"[o{first}]"
        if not self.gain:
            return chain
        return (f"{chain.removesuffix(end)}[r{first}];"
                f"[r{first}]volume={self.gain:.1f}dB:precision=double{end}")


BATCH = 8  # encodes per ffmpeg process: fewer process starts, memory bounded however long


def encode_all(jobs: Sequence[Job], options: StitchOptions) -> None:
    """Every job, ``BATCH`` to an ffmpeg process."""
    for n in range(0, len(jobs), BATCH):
        encode_batch(jobs[n:n + BATCH], options)


def encode_batch(jobs: Sequence[Job], options: StitchOptions) -> None:
    """One ffmpeg process for these jobs; outputs appear only when all succeeded (a cached body
    is never half-written)."""
    args: list[str] = []
    chains, firsts, count = [], [], 0
    for job in jobs:
        firsts.append(count)
        chains.append(job.graph(count))
        for opened in job.inputs:
            args += opened
        count += len(job.inputs)
    args += ["-filter_complex", ";".join(chains)]
    with contextlib.ExitStack() as stack:
        for first, job in zip(firsts, jobs, strict=True):
            tmp = stack.enter_context(ffmpeg.atomic_output(job.out))
            args += ["-map", f"[o{first}]", *aac_args(options), str(tmp)]
        ffmpeg.run(args, what="encoding the sound around the joins")


# --- splicing ----------------------------------------------------------------------------------

class NoSplice(Exception):
    """No point near a join where the two encodes' windows match."""


def _window(stream: aac.Stream, encode: Encode, packet: int) -> aac.Window | None:
    m = packet - encode.offset
    return aac.window(stream.packets[m]) if 0 <= m < len(stream.packets) else None


def fits(before: tuple[aac.Stream, Encode], after: tuple[aac.Stream, Encode], k: int,
         steady: bool = False) -> bool:
    """Whether ``before``'s packets up to ``k`` and ``after``'s from ``k`` join cleanly: both
    encodes coded packet ``k - 1`` with the same window (so ``after``'s packet ``k`` was made
    for what the decoder will have), and ``after``'s window may follow it. ``steady``: and both
    packets are long windows (no transient near the splice)."""
    last = _window(*before, k - 1)
    own = _window(*after, k - 1)
    then = _window(*after, k)
    if last is None or then is None or last != own or not aac.follows(last, then):
        return False
    return not steady or last.sequence == then.sequence == aac.ONLY_LONG


def splice_point(before: tuple[aac.Stream, Encode], after: tuple[aac.Stream, Encode],
                 ideal: int, step: int) -> int:
    """The splice nearest ``ideal`` (moving by ``step``) where both encodes can join, away from
    transients if it can be."""
    ks = [k for k in range(ideal, ideal + step * (SLACK + 1), step)
          if before[1].valid_from < k <= before[1].valid_to
          and after[1].valid_from <= k < after[1].valid_to]
    for steady in (True, False):
        for k in ks:
            if fits(before, after, k, steady):
                return k
    raise NoSplice(f"no matching windows near packet {ideal}")


def lay_end_to_end(parts: Sequence[tuple[aac.Stream, Encode]], total: int) -> list[bytes]:
    """The episode's packets: ``parts`` alternate clip bodies and joins, each used from the
    splice with the part before it to the splice with the part after it."""
    cuts = [0]
    for n in range(1, len(parts)):
        ideal = parts[n - 1][1].valid_to if n % 2 else parts[n][1].valid_from
        cuts.append(splice_point(parts[n - 1], parts[n], ideal, -1 if n % 2 else 1))
    cuts.append(packet_count(total))
    if any(a >= b for a, b in itertools.pairwise(cuts)):
        raise NoSplice("a clip too short between two joins")
    out: list[bytes] = []
    for (stream, encode), first, last in zip(parts, cuts[:-1], cuts[1:], strict=True):
        out += stream.packets[first - encode.offset:last - encode.offset]
    if len(out) != packet_count(total):
        raise NoSplice("the spliced packets do not add up")
    return out


def _cached(path: Path) -> aac.Stream:
    """A kept clip encode; one that cannot be read (a damaged disk, a foreign file) is removed,
    to be made again next time, and this stitch encodes its whole sound."""
    try:
        return aac.read_adts(path)
    except ValueError as exc:
        path.unlink(missing_ok=True)
        raise NoSplice(str(exc)) from exc


Body = tuple[Path, int]  # (where its encode is kept, the clip's index)


def missing_bodies(bodies: Sequence[Body], clips: Sequence[Clip], mezz: Sequence[Mezzanine],
                   gain: float = 0.0) -> list[Job]:
    """The encodes of ``bodies`` not kept yet, each once (their clips' sound made first)."""
    missing = {path: i for path, i in bodies if not path.exists()}
    return [dataclasses.replace(body_job(mezz[i].audio, clips[i], path), gain=gain)
            for path, i in missing.items()]


def bodies_for(tl: Timeline, mezz: Sequence[Mezzanine], options: StitchOptions,
               gain: float = 0.0) -> tuple[list[Clip], list[int], list[Body]] | None:
    """(every clip's layout, the clips whose own encodes are used, those encodes); None when
    splicing this timeline is not possible or not worth it."""
    clips = layout(tl)
    picked = chosen(clips)
    if not worth_it(clips, picked, tl.sample(tl.total)):
        return None
    # Named after the sound, in the picture's folder: kept in the cache even when the float
    # sound is not (a render's stitch: ``StitchOptions.keep_sound``).
    return clips, picked, [(body_path(mezz[i].video.with_name(mezz[i].audio.name), clips[i],
                                      options, gain), i) for i in picked]


def prepare_bodies(tl: Timeline, mezz: Sequence[Mezzanine], options: StitchOptions,
                   gain: float = 0.0) -> int:
    """Encode ahead of the stitch the clip sounds ``spliced_sound`` will splice for this
    timeline, at the phases it puts them at (at ``gain``); the number of encodes made."""
    found = bodies_for(tl, mezz, options, gain)
    if found is None:
        return 0
    clips, _, bodies = found
    mezzanine.ensure_sounds([mezz[i] for path, i in bodies if not path.exists()],
                            options.workers())
    jobs = missing_bodies(bodies, clips, mezz, gain)
    encode_all(jobs, options)
    return len(jobs)


def _joins(clips: Sequence[Clip], picked: Sequence[int], mezz: Sequence[Mezzanine], total: int,
           options: StitchOptions, gain: float) -> list[tuple[int, int, tuple[int, int], Path]]:
    """Each join between two clips whose own encodes are used: (first clip, last clip, the
    samples its encode reads, where that encode is kept)."""
    found = []
    for a, b in itertools.pairwise(picked):
        span = joint_span(clips[a], clips[b], total)
        found.append((a, b, span, joint_name(clips, mezz, a, b, span, options, gain)))
    return found


def spliced_sound(tl: Timeline, mezz: Sequence[Mezzanine], out: Path,
                  options: StitchOptions, gain: float = 0.0) -> Path | None:
    """``out``, the episode's sound spliced from kept clip encodes and encodes of its joins,
    each join's kept too (only a join whose clips or place changed is encoded again, and only
    the sound of the clips such encodes read is made); None when splicing is not possible or
    not worth it, for the caller to encode the whole sound instead. ``gain``: the episode's
    loudness gain (dB), applied to every encode."""
    total = tl.sample(tl.total)
    found = bodies_for(tl, mezz, options, gain)
    if found is None:
        return None
    clips, picked, bodies = found
    joins = _joins(clips, picked, mezz, total, options, gain)
    missing = [j for j in joins if not j[3].exists()]
    readers = [i for path, i in bodies if not path.exists()]
    readers += [j for a, b, _, _ in missing for j in range(a, b + 1)]
    mezzanine.ensure_sounds([mezz[i] for i in readers], options.workers())
    jobs = missing_bodies(bodies, clips, mezz, gain)
    jobs += [dataclasses.replace(joint_job(clips, mezz, a, b, span, path), gain=gain)
             for a, b, span, path in missing]
    encode_all(jobs, options)
    return _lay(clips, bodies, joins, out, total)


def _lay(clips: Sequence[Clip], bodies: Sequence[Body],
         joins: Sequence[tuple[int, int, tuple[int, int], Path]], out: Path, total: int) -> Path:
    """The kept body and join encodes laid end to end into ``out``."""
    parts: list[tuple[aac.Stream, Encode]] = []
    for n, (path, i) in enumerate(bodies):
        if n:
            _, _, span, joined = joins[n - 1]
            parts.append((_cached(joined), joint(joined, span, total)))
        parts.append((_cached(path), body(path, clips[i])))
    packets = lay_end_to_end(parts, total)
    first = parts[0][0]
    aac.write_m4a(out, aac.Stream(first.config, first.sample_rate, first.channels, packets), total)
    return out


def splice_gain(tl: Timeline, mezz: Sequence[Mezzanine], options: StitchOptions
                ) -> float | None:
    """The gain (dB) the episode's sound is spliced at: none without a loudness target, else the
    one that brings it there with no limiter (``loudness.spliced_gain``); None when the sound is
    encoded whole instead (a music bed, a limiter needed, or too little to splice)."""
    clips = layout(tl)
    if options.music is not None or not worth_it(clips, chosen(clips), tl.sample(tl.total)):
        return None
    if options.loudness is None:
        return 0.0
    return loudness.spliced_gain(mezz, fades(clips), tl.sample_rate, options)


def fades(clips: Sequence[Clip]) -> list[tuple[int, int, int]]:
    """Each clip's (samples faded in, samples faded out, take): the crossfades it shares."""
    shared = [0] + [max(0, a.start + a.take - b.start) for a, b in itertools.pairwise(clips)]
    return [(shared[i], shared[i + 1] if i + 1 < len(clips) else 0, c.take)
            for i, c in enumerate(clips)]


def episode_sound(speech: audio.Dialogue, tl: Timeline, mezz: Sequence[Mezzanine], work: Path,
                  options: StitchOptions, seconds: float, windows: Sequence[audio.Window]
                  ) -> Path:
    """The episode's encoded sound (``work/sound.m4a``): spliced when it is the dialogue at its
    own level or at one gain, else (music, a limiter, or no splice found) encoded whole, from
    every clip's sound."""
    out = work / "sound.m4a"
    gain = splice_gain(tl, mezz, options)
    if gain is not None:
        try:
            made = spliced_sound(tl, mezz, out, options, gain)
        except NoSplice:
            made = None
        if made is not None:
            return made
    mezzanine.ensure_sounds(mezz, options.workers())
    return audio.encode_sound(speech, out, seconds, options, windows)
