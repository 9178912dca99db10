"""Measured takes: each take's file measured once on arrival, its findings shown, and approve,
pick --best and retake --failed-checks acting on them.

The clips are made here: a moving test pattern with a tone, and the same clip with one flaw in
its middle second (``samples.flawed``); through the emulator, a ``task:`` fault flaws a result.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from storyboard.errors import StoryboardError
from storyboard.language.request import CompiledShot, Line, MediaRef, Scene, ShotRequest
from storyboard.media import samples
from storyboard.media.probes.measure import measure
from storyboard.run.state.measured import Finding, Thresholds, judge, thresholds
from tests.fixtures.compiler import write_series
from tests.fixtures.dashscope_cli import HEAD, Emulator, MakeMedia, invoke, render, submissions

pytestmark = pytest.mark.usefixtures("env")  # the key in the environment

SECONDS = 4.0


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("clips")
    return samples.video(folder / "clean.mp4", 854, 480, SECONDS, fps=24)


def shot(checks: dict[str, Any] | None = None) -> CompiledShot:
    """A 4 s 480P shot whose one line is spoken from 1.5 s to 2.5 s."""
    line = Line("mia", "Image 1", "hello", 1.5, 2.5)
    request = ShotRequest("wan2.7-r2v", "mia sings", (), "480P", "16:9", int(SECONDS), None,
                          False, scenes=(Scene(0, 0.0, SECONDS, "mia sings", (line,)),))
    return CompiledShot("s", "ep01", "one", request, "0" * 64, checks=checks or {})


def found(clip: Path, flaw: str, checks: dict[str, Any] | None = None) -> list[Finding]:
    path = samples.flawed(clip, clip.with_name(f"{flaw}.mp4"), flaw, SECONDS)
    return judge(measure(path), shot(checks), Thresholds())


def test_a_clean_clip_has_no_finding(clean: Path) -> None:
    assert judge(measure(clean), shot(), Thresholds()) == []


@pytest.mark.parametrize(("flaw", "kind", "start", "end"), [
    ("cut", "cut", 2.0, 2.0),
    ("black", "black", 1.5, 2.5),
    ("frozen", "frozen", 1.5, 2.5),
    ("silence", "silent_line", 1.5, 2.5),
    ("short", "duration", 3.5, 4.0),
])
def test_each_flaw_is_found_with_its_time_range(clean: Path, flaw: str, kind: str,
                                                start: float, end: float) -> None:
    findings = found(clean, flaw)
    assert [f.kind for f in findings] == [kind], findings
    assert math.isclose(findings[0].start, start, abs_tol=0.1)
    assert math.isclose(findings[0].end, end, abs_tol=0.1)
    assert findings[0].severity == "error"


def test_an_intended_cut_or_silence_is_not_a_finding(clean: Path) -> None:
    assert found(clean, "cut", {"cuts": 1}) == []
    assert [f.kind for f in found(clean, "cut", {"cuts": 2})] == ["cut"]
    assert found(clean, "silence", {"silent": True}) == []
    assert found(clean, "black", {"ignore": ["black"]}) == []


def test_each_spoken_line_is_held_to_its_window(clean: Path, tmp_path: Path) -> None:
    """Issue 59.6: a take with no sound says none of its lines; a line whose window runs past
    the take's end is cut; a line inside a take with sound in its window is spoken."""
    mute = measure(samples.video(tmp_path / "mute.mp4", 854, 480, SECONDS, fps=24, audio=False))
    assert [(f.kind, f.start, f.end) for f in judge(mute, shot(), Thresholds())] == \
        [("silent_line", 1.5, 2.5)]
    assert judge(mute, shot({"silent": True}), Thresholds()) == []
    late = Line("mia", "Image 1", "goodbye", 3.0, 4.75)
    long_line = replace(shot(), request=replace(shot().request, scenes=(
        Scene(0, 0.0, SECONDS, "mia sings", (late,)),)))
    said = judge(measure(clean), long_line, Thresholds())
    assert [(f.kind, f.start, f.end) for f in said] == [("line_cut", SECONDS, 4.75)], said
    assert judge(measure(clean), long_line, Thresholds(duration_tolerance=1.0)) == []


