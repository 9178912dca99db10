"""Clips into mezzanines: each shot encoded once into the episode format, with keyframes where cuts go.

A mezzanine is a clip's video in the episode format (size, frame rate, yuv420p, this module's
H.264 settings) and its sound as 48 kHz stereo float, both exactly as long as the clip's frames
on the timeline. The sound is kept losslessly compressed (WavPack, the one lossless codec ffmpeg
writes that keeps float samples bit for bit: the episode gets the very samples a WAV would give,
in about half the room for real sound and next to none for silence); a mezzanine whose sound
file is missing (``storyboard cache prune`` removes those first) has only its sound made again,
from the clip's audio alone, never its video.

Its keyframes (IDR, no B-frames) sit at 0.25, 0.5 and 1 s from each end (the usual transition
lengths) and every ``STEP`` seconds between, so an episode can copy a shot's body packet for packet
and re-encode only the frames a transition touches (see ``segments``). Mezzanines are cached by
(content hash, episode format, encoder settings) in the stitch cache folder, so a shot used by many
episodes or variants is encoded once; ``prune`` removes those no stitch used for a month. A process
that made a mezzanine for one folder copies it into another that asks for the same key (another
series of a studio or an agent, a fresh clone rendered beside its origin: ``media.memo.made``)
while the files it wrote are unchanged, instead of encoding the clip again; with a folder shared
by the machine's series (``shared``), so does any process.

The encoder settings are fixed and deterministic: one x264 configuration (``stitchable`` headers,
fixed threads, bitexact muxing, a fixed track timescale) shared by every mezzanine and every
transition segment of a format, so their parameter sets are identical and the joined stream has
exactly one SPS/PPS. A clip that already matches the format is only remuxed for a cut-only
episode ("copy" kind): its packets are kept as they are.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import math
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal

from storyboard.files import clean_stale_temporaries, safe_to_delete, state_folder, temp_prefix
from storyboard.media import ffmpeg, ffprogress, memo
from storyboard.stitch.join import shared
from storyboard.stitch.join.concat import ClipFacts, EpisodeFormat
from storyboard.stitch.model import StitchError, StitchOptions

Kind = Literal["encode", "copy"]
MEZZANINE_VERSION = 1
KEY_OFFSETS = (0.25, 0.5, 1.0)  # seconds from each end: the usual transition lengths
STEP = 1.5  # seconds between keyframes inside a shot
THREADS = 2  # x264's output depends on its thread count: fixed, so bytes do not depend on the CPU
TIMESCALE = 90000
# Colour tags end up in the SPS: one tagged shot would give the episode a second SPS. Pixels are
# kept as they are (no conversion), so an untagged episode looks as its shots did.
UNTAGGED = ("setparams=range=unknown:color_primaries=unknown:color_trc=unknown"
            ":colorspace=unknown")


@dataclass(frozen=True)
class Mezzanine:
    """A prepared clip: ``frames`` frames of video (keyframes at ``keyframes``) and its sound.

    The sound of a mezzanine whose video was kept but whose sound was not (a render's stitch
    keeps no float sound) is made only when something reads it (``make_sound``): an episode
    whose clips' sound encodes and joins are all kept reads none."""

    video: Path
    audio: Path
    frames: int
    keyframes: tuple[int, ...]
    extradata: str
    make_sound: Callable[[], None] | None = dataclasses.field(default=None, compare=False,
                                                              repr=False)

    def has_sound(self) -> bool:
        """Whether its sound can be read now, without an audio pass."""
        return self.make_sound is None or self.audio.is_file()


def ensure_sounds(mezz: Iterable[Mezzanine], workers: int) -> int:
    """Make the sound of each of ``mezz`` not made yet (each file once, ``workers`` audio passes
    at a time); how many were made."""
    missing = {m.audio: m.make_sound for m in mezz if not m.has_sound()}
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        list(pool.map(ffprogress.carried(_make), missing.values()))
    return len(missing)


