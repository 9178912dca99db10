"""The joined dialogue into the episode's final sound: music bed, ducking, loudness, encoding; then the MP4.

Ducking is a deterministic gain envelope built from the dialogue windows the cues already give us
(a ``volume`` filter per window, ramped in and out), not a ``sidechaincompress`` keyed on the
speech track: AI-generated shots often carry ambient sound or their own music, which would trigger
a compressor where nobody speaks, while the cues say exactly when someone does. The same cues
always give the same mix, which tests (and re-renders) can rely on.

Loudness: pass one measures the mixed episode audio (EBU R128, with the ``ebur128`` meter); the
mix then gets one plain gain to the target. Where that gain would push the true peak over the
ceiling, a 4x-oversampled look-ahead limiter holds the peaks down, and the limited mix is measured
again and its gain corrected until it lands on target. loudnorm's own second pass is not used: it
drops to dynamic mode whenever the mix's loudness range is wide (a quiet bed under a loud line)
and then misses the target by several LU. Every pass reads only audio, so they are cheap.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from storyboard.errors import FFmpegError
from storyboard.media import ffmpeg
from storyboard.stitch.model import Music, StitchOptions

G = ffmpeg.graph
Window = tuple[float, float]
SILENCE_LUFS = -70.0  # below this, there is nothing to normalise (EBU R128 absolute gate)
DUCK_FRAME_SAMPLES = 480  # 10 ms at 48 kHz: the envelope is evaluated per audio frame
OVERSAMPLED = 192000  # the limiter works at 4x, so it sees (and holds down) true peaks
LIMITER_ATTACK_MS = 5
LIMITER_RELEASE_MS = 100
# alimiter's look-ahead delays its output by its attack time less one sample. Its own ``latency=1``
# (ffmpeg 5.0 on) removes it; so does padding that much silence after the sound and cutting it from
# the front, on every version (the same samples, to the bit, as ``latency=1`` on 5.1 and 9.0).
LIMITER_DELAY = LIMITER_ATTACK_MS * OVERSAMPLED // 1000 - 1
LOUDNESS_TOLERANCE = 0.2  # LU: the limited mix is measured again until it is this close
LOUDNESS_PASSES = 6
MIN_SLOPE = 0.2  # LU per dB: a limiter that eats most of the gain still converges in a few passes
MAX_GAIN_DB = 40.0


def duck_windows(windows: Sequence[Window], ramp: float) -> list[Window]:
    """Sorted dialogue windows, merged when they overlap or their ramps would."""
    merged: list[Window] = []
    for start, end in sorted(w for w in windows if w[1] > w[0]):
        if merged and start - merged[-1][1] <= 2 * ramp:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _num(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".") or "0"


def duck_gain(window: Window, duck_db: float, ramp: float) -> tuple[str, str]:
    """(volume expression, enable expression) that dips by ``duck_db`` over ``window``."""
    start, end = window[0] - ramp, window[1] + ramp
    if ramp <= 0:
        return f"pow(10,{_num(duck_db)}/20)", f"between(t,{_num(window[0])},{_num(window[1])})"
    depth = f"max(0,min(1,min((t-{_num(start)})/{_num(ramp)},({_num(end)}-t)/{_num(ramp)})))"
    return f"pow(10,{_num(duck_db)}/20*{depth})", f"between(t,{_num(start)},{_num(end)})"


def music_bed(music: Music, total: float, windows: Sequence[Window]) -> Any:
    """The music looped/trimmed to ``total`` seconds, set to its level, ducked, faded out."""
    bed = G.input(str(music.path), stream_loop=-1).audio
    bed = bed.filter("aresample", 48000).filter("aformat", sample_fmts="fltp",
                                                channel_layouts="stereo")
    bed = bed.filter("atrim", end=_num(total)).filter("asetpts", "PTS-STARTPTS")
    bed = bed.filter("asetnsamples", n=DUCK_FRAME_SAMPLES)
    bed = bed.filter("volume", volume=f"{_num(music.volume_db)}dB")
    for window in duck_windows(windows, music.duck_ramp):
        gain, enable = duck_gain(window, music.duck_db, music.duck_ramp)
        bed = bed.filter("volume", volume=gain, eval="frame", enable=enable)
    if music.fade_out > 0:
        fade = min(music.fade_out, total)
        bed = bed.filter("afade", t="out", st=_num(total - fade), d=_num(fade))
    return bed


Dialogue = Callable[[], Any]  # makes the episode's joined dialogue (an ffmpeg-python stream)


def listed(audio_list: Path) -> Dialogue:
    """The dialogue read from a concat list of sound files, one after the other."""
    return lambda: G.input(str(audio_list), f="concat", safe=0).audio


def mixed_audio(speech: Dialogue, total: float, options: StitchOptions,
                windows: Sequence[Window]) -> Any:
    """Dialogue plus the music bed, if any."""
    dialogue = speech()
    if options.music is None:
        return dialogue
    bed = music_bed(options.music, total, windows)
    # normalize=0: amix would otherwise halve the dialogue to make room for the bed.
    return G.filter([dialogue, bed], "amix", inputs=2, duration="first", normalize=0,
                    dropout_transition=0)


def parse_ebur128(log: str) -> dict[str, float]:
    """Integrated loudness (LUFS) and true peak (dBTP) from the ``ebur128`` filter's summary."""
    summary = log[log.rfind("Summary:"):] if "Summary:" in log else ""
    loudness = re.search(r"I:\s+(-?[\d.]+|-inf) LUFS", summary)
    peak = re.search(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary)
    if loudness is None or peak is None:
        raise FFmpegError("loudness measurement printed no result", log.splitlines()[-5:])
    return {"input_i": float(loudness.group(1)), "input_tp": float(peak.group(1))}


