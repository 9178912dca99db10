"""The spliced sound (stitch.sound.splice): cached clip encodes and fresh join encodes laid end to end,
checked sample by sample against the exact dialogue and against a whole encode of it, with every
ffmpeg on this machine."""

from __future__ import annotations

import array
import math
import re
import subprocess
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import pytest

from storyboard.language.request import Transition
from storyboard.media import ffbinary, ffmpeg
from storyboard.stitch import StitchOptions
from storyboard.stitch.join import mezzanine, segments
from storyboard.stitch.join.mezzanine import Mezzanine
from storyboard.stitch.model import Music
from storyboard.stitch.sound import aac, audio, loudness, splice
from storyboard.stitch.timeline import Timeline, plan
from tests.fixtures.ffmpeg_runs import nothing_remembered

# Tones, a rising sweep and a click every 0.37 s on both sides (clicks make the encoder switch
# to short windows; a click on one side only makes Debian's 5.1 code the sides with windows of
# their own for long stretches, where no splice is made and the whole sound is encoded).
SIGNAL = ("{a}*sin(2*PI*{f}*t)+0.15*sin(2*PI*(300+{s}*t)*t)+0.6*lt(mod(t+{c},0.37),0.0015)"
          "|{a}*sin(2*PI*{f}*1.5*t)+0.1*sin(2*PI*(700+{s}*t)*t)+0.5*lt(mod(t+{c},0.37),0.0015)")
CLIPS = {"a": (2.0, dict(a=0.3, f=220, s=400, c=0.0)), "b": (3.0, dict(a=0.25, f=330, s=900, c=0.1)),
         "c": (2.4, dict(a=0.35, f=180, s=200, c=0.2)), "d": (1.3, dict(a=0.2, f=440, s=600, c=0.3))}
EPISODE = [("a", Transition()), ("b", Transition("crossfade", 0.5)), ("c", Transition()),
           ("d", Transition("dissolve", 0.3)), ("a", Transition("fade", 1.0))]

JOIN = re.compile(r"\.j[0-9a-f]{24}\.adts$")  # a kept join's encode (``splice.joint_name``)


def sound(path: Path, seconds: float, params: dict[str, float]) -> Path:
    expr = SIGNAL.format(**params)
    ffmpeg.run(["-f", "lavfi", "-i", f"aevalsrc='{expr}':s=48000:d={seconds}", "-c:a",
                "pcm_f32le", str(path)], what="test sound")
    return path


def setup(tmp_path: Path, episode: Sequence[tuple[str, Transition]] = tuple(EPISODE)
          ) -> tuple[Timeline, list[Mezzanine]]:
    files = {n: sound(tmp_path / f"{n}.wav", s, p) for n, (s, p) in CLIPS.items()}
    tl = plan([CLIPS[n][0] for n, _ in episode], [t for _, t in episode], Fraction(30),
              [n for n, _ in episode])
    mezz = [Mezzanine(tmp_path / f"{n}.mp4", files[n], f, (0,), "")  # a clip's, as in a stitch
            for (n, _), f in zip(episode, tl.frames, strict=True)]
    return tl, mezz


def pcm(path: Path) -> array.array[float]:
    """The decoded samples, by the bundled ffmpeg (Debian's 5.1 does not trim an AAC track's
    padding at the end), after checking the ffmpeg under test decodes it cleanly too."""
    for decoder in dict.fromkeys((ffmpeg.binary(), ffbinary.bundled_path() or "")):
        out = subprocess.run([decoder, "-v", "error", "-i", str(path), "-f", "f32le", "-ac",
                              "2", "-ar", "48000", "-"], capture_output=True, check=True)
        assert out.stderr == b""
    return array.array("f", out.stdout)


def block_snr(ref: array.array[float], got: array.array[float]) -> list[float]:
    """Signal to error, in dB, per 1,024-sample block (both channels)."""
    out = []
    for at in range(0, len(ref) - 2047, 2048):
        signal = sum(x * x for x in ref[at:at + 2048])
        error = sum((x - y) ** 2 for x, y in zip(ref[at:at + 2048], got[at:at + 2048],
                                                 strict=True))
        out.append(10 * math.log10(signal / max(error, 1e-12)))
    return out


