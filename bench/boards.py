"""Boards benchmark: a series of 60 shots with boards through the DashScope provider against the
emulator: the board pass, then every board approved, then the video pass; then each episode's
board animatic and its video episode stitched cold. Prints ratios against the targets; exits
non-zero when one is missed.

    python bench/boards.py [--shots 60] [--episodes 1] [--seconds 5] [--latency 2]
                           [--concurrency 20] [--timeline summary|every]

Targets: the board pass (the cast, then the boards) within 1.2x of its ideal, (1 + ceil(boards /
concurrency)) x latency (submits unpaced, as bench/runner.py: the pass, not an account's rate);
the board pass's cost at most 0.1 of the video pass's; the whole command (``storyboard.render``
with ``boards=True``, from its call to its return: compiling, planning, the pass, and the board
animatic's held boards drawn, as their boards arrive, and stitched) within 1.5x of the pass's
ideal. Also printed: the HTTP requests per board, and the animatic's stitch time against the
video stitch of the same episode (each cold: no mezzanine; the held boards drawn once on the
machine's cores, timed apart).

The emulator runs in this process and draws its pictures as bands alone (``figures=False``): a
service draws on machines of its own, so its drawing is not timed on the client's cores. The
client's work is the same either way (the cast sheets are drawn from words, so neither a sheet
nor a board shows a face, and each board's people are measured for its light).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# Each stitch timed here encodes its own shots: no folder shared by the machine's series
# (``STORYBOARD_STITCH_SHARED``, which the test suite sets) hands it a copy.
os.environ.pop("STORYBOARD_STITCH_SHARED", None)

WHOLE_TARGET = 1.5  # render SERIES boards end to end, against the board pass's ideal
CAMERA = ("Wide shot, slow push in", "Close-up", "The camera pans left", "Tilt down",
          "Medium shot, pull back", "Over the shoulder")
SERIES = """\
storyboard: 1
title: Boards bench
style: "warm hand-drawn animation"
defaults: {{resolution: 720P, ratio: "16:9", duration: {seconds}, seed: 7}}
provider: {{name: dashscope, poll: [0.1], submit_rate: 1000}}
output: {{loudness: null}}
boards: {{model: wan2.7-image}}
characters:
  mia: {{image: {{generate: "barista in her thirties, short red hair, green apron"}}}}
  sam: {{image: {{generate: "a tall regular in a grey coat with a guitar case"}}}}