def test_a_line_handed_over_as_audio_is_held_to_where_its_words_are(clean: Path) -> None:
    """Issue 59.6: a made line (``lines/EP/SHOT``) fills its window from its start for as long
    as it was made: longer than its window is ``line_long``; its words alone must be heard."""
    made = MediaRef(asset="lines/ep01/one")
    line = Line("mia", "Image 1", "hello", 1.5, 2.5, route="lipsync", audio=made)
    routed = replace(shot(), request=replace(shot().request, scenes=(
        Scene(0, 0.0, SECONDS, "mia sings", (line,)),)))
    measured = measure(clean)
    assert judge(measured, routed, Thresholds(), {"lines/ep01/one": 0.9}) == []
    said = judge(measured, routed, Thresholds(), {"lines/ep01/one": 1.6})
    assert [(f.kind, f.start, f.end) for f in said] == [("line_long", 2.5, 3.1)], said
    # unmade (or not measured yet): the scene's window holds
    assert judge(measured, routed, Thresholds(), {}) == []


def test_a_blank_image_and_a_short_voice(tmp_path: Path) -> None:
    blank = measure(samples.image(tmp_path / "blank.png", color="gray"), "image")
    drawn = measure(samples.image(tmp_path / "drawn.png"), "image")
    assert [f.kind for f in judge(blank, None, Thresholds())] == ["blank"]
    assert judge(drawn, None, Thresholds()) == []
    short = measure(samples.voice(tmp_path / "short.wav", 0.5), "audio")
    assert [f.kind for f in judge(short, None, Thresholds())] == ["short"]
    assert judge(measure(samples.voice(tmp_path / "ok.wav", 2.0), "audio"), None,
                 Thresholds()) == []


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -1, "1", True])
def test_a_threshold_that_is_not_a_finite_number_in_range_is_refused(value: Any) -> None:
    with pytest.raises(StoryboardError, match=r"checks\.black_seconds"):
        thresholds({"black_seconds": value})
    with pytest.raises(StoryboardError, match=r"checks\.approve"):
        thresholds({"approve": "sometimes"})
    assert thresholds({"clip_db": -1}).clip_db == -1.0


# --- through the emulator -------------------------------------------------------------------

# The emulator draws still pictures: a frozen stretch is what it always renders, not a finding.
MEASURED_HEAD = HEAD + "checks: {freeze_seconds: 60}\n"
TAKES = """\
- id: ep01
  shots:
    - {id: ballad, prompt: "@mia sings", takes: 3}
"""


def run(series: Path, *args: str) -> tuple[int, str, str]:
    result = invoke(*args[:1], series, *args[1:])
    return result.exit_code, result.stdout, result.stderr


