"""Joined pieces into the episode's final sound: music bed, ducking, loudness, then the MP4 itself.

Ducking is a deterministic gain envelope built from the dialogue windows the cues already give us
(a ``volume`` filter per window, ramped in and out), not a ``sidechaincompress`` keyed on the
speech track: AI-generated shots often carry ambient sound or their own music, which would trigger
a compressor where nobody speaks, while the cues say exactly when someone does. The same cues
always give the same mix, which tests (and re-renders) can rely on.

Loudness is two-pass EBU R128 ``loudnorm``: pass one measures the mixed episode audio, pass two
applies the measured values with ``linear=true`` (a plain gain whenever the true-peak ceiling
allows), which avoids the pumping of one-pass dynamic mode. Both passes read only audio, so they
are cheap.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from storyboard import ffmpeg
from storyboard.errors import FFmpegError
from storyboard.stitch.model import Music, StitchOptions

G = ffmpeg.graph
Window = tuple[float, float]
SILENCE_LUFS = -70.0  # below this, there is nothing to normalise (EBU R128 absolute gate)
DUCK_FRAME_SAMPLES = 480  # 10 ms at 48 kHz: the envelope is evaluated per audio frame


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


def mixed_audio(audio_list: Path, total: float, options: StitchOptions,
                windows: Sequence[Window]) -> Any:
    """Dialogue (the joined pieces) plus the music bed, if any."""
    dialogue = G.input(str(audio_list), f="concat", safe=0).audio
    if options.music is None:
        return dialogue
    bed = music_bed(options.music, total, windows)
    # normalize=0: amix would otherwise halve the dialogue to make room for the bed.
    return G.filter([dialogue, bed], "amix", inputs=2, duration="first", normalize=0,
                    dropout_transition=0)


_JSON_RE = re.compile(r"\{[^{}]*\"input_i\"[^{}]*\}", re.S)


def parse_loudnorm(log: str) -> dict[str, float]:
    """The measurements loudnorm prints as JSON at the end of a run."""
    found = _JSON_RE.findall(log)
    if not found:
        raise FFmpegError("loudness measurement printed no result", log.splitlines()[-5:])
    raw: dict[str, str] = json.loads(found[-1])
    return {key: float(value) for key, value in raw.items() if key != "normalization_type"}


def measure(audio: Any, options: StitchOptions) -> dict[str, float]:
    """Pass one: integrated loudness, true peak, range and gate threshold of ``audio``."""
    probe = audio.filter("loudnorm", I=options.loudness, TP=options.true_peak, LRA=11,
                         print_format="json")
    log = ffmpeg.run_graph(G.output(probe, "-", f="null"), what="measuring loudness")
    return parse_loudnorm(log)


def normalise(audio: Any, measured: dict[str, float], options: StitchOptions) -> Any:
    """Pass two: loudnorm with pass one's measurements (linear gain where the peak allows)."""
    if not math.isfinite(measured["input_i"]) or measured["input_i"] < SILENCE_LUFS:
        return audio  # silence: no gain would make it -14 LUFS, and loudnorm rejects -inf
    lra = min(20.0, max(11.0, measured["input_lra"] + 1))  # keep linear mode for wide dynamics
    out = audio.filter("loudnorm", I=options.loudness, TP=options.true_peak, LRA=_num(lra),
                       measured_I=measured["input_i"], measured_TP=measured["input_tp"],
                       measured_LRA=measured["input_lra"],
                       measured_thresh=measured["input_thresh"],
                       offset=measured["target_offset"], linear="true")
    return out.filter("aresample", 48000)  # loudnorm works at 192 kHz internally


def final_join(video_list: Path, audio_list: Path, out: Path, total: float,
               options: StitchOptions, windows: Sequence[Window], *, strict: bool = False) -> None:
    """Copy the joined video, encode the finished audio once, write ``out`` atomically.

    ``strict``: every video entry shares one set of parameter sets, so the concat demuxer must
    not repeat them in-band (``auto_convert=0``): the result has exactly one SPS/PPS.
    """
    audio = mixed_audio(audio_list, total, options, windows)
    if options.loudness is not None:
        measured = measure(mixed_audio(audio_list, total, options, windows), options)
        audio = normalise(audio, measured, options)
    video = G.input(str(video_list), f="concat", safe=0, **({"auto_convert": 0} if strict else {})).video
    with ffmpeg.atomic_output(out) as tmp:
        stream = G.output(video, audio, str(tmp), vcodec="copy", acodec="aac",
                          audio_bitrate=options.audio_bitrate, ar=48000, ac=2,
                          movflags="+faststart", f="mp4")
        ffmpeg.run_graph(stream, what=f"writing {out.name}")
