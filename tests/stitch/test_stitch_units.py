"""Stitching's pure parts: timeline, subtitle formats, escaping, ducking, loudnorm parsing."""

from __future__ import annotations

import itertools
from fractions import Fraction
from pathlib import Path

import pytest

from storyboard.errors import FFmpegError
from storyboard.language.request import Transition
from storyboard.stitch import subtitles
from storyboard.stitch.join.concat import as_rate
from storyboard.stitch.model import Clip, Cue, StitchError, TransitionTooLong
from storyboard.stitch.sound import audio
from storyboard.stitch.timeline import plan


def test_clips_overlap_by_their_transitions() -> None:
    tl = plan([2.0, 1.0, 3.0], [Transition(), Transition("crossfade", 0.5),
                                Transition("fade", 0.25)], Fraction(30), ["a", "b", "c"])
    assert tl.frames == (60, 30, 90) and tl.overlaps == (0, 15, 8)
    assert tl.starts == (0, 45, 67) and tl.total == 157


def test_audio_samples_follow_frames_without_drift_at_ntsc_rates() -> None:
    tl = plan([1.0] * 30, [Transition()] * 30, Fraction(30000, 1001), [str(i) for i in range(30)])
    assert tl.sample(tl.total) == round(tl.total * 48000 * 1001 / 30000)


@pytest.mark.parametrize(("lengths", "seconds", "match"), [
    ([1.0, 2.0], 1.5, "1: its crossfade transition lasts 1.5 s, longer than the clip before"),
    ([2.0, 1.0], 1.5, "1: its crossfade transition lasts 1.5 s, longer than the clip itself"),
])
def test_transition_too_long(lengths: list[float], seconds: float, match: str) -> None:
    with pytest.raises(TransitionTooLong, match=match):
        plan(lengths, [Transition(), Transition("crossfade", seconds)], Fraction(30), ["0", "1"])


def test_unknown_or_zero_length_transitions_are_refused() -> None:
    with pytest.raises(StitchError, match="unknown transition 'spin'"):
        plan([1.0, 1.0], [Transition(), Transition("spin", 0.5)], Fraction(30), ["a", "b"])
    with pytest.raises(StitchError, match="needs a duration"):
        plan([1.0, 1.0], [Transition(), Transition("fade", 0)], Fraction(30), ["a", "b"])


def test_timestamps_round_once() -> None:
    assert subtitles.srt_time(1.5) == "00:00:01,500"
    assert subtitles.vtt_time(3725.0416) == "01:02:05.042"
    assert subtitles.srt_time(1.9996) == "00:00:02,000"


def test_libass_escaping() -> None:
    assert subtitles.libass_escape("C:\\New {x}") == "C:\\\u2060New \\{x\\}"


def cue(start: float, end: float, text: str) -> subtitles.TimedCue:
    return subtitles.TimedCue(start, end, text)


@pytest.mark.parametrize(("given", "expected"), [
    ([cue(0, 1, "a"), cue(1, 2, "b")], [cue(0, 1, "a"), cue(1, 2, "b")]),  # touching: kept
    # two lines across a 0.5 s transition: hand over at the middle of the overlap
    ([cue(0, 2.0, "a"), cue(1.5, 3, "b")], [cue(0, 1.75, "a"), cue(1.75, 3, "b")]),
    # one inside the other: they share it as one cue
    ([cue(0, 3, "a"), cue(1, 2, "b")], [cue(0, 3, "a\nb")]),
    # a hand-over would leave "b" too short: shared
    ([cue(0, 2, "a"), cue(1.9, 2.1, "b")], [cue(0, 2.1, "a\nb")]),
    # three in a row
    ([cue(0, 2, "a"), cue(1, 3, "b"), cue(2.5, 4, "c")],
     [cue(0, 1.5, "a"), cue(1.5, 2.75, "b"), cue(2.75, 4, "c")]),
])
def test_cues_never_overlap(given: list[subtitles.TimedCue],
                            expected: list[subtitles.TimedCue]) -> None:
    got = subtitles.without_overlaps(given)
    assert got == expected
    assert all(a.end <= b.start for a, b in itertools.pairwise(got))


def test_subtitle_files_end_as_their_formats_want() -> None:
    cues = [cue(0, 1, "one"), cue(1, 2, "two")]
    assert subtitles.to_srt(cues) == ("1\n00:00:00,000 --> 00:00:01,000\none\n\n"
                                      "2\n00:00:01,000 --> 00:00:02,000\ntwo\n\n")
    assert subtitles.to_vtt(cues) == ("WEBVTT\n\n00:00:00.000 --> 00:00:01.000\none\n\n"
                                      "00:00:01.000 --> 00:00:02.000\ntwo\n\n")
    assert subtitles.to_srt([]) == "" and subtitles.to_vtt([]) == "WEBVTT\n\n"