def _make(make: Callable[[], object] | None) -> None:
    if make is not None:
        make()


def timescale(fps: Fraction) -> int:
    """A track timescale in which every frame lasts a whole number of ticks (90 kHz when it can)."""
    return fps.numerator * max(1, TIMESCALE // fps.numerator)


def keyframe_plan(frames: int, fps: Fraction) -> list[int]:
    """Frame indices that start a GOP: 0, the usual transition points from each end, every STEP s."""
    marks = {0}
    for offset in KEY_OFFSETS:
        n = round(offset * fps)
        marks.update({n, frames - n})
    first, last = round(max(KEY_OFFSETS) * fps), frames - round(max(KEY_OFFSETS) * fps)
    gaps = math.ceil((last - first) / float(STEP * fps)) if last > first else 0
    marks.update(first + round(i * (last - first) / gaps) for i in range(1, gaps))
    return sorted(m for m in marks if 0 <= m < frames)


def force_times(keys: list[int], fps: Fraction) -> str:
    """``-force_key_frames`` times a quarter frame early, so rounding cannot miss the frame."""
    return ",".join(f"{float((k - Fraction(1, 4)) / fps) if k else 0.0:.6f}" for k in keys)


# For the few frames of a transition: a quicker analysis (about a third less time) that changes no
# parameter set, so those frames still join the mezzanines' stream. CRF keeps their quality.
QUICK_ANALYSIS = ":subme=0:me=dia:partitions=none:rc-lookahead=0:mbtree=0"


def encoder_args(fmt: EpisodeFormat, options: StitchOptions, *, quick: bool = False) -> list[str]:
    """The one H.264 configuration of a format: every mezzanine and segment is encoded with it
    (``quick``: with the quicker analysis, for transition frames)."""
    gop = round(2 * STEP * fmt.fps)
    return ["-c:v", "libx264", "-preset", options.preset, "-crf", str(options.crf),
            "-pix_fmt", "yuv420p", "-bf", "0", "-g", str(gop), "-keyint_min", "1",
            "-sc_threshold", "0", "-forced-idr", "1", "-threads", str(THREADS),
            "-x264-params", "stitchable=1:sliced-threads=0" + (QUICK_ANALYSIS if quick else ""),
            "-flags:v", "+bitexact",
            "-fflags", "+bitexact", "-map_metadata", "-1",
            "-video_track_timescale", str(timescale(fmt.fps)), "-f", "mp4"]


def conform(fmt: EpisodeFormat, frames: int) -> str:
    """Filters bringing a clip's video to the format, exactly ``frames`` frames long."""
    return (f"fps={fmt.fps},scale=w={fmt.width}:h={fmt.height}:force_original_aspect_ratio=decrease"
            f":force_divisible_by=2,pad=w={fmt.width}:h={fmt.height}:x=(ow-iw)/2:y=(oh-ih)/2"
            f":color=black,setsar=1,format=yuv420p,{UNTAGGED},tpad=stop_mode=clone:stop=2,"
            f"trim=end_frame={frames},setpts=PTS-STARTPTS")


def audio_samples(frames: int, fmt: EpisodeFormat) -> int:
    """Samples a clip's sound needs: its frames' worth, plus one for rounding on the episode clock."""
    return math.ceil(frames * fmt.sample_rate / fmt.fps) + 1


def _sound(facts: ClipFacts, fmt: EpisodeFormat, samples: int) -> list[str]:
    # Blocks of one second (the same samples, never padded): WavPack then codes silence in a few
    # hundred bytes, where the filters' 1,024-sample frames would cost it 40 times as much.
    chain = (f"aresample={fmt.sample_rate},aformat=sample_fmts=fltp:channel_layouts=stereo,"
             f"apad,atrim=end_sample={samples},asetpts=PTS-STARTPTS,"
             f"asetnsamples=n={fmt.sample_rate}:p=0")
    if facts.audio is None:
        return ["-filter_complex", f"anullsrc=r={fmt.sample_rate}:cl=stereo,{chain}[a]",
                "-map", "[a]"]
    return ["-filter_complex", f"[0:a:0]{chain}[a]", "-map", "[a]"]


def key(facts: ClipFacts, content: str, fmt: EpisodeFormat, frames: int, kind: Kind,
        options: StitchOptions) -> str:
    """The cache name of a clip's mezzanine: content, format, length and encoder settings."""
    described = [MEZZANINE_VERSION, content, kind, fmt.width, fmt.height, str(fmt.fps),
                 fmt.sample_rate, frames, options.preset if kind == "encode" else "",
                 options.crf if kind == "encode" else 0, facts.audio is not None]
    return hashlib.sha256(json.dumps(described).encode("utf-8")).hexdigest()[:32]


def parse_keyframes(listing: str) -> tuple[list[int], int]:
    """Indices of the keyframe packets in a one-stream ``framecrc`` listing, and the packet count."""
    rows = [line for line in listing.splitlines() if line and not line.startswith("#")]
    return [i for i, row in enumerate(rows) if "F=0x" not in row], len(rows)


LOUDNESS = ".r128"  # beside the video: its sound's loudness facts (``stitch.sound.loudness``)
SOUND = ".wv"  # WavPack: lossless float (FLAC would round the samples to 24-bit integers)
OLD_SOUND = ".wav"  # what earlier versions kept: removed with its mezzanine, never read


def _sound_out(facts: ClipFacts, fmt: EpisodeFormat, frames: int) -> list[str]:
    """The output options of a mezzanine's sound (deterministic: same clip, same bytes)."""
    return [*_sound(facts, fmt, audio_samples(frames, fmt)), "-c:a", "wavpack",
            "-fflags", "+bitexact", "-flags:a", "+bitexact", "-map_metadata", "-1", "-f", "wv"]


def _build_sound(facts: ClipFacts, fmt: EpisodeFormat, frames: int, sound: Path) -> None:
    """Only the sound of a mezzanine whose video is kept (an audio-only pass: nothing encoded
    but the sound), into ``sound``."""
    sound.parent.mkdir(parents=True, exist_ok=True)
    with ffmpeg.atomic_output(sound) as tmp:
        ffmpeg.run(["-i", str(facts.path), *_sound_out(facts, fmt, frames), str(tmp)],
                   what=f"preparing the sound of {facts.path.name} for the episode",
                   length=float(frames / fmt.fps))


def _build(facts: ClipFacts, fmt: EpisodeFormat, frames: int, kind: Kind,
           options: StitchOptions, stem: Path, audio: Path) -> None:
    video = stem.with_suffix(".mp4")
    audio.parent.mkdir(parents=True, exist_ok=True)
    if kind == "copy":
        video_out = ["-map", "0:v:0", "-c:v", "copy", "-an", "-fflags", "+bitexact",
                     "-map_metadata", "-1", "-video_track_timescale", str(timescale(fmt.fps)),
                     "-f", "mp4"]
    else:
        keys = keyframe_plan(frames, fmt.fps)
        video_out = ["-map", "0:v:0", "-vf", conform(fmt, frames), "-an",
                     "-force_key_frames", force_times(keys, fmt.fps), *encoder_args(fmt, options)]
    sound = _sound_out(facts, fmt, frames)
    with ffmpeg.atomic_output(video) as tmp_video, ffmpeg.atomic_output(audio) as tmp_audio:
        ffmpeg.run(["-i", str(facts.path), *video_out, str(tmp_video), *sound, str(tmp_audio)],
                   what=f"preparing {facts.path.name} for the episode format",
                   length=float(frames / fmt.fps))


def _describe(stem: Path) -> dict[str, object]:
    """Keyframes, frame count and parameter sets of a built mezzanine, from one packet scan
    (into a listing of this call's own: no other thread or process reads or removes it)."""
    fd, name = tempfile.mkstemp(prefix=temp_prefix(stem.name), suffix=".framecrc",
                                dir=stem.parent)
    os.close(fd)
    listing = Path(name)
    try:
        ffmpeg.run(["-i", str(stem.with_suffix(".mp4")), "-map", "0:v:0", "-c", "copy",
                    "-f", "framecrc", str(listing)], what=f"reading {stem.name}")
        text = listing.read_text(encoding="utf-8")
    finally:
        listing.unlink(missing_ok=True)
    keys, count = parse_keyframes(text)
    extradata = next((line for line in text.splitlines() if line.startswith("#extradata 0")), "")
    return {"version": MEZZANINE_VERSION, "keyframes": keys, "frames": count,
            "extradata": extradata}


def _load(stem: Path, *, sound: bool = True, audio: Path | None = None) -> Mezzanine | None:
    """The mezzanine recorded under ``stem``, its sound at ``audio`` (default: beside it); None
    when its record or video (or, with ``sound``, its sound) is missing."""
    try:
        record = json.loads(stem.with_suffix(".json").read_text(encoding="utf-8"))
        if record.get("version") != MEZZANINE_VERSION:
            return None
        mezz = Mezzanine(stem.with_suffix(".mp4"), audio or stem.with_suffix(SOUND),
                         int(record["frames"]),
                         tuple(int(k) for k in record["keyframes"]), str(record["extradata"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not (mezz.video.is_file() and (mezz.audio.is_file() or not sound)):
        return None
    with contextlib.suppress(OSError):  # best effort: a cache we may not touch is still read
        os.utime(stem.with_suffix(".json"))  # used now: kept by ``prune``
    return mezz


BLEND_MARK = ".blend-"  # a kept transition's name: its first clip's mezzanine's stem, this, a hash
BLEND_LISTING = ".framecrc"  # beside a kept transition: its parameter sets (``blends.LISTING``)
UNUSED_DAYS = 30.0  # a mezzanine no stitch used for this long is removed (it can be made again)


def prune(folder: Path, days: float = UNUSED_DAYS) -> list[Path]:
    """Remove the mezzanines no stitch has used for ``days`` (by their record's time, which every
    use refreshes) with their sound encodes and the blends made from them, any blend unused as
    long, and what killed stitches left half-written. Returns the records removed."""
    clean_stale_temporaries(state_folder(folder))
    cutoff = time.time() - days * 86400
    _prune_unused(folder.glob(f"*{BLEND_MARK}*.mp4"), cutoff)  # transitions (stitch.join.blends)
    removed = []
    for record in folder.glob("*.json"):
        try:
            if record.stat().st_mtime >= cutoff:
                continue
        except OSError:
            continue  # removed by another stitch meanwhile
        try:
            # The record goes last: a half-removed entry is never loaded, the next prune ends it.
            for sound in folder.glob(f"{record.stem}.*.adts"):  # its encodes (stitch.sound.splice)
                safe_to_delete(sound).unlink(missing_ok=True)
            for blend in folder.glob(f"{record.stem}{BLEND_MARK}*"):  # blends from it, listings
                safe_to_delete(blend).unlink(missing_ok=True)
            for suffix in (".mp4", SOUND, OLD_SOUND, LOUDNESS, ".json"):
                safe_to_delete(record.with_suffix(suffix)).unlink(missing_ok=True)
        except OSError:
            continue  # not ours to remove (a read-only cache): left as it is
        removed.append(record)
    return removed


def _prune_unused(paths: Iterable[Path], cutoff: float) -> None:
    """Remove the blends of ``paths`` last used (modified) before ``cutoff``, with their listings."""
    for path in paths:
        with contextlib.suppress(OSError):  # gone meanwhile, or not ours to remove
            if path.stat().st_mtime < cutoff:
                safe_to_delete(path).unlink()
                safe_to_delete(path.with_suffix(BLEND_LISTING)).unlink(missing_ok=True)


LOCKS = tuple(threading.Lock() for _ in range(64))  # by stem: one thread makes a mezzanine


def _lock(stem: Path) -> threading.Lock:
    """The lock of the mezzanines named ``stem`` (stems share one of a fixed few locks)."""
    return LOCKS[int(hashlib.sha256(str(stem).encode()).hexdigest()[:8], 16) % len(LOCKS)]


def prepare(facts: ClipFacts, content: str, fmt: EpisodeFormat, frames: int, kind: Kind,
            options: StitchOptions, folder: Path, sound_dir: Path | None = None) -> Mezzanine:
    """The clip's mezzanine in ``folder``: read back when cached, else built once and recorded.
    With ``sound_dir`` (a stitch's work folder), a sound not kept in ``folder`` is made there.
    Clips that prepare to one mezzanine (the same content, two shots) wait for each other: the
    first makes it, the others read it back."""
    stem = folder / key(facts, content, fmt, frames, kind, options)
    with _lock(stem):
        return _prepare(facts, fmt, frames, kind, options, stem, sound_dir)


def _prepare(facts: ClipFacts, fmt: EpisodeFormat, frames: int, kind: Kind,
             options: StitchOptions, stem: Path, sound_dir: Path | None) -> Mezzanine:
    folder = stem.parent
    cached = _load(stem)
    if cached is not None:
        return cached
    audio = (sound_dir / stem.name if sound_dir is not None else stem).with_suffix(SOUND)
    kept = _load(stem, sound=False, audio=audio)
    if kept is None and (_copied(stem, audio) or shared.take(stem.name, stem, audio, SOUND)):
        kept = _load(stem, sound=False, audio=audio)  # made for another folder: copied
        if kept is not None and kept.audio.is_file():
            return kept
    if kept is not None:  # the video is kept: only the sound is made again, once it is read
        with contextlib.suppress(OSError):  # an earlier version's WAV: replaced, so removed
            safe_to_delete(stem.with_suffix(OLD_SOUND)).unlink(missing_ok=True)
        make = functools.partial(_build_sound, facts, fmt, frames, audio)
        return dataclasses.replace(kept, make_sound=make)
    folder.mkdir(parents=True, exist_ok=True)
    _build(facts, fmt, frames, kind, options, stem, audio)
    record = _describe(stem)
    if kind == "copy":
        record["frames"] = frames  # the timeline's count; a copied clip keeps its own packets
    written = json.dumps(record, sort_keys=True)
    with ffmpeg.atomic_output(stem.with_suffix(".json")) as tmp:
        tmp.write_text(written, encoding="utf-8")
    memo.keep_made(("mezzanine", stem.name), {".mp4": stem.with_suffix(".mp4"), SOUND: audio},
                   written)
    shared.give(stem.name, stem, audio, SOUND, written)
    return _loaded(_load(stem, audio=audio), facts, folder)


def _copied(stem: Path, audio: Path) -> bool:
    """Whether the mezzanine this process made under ``stem``'s key in another folder was copied
    to ``stem`` (its video, and its record as it was written; its sound to ``audio`` when that is
    still there too, else it is made when read). False when there is none (or its video changed
    since), or a copy failed (``shared.copy_whole``)."""
    found, record = memo.made(("mezzanine", stem.name))
    video = stem.with_suffix(".mp4")
    if ".mp4" not in found or not isinstance(record, str) or found[".mp4"] == video.resolve():
        return False
    sound = [(found[SOUND], audio)] if SOUND in found else []
    return shared.copy_whole([*sound, (found[".mp4"], video)], record, stem.with_suffix(".json"))


def _loaded(mezz: Mezzanine | None, facts: ClipFacts, folder: Path) -> Mezzanine:
    if mezz is None:
        raise StitchError(f"{facts.path}: its prepared copy in {folder} vanished while stitching")
    return mezz