def test_takes_are_measured_once_and_approve_pick_and_retake_act_on_findings(
        tmp_path: Path, make_media: MakeMedia, emulator: Emulator) -> None:
    series = write_series(tmp_path / "measured", make_media, TAKES, head=MEASURED_HEAD)
    shown = run(series, "config")[1]
    assert "checks.freeze_seconds" in shown and "[series file: checks.freeze_seconds]" in shown
    assert "checks.cut_score           10.0  [default" in shown
    emu = emulator()
    emu.script("task:cut")  # the first task: take 1, with one worker
    code, report, err = render(series, "--yes", "--set", "concurrency=1")
    assert code == 0, err
    findings = report["findings"]
    assert sorted(findings["measured"]) == ["measured/ep01/ballad", "measured/ep01/ballad#2",
                                            "measured/ep01/ballad#3"]
    [cut] = findings["takes"]["measured/ep01/ballad"]
    assert cut["kind"] == "cut" and math.isclose(cut["start"], 1.0, abs_tol=0.1)
    assert list(findings["takes"]) == ["measured/ep01/ballad"]
    records = sorted(p for p in (series / ".storyboard" / "measured").glob("*.json")
                     if not p.name.endswith(".people.json"))
    stamps = [p.stat().st_mtime_ns for p in records]
    assert len(records) == 3

    code, report, err = render(series, "--yes")  # a second render measures nothing
    assert code == 0, err
    assert report["findings"]["measured"] == []
    assert [p.stat().st_mtime_ns for p in records] == stamps

    listed = json.loads(run(series, "takes", "ep01/ballad", "--json")[1])
    assert [[f["kind"] for f in r["findings"] if f["severity"] != "n/a"] for r in listed] == \
        [["cut"], [], []]
    # mia's picture (a test pattern) shows no face: her identity is said to be not measurable
    assert {f["detail"] for r in listed for f in r["findings"] if f["severity"] == "n/a"} == \
        {"@mia: not measured (its picture shows no frontal face)"}

    code, _, err = run(series, "approve", "ep01/ballad")
    assert code != 0 and "cut at 1.00 s" in err and "--force" in err
    assert "approved" not in (series / "storyboard.lock").read_text("utf-8")

    code, out, err = run(series, "retake", "--failed-checks", "--provider", "dashscope",
                         "--yes")
    assert code == 0, err
    assert "ep01/ballad: asking for take(s) 4..4" in err
    assert submissions(emu) == 4  # one more take, paid once

    code, out, err = run(series, "pick", "ep01/ballad", "--best")
    assert code == 0, err
    assert "the best take is 2 (0 finding(s), 1 not measurable)" in out  # @mia: no face
    assert run(series, "approve", "ep01/ballad")[0] == 0
    code, out, _ = run(series, "retake", "--failed-checks", "--provider", "dashscope", "--yes")
    assert code == 0 and "nothing to retake" in out
    assert submissions(emu) == 4

    assert run(series, "pick", "ep01/ballad", "1")[0] != 0  # take 2 is approved
    assert run(series, "pick", "ep01/ballad", "1", "--replace-approved")[0] == 0
    assert run(series, "approve", "ep01/ballad")[0] != 0
    code, out, err = run(series, "approve", "ep01/ballad", "--force")
    assert code == 0 and "approved take 1" in out, err


def test_bad_checks_are_located_errors_in_check(tmp_path: Path, make_media: MakeMedia) -> None:
    bad = TAKES.replace("takes: 3}", "takes: 3, checks: {cuts: -1}}")
    series = write_series(tmp_path / "bad", make_media, bad,
                          head=HEAD + "checks: {black_seconds: -1, cut_score: .nan}\n")
    result = invoke("check", series)
    assert result.exit_code != 0
    assert "storyboard.yaml:" in result.stderr and "black_seconds" in result.stderr
    assert "not a finite number" in result.stderr
    assert "cuts" in result.stderr and "Traceback" not in result.stderr


def test_a_pass_is_judged_by_the_framing_it_promises_not_the_pixels() -> None:
    """videoretalk keeps its take's length and framing: a 1920x1080 answer for a 720P 16:9 take
    is said once (the stitch scales it to the episode's size), not an error; another ratio or
    another length still is. A video model's wrong size stays an error."""
    from storyboard.media.probes.measure import Measured
    request = ShotRequest("videoretalk", "", (), "720P", "16:9", 3, None, False)
    relipped = CompiledShot("s", "ep01", "one#2", request, "p" * 64)
    bigger = Measured("video", seconds=3.0, width=1920, height=1080, has_audio=True)
    [said] = judge(bigger, relipped, Thresholds())
    assert (said.kind, said.severity) == ("size", "warning") and "scales" in said.detail
    squarer = replace(bigger, width=1080, height=1080, seconds=2.0)
    assert {(f.kind, f.severity) for f in judge(squarer, relipped, Thresholds())} >= {
        ("ratio", "error"), ("duration", "error")}
    video = replace(relipped, request=replace(request, model="wan2.7-r2v"))
    assert [(f.kind, f.severity) for f in judge(bigger, video, Thresholds())] == [
        ("size", "error")]