def measure(audio: Any, options: StitchOptions) -> dict[str, float]:
    """One measuring pass (the ``ebur128`` meter, the one EBU R128 checks use): integrated
    loudness and true peak of ``audio``."""
    del options
    probe = audio.filter("ebur128", peak="true")
    log = ffmpeg.run_graph(G.output(probe, "-", f="null"), what="measuring loudness")
    return parse_ebur128(log)


def _limit(audio: Any, gain_db: float, options: StitchOptions) -> Any:
    """``gain_db`` of plain gain, then a true-peak limiter at the ceiling (4x oversampled, so
    peaks between samples are caught too), delay-compensated so sound stays on the picture."""
    audio = audio.filter("volume", volume=f"{gain_db:.4f}dB", precision="double")
    ceiling = 10 ** (options.true_peak / 20)
    audio = audio.filter("aresample", OVERSAMPLED).filter("apad", pad_len=LIMITER_DELAY)
    audio = audio.filter("alimiter", limit=f"{max(ceiling, 0.0625):.6f}", attack=LIMITER_ATTACK_MS,
                         release=LIMITER_RELEASE_MS, level=0)
    audio = audio.filter("atrim", start_sample=LIMITER_DELAY).filter("asetpts", "PTS-STARTPTS")
    return audio.filter("aresample", 48000)


def loudness_gain(mixed: Callable[[], Any], options: StitchOptions) -> tuple[float, bool] | None:
    """The gain (dB) that brings ``mixed()`` to the target, and whether the limiter must act.

    Pass one measures the mix. When the gain keeps the true peak under the ceiling, that gain is
    exact and nothing else runs. Otherwise the limiter shaves the peaks, which lowers the loudness a
    little: the limited mix is measured again and the gain corrected, until it lands within
    ``LOUDNESS_TOLERANCE`` LU (a few audio-only passes at most). Unlike loudnorm's dynamic mode this
    never depends on the mix's loudness range, so a quiet bed under a loud line lands on target too.
    """
    assert options.loudness is not None
    measured = measure(mixed(), options)
    if not math.isfinite(measured["input_i"]) or measured["input_i"] < SILENCE_LUFS:
        return None  # silence: no gain would make it the target
    gain = options.loudness - measured["input_i"]
    if measured["input_tp"] + gain <= options.true_peak:
        return gain, False
    return _limited_gain(mixed, gain, options), True


def _limited_gain(mixed: Callable[[], Any], gain: float, options: StitchOptions) -> float:
    """Search the gain whose limited mix measures on target (secant steps on the measured
    loudness, which rises more slowly than the gain while the limiter holds the peaks)."""
    assert options.loudness is not None
    target = options.loudness
    best: tuple[float, float] | None = None  # (distance from target, gain)
    previous: tuple[float, float] | None = None  # (gain, measured)
    for _ in range(LOUDNESS_PASSES):
        got = measure(_limit(mixed(), gain, options), options)["input_i"]
        if best is None or abs(got - target) < best[0]:
            best = (abs(got - target), gain)
        if abs(got - target) <= LOUDNESS_TOLERANCE:
            break
        slope = 1.0
        if previous is not None and gain != previous[0]:
            slope = min(1.0, max(MIN_SLOPE, (got - previous[1]) / (gain - previous[0])))
        previous = (gain, got)
        gain = min(MAX_GAIN_DB, gain + (target - got) / slope)
    assert best is not None
    return best[1]


def normalise(mixed: Callable[[], Any], options: StitchOptions) -> Any:
    """``mixed()`` at the target loudness (plain gain, plus the limiter where peaks need it)."""
    found = loudness_gain(mixed, options)
    if found is None:
        return mixed()
    gain, limit = found
    if limit:
        return _limit(mixed(), gain, options)
    return mixed().filter("volume", volume=f"{gain:.4f}dB", precision="double")


AAC = {"acodec": "aac", "ar": 48000, "ac": 2, "aac_ms": 0}  # every sound encode's settings


def encode_sound(speech: Dialogue, out: Path, total: float, options: StitchOptions,
                 windows: Sequence[Window]) -> Path:
    """The finished sound (dialogue, music bed, loudness) encoded once, as AAC in ``out`` (MP4).

    It is its own step so it can run while the pictures are still being made: the AAC encoder is
    one of the slowest parts of a stitch and uses one core. Its mid/side search is off
    (``aac_ms=0``): it costs about a third of the encoder's time, and at this bit rate the two
    channels coded apart lose nothing audible.
    """
    def mixed() -> Any:
        return mixed_audio(speech, total, options, windows)

    audio = mixed() if options.loudness is None else normalise(mixed, options)
    with ffmpeg.atomic_output(out) as tmp:
        stream = G.output(audio, str(tmp), audio_bitrate=options.audio_bitrate, f="mp4", **AAC)
        ffmpeg.run_graph(stream, what="encoding the episode's sound", length=total)
    return out


def mux(video_list: Path, sound: Path, out: Path, *, strict: bool = False) -> None:
    """Copy the joined video and the encoded sound into ``out`` (+faststart), atomically.

    ``strict``: every video entry shares one set of parameter sets, so the concat demuxer must
    not repeat them in-band (``auto_convert=0``): the result has exactly one SPS/PPS. The sound's
    encoder delay travels with it (its edit list), so it stays on the picture.
    """
    video = G.input(str(video_list), f="concat", safe=0,
                    **({"auto_convert": 0} if strict else {})).video
    with ffmpeg.atomic_output(out) as tmp:
        stream = G.output(video, G.input(str(sound)).audio, str(tmp), c="copy",
                          movflags="+faststart", f="mp4")
        ffmpeg.run_graph(stream, what=f"writing {out.name}")
