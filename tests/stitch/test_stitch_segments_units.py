"""Segments' pure parts, table-driven: keyframe plans, bodies and blends, the concat script, and
recorded facts (no ffmpeg runs)."""

from __future__ import annotations

import os
import time
from fractions import Fraction
from pathlib import Path

import pytest

from storyboard.language.request import Transition
from storyboard.media.ffmpeg import MediaInfo, StreamInfo
from storyboard.stitch.join import blends as blending
from storyboard.stitch.join.blends import Blend, Recipe, blend_parts
from storyboard.stitch.join.concat import ClipFacts, EpisodeFormat
from storyboard.stitch.join.facts import FactStore, from_record, to_record
from storyboard.stitch.join.mezzanine import (
    Mezzanine,
    force_times,
    keyframe_plan,
    parse_keyframes,
    prune,
    timescale,
)
from storyboard.stitch.join.segments import Body, Entry, concat_script, plan_segments
from storyboard.stitch.model import StitchOptions
from storyboard.stitch.timeline import plan

CUT = Transition()


def xf(seconds: float) -> Transition:
    return Transition("crossfade", seconds)


@pytest.mark.parametrize(("frames", "fps", "expected"), [
    (90, Fraction(30), [0, 8, 15, 30, 60, 75, 82]),
    (150, Fraction(30), [0, 8, 15, 30, 75, 120, 135, 142]),
    (300, Fraction(30), [0, 8, 15, 30, 70, 110, 150, 190, 230, 270, 285, 292]),
    (30, Fraction(30), [0, 8, 15, 22]),
    (10, Fraction(30), [0, 2, 8]),  # a third of a second: only what fits
    (125, Fraction(25), [0, 6, 12, 25, 63, 100, 113, 119]),
    (150, Fraction(30000, 1001), [0, 7, 15, 30, 60, 90, 120, 135, 143]),  # 90 > 2 steps
])
def test_keyframes_sit_at_the_usual_transition_lengths_and_every_step(
        frames: int, fps: Fraction, expected: list[int]) -> None:
    assert keyframe_plan(frames, fps) == expected


@pytest.mark.parametrize(("fps", "ticks"), [(Fraction(30), 90000), (Fraction(25), 90000),
                                            (Fraction(30000, 1001), 90000),
                                            (Fraction(24000, 1001), 72000)])
def test_the_timescale_gives_every_frame_whole_ticks(fps: Fraction, ticks: int) -> None:
    assert timescale(fps) == ticks and (ticks / fps).denominator == 1


def keys_for(frames: tuple[int, ...], fps: Fraction) -> list[list[int]]:
    return [keyframe_plan(n, fps) for n in frames]


SEGMENT_CASES = {
    "two crossfades on keyframes": (
        [3.0, 2.0, 2.4], [CUT, xf(0.5), xf(1.0)],
        [Body(0, 0, 75), Blend(75, 90, (0, 1), 75), Body(1, 15, 30),
         Blend(105, 135, (1, 2), 30), Body(2, 30, 72)]),
    "a transition between keyframes is widened to them": (
        [3.0, 3.0], [CUT, xf(0.4)],
        [Body(0, 0, 75), Blend(75, 93, (0, 1), 75), Body(1, 15, 90)]),
    "a shot with no body left joins both blends": (
        [2.0, 1.0, 2.0], [CUT, xf(0.5), xf(0.5)],
        [Body(0, 0, 45), Blend(45, 75, (0, 1, 2), 45), Body(2, 15, 60)]),
    "cuts only: whole shots": (
        [1.0, 2.0], [CUT, CUT], [Body(0, 0, 30), Body(1, 0, 60)]),
}


@pytest.mark.parametrize("case", list(SEGMENT_CASES))
def test_segments_copy_bodies_and_blend_only_around_transitions(case: str) -> None:
    lengths, transitions, expected = SEGMENT_CASES[case]
    tl = plan(lengths, transitions, Fraction(30), [f"s{i}" for i in range(len(lengths))])
    segments = plan_segments(tl, keys_for(tl.frames, tl.fps))
    assert segments == expected
    covered = []
    for s in segments:  # every episode frame once, in order
        covered += (range(tl.starts[s.clip] + s.first, tl.starts[s.clip] + s.last)
                    if isinstance(s, Body) else range(s.start, s.end))
    assert covered == list(range(tl.total))


def test_a_blend_shows_frames_as_they_are_and_blends_only_overlaps() -> None:
    tl = plan([3.0, 1.0, 3.0], [CUT, xf(0.4), xf(0.5)], Fraction(30), ["a", "b", "c"])
    blends = [s for s in plan_segments(tl, keys_for(tl.frames, tl.fps)) if isinstance(s, Blend)]
    assert blends == [Blend(75, 108, (0, 1, 2), 75)]
    # a's frames 75-78 as they are, a->b over 12 frames, b's 12-15, b->c over 15 (c's body
    # starts at its keyframe 15, right after the overlap)
    assert blend_parts(blends[0], tl) == [(0, 75, 78), (0, 1), (1, 12, 15), (1, 2)]


