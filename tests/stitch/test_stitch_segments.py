"""Segments: shot bodies copied from mezzanines, only transitions encoded; checked against a full
re-encode (PSNR), for exact lengths, clean decoding, one SPS/PPS, and playback in Chromium."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser

from storyboard.language.request import Transition
from storyboard.media import ffmpeg
from storyboard.stitch import (
    Clip,
    Cue,
    StitchOptions,
    StitchResult,
    prepare,
    prepare_sound,
    prepare_transitions,
    stitch,
    subtitles,
)
from storyboard.stitch.join import mezzanine
from storyboard.stitch.join.blends import Blend
from storyboard.stitch.join.segments import plan_segments
from storyboard.stitch.model import Music
from storyboard.stitch.timeline import plan
from tests.fixtures.ffmpeg_runs import nothing_remembered
from tests.fixtures.stitch_checks import (
    decode_errors,
    parameter_sets,
    play_in_chromium,
    psnr_per_frame,
    reference,
)

MakeMedia = Callable[..., Path]
FRAME = 1 / 30
MIN_PSNR = 40.0


def options(tmp_path: Path, cache: str = "cache", **kw: Any) -> StitchOptions:
    kw.setdefault("preset", "ultrafast")
    for name, value in (("width", 160), ("height", 120), ("fps", 30)):  # not shot c's 25 fps
        kw.setdefault(name, value)
    return StitchOptions(loudness=None, cache_dir=tmp_path / cache, **kw)


def make(make_media: MakeMedia, tmp_path: Path, name: str, **kw: Any) -> Path:
    kw.setdefault("width", 160)
    kw.setdefault("height", 120)
    return make_media("video", tmp_path / f"{name}.mp4", **kw)


def shots(make_media: MakeMedia, tmp_path: Path, size: tuple[int, int] = (160, 120)
          ) -> dict[str, Path]:
    """Four shots; ``c`` has twice the size and 25 fps, so it is always conformed."""
    w, h = size
    return {"a": make(make_media, tmp_path, "a", seconds=3.0, width=w, height=h),
            "b": make(make_media, tmp_path, "b", seconds=2.0, pattern="testsrc", tone=660,
                      width=w, height=h),
            "c": make(make_media, tmp_path, "c", seconds=2.4, width=2 * w, height=2 * h, fps=25),
            "short": make(make_media, tmp_path, "short", seconds=1.0, pattern="smptebars",
                          width=w, height=h)}


EPISODES: dict[str, list[tuple[str, Transition]]] = {
    "crossfades": [("a", Transition()), ("b", Transition("crossfade", 0.5)),
                   ("c", Transition("crossfade", 1.0))],
    # 0.4 s and 0.7 s fall between keyframes; the short shot has no body left to copy.
    # (Not slideup: Debian's ffmpeg 5.1 xfade makes its first frame differ from run to run.)
    "odd lengths": [("c", Transition()), ("short", Transition("wipeleft", 0.4)),
                    ("a", Transition("slideleft", 0.3)), ("b", Transition("fade", 0.7))],
    "cuts and one fade": [("b", Transition()), ("a", Transition()),
                          ("c", Transition("fade", 0.25)),
                          ("b", Transition())],
    # Dissolves are blended with a fixed noise picture (not in the PSNR cases: noise measures the
    # encoder, not the joins).
    "dissolves": [("a", Transition()), ("b", Transition("dissolve", 0.5)),
                  ("c", Transition("dissolve", 0.4))],
}
LENGTHS = {"a": 3.0, "b": 2.0, "c": 2.4, "short": 1.0}  # c: 60 frames at 25 fps


def expected_seconds(episode: list[tuple[str, Transition]]) -> float:
    return sum(LENGTHS[name] for name, _ in episode) - sum(
        t.duration for _, t in episode if t.type != "cut")


def assert_exact(result: StitchResult, seconds: float) -> None:
    """Video, audio and container all last ``seconds``, to the frame."""
    lengths = ffmpeg.stream_lengths(result.out)
    container = ffmpeg.probe(result.out).duration
    assert container is not None
    for value in (lengths["video"], lengths["audio"], container, result.duration):
        assert abs(value - seconds) <= FRAME / 2 + 0.005, (lengths, container, seconds)


def assert_strict(path: Path) -> None:
    assert decode_errors(path) == ""
    assert parameter_sets(path) == (1, 1)  # the sample entry's only: none repeated in-band


def run(make_media: MakeMedia, tmp_path: Path, name: str,
        size: tuple[int, int] = (160, 120), **kw: Any) -> StitchResult:
    files = shots(make_media, tmp_path, size)
    clips = [Clip(files[shot], t) for shot, t in EPISODES[name]]
    return stitch(clips, tmp_path / "ep.mp4",
                  options(tmp_path, width=size[0], height=size[1], **kw))


# (episode, shot size, x264 preset): the default preset (veryfast) at a size where PSNR means
# something; ultrafast keeps the smaller cases quick.
# (``dissolve`` is left out: its per-pixel noise is the worst case for any encoder, ours or the
# reference's, so it measures x264 rather than the joins.)
PSNR_CASES = [("crossfades", (640, 360), "veryfast"), ("odd lengths", (640, 360), "ultrafast"),
              ("cuts and one fade", (320, 180), "ultrafast")]


@pytest.mark.parametrize(("name", "size", "preset"), PSNR_CASES)
def test_transitions_match_a_full_reencode_to_the_frame(
        make_media: MakeMedia, tmp_path: Path, name: str, size: tuple[int, int],
        preset: str) -> None:
    result = run(make_media, tmp_path, name, size, preset=preset)
    assert result.path_taken == "filtered"
    seconds = expected_seconds(EPISODES[name])
    assert_exact(result, seconds)
    assert_strict(result.out)
    files = shots(make_media, tmp_path, size)
    ref = reference([files[s] for s, _ in EPISODES[name]], [t for _, t in EPISODES[name]],
                    size, 30, tmp_path / "ref.mp4", [LENGTHS[s] for s, _ in EPISODES[name]])
    psnr = psnr_per_frame(result.out, ref, tmp_path)
    assert len(psnr) == round(seconds * 30)  # every frame of both, paired in order
    assert min(psnr) >= MIN_PSNR, sorted(psnr)[:5]


def _packets(path: Path, tmp_path: Path) -> list[tuple[str, str]]:
    listing = tmp_path / f"{path.stem}.framecrc"
    ffmpeg.run(["-i", str(path), "-map", "0:v:0", "-c", "copy", "-f", "framecrc", str(listing)])
    return [(r[4].strip(), r[5].strip()) for r in
            (line.split(",") for line in listing.read_text().splitlines())
            if r[0] and not r[0].startswith("#")]


def test_shot_bodies_are_copied_packet_for_packet(make_media: MakeMedia, tmp_path: Path) -> None:
    result = run(make_media, tmp_path, "crossfades")
    folder = tmp_path / "cache" / "mezzanine"
    kept = sorted(folder.glob(f"*{mezzanine.BLEND_MARK}*.mp4"))
    mezz_packets = {p for m in folder.glob("*.mp4") if m not in kept for p in _packets(m, tmp_path)}
    ours = _packets(result.out, tmp_path)
    copied = sum(p in mezz_packets for p in ours)
    # 3 s + 2 s + 2.4 s with 0.5 s and 1 s crossfades: the blends span the transitions only,
    # widened to the nearest keyframes (here they fall exactly on them), 45 of 180 frames.
    tl = plan([3.0, 2.0, 2.4], [t for _, t in EPISODES["crossfades"]],
              Fraction(30), ["a", "b", "c"])
    keys = [mezzanine.keyframe_plan(n, tl.fps) for n in tl.frames]
    blended = sum(s.end - s.start for s in plan_segments(tl, keys) if isinstance(s, Blend))
    assert blended == 15 + 30
    assert copied == len(ours) - blended
    # each transition is kept in a file of its own, whose packets are the episode's
    assert [len(_packets(k, tmp_path)) for k in kept] in ([15, 30], [30, 15])
    assert sum(p in mezz_packets for k in kept for p in _packets(k, tmp_path)) == 0


def test_a_transition_another_episode_made_is_copied_not_encoded(
        make_media: MakeMedia, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = run(make_media, tmp_path, "crossfades")  # a into b (0.5 s), b into c (1 s)
    folder = tmp_path / "cache" / "mezzanine"
    before = set(folder.glob(f"*{mezzanine.BLEND_MARK}*.mp4"))
    encoded: list[str] = []
    real = ffmpeg.run
    nothing_remembered(monkeypatch)  # counts its own runs (media.memo)
    monkeypatch.setattr(ffmpeg, "run", lambda args, what="ffmpeg", **kw: (
        encoded.append(what) if what.startswith("blending") else None) or real(args, what=what,
                                                                              **kw))
    files = shots(make_media, tmp_path)
    # another episode: a new wipe from c into a, then the same crossfade from a into b, later
    episode = [Clip(files["c"]), Clip(files["a"], Transition("wipeleft", 0.5)),
               Clip(files["b"], Transition("crossfade", 0.5))]
    result = stitch(episode, tmp_path / "other.mp4", options(tmp_path))
    assert len(encoded) == 1 and "," not in encoded[0]  # one process, one blend: the wipe
    assert len(set(folder.glob(f"*{mezzanine.BLEND_MARK}*.mp4")) - before) == 1
    ours, theirs = set(_packets(result.out, tmp_path)), set(_packets(first.out, tmp_path))
    shared = [b for b in before if set(_packets(b, tmp_path)) <= ours & theirs]
    assert len(shared) == 1  # the crossfade's packets, copied into both episodes
    assert_exact(result, 2.4 + 3.0 + 2.0 - 1.0)
    assert_strict(result.out)


def test_burnt_in_text_reencodes_only_the_frames_under_it(make_media: MakeMedia,
                                                         tmp_path: Path) -> None:
    files = shots(make_media, tmp_path)
    clips = [Clip(files["a"], Transition(), (Cue(0.5, 1.0, "hello", "Mia"),)), Clip(files["b"])]
    result = stitch(clips, tmp_path / "burnt.mp4", options(tmp_path, burn_subtitles=True))
    assert result.path_taken == "filtered"
    assert_exact(result, 5.0)
    assert_strict(result.out)
    folder = tmp_path / "cache" / "mezzanine"
    kept = sorted(folder.glob(f"*{mezzanine.BLEND_MARK}*.mp4"))
    mezz_packets = {p for m in folder.glob("*.mp4") if m not in kept for p in _packets(m, tmp_path)}
    ours = _packets(result.out, tmp_path)
    # The cue covers frames 15-30 (a frame to spare either side); widened to shot a's keyframes
    # 8 and 60, the rest of a and all of b are copied.
    tl = plan([3.0, 2.0], [Transition(), Transition()], Fraction(30), ["a", "b"])
    spans = subtitles.burn_spans([subtitles.TimedCue(0.5, 1.0, "hello")], tl.fps, tl.total)
    assert spans == [(14, 31)]
    keys = [mezzanine.keyframe_plan(n, tl.fps) for n in tl.frames]
    blends = [s for s in plan_segments(tl, keys, spans) if isinstance(s, Blend)]
    assert [(b.start, b.end) for b in blends] == [(8, 60)]
    assert sum(p in mezz_packets for p in ours) == len(ours) - 52


def test_transitions_and_text_encoded_ahead_leave_the_stitch_only_copying(
        make_media: MakeMedia, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = shots(make_media, tmp_path)
    clips = [Clip(files["a"], Transition(), (Cue(0.5, 1.0, "hello", "Mia"),)),
             Clip(files["b"], Transition("crossfade", 0.5)),
             Clip(files["c"], Transition("dissolve", 0.4))]
    burnt = options(tmp_path, burn_subtitles=True)
    assert prepare_transitions(clips, burnt) == 3  # the text over a, and the two transitions
    assert prepare_transitions(clips, burnt) == 0  # kept
    assert prepare_transitions(clips[:1], burnt) == 0  # no transition: nothing kept is new
    assert prepare_transitions(clips, dataclasses.replace(burnt, cache_dir=None)) == 0
    encoded: list[str] = []
    real = ffmpeg.run
    nothing_remembered(monkeypatch)  # counts its own runs (media.memo)
    monkeypatch.setattr(ffmpeg, "run", lambda args, what="ffmpeg", **kw: (
        encoded.append(what) if what.startswith("blending") else None) or real(args, what=what,
                                                                              **kw))
    result = stitch(clips, tmp_path / "ep.mp4", burnt)
    assert encoded == []  # the stitch found every one of them, text and noise included
    assert_exact(result, 3.0 + 2.0 + 2.4 - 0.9)
    assert_strict(result.out)
    other = dataclasses.replace(burnt, subtitles=True)  # another script: the text's frames again
    result = stitch([dataclasses.replace(clips[0], cues=(Cue(0.5, 1.0, "bye", "Mia"),)),
                     *clips[1:]], tmp_path / "ep2.mp4", other)
    assert len(encoded) == 1 and "," not in encoded[0]


def test_a_variant_reuses_the_mezzanines_and_encodes_only_its_transitions(
        make_media: MakeMedia, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run(make_media, tmp_path, "crossfades")
    calls: list[str] = []
    real = ffmpeg.run

    def spy(args: list[str], **kw: Any) -> str:
        calls.append(kw.get("what", ""))
        return real(args, **kw)

    nothing_remembered(monkeypatch)  # counts its own runs (media.memo)
    monkeypatch.setattr(ffmpeg, "run", spy)
    files = shots(make_media, tmp_path)
    variant = [Clip(files["c"]), Clip(files["a"], Transition("crossfade", 0.5)),
               Clip(files["b"], Transition("wipeleft", 0.25))]
    result = stitch(variant, tmp_path / "variant.mp4", options(tmp_path))
    assert not [c for c in calls if c.startswith(("preparing", "reading"))]  # nothing re-probed
    blending = [c for c in calls if c.startswith("blending")]
    assert len(blending) == 1 and blending[0].count("-") == 2  # both blends in one process
    assert_exact(result, 2.4 + 3.0 + 2.0 - 0.75)
    assert_strict(result.out)


def test_mezzanines_made_as_shots_arrive_are_the_ones_the_stitch_uses(
        make_media: MakeMedia, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = shots(make_media, tmp_path)
    clips = [Clip(files[s], t) for s, t in EPISODES["crossfades"]]
    opts = options(tmp_path)
    assert all(prepare(files["a"], c.path, opts) for c in clips)
    calls: list[str] = []
    real = ffmpeg.run
    nothing_remembered(monkeypatch)  # counts its own runs (media.memo)
    monkeypatch.setattr(ffmpeg, "run", lambda args, **kw: calls.append(kw.get("what", ""))
                        or real(args, **kw))
    result = stitch(clips, tmp_path / "ep.mp4", opts)
    assert not [c for c in calls if c.startswith(("preparing", "reading"))], calls
    assert_exact(result, expected_seconds(EPISODES["crossfades"]))
    assert not prepare(files["a"], files["b"], StitchOptions(cache_dir=None))  # nowhere to keep it


def test_clip_sound_encoded_ahead_leaves_the_stitch_only_its_joins(
        make_media: MakeMedia, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = shots(make_media, tmp_path)
    clips = [Clip(files[s], t) for s, t in EPISODES["cuts and one fade"]]
    opts = options(tmp_path)
    made = prepare_sound(clips, opts)
    assert made == 4  # b at the start and again later, a, c: each where this episode puts it
    assert prepare_sound(clips, opts) == 0  # kept
    normalised = dataclasses.replace(options(tmp_path, "other"), loudness=-16.0)
    assert prepare_sound(clips, normalised) == 4  # spliced at its loudness gain, its own names
    bed = dataclasses.replace(options(tmp_path, "third"), music=Music(files["a"]))
    assert prepare_sound(clips, bed) == 0  # a music bed: the sound is encoded whole
    encodes: list[int] = []
    real = ffmpeg.run
    nothing_remembered(monkeypatch)  # counts its own runs (media.memo)
    monkeypatch.setattr(ffmpeg, "run", lambda args, **kw: encodes.append(
        sum(a.endswith(".adts") for a in args)) or real(args, **kw))
    result = stitch(clips, tmp_path / "ep.mp4", opts)
    assert [n for n in encodes if n] == [made - 1]  # the joins between those four, and only them
    assert_exact(result, expected_seconds(EPISODES["cuts and one fade"]))


def test_mezzanines_no_stitch_used_for_a_month_are_removed(make_media: MakeMedia,
                                                          tmp_path: Path) -> None:
    run(make_media, tmp_path, "crossfades")  # mezzanines of a, b and c, blends a-b and b-c
    folder = tmp_path / "cache" / "mezzanine"
    month_ago = time.time() - 31 * 86400
    blends = list(folder.glob(f"*{mezzanine.BLEND_MARK}*.mp4"))
    for record in [*folder.glob("*.json"), *blends]:
        os.utime(record, (month_ago, month_ago))
    files = shots(make_media, tmp_path)
    stitch([Clip(files["a"]), Clip(files["b"], Transition("crossfade", 0.5))],
           tmp_path / "two.mp4", options(tmp_path))
    # a, b and the crossfade between them were used again (and so kept); nothing used c or the
    # blend from b into c for a month: all of it is gone, c's sound's encodes (stitch.sound.splice) too,
    # and the blend's listing of its parameter sets (stitch.join.blends); the kept blend keeps its own.
    # Joins are kept with their first clip: a's into b, and b's into c (b was used again)
    assert len(list(folder.glob("*.j*.adts"))) == 2
    assert sorted(p.suffix for p in folder.iterdir()) == (
        [".adts"] * 4 + [".framecrc"] + [".json"] * 2 + [".mp4"] * 3 + [".wv"] * 2)
    (kept_blend,) = [b for b in blends if b.exists()]
    assert kept_blend.stat().st_mtime > month_ago + 86400
    kept = {p.stem for p in folder.glob("*.json")}
    assert {p.name.split(".")[0] for p in folder.glob("*.adts")} == kept
    assert all(p.stat().st_mtime > month_ago + 86400 for p in folder.glob("*.json"))


def blob_of(path: Path) -> Path:
    path.write_bytes(bytes(1000))
    return path


def test_a_mezzanine_without_its_sound_has_only_its_sound_made_again(
        make_media: MakeMedia, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = run(make_media, tmp_path, "crossfades")
    folder = tmp_path / "cache" / "mezzanine"
    sounds = sorted(folder.glob(f"*{mezzanine.SOUND}"))
    assert len(sounds) == 3 and not list(folder.glob("*.wav"))  # kept compressed, losslessly
    videos = {p: p.stat().st_mtime_ns for p in folder.glob("*.mp4")
              if mezzanine.BLEND_MARK not in p.name}
    before = first.out.read_bytes()
    for sound in sounds:
        sound.unlink()  # as ``storyboard cache prune`` does first
    for encode in folder.glob("*.adts"):
        encode.unlink()  # so every clip's sound is read (each made only once it is read)
    old_wav = blob_of(sounds[0].with_suffix(".wav"))  # what an earlier version kept: replaced
    encoded: list[list[str]] = []
    real = ffmpeg.run
    nothing_remembered(monkeypatch)  # counts its own runs (media.memo)
    monkeypatch.setattr(ffmpeg, "run", lambda args, **kw: encoded.append(list(args))
                        or real(args, **kw))
    files = shots(make_media, tmp_path)
    again = stitch([Clip(files[s], t) for s, t in EPISODES["crossfades"]], first.out,
                   options(tmp_path, width=160, height=120))
    assert not any("libx264" in args for args in encoded)  # no video encoded again
    assert sum("wavpack" in args for args in encoded) == 3
    assert {p: p.stat().st_mtime_ns for p in videos} == videos
    assert again.out.read_bytes() == before  # the very same samples: the same episode
    assert not old_wav.exists()


def test_a_stitch_that_keeps_no_sound_writes_the_same_episode_and_keeps_only_video(
        make_media: MakeMedia, tmp_path: Path) -> None:
    """``keep_sound=False`` (a render's stitch): the mezzanines' sound is made in the stitch's
    work folder and goes with it; the episode is the same bytes as one stitched with the sound
    kept, and a second such stitch encodes no video again."""
    kept = run(make_media, tmp_path / "kept", "crossfades")
    lean = run(make_media, tmp_path / "lean", "crossfades", keep_sound=False)
    assert lean.out.read_bytes() == kept.out.read_bytes()
    folder = tmp_path / "lean" / "cache" / "mezzanine"
    assert not list(folder.glob(f"*{mezzanine.SOUND}"))  # its AAC encodes may stay: small
    assert len([p for p in folder.glob("*.mp4") if mezzanine.BLEND_MARK not in p.name]) == 3
    assert len(list((tmp_path / "kept" / "cache" / "mezzanine").glob(f"*{mezzanine.SOUND}"))) == 3
    videos = {p: p.stat().st_mtime_ns for p in folder.glob("*.mp4")
              if mezzanine.BLEND_MARK not in p.name}
    again = run(make_media, tmp_path / "lean", "crossfades", keep_sound=False)
    assert again.out.read_bytes() == kept.out.read_bytes()
    assert {p: p.stat().st_mtime_ns for p in videos} == videos  # no video made again
    assert not list(folder.glob(f"*{mezzanine.SOUND}"))


@pytest.mark.parametrize("name", ["odd lengths", "dissolves"])
def test_same_inputs_give_the_same_bytes(make_media: MakeMedia, tmp_path: Path, name: str,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    result = run(make_media, tmp_path, name)
    assert_exact(result, expected_seconds(EPISODES[name]))
    assert_strict(result.out)
    files = shots(make_media, tmp_path)
    clips = [Clip(files[s], t) for s, t in EPISODES[name]]
    nothing_remembered(monkeypatch)  # encoded again, as a new process with an empty cache does
    again = stitch(clips, tmp_path / "again.mp4", options(tmp_path, "other-cache"))
    assert again.out.read_bytes() == result.out.read_bytes()


def test_a_normalised_episode_of_encoded_shots_is_strict(make_media: MakeMedia,
                                                         tmp_path: Path) -> None:
    files = shots(make_media, tmp_path)
    clips = [Clip(files["c"]), Clip(files["a"]), Clip(files["c"])]
    result = stitch(clips, tmp_path / "ep.mp4", options(tmp_path, width=320, height=240, fps=30))
    assert result.path_taken == "normalized"  # c is 25 fps, a is 160x120: nothing matches
    assert_exact(result, 2.4 + 3.0 + 2.4)
    assert_strict(result.out)


def test_recorded_facts_let_the_copy_path_start_one_ffmpeg(
        make_media: MakeMedia, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = shots(make_media, tmp_path)
    clips = [Clip(files["a"]), Clip(files["b"]), Clip(files["a"])]
    stitch(clips, tmp_path / "first.mp4", options(tmp_path))
    records = list((tmp_path / "cache" / "facts").glob("*.json"))
    assert len(records) == 2  # one per distinct content
    calls: list[list[str]] = []
    real = ffmpeg.run
    nothing_remembered(monkeypatch)  # counts its own runs (media.memo)
    monkeypatch.setattr(ffmpeg, "run", lambda args, **kw: calls.append(args) or real(args, **kw))
    result = stitch(clips, tmp_path / "second.mp4", options(tmp_path))
    assert result.path_taken == "copy" and len(calls) == 1
    assert (tmp_path / "second.mp4").read_bytes() == (tmp_path / "first.mp4").read_bytes()
    assert_exact(result, 8.0)
    records[0].write_text("{damaged", encoding="utf-8")  # a damaged record is probed again
    calls.clear()
    stitch(clips, tmp_path / "third.mp4", options(tmp_path))
    assert len(calls) == 2 and records[0].read_text(encoding="utf-8").startswith("{")


@pytest.mark.parametrize(("name", "seconds", "path"), [
    ("copy", 8.0, "copy"), ("normalized", 5.4, "normalized"), ("crossfades", 5.9, "filtered")])
def test_every_path_plays_to_the_end_in_chromium(make_media: MakeMedia, tmp_path: Path,
                                                 browser: Browser, name: str, seconds: float,
                                                 path: str) -> None:
    files = shots(make_media, tmp_path)
    episodes = {"copy": [Clip(files["a"]), Clip(files["b"]), Clip(files["a"])],
                "normalized": [Clip(files["a"]), Clip(files["c"])],
                "crossfades": [Clip(files[s], t) for s, t in EPISODES["crossfades"]]}
    result = stitch(episodes[name], tmp_path / "ep.mp4", options(tmp_path))
    assert result.path_taken == path
    assert_exact(result, seconds)
    played = play_in_chromium(result.out, browser)
    assert played.get("ended") is True, played
    assert abs(played["duration"] - seconds) <= FRAME
    assert played["frames"] == round(seconds * 30)


def test_an_unwritable_cache_only_means_nothing_is_kept(make_media: MakeMedia,
                                                        tmp_path: Path) -> None:
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder")
    files = shots(make_media, tmp_path)
    clips = [Clip(files[s], t) for s, t in EPISODES["crossfades"]]
    result = stitch(clips, tmp_path / "ep.mp4",
                    StitchOptions(preset="ultrafast", loudness=None, width=160, height=120,
                                  fps=30, cache_dir=blocker / "cache"))
    assert_exact(result, expected_seconds(EPISODES["crossfades"]))
    assert blocker.read_text() == "not a folder"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
