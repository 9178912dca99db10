"""Benchmark: the studio's save-to-page times against a cold ``check`` and ``render --draft``.

    python bench/studio.py [--shots 2000] [--episodes 20] [--rounds 3] [--keep DIR]

A generated series (2,000 shots in 20 episodes by default; ffmpeg test sources) is drafted once,
then opened in a StudioServer; each round saves a one-line change to one shot and measures, from
the save, until
  (a) the page shows the new ``check`` result (the event, which carries it, arrives; the parts of
      the page it says changed are fetched, with their new stills), and
  (b) the page shows the re-rendered draft (the ``draft`` event, the same fetches): the changed
      shot drawn, its episode stitched again.
Baselines, measured in the same run after the same change on a second copy whose drafts are
already on disk (what a user without the studio runs): a new process running
``storyboard check SERIES`` and one running ``storyboard render SERIES --draft``. Targets on 2
cores: (a) at most 0.3 s, (b) at most 3 s and at least 5x faster than the cold render. Medians
are printed. ``--keep DIR`` keeps the drafted copies in DIR and reuses them on the next run with
the same ``--shots`` and ``--episodes`` (the first draft of 2,000 shots takes minutes).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's storyboard

from storyboard.media import samples
from storyboard.review.studio.server import StudioServer
from storyboard.review.studio.state import Studio

CHECK_TARGET, DRAFT_TARGET, RATIO_TARGET = 0.3, 3.0, 5.0
STILL = re.compile(r'"/still/([0-9a-f]+\.jpg)"')


def make_series(root: Path, shots: int, episodes: int) -> Path:
    media = root / "media"
    samples.image(media / "mia.png", 320, 320)
    samples.image(media / "cup.png", 256, 256, color="brown")
    samples.voice(media / "mia.wav", seconds=1.5)
    (root / "storyboard.yaml").write_text(
        "storyboard: 1\ntitle: Studio bench\ndefaults: {resolution: 720P, ratio: '16:9', duration: 3}\n"
        "voices:\n  mia-voice: {audio: media/mia.wav}\n"
        "characters:\n  mia: {image: media/mia.png, voice: mia-voice}\n  cup: {image: media/cup.png}\n"
        "episodes:\n  - episodes/*.yaml\n", encoding="utf-8")
    (root / "episodes").mkdir()
    per = max(1, shots // episodes)
    for e in range(episodes):
        lines = [f"id: ep{e + 1:02d}", f"title: Bench {e + 1}", "shots:"]
        for s in range(e * per, (e + 1) * per):
            lines += [f"  - id: s{s:04d}", "    scenes:", "      - at: 0-3s",
                      f"        action: \"@mia lifts @cup, take {s} version 0\""]
        (root / "episodes" / f"{e + 1:02d}.yaml").write_text("\n".join(lines) + "\n",
                                                          encoding="utf-8")
    return root / "episodes" / "01.yaml"  # the episode the rounds edit


def edit(episode: Path, shot: int) -> None:
    """The shot's line changed: its version number one up (a kept copy is never saved unchanged)."""
    text = episode.read_text(encoding="utf-8")
    old = next(line for line in text.splitlines() if f"take {shot} version" in line)
    head, number = old.rstrip('"').rsplit("version ", 1)
    episode.write_text(text.replace(old, f'{head}version {int(number) + 1}"'), encoding="utf-8")


def page_times(server: StudioServer, episode: Path, shot: int) -> tuple[float, float]:
    """Seconds from the save until the page has the check result, then the draft: the event,
    then what the page fetches to show it (each part whose tag changed, and the stills in it the
    browser does not have yet)."""
    base, cookies = f"http://127.0.0.1:{server.port}", {"storyboard_studio": server.token}
    times: dict[str, float] = {}
    with httpx.Client(base_url=base, cookies=cookies, timeout=60) as client:
        seen = set(STILL.findall(client.get("/sheet").text))  # the page as the browser has it
        with client.stream("GET", "/events") as stream:
            lines = stream.iter_lines()
            first = json.loads(next(x for x in lines if x.startswith("data:"))[5:])
            tags = dict(first["parts"])
            saved = time.perf_counter()
            edit(episode, shot)
            for line in lines:
                if not line.startswith("data:"):
                    continue
                event = json.loads(line[5:])
                if event["version"] <= first["version"] or event["phase"] in times:
                    continue
                fetch_parts(client, event, tags, seen)
                times[event["phase"]] = time.perf_counter() - saved
                if "draft" in times or event["phase"] == "error":
                    break
    return times.get("check", float("nan")), times.get("draft", float("nan"))


