"""The board animatic's held boards drawn as their boards arrive (issue 66.7): during
``render SERIES boards`` each held clip is drawn on a bounded pool of ffmpeg processes while the pass
still makes the other boards, at a lower priority than the pass, each once; what is still queued
at the pass's end is drawn at once at the run's priority (the stitch draws what a stopped run
left), and the bytes are the same whichever way they were drawn."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from storyboard.animatic.draw import Sound
from storyboard.animatic.held import STATIC, Held, pictures, render_held
from storyboard.media import ffmpeg, imagehead, samples
from storyboard.media.probes import measure
from storyboard.run import pipeline
from storyboard.run.boards import ahead, animatic
from storyboard.run.state import measured
from storyboard.stitch.join import facts
from storyboard.stitch.series import episodes
from tests.animatic.test_boards_animatic import (
    parameter_sets,
    render_boards,
    series,
    video_md5,
)
from tests.fixtures.boards import write
from tests.fixtures.cast import lock_of
from tests.fixtures.dashscope_cli import Emulator, render
from tests.fixtures.ffmpeg_runs import nothing_remembered


def test_render_boards_draws_each_held_board_once_before_the_animatic_stitch(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    happened: list[tuple[str, str]] = []  # (what, thread or file), in order
    real_draw, real_stitch = animatic.render_held, pipeline.board_animatic

    def draw(spec: Held, out: Path, *measured: Any) -> Path:
        happened.append(("draw", out.name))
        return real_draw(spec, out, *measured)

    def stitch(*args: Any, **kwargs: Any) -> Any:
        happened.append(("stitch", threading.current_thread().name))
        return real_stitch(*args, **kwargs)

    monkeypatch.setattr(animatic, "render_held", draw)
    monkeypatch.setattr(pipeline, "board_animatic", stitch)
    hear_probes(monkeypatch, happened)
    root = series(tmp_path / "s")
    report = render_boards(root)
    assert [e["state"] for e in report["episodes"]] == ["stitched"]
    drawn = [name for what, name in happened if what == "draw"]
    ahead = happened.index(("stitch", "MainThread"))
    assert ahead >= 1  # drawn while the pass ran (what was still queued: at the pass's end)
    assert len(drawn) == len(set(drawn)) == 3  # hook, talk, and bare's plain frame: once each
    held = sorted(p.name for p in (root / ".storyboard" / "cards").glob("held-*.mp4"))
    assert sorted(drawn) == held
    # their facts kept as each was drawn, on the pool: the stitch reads none of them (one of a
    # shape is read, the others take its facts: the next test)
    read = [who.split() for what, who in happened if what == "probe" and who.startswith("held-")]
    assert read and {name for name, _ in read} <= set(held)
    assert all(thread.startswith("storyboard-held") for _, thread in read)
    kept = facts.FactStore(root / ".storyboard" / "stitch-cache" / animatic.FACTS)
    assert all(kept.recorded(root / ".storyboard" / "cards" / name) for name in held)


def hear_probes(monkeypatch: pytest.MonkeyPatch, happened: list[tuple[str, str]]) -> None:
    """Each clip's facts read from now on told to ``happened``: ``("probe", "FILE THREAD")``."""
    real_probe = facts.probe_clip

    def probe(path: Path, listing: Path) -> Any:
        happened.append(("probe", f"{path.name} {threading.current_thread().name}"))
        return real_probe(path, listing)

    monkeypatch.setattr(facts, "probe_clip", probe)