RAW = {"f": "f32le", "ar": 48000, "ac": 2}  # the exact dialogue, as raw 32-bit float stereo


def write_pcm(tl: Timeline, mezz: list[Mezzanine], out: Path) -> Path:
    """The episode's exact dialogue (``segments.dialogue``), as raw float samples."""
    stream = ffmpeg.graph.output(segments.dialogue(tl, mezz, out.parent), str(out),
                                 acodec="pcm_f32le", **RAW)
    ffmpeg.run_graph(stream, what="the exact dialogue")
    return out


def read_pcm(pcm: Path) -> audio.Dialogue:
    return lambda: ffmpeg.graph.input(str(pcm), **RAW).audio


def encode_both(tmp_path: Path, tl: Timeline, mezz: list[Mezzanine]
                ) -> tuple[Path, Path | None, Path]:
    options = StitchOptions(loudness=None)
    raw = write_pcm(tl, mezz, tmp_path / "dlg.pcm")
    spliced = splice.spliced_sound(tl, mezz, tmp_path / "spliced.m4a", options)
    whole = audio.encode_sound(read_pcm(raw), tmp_path / "whole.m4a", tl.seconds(tl.total),
                               options, [])
    return raw, spliced, whole


def test_spliced_sound_has_no_clicks_and_keeps_every_sample(binary: str,
                                                            tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    splices: list[int] = []
    real = splice.splice_point
    monkeypatch.setattr(splice, "splice_point", lambda *a: splices.append(real(*a)) or splices[-1])
    tl, mezz = setup(tmp_path)
    raw, spliced, whole = encode_both(tmp_path, tl, mezz)
    assert spliced is not None and len(splices) == 6  # into and out of three joins
    exact, ours, theirs = array.array("f", raw.read_bytes()), pcm(spliced), pcm(whole)
    assert len(ours) == len(exact) == len(theirs) == 2 * tl.sample(tl.total)  # to the sample
    mine, reference = block_snr(exact, ours), block_snr(exact, theirs)
    # A splice that broke the overlap-add would click: that block's error nearly as loud as its
    # signal (an SNR near 0 dB). So each block the two packets at a splice rebuild must be nearly
    # as good as the worse of the two encodes it joins, measured on each side away from it, or as
    # the whole encode where the signal itself clicks. (Each encode has its own rate-control
    # history, so an encode of a clip alone codes it a little differently from a whole encode.)
    def median(blocks: list[float]) -> float:
        return sorted(blocks)[len(blocks) // 2]

    for k in splices:
        sides = min(median(mine[k - 12:k - 3]), median(mine[k + 3:k + 12]))
        for block in range(k - 2, k + 2):
            floor = min(sides, reference[block]) - 9.0
            assert mine[block] >= floor, (k, block, mine[k - 12:k + 12], reference[block])
    assert sum(mine) / len(mine) >= sum(reference) / len(reference) - 12.0


def test_clip_encodes_are_kept_and_reused(binary: str, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    tl, mezz = setup(tmp_path)
    _, first, _ = encode_both(tmp_path, tl, mezz)
    assert first is not None
    kept = sorted(p.name for p in tmp_path.glob("*.adts") if not JOIN.search(p.name))
    # a at the start and at a later phase, b, c and d once each; d (1.3 s, 0.3 s and 1 s shared)
    # has too little of its own and is left to its joins' encodes
    assert len(kept) == 4 and sum(".head." in k for k in kept) == 1, kept
    outputs: list[int] = []
    real = ffmpeg.run
    nothing_remembered(monkeypatch)  # counts its own runs (media.memo)
    monkeypatch.setattr(ffmpeg, "run", lambda args, **kw: outputs.append(
        sum(a.endswith(".adts") for a in args)) or real(args, **kw))
    assert len([p for p in tmp_path.glob("*.adts") if JOIN.search(p.name)]) == 3  # joins kept
    again = splice.spliced_sound(tl, mezz, tmp_path / "again.m4a", StitchOptions(loudness=None))
    assert again is not None and outputs == []  # nothing encoded: every part is kept
    assert again.read_bytes() == first.read_bytes()  # same bytes, cached or not


def test_layout_uses_only_packets_a_clip_has_to_itself() -> None:
    for fps, episode in ((30, EPISODE), (24, EPISODE[:3]), (25, EPISODE[1:])):
        tl = plan([CLIPS[n][0] for n, _ in episode], [t for _, t in episode], Fraction(fps),
                  [n for n, _ in episode])
        clips = splice.layout(tl)
        for i, c in enumerate(clips):
            own_from = clips[i - 1].start + clips[i - 1].take if i else -math.inf
            own_to = clips[i + 1].start if i + 1 < len(clips) else math.inf
            for packet in range(c.lo, c.hi):  # its span and what the encoder looks at around it
                first = (packet - 1 - splice.LOOK_BACK) * splice.K
                last = (packet + 1 + splice.LOOK_AHEAD) * splice.K
                assert own_from <= max(first, 0)
                assert last <= own_to or i == len(clips) - 1  # the last: to the end


def test_no_splice_where_windows_differ_falls_back_to_a_whole_encode(
        binary: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tl, mezz = setup(tmp_path)
    monkeypatch.setattr(aac, "window", lambda packet: None)  # no packet says its window
    with pytest.raises(splice.NoSplice):
        encode_both(tmp_path, tl, mezz)
    made = splice.episode_sound(read_pcm(tmp_path / "dlg.pcm"), tl, mezz, tmp_path,
                                StitchOptions(loudness=None), tl.seconds(tl.total), [])
    assert len(pcm(made)) == 2 * tl.sample(tl.total)


def measured(path: Path) -> tuple[float, float]:
    """(integrated loudness, true peak) of ``path`` by ffmpeg's meter."""
    log = ffmpeg.run(["-i", str(path), "-af", "ebur128=peak=true", "-f", "null", "-"])
    loud = re.findall(r"I:\s+(-?[\d.]+) LUFS", log)[-1]
    peak = re.findall(r"Peak:\s+(-?[\d.]+|-inf) dBFS", log)[-1]
    return float(loud), float(peak)


@pytest.mark.parametrize("target", [-16.0, -30.0])
def test_a_loudness_target_is_spliced_at_one_gain_and_lands_on_it(
        binary: str, tmp_path: Path, target: float) -> None:
    """No limiter needed: every encode is made at the one gain, rounded to 0.1 dB, that the clips'
    kept loudness says brings the episode to its target; the episode lands within the stitch's
    0.2 LU of it, by ffmpeg's meter on the result."""
    tl, mezz = setup(tmp_path)
    options = StitchOptions(loudness=target)
    gain = splice.splice_gain(tl, mezz, options)
    assert gain is not None and gain == round(gain, 1) and gain != 0.0
    made = splice.episode_sound(lambda: segments.dialogue(tl, mezz, tmp_path), tl, mezz,
                                tmp_path, options, tl.seconds(tl.total), [])
    assert len(list(tmp_path.glob(f"*.g{gain:+.1f}.adts"))) == 4  # the clips' sound, at the gain
    assert len(pcm(made)) == 2 * tl.sample(tl.total)
    assert abs(measured(made)[0] - target) <= 0.2
    assert len(list(tmp_path.glob(f"*{mezzanine.LOUDNESS}"))) == 4  # each clip's, kept


CUTS = [(n, Transition()) for n, _ in EPISODE]


@pytest.mark.parametrize("episode", [EPISODE, CUTS], ids=["crossfades", "cuts"])
def test_the_clips_loudness_composes_to_the_meters_reading_of_the_joined_sound(
        binary: str, tmp_path: Path, episode: list[tuple[str, Transition]]) -> None:
    tl, mezz = setup(tmp_path, episode)
    facts = loudness.clip_facts(mezz, 48000, 1)
    fades = splice.fades(splice.layout(tl))
    composed = loudness.integrated([b for (blocks, _), fade in zip(facts, fades, strict=True)
                                    for b in loudness.weighted_blocks(blocks, fade, 48000)])
    whole, peak = measured(write_pcm_wav(tl, mezz, tmp_path / "dlg.wav"))
    assert abs(composed - whole) <= 0.1, (composed, whole)
    assert max(p for _, p in facts) >= peak - 0.1


def write_pcm_wav(tl: Timeline, mezz: list[Mezzanine], out: Path) -> Path:
    stream = ffmpeg.graph.output(segments.dialogue(tl, mezz, out.parent), str(out),
                                 acodec="pcm_f32le")
    ffmpeg.run_graph(stream, what="the exact dialogue")
    return out


def test_a_limiter_or_music_encode_the_whole_sound(tmp_path: Path) -> None:
    tl, mezz = setup(tmp_path)
    loud = StitchOptions(loudness=-3.0)  # its peaks would pass the -1 dBTP ceiling: limited
    assert splice.splice_gain(tl, mezz, loud) is None
    made = splice.episode_sound(lambda: segments.dialogue(tl, mezz, tmp_path), tl, mezz,
                                tmp_path, loud, tl.seconds(tl.total), [])
    # to the frame (the limiter's resampling in Debian's 5.1 can leave a few samples out)
    assert abs(len(pcm(made)) / 2 - tl.sample(tl.total)) < tl.sample(1) / 2
    assert not list(tmp_path.glob("*.adts"))
    music = StitchOptions(loudness=None, music=Music(mezz[0].audio))
    assert splice.splice_gain(tl, mezz, music) is None


def test_a_damaged_clip_encode_is_removed_and_made_again(tmp_path: Path) -> None:
    tl, mezz = setup(tmp_path)
    raw, first, _ = encode_both(tmp_path, tl, mezz)
    assert first is not None
    damaged = sorted(tmp_path.glob("b.*.adts"))[0]
    damaged.write_bytes(b"not AAC at all")
    made = splice.episode_sound(read_pcm(raw), tl, mezz, tmp_path,
                                StitchOptions(loudness=None), tl.seconds(tl.total), [])
    assert len(pcm(made)) == 2 * tl.sample(tl.total)  # the whole sound, encoded instead
    assert not damaged.exists()
    again = splice.spliced_sound(tl, mezz, tmp_path / "again.m4a", StitchOptions(loudness=None))
    assert again is not None and damaged.exists() and again.read_bytes() == first.read_bytes()


def test_encodes_run_a_few_to_a_process_so_memory_stays_bounded(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(splice, "BATCH", 2)
    tl, mezz = setup(tmp_path)
    outputs: list[int] = []
    real = ffmpeg.run
    nothing_remembered(monkeypatch)  # counts its own runs (media.memo)
    monkeypatch.setattr(ffmpeg, "run", lambda args, **kw: outputs.append(
        sum(a.endswith(".adts") for a in args)) or real(args, **kw))
    made = splice.spliced_sound(tl, mezz, tmp_path / "s.m4a", StitchOptions(loudness=None))
    assert made is not None and outputs == [2, 2, 2, 1]  # 4 clip encodes and 3 joins
    assert len(pcm(made)) == 2 * tl.sample(tl.total)


def test_silent_blocks_are_kept_as_silence(tmp_path: Path) -> None:
    """Digital silence reads far under the absolute gate, or -inf or nan (as some of ffmpeg's
    readings of padded sound do): kept as null, read back as -inf, left out by the gates; a
    silent clip's peak is -inf."""
    silent = tmp_path / "silent.wav"
    ffmpeg.run(["-f", "lavfi", "-i", "anullsrc=r=48000:cl=stereo", "-t", "1.2", "-c:a",
                "pcm_f32le", str(silent)], what="silence")
    out = tmp_path / "silent.r128"
    loudness.measure(silent, out, 48000)
    found = loudness.read(out)
    assert found is not None
    blocks, peak = found
    assert blocks and all(b < loudness.ABSOLUTE_GATE for b in blocks) and peak == -math.inf
    assert loudness.integrated([(b, 1.0) for b in blocks]) == -math.inf
    log = "".join(f"[Parsed_ametadata_2 @ 0x1] lavfi.r128.M={v}\n"
                  for v in ("-120.691", "-120.691", "-120.691", "nan", "-inf", "-20.5"))
    loudness.write(out, *loudness.parse(log + "[x] lavfi.r128.true_peak=0.5\n"))
    assert "NaN" not in out.read_text() and "Infinity" not in out.read_text()
    assert loudness.read(out) == ([-math.inf, -math.inf, -20.5], 20 * math.log10(0.5))