episodes:
"""


def write_series(root: Path, shots: int, episodes: int, seconds: int) -> None:
    lines = [SERIES.format(seconds=seconds)]
    per = math.ceil(shots / episodes)
    for number in range(shots):
        if number % per == 0:
            lines.append(f"  - id: ep{number // per + 1:02d}\n    title_card: "
                         f"{{text: \"Episode {number // per + 1}\", duration: 1}}\n    shots:\n")
        who = ("@mia", "@sam")[number % 2]
        action = f"{CAMERA[number % len(CAMERA)]}: {who} moves across the cafe, beat {number}"
        lines.append(f"      - {{id: s{number:03d}, prompt: \"{action}\"}}\n")
    root.mkdir(parents=True)
    (root / "storyboard.yaml").write_text("".join(lines), encoding="utf-8")


def requests(stats: dict[str, Any]) -> int:
    """Every HTTP request the emulator counted (the task routes and the cast's)."""
    return sum(stats["requests"].values()) + sum(stats["cast"]["requests"].values())


def board_pass(root: Path, concurrency: int, emulator: Any, timeline: str | None = None
               ) -> tuple[float, float, float, int, int]:
    """(seconds from the first task queued to the last board made, seconds of the whole
    command: compiling, planning, the pass and the board animatic drawn and stitched; seconds
    from the last board made to the command's end; HTTP requests, images made) of
    ``render SERIES boards``; ``timeline`` (``summary`` or ``every``): when its work ran, printed."""
    from timeline import Timeline

    import storyboard
    recorder = Timeline()
    before, images = requests(emulator.stats()), emulator.stats()["cast"]["images"]
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    heard: list[float] = []  # when each shot event came: the last, the boards made

    def hear(event: Any) -> None:
        heard.append(time.perf_counter())
        if event.output is not None:
            recorder.mark(f"{event.shot} arrived")

    with recorder.recording() if timeline else contextlib.nullcontext(recorder):
        report = storyboard.render(root, yes=True, boards=True, provider="dashscope",
                                   concurrency=concurrency, on_event=hear)
    end = time.perf_counter()
    done, mine = (resource.getrusage(resource.RUSAGE_CHILDREN),
                  resource.getrusage(resource.RUSAGE_SELF))
    used = done.ru_utime - children.ru_utime + done.ru_stime - children.ru_stime
    python = mine.ru_utime - own.ru_utime + mine.ru_stime - own.ru_stime
    print(f"render SERIES boards: its ffmpeg processes used {used:.1f} CPU s on "
          f"{len(os.sched_getaffinity(0))} core(s), this process {python:.1f} (the run's Python "
          f"and the emulator's); load average {os.getloadavg()[0]:.1f}")
    if not report.ok:
        raise SystemExit(f"the board pass failed: {report}")
    after = emulator.stats()
    last = max(heard, default=start)
    if timeline:
        recorder.print(start, last, every=timeline == "every")
    return last - min(heard, default=start), end - start, end - last, \
        requests(after) - before, after["cast"]["images"] - images


def approve_all(root: Path) -> int:
    import storyboard
    from storyboard.language.request import is_board
    from storyboard.run.state.takes import approve
    manifest = storyboard.compile(root, provider="dashscope")
    boards = [b.shot_id for b in manifest.cast if is_board(b.shot_id)]
    for board in boards:
        approve(manifest, board)
    return len(boards)


def cost(root: Path, part: str) -> float:
    """What the plan says ``part`` (``boards_cost`` or ``videos_cost``) costs now."""
    import storyboard
    from storyboard.run.pipeline import plan_series
    from storyboard.run.setup import make_provider
    manifest = storyboard.compile(root, provider="dashscope")
    planned = plan_series(manifest, make_provider(manifest, "dashscope"), offline=True)
    return float(getattr(planned, part))


def video_pass(root: Path, concurrency: int) -> float:
    import storyboard
    start = time.perf_counter()
    report = storyboard.render(root, yes=True, provider="dashscope", concurrency=concurrency)
    if not report.ok:
        raise SystemExit(f"the video pass failed: {report}")
    return time.perf_counter() - start


def cold(root: Path, *, keep_held: bool = False) -> None:
    """Nothing the stitcher keeps: no mezzanine, no stitch state, no episode, and no held board
    unless ``keep_held``."""
    for folder in ("stitch-cache", "stitch"):
        shutil.rmtree(root / ".storyboard" / folder, ignore_errors=True)
    from storyboard.media import memo
    memo.forget("made")  # nor a mezzanine this process made (``media.memo.made``) to copy
    for held in () if keep_held else (root / ".storyboard" / "cards").glob("held-*.mp4"):
        held.unlink()
    shutil.rmtree(root / "out", ignore_errors=True)


def stitch_times(root: Path) -> list[tuple[str, float, float, float, str]]:
    """Each episode's (id, its boards held: drawn, once; the animatic's stitch with them drawn;
    the video episode's stitch; the join paths taken), each stitch cold."""
    import storyboard
    from storyboard.run.boards.animatic import board_animatic
    from storyboard.run.setup import make_provider
    from storyboard.run.state.cache import OutputCache
    from storyboard.run.state.lock.lockfile import lock_path, read_lock
    from storyboard.run.state.takes import cached_outputs, episode_as_used, with_retakes
    from storyboard.stitch.series.episodes import EpisodeBuilder
    manifest = with_retakes(storyboard.compile(root, provider="dashscope"))
    cache = OutputCache(root, make_provider(manifest, "dashscope").cache_key)
    states = read_lock(lock_path(root)).takes
    found = []
    for episode in manifest.episodes:
        cold(root)
        timed, paths = [], []
        for keep in (False, True):  # the held boards drawn, then kept
            if keep:
                cold(root, keep_held=True)
            start = time.perf_counter()
            [made] = board_animatic(manifest, states, cache, EpisodeBuilder(
                manifest, root / "out", draft=False), episode.id)
            timed.append(time.perf_counter() - start)
            paths.append(made.path_taken)
        cold(root)
        used, done = episode_as_used(episode, states, cached_outputs(episode, cache))
        start = time.perf_counter()
        built = EpisodeBuilder(manifest, root / "out", draft=False).build(used, done)
        video = time.perf_counter() - start
        if built.state == "skipped":
            raise SystemExit(f"the video episode {episode.id} was not stitched: {built.message}")
        found.append((episode.id, timed[0] - timed[1], timed[1], video,
                      f"{paths[-1]} against {built.path_taken}"))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shots", type=int, default=60)
    parser.add_argument("--episodes", type=int, default=1)
    parser.add_argument("--seconds", type=int, default=5, help="each shot's length")
    parser.add_argument("--latency", type=float, default=2.0, help="the emulator's, a task")
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--timeline", choices=("summary", "every"),
                        help="print when the command's work ran: what ran after the pass "
                             "(summary), or every ffmpeg run and stage (every)")
    args = parser.parse_args()
    from storyboard.emulator import EmulatorConfig, EmulatorServer
    os.environ.setdefault("DASHSCOPE_API_KEY", "bench-key")
    with tempfile.TemporaryDirectory(prefix="bench-boards-") as folder, \
            EmulatorServer(EmulatorConfig(latency=args.latency, plain_results=True,
                                          figures=False)) as emulator:
        os.environ["DASHSCOPE_HTTP_BASE_URL"] = emulator.base_url
        root = Path(folder) / "series"
        write_series(root, args.shots, args.episodes, args.seconds)
        ok = report(root, args, emulator)
    sys.exit(0 if ok else 1)