def test_the_concat_script_rounds_each_entry_from_the_episode_clock() -> None:
    fps = Fraction(30000, 1001)
    entries = [Entry(Path("/m/0.mp4"), 0, 1), Entry(Path("/m/1.mp4"), 1, 4),
               Entry(Path("/m/blends.mp4"), 0, 3), Entry(Path("/m/2.mp4"), 2, 10)]
    script = concat_script(entries, fps).splitlines()
    assert script[:4] == ["ffconcat version 1.0", "file '/m/0.mp4'", "outpoint 0.033366",
                          "duration 0.033367"]
    assert script[4:8] == ["file '/m/1.mp4'", "inpoint 0.033367", "outpoint 0.133466",
                           "duration 0.100100"]
    durations = [round(float(line.split()[1]) * 1_000_000) for line in script
                 if line.startswith("duration")]
    assert sum(durations) == round(15 * 1_000_000 / fps)  # no drift along the episode


def _recipe(transitions: list[Transition], names: str) -> tuple[list[Blend], Recipe]:
    """The blends of shots named by ``names`` (150 frames each, mezzanines ``/m/<name>.mp4``)."""
    tl = plan([5.0] * len(names), transitions, Fraction(30), list(names))
    mezz = [Mezzanine(Path(f"/m/{n}.mp4"), Path(f"/m/{n}.wav"), 150,
                      tuple(keyframe_plan(150, Fraction(30))), "x") for n in names]
    fmt = EpisodeFormat(1280, 720, Fraction(30), 48000)
    keys = [m.keyframes for m in mezz]
    found = [s for s in plan_segments(tl, keys) if isinstance(s, Blend)]
    return found, Recipe(tl, mezz, fmt, StitchOptions())


def test_a_blend_is_kept_by_what_it_crosses_not_by_where_it_falls() -> None:
    fade, wipe = Transition("crossfade", 0.5), Transition("wipeleft", 0.5)
    (ab,), first = _recipe([CUT, fade], "ab")
    (_, ab_later), later = _recipe([CUT, wipe, fade], "cab")  # a then b, later in the episode
    assert ab.start != ab_later.start
    assert blending.key(ab, first) == blending.key(ab_later, later)
    assert blending.files([ab], first)[ab].name.startswith("a.blend-")
    others = [_recipe([CUT, wipe], "ab"), _recipe([CUT, fade], "ba"), _recipe([CUT, fade], "ac"),
              _recipe([CUT, Transition("crossfade", 1.0)], "ab")]
    assert len({blending.key(b[0], r) for b, r in others} | {blending.key(ab, first)}) == 5
    slower = Recipe(first.tl, first.mezz, first.fmt, StitchOptions(preset="medium"))
    assert blending.key(ab, slower) != blending.key(ab, first)


def test_forced_keyframes_are_asked_for_a_quarter_frame_early() -> None:
    assert force_times([0, 15, 45], Fraction(30)) == "0.000000,0.491667,1.491667"


def test_blends_go_with_the_mezzanine_they_start_from(tmp_path: Path) -> None:
    for stem in ("old", "used"):
        for name in (f"{stem}.json", f"{stem}.mp4", f"{stem}.wv", f"{stem}.wav",
                     f"{stem}.blend-1234.mp4"):
            (tmp_path / name).write_bytes(b"x")
    month_ago = time.time() - 31 * 86400
    os.utime(tmp_path / "old.json", (month_ago, month_ago))
    assert prune(tmp_path) == [tmp_path / "old.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "used.blend-1234.mp4", "used.json", "used.mp4", "used.wav", "used.wv"]


def test_keyframes_are_read_from_packet_flags() -> None:
    listing = ("#tb 0: 1/90000\n0, 0, 0, 3000, 500, 0x1\n0, 3000, 3000, 3000, 20, 0x2, F=0x0\n"
               "0, 6000, 6000, 3000, 480, 0x3\n0, 9000, 9000, 3000, 20, 0x4, F=0x0\n")
    assert parse_keyframes(listing) == ([0, 2], 4)


def facts(path: Path) -> ClipFacts:
    info = MediaInfo(path, "mov,mp4,m4a,3gp,3g2,mj2", 2.0,
                     [StreamInfo("video", "h264", 160, 120, 30.0, "yuv420p"),
                      StreamInfo("audio", "aac", sample_rate=48000, channels="stereo")])
    return ClipFacts(path, info, 2.0, 2.0213, "#extradata 0: 39, 0xabc")


def test_recorded_facts_come_back_for_the_same_content_under_any_name(tmp_path: Path) -> None:
    first, copy = tmp_path / "a.mp4", tmp_path / "copy-of-a.mp4"
    first.write_bytes(b"same bytes")
    copy.write_bytes(b"same bytes")
    store = FactStore(tmp_path / "facts")
    store.record(facts(first))
    assert store.recorded(copy) == facts(copy)  # found by content hash, not by name
    copy.write_bytes(b"other bytes")
    assert store.recorded(copy) is None  # changed content: probed again


@pytest.mark.parametrize("damage", [{"streams": "nope"}, {"video_len": None}, {"streams": []}])
def test_a_damaged_record_reads_as_unknown(tmp_path: Path, damage: dict[str, object]) -> None:
    record = {**to_record(facts(tmp_path / "a.mp4")), **damage}
    assert from_record(tmp_path / "a.mp4", record) is None
