"""Benchmark: the studio's save-to-page times against a cold ``render --draft`` of the same change.

    python bench/studio.py [--shots 10] [--rounds 3]

A 10-shot episode (ffmpeg test sources) is opened in a StudioServer; each round saves a one-line
change to one shot and measures, from the save, until
  (a) the page shows the new ``check`` result (the event arrives and ``/sheet`` is fetched), and
  (b) the page shows the re-rendered draft episode (the ``draft`` event and ``/sheet``).
Baseline, measured in the same run: a new process running ``storyboard render SERIES --draft``
after the same change on a second copy whose drafts are already on disk (what a user without the
studio runs). Targets on 2 cores: (a) under 0.5 s, (b) under 5 s and at least 5x faster than the
cold render. Medians are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's storyboard

from storyboard.media import samples
from storyboard.review.studio.server import StudioServer

CHECK_TARGET, DRAFT_TARGET, RATIO_TARGET = 0.5, 5.0, 5.0


def make_series(root: Path, shots: int) -> Path:
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
    lines = ["id: ep01", "title: Bench", "shots:"]
    for s in range(shots):
        lines += [f"  - id: s{s:02d}", "    scenes:", "      - at: 0-3s",
                  f"        action: \"@mia lifts @cup, take {s} version 0\""]
    episode = root / "episodes" / "01.yaml"
    episode.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return episode


def edit(episode: Path, shot: int, round_: int) -> None:
    text = episode.read_text(encoding="utf-8")
    old = next(line for line in text.splitlines() if f"take {shot} version" in line)
    episode.write_text(text.replace(old, old.rsplit("version", 1)[0] + f"version {round_}\""),
                       encoding="utf-8")


def page_times(server: StudioServer, episode: Path, shot: int, round_: int) -> tuple[float, float]:
    """Seconds from the save until the page has the check result, then the draft."""
    base, cookies = f"http://127.0.0.1:{server.port}", {"storyboard_studio": server.token}
    times: dict[str, float] = {}
    with httpx.Client(base_url=base, cookies=cookies, timeout=60) as client, \
            client.stream("GET", "/events") as stream:
        lines = stream.iter_lines()
        start_version = json.loads(next(x for x in lines if x.startswith("data:"))[5:])["version"]
        saved = time.perf_counter()
        edit(episode, shot, round_)
        for line in lines:
            if not line.startswith("data:"):
                continue
            event = json.loads(line[5:])
            if event["version"] <= start_version or event["phase"] in times:
                continue
            client.get("/sheet").raise_for_status()  # what the page fetches to show it
            times[event["phase"]] = time.perf_counter() - saved
            if "draft" in times or event["phase"] == "error":
                break
    return times.get("check", float("nan")), times.get("draft", float("nan"))


def cold_render(series: Path, episode: Path, shot: int, round_: int) -> float:
    edit(episode, shot, round_)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "storyboard", "render", str(series), "--draft"],
                   check=True, capture_output=True, cwd=series.parent,
                   env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        live, cold = Path(tmp) / "live" / "series", Path(tmp) / "cold" / "series"
        live.parent.mkdir(), cold.parent.mkdir()
        episode = make_series(live, args.shots)
        shutil.copytree(live, cold)
        os.chdir(live.parent)
        checks, drafts, colds = [], [], []
        with StudioServer(live) as server:
            cold_render(cold, cold / "episodes" / "01.yaml", 0, 0)  # drafts on disk, as a user has
            for r in range(1, args.rounds + 1):
                shot = r % args.shots
                check, draft = page_times(server, episode, shot, r)
                checks.append(check)
                drafts.append(draft)
                colds.append(cold_render(cold, cold / "episodes" / "01.yaml", shot, r))
        report(statistics.median(checks), statistics.median(drafts), statistics.median(colds))


def report(check: float, draft: float, cold: float) -> None:
    ratio = cold / draft
    print(f"(a) save -> check shown : {check:6.3f} s  (target < {CHECK_TARGET} s: "
          f"{'met' if check < CHECK_TARGET else 'NOT met'})")
    print(f"(b) save -> draft shown : {draft:6.3f} s  (target < {DRAFT_TARGET} s: "
          f"{'met' if draft < DRAFT_TARGET else 'NOT met'})")
    print(f"    cold render --draft : {cold:6.3f} s  (baseline, same change, same run)")
    print(f"    ratio               : {ratio:6.1f}x  (target >= {RATIO_TARGET}x: "
          f"{'met' if ratio >= RATIO_TARGET else 'NOT met'})")


if __name__ == "__main__":
    main()