def report(root: Path, args: argparse.Namespace, emulator: Any) -> bool:
    board_cost = cost(root, "boards_cost")  # before: the videos wait for their boards
    seconds, whole, tail, sent, images = board_pass(root, args.concurrency, emulator,
                                                      args.timeline)
    boards = approve_all(root)
    ideal = (1 + math.ceil(boards / args.concurrency)) * args.latency
    video_cost = cost(root, "videos_cost")  # every board approved: every video planned
    video_pass(root, args.concurrency)
    share = board_cost / video_cost if video_cost else math.inf
    print(f"boards: {boards} board(s) of {args.shots} shot(s), {images} image(s) made "
          f"(the cast's and the boards')")
    print(f"requests per board: {sent / max(images, 1):.2f} HTTP requests an image "
          f"({sent} in the board pass)")
    print(f"board pass: {seconds:.2f} s against an ideal {ideal:.2f} s: "
          f"{seconds / ideal:.2f}x (target at most 1.2x)")
    print(f"render boards, the whole command (compile, plan, the pass, the animatic's held "
          f"boards drawn and stitched): {whole:.2f} s against the pass's ideal {ideal:.2f} s: "
          f"{whole / ideal:.2f}x (target at most {WHOLE_TARGET}x); after the last board: "
          f"{tail:.2f} s")
    print(f"cost: the boards {board_cost:.2f} USD, the videos {video_cost:.2f} USD: "
          f"{share:.3f} of the video pass (target at most 0.1)")
    for episode, held, animatic, video, paths in stitch_times(root):
        print(f"stitch {episode}: the animatic {animatic:.2f} s (its boards held: {held:.2f} s, "
              f"once), the video episode {video:.2f} s: {animatic / video:.2f}x ({paths})")
    return seconds / ideal <= 1.2 and share <= 0.1 and whole / ideal <= WHOLE_TARGET


if __name__ == "__main__":
    main()