def test_held_boards_of_one_shape_are_read_once_and_their_facts_are_each_ones_own(
        tmp_path: Path, make_media: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 66 item 7: a held board's facts (streams, lengths, parameter sets) are those of every
    held board of its shape (frame, rate, frames, samples, silent or not, parameter sets): the
    first of a shape is read (a packet scan), the others take its facts for their own file, the
    same a scan of each finds; another shape is read again."""
    happened: list[tuple[str, str]] = []
    hear_probes(monkeypatch, happened)
    stills = [make_media("image", tmp_path / f"b{n}.png", width=640, height=360) for n in (1, 2)]
    voice = make_media("voice", tmp_path / "line.wav", seconds=0.5)
    clips = [(Held(stills[0], 320, 180, 1.0, "push in", fps=12), tmp_path / "a.mp4"),
             (Held(stills[1], 320, 180, 1.0, "pan left", fps=12), tmp_path / "b.mp4"),
             (Held(None, 320, 180, 1.0, fps=12), tmp_path / "c.mp4"),
             (Held(stills[0], 320, 180, 2.0, "push in", fps=12), tmp_path / "longer.mp4"),
             (Held(stills[1], 320, 180, 1.0, sounds=(Sound(voice, 0.0, 0.5),), fps=12),
              tmp_path / "voiced.mp4")]
    kept = facts.FactStore(tmp_path / "facts")
    for clip in clips:  # in order: the first of its shape is read first
        with animatic.HeldPool(workers=1) as pool:
            pool.draw_all([clip], facts=tmp_path / "facts")
    read = sorted(who.split()[0] for what, who in happened if what == "probe")
    assert read == ["a.mp4", "longer.mp4", "voiced.mp4"]
    for _, path in clips:
        known = kept.recorded(path)
        assert known is not None and known == facts.probe_clip(path, tmp_path / "x.framecrc")


def test_a_moves_distinct_pictures_are_a_few_a_second(tmp_path: Path) -> None:
    """Issue 66 item 7: a 720p board's move over 5 s at 30 fps is a step of four pixels (a pan, a
    tilt) or eight (a zoom) every few frames, each step a picture to encode (a pan 33, a zoom 17,
    a tilt 19; a static board one); a short shot's, at most a picture every two frames."""
    still = tmp_path / "board.png"
    expected = {STATIC: 1, "pan left": 33, "pan right": 33, "tilt up": 19, "tilt down": 19,
                "push in": 17, "pull out": 17}
    drawn = {move: pictures(Held(still, 1280, 720, 5.0, move)) for move in expected}
    assert drawn == expected
    short = {move: pictures(Held(still, 1280, 720, 1.0, move)) for move in expected}
    assert short == {**{move: 15 for move in expected}, STATIC: 1}
    assert pictures(Held(still, 1280, 720, 0.1, "pan left")) == 2  # 3 frames: its two ends
    assert pictures(Held(None, 1280, 720, 5.0, "pan left")) == 1  # no still: a plain frame