def fetch_parts(client: httpx.Client, event: dict[str, Any], tags: dict[str, str],
                seen: set[str]) -> None:
    """What the page fetches on an event: the parts whose tag changed, then their new stills."""
    for key, tag in event["parts"]:
        if tags.get(key) == tag:
            continue
        answer = client.get(f"/part/{key}")
        answer.raise_for_status()
        tags[key] = answer.headers["x-part-tag"]
        for name in set(STILL.findall(answer.text)) - seen:
            client.get(f"/still/{name}").raise_for_status()
            seen.add(name)


def cold(command: str, series: Path, *flags: str) -> float:
    """Seconds a new process takes for ``storyboard COMMAND SERIES FLAGS``."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "storyboard", command, str(series), *flags],
                   check=True, capture_output=True, cwd=series.parent,
                   env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
    return time.perf_counter() - start


def cold_render(series: Path, episode: Path, shot: int) -> tuple[float, float]:
    """The cold check, then the cold draft render, of the same change."""
    edit(episode, shot)
    return cold("check", series), cold("render", series, "--draft")


def predraft(series: Path) -> None:
    """Every shot drafted and every episode stitched, as the studio leaves them."""
    Studio(series).refresh()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=int, default=2000)
    parser.add_argument("--episodes", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", type=Path, default=None,
                        help="keep the drafted copies here and reuse them on the next run")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        folder = args.keep or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        live, cold = prepared(folder.resolve() / f"{args.shots}x{args.episodes}", args.shots,
                              args.episodes)
        episode = live / "episodes" / "01.yaml"
        os.chdir(live.parent)
        checks, drafts, cold_checks, colds = [], [], [], []
        per = max(1, args.shots // args.episodes)
        with StudioServer(live) as server:
            for r in range(1, args.rounds + 1):
                shot = r % per
                check, draft = page_times(server, episode, shot)
                checks.append(check)
                drafts.append(draft)
                cold_check, cold_draft = cold_render(cold, cold / "episodes" / "01.yaml", shot)
                cold_checks.append(cold_check)
                colds.append(cold_draft)
        report(statistics.median(checks), statistics.median(drafts),
               statistics.median(cold_checks), statistics.median(colds))
        print("    rounds (a), (b)      : " + ", ".join(
            f"{c:.3f}/{d:.3f}" for c, d in zip(checks, drafts, strict=True)))
        print("    load average         : " + " ".join(f"{x:.2f}" for x in os.getloadavg()))


def prepared(folder: Path, shots: int, episodes: int) -> tuple[Path, Path]:
    """The live and the cold copy of the series, drafted (reused when a run left them here)."""
    live, cold, ready = folder / "live" / "series", folder / "cold" / "series", folder / "ready"
    if ready.is_file():
        print(f"reusing the drafted copies in {folder}")
        return live, cold
    shutil.rmtree(folder, ignore_errors=True)
    live.parent.mkdir(parents=True), cold.parent.mkdir()
    make_series(live, shots, episodes)
    os.chdir(live.parent)
    start = time.perf_counter()
    predraft(live)
    print(f"first draft of {shots} shots: {time.perf_counter() - start:.1f} s")
    shutil.copytree(live, cold, symlinks=True)  # the same drafts on disk
    cold_render(cold, cold / "episodes" / "01.yaml", 0)  # drafts on disk, as a user has
    ready.write_text("drafted\n", encoding="utf-8")
    return live, cold


def report(check: float, draft: float, cold_check: float, cold: float) -> None:
    ratio = cold / draft
    print(f"(a) save -> check shown : {check:6.3f} s  (target <= {CHECK_TARGET} s: "
          f"{'met' if check <= CHECK_TARGET else 'NOT met'}; {cold_check / check:.1f}x faster "
          "than the cold check)")
    print(f"(b) save -> draft shown : {draft:6.3f} s  (target <= {DRAFT_TARGET} s: "
          f"{'met' if draft <= DRAFT_TARGET else 'NOT met'})")
    print(f"    cold check          : {cold_check:6.3f} s  (baseline, same change, same run)")
    print(f"    cold render --draft : {cold:6.3f} s  (baseline, same change, same run)")
    print(f"    ratio               : {ratio:6.1f}x  (target >= {RATIO_TARGET}x: "
          f"{'met' if ratio >= RATIO_TARGET else 'NOT met'})")


if __name__ == "__main__":
    main()