def test_a_line_of_dialogue_cannot_forge_a_cue() -> None:
    forged = "hi\n\n99\n00:00:00,000 --> 00:00:09,000\nbuy now"
    clips = [Clip(Path("a.mp4"), cues=[Cue(0.0, 1.0, forged, "Mia")])]
    cues = subtitles.episode_cues(clips, [0.0], [2.0])
    for text in (subtitles.to_srt(cues), subtitles.to_vtt(cues)):
        timing = [line for line in text.splitlines() if "-->" in line]
        assert len(timing) == len(cues) and all(t.startswith("00:00:0") for t in timing)
        assert "00:00:09" not in "".join(timing)
    assert "00:00:09,000" in subtitles.to_srt(cues)  # the words are kept, only defused


def test_the_burn_in_script_draws_text_as_written() -> None:
    script = subtitles.burn_ass([cue(1.25, 2.5, "{\\b1} <i>x</i>\nC:\\New")], 1280, 720)
    assert "PlayResX: 1280\nPlayResY: 720" in script
    event = script.splitlines()[-1]
    assert event == ("Dialogue: 0,0:00:01.25,0:00:02.50,Default,,0,0,0,,"
                     "\\{\\\u2060b1\\} <i>x</i>\\NC:\\\u2060New")


def test_duck_windows_merge_and_ramp() -> None:
    assert audio.duck_windows([(3, 4), (1, 2), (2.1, 2.5)], 0.1) == [(1, 2.5), (3, 4)]
    gain, enable = audio.duck_gain((1.0, 2.0), -12, 0.25)
    assert enable == "between(t,0.75,2.25)"
    assert gain == "pow(10,-12/20*max(0,min(1,min((t-0.75)/0.25,(2.25-t)/0.25))))"


def test_parse_ebur128_reads_the_summary_not_the_running_values() -> None:
    log = ("[Parsed_ebur128_0 @ 0x1] t: 0.4 TARGET:-23 LUFS M: -20.1 S:-120.7 I: -19.0 LUFS "
           "LRA: 0.0 LU FTPK: -5.0 dBFS TPK: -5.0 dBFS\n"
           "[Parsed_ebur128_0 @ 0x1] Summary:\n\n  Integrated loudness:\n    I:         -11.2 LUFS\n"
           "    Threshold: -21.9 LUFS\n\n  Loudness range:\n    LRA:        23.3 LU\n\n"
           "  True peak:\n    Peak:       -9.4 dBFS\n")
    assert audio.parse_ebur128(log) == {"input_i": -11.2, "input_tp": -9.4}
    with pytest.raises(FFmpegError):
        audio.parse_ebur128("no summary here")


def test_frame_rates_are_exact() -> None:
    assert as_rate(29.97) == Fraction(30000, 1001)
    assert as_rate(25.0) == 25 and as_rate(23.98) == Fraction(24000, 1001)


def test_a_long_line_becomes_readable_cues() -> None:
    """229 characters on one line: cues of at most two lines of 42 characters, the line's time
    shared by their length, the speaker named once; a short line stays one cue."""
    words = ("Well, I suppose the river was wider back then, and the fish were bigger, and the "
             "nights were longer, and nobody ever came home before the lanterns were lit on the "
             "bridge by the old mill, or so my grandmother always told it to anyone who'd listen.")
    clips = [Clip(Path("a.mp4"), cues=[Cue(1.0, 11.0, words, "Edward"), Cue(11.0, 12.0, "Hi.")])]
    cues = subtitles.episode_cues(clips, [0.0], [12.0])
    long = cues[:-1]
    assert len(long) == 4 and cues[-1] == subtitles.TimedCue(11.0, 12.0, "Hi.")
    lengths = [len(c.text) for c in long]
    assert min(lengths) > 0.8 * max(lengths)  # about equal: no word left alone at the end
    assert all(len(line) <= subtitles.LINE for c in long for line in c.text.split("\n"))
    assert all(len(c.text.split("\n")) <= 2 for c in long)
    assert " ".join(c.text.replace("\n", " ") for c in long) == f"Edward: {words}"
    assert long[0].start == 1.0 and long[-1].end == 11.0
    assert all(a.end == b.start for a, b in itertools.pairwise(long))
    shares = [(c.end - c.start) / len(c.text) for c in long]
    assert max(shares) - min(shares) < 0.01  # each on screen for its share of the characters