def test_a_held_board_of_a_told_png_is_the_one_of_a_probed_png(
        tmp_path: Path, make_media: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 66 item 7: a held board's still, a PNG whose format and size its header tells
    ffmpeg (``imagehead.png_input``: decoded once, not twice), draws the pictures, the parameter
    sets and the still's measurement that probing it gives."""
    still = make_media("image", tmp_path / "board.png", width=640, height=360)
    told = imagehead.png_input(still)
    assert told
    for move in ("push in", "pan left", STATIC):
        heard: list[Any] = []
        clips = []
        for options in (told, []):
            monkeypatch.setattr(imagehead, "png_input", lambda _, o=options: o)
            spec = Held(still, 320, 180, 1.0, move, fps=12)
            clips.append(render_held(spec, tmp_path / f"{move}-{len(options)}.mp4", heard.append))
        assert video_md5(clips[0]) == video_md5(clips[1]), move
        assert parameter_sets(clips[0], tmp_path) == parameter_sets(clips[1], tmp_path), move
        assert heard[0] == heard[1] and heard[0].width == 640, move


def test_the_same_bytes_whether_drawn_ahead_or_at_the_stitch(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ahead = series(tmp_path / "ahead")
    render_boards(ahead)
    monkeypatch.setattr(pipeline, "_held_ahead", lambda *_: None)  # all drawn at the stitch
    late = series(tmp_path / "late")
    render_boards(late)
    for root in (ahead, late):
        assert (root / "out" / "boards" / "ep1.mp4").is_file()
    assert (ahead / "out" / "boards" / "ep1.mp4").read_bytes() == \
        (late / "out" / "boards" / "ep1.mp4").read_bytes()


def test_the_pool_draws_each_file_once_and_at_most_its_workers_at_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    running, most, drawn = [0], [0], []
    lock = threading.Lock()

    def draw(spec: Held, out: Path) -> Path:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
            drawn.append(out.name)
        time.sleep(0.05)
        with lock:
            running[0] -= 1
        return out

    monkeypatch.setattr(animatic, "render_held", draw)
    still = samples.image(tmp_path / "still.png", 64, 36)
    clips = [(Held(still, 64, 36, 1.0), tmp_path / f"held-{n % 5}.mp4") for n in range(9)]
    with animatic.HeldPool(workers=2) as pool:
        pool.draw_all(clips)
    assert sorted(drawn) == [f"held-{n}.mp4" for n in range(5)]
    assert most[0] == 2


def test_a_failed_draw_is_raised_once_the_others_are_done(tmp_path: Path) -> None:
    still = samples.image(tmp_path / "still.png", 64, 36)
    good = tmp_path / "cards" / "held-good.mp4"
    bad = (Held(tmp_path / "missing.png", 64, 36, 1.0), tmp_path / "cards" / "held-bad.mp4")
    with animatic.HeldPool(workers=2) as pool, pytest.raises(Exception, match="holding the board"):
        pool.draw_all([bad, (Held(still, 64, 36, 1.0), good)])
    assert good.is_file() and not bad[1].exists()


def test_a_stopped_run_draws_only_what_it_had_begun(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    """Interrupted, the render does not wait for every queued held board: the stitch of the next
    run draws what is missing."""
    started = threading.Event()
    drawn: list[str] = []

    def draw(spec: Held, out: Path) -> Path:
        started.set()
        time.sleep(0.2)
        drawn.append(out.name)
        return out

    monkeypatch.setattr(animatic, "render_held", draw)
    still = samples.image(tmp_path / "still.png", 64, 36)
    early = animatic.AheadOfAnimatic([], {}, None)  # type: ignore[arg-type]
    early.held = animatic.HeldPool(workers=1)
    for n in range(5):
        queued = early.held.draw(Held(still, 64, 36, 1.0), tmp_path / f"held-{n}.mp4")
        assert queued is not None
        queued.add_done_callback(animatic._noted)  # as the scan does
    assert started.wait(5)
    early.wait(cancel=True)
    assert drawn == ["held-0.mp4"]
    assert not [r for r in caplog.records if r.levelname in ("WARNING", "ERROR")]  # no noise


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a thread's own priority: Linux")
def test_what_is_drawn_during_the_pass_gives_way_to_it() -> None:
    """The pool that draws ahead starts its ffmpeg at a lower priority than the run; the stitch's
    own pool at the run's."""
    run = os.getpriority(os.PRIO_PROCESS, 0)

    def started() -> int:
        return int(subprocess.run(["sh", "-c", "cut -d' ' -f19 /proc/self/stat"],
                                  capture_output=True, text=True, check=True).stdout)

    for give_way, expected in ((True, min(19, run + ahead.GIVE_WAY)), (False, run)):
        with ahead.background_pool("storyboard-test", 1, give_way=give_way) as pool:
            assert pool.submit(started).result() == expected
    assert os.getpriority(os.PRIO_PROCESS, 0) == run  # the run's own thread as it was


def started_priority() -> int:
    """The priority a process started now runs at (this thread's own, on Linux)."""
    return int(subprocess.run(["sh", "-c", "cut -d' ' -f19 /proc/self/stat"],
                              capture_output=True, text=True, check=True).stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a thread's own priority: Linux")
def test_at_the_pass_end_what_is_queued_is_drawn_at_once_at_the_runs_priority(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 66 item 7: the pass over, the held boards still queued are not left for the stitch
    (after the run's measuring): they are drawn at once, at the run's priority, beside the one
    still being drawn where it began (at the lower one)."""
    run = os.getpriority(os.PRIO_PROCESS, 0)
    begun, others = threading.Event(), threading.Event()
    drawn: dict[str, int] = {}

    def draw(spec: Held, out: Path) -> Path:
        drawn[out.name] = started_priority()
        if out.name == "held-0.mp4":
            begun.set()
            assert others.wait(5)  # the others are drawn while this one still is
        else:
            others.set()
        out.write_bytes(b"drawn")
        return out

    monkeypatch.setattr(animatic, "render_held", draw)
    early = animatic.AheadOfAnimatic([], {}, None)  # type: ignore[arg-type]
    early.held = animatic.HeldPool(workers=1, give_way=True)
    for n in range(3):
        assert early.held.draw(Held(None, 64, 36, 1.0), tmp_path / f"held-{n}.mp4") is not None
    assert begun.wait(5)
    early.wait()
    assert drawn == {"held-0.mp4": min(19, run + ahead.GIVE_WAY), "held-1.mp4": run,
                     "held-2.mp4": run}
    assert all((tmp_path / name).is_file() for name in drawn)


def test_at_the_pass_end_the_queued_boards_are_drawn_costliest_first(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 66 item 7: what is still queued when the pass ends is drawn costliest first (a
    zoom's 17 pictures, each scaled; a pan's 33 crops; a tilt's 19; a static board's one), so the
    pool's cores run out of work together; boards of one cost in the order they came."""
    begun, release = threading.Event(), threading.Event()
    drawn: list[str] = []

    def draw(spec: Held, out: Path) -> Path:
        if out.name == "first.mp4":
            begun.set()
            assert release.wait(5)
        drawn.append(out.name)
        out.write_bytes(b"drawn")
        return out

    monkeypatch.setattr(animatic, "render_held", draw)
    monkeypatch.setattr(ahead, "cores", lambda: 1)  # one at a time: the order is the queue's
    still = tmp_path / "board.png"
    early = animatic.AheadOfAnimatic([], {}, None)  # type: ignore[arg-type]
    early.held = animatic.HeldPool(workers=1, give_way=True)
    early.held.draw(Held(None, 1280, 720, 5.0), tmp_path / "first.mp4")
    assert begun.wait(5)
    queued = {"static": STATIC, "tilt": "tilt up", "pan": "pan left", "static2": STATIC,
              "zoom": "push in", "pan2": "pan right"}
    for name, move in queued.items():
        early.held.draw(Held(still, 1280, 720, 5.0, move), tmp_path / f"{name}.mp4")
    release.set()
    early.wait()
    assert [name for name in drawn if name != "first.mp4"] == [
        f"{name}.mp4" for name in ("zoom", "pan", "pan2", "tilt", "static", "static2")]


@pytest.mark.usefixtures("env")  # the key in the environment
def test_render_boards_measures_each_board_in_its_held_boards_run(
        tmp_path: Path, emulator: Emulator, make_media: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 66 item 7: a board's still is measured in the ffmpeg run that draws its held board
    (the frame it decodes anyway), not in one of its own; an image drawn in no held board in its
    own; each file once, each measurement the one ``media.probes.measure`` makes."""
    emulator()
    runs: list[list[str]] = []
    real = ffmpeg.run

    def spied(args: list[str], **kwargs: Any) -> str:
        runs.append(list(args))
        return real(args, **kwargs)

    monkeypatch.setattr(ffmpeg, "run", spied)
    nothing_remembered(monkeypatch)  # each measurement runs here, whatever was measured before
    root = write(tmp_path / "boards", make_media)
    code, report, _ = render(root, "--yes", "boards")
    monkeypatch.setattr(ffmpeg, "run", real)
    assert code == 0 and any(e["state"] == "stitched" for e in report["episodes"])
    held = [read(args) for args in runs if "libx264" in args and "-frames:v" in args
            and any("signalstats" in a for a in args)]
    alone = [read(args) for args in runs if "-vf" in args and measure.IMAGE_FILTERS in args]
    boards = [k for k in lock_of(root)["shots"] if k.startswith("boards/boards/")]
    assert len(held) == len(boards) >= 2 and alone  # the boards; the cast's images
    assert len({digest(p) for p in held + alone}) == len(held + alone)  # each file once
    for still in held + alone:
        assert measured.recorded(root, digest(still)) == measure.measure(still, "image")


def read(args: list[str]) -> Path:
    """The file an ffmpeg run's first input is."""
    return Path(args[args.index("-i") + 1])


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_render_boards_draws_and_reads_the_title_card_ahead(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 66 item 7: the animatic's title card is drawn and read on the pool while the pass
    runs, not by the stitch after it."""
    happened: list[tuple[str, str]] = []
    real_card = episodes.render_card

    def card(path: Path, **kwargs: Any) -> Any:
        happened.append(("card", threading.current_thread().name))
        return real_card(path, **kwargs)

    monkeypatch.setattr(episodes, "render_card", card)
    hear_probes(monkeypatch, happened)
    root = series(tmp_path / "s")
    report = render_boards(root)
    assert [e["state"] for e in report["episodes"]] == ["stitched"]
    cards = [who for what, who in happened if what == "card"]
    assert cards and all(who.startswith("storyboard-held") for who in cards)
    read = [who.split()[1] for what, who in happened
            if what == "probe" and not who.startswith("held-")]
    assert read and all(who.startswith("storyboard-held") for who in read)
