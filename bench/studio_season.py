"""Benchmark: the studio's episode grid of a season (80 episodes x 30 shots), shown in Chromium.

    python bench/studio_season.py [--episodes 80] [--shots 30] [--rounds 3]

A synthetic season (``bench/seasonseries.py``: looks, continuity, a board per shot, priced on
DashScope) with a quarter of its episodes made: their boards approved in the lock and their
videos recorded there as rendered, each with its file in the cache (a few bytes: the grid reads
no video). The studio is started on it (no drafts: a save is checked, as ``--provider`` opens
it), and once its first check is shown, Debian's Chromium (through Playwright) opens
``/season`` and waits until every tile is on the page:

  (a) grid shown, first    : the first load: the tiles made from the lock and the journal
  (b) grid shown, again    : the median of the next loads (the tiles kept by the files' stamps)
  (c) studio start -> grid : a new studio, the page asked for at once (the first check and the
                             grid; the page reloads itself each second while the studio starts)
  (d) cast shown           : the cast across the season (``/season/cast``), a strip per
                             character, each appearance a tile (none measured: the files are
                             stand-ins), until its strips are on the page

Target: (a) and (b) within 2 s (issue 67 item 6); (c) and (d) are said, not judged. CPU time of this
process (the studio's threads; Chromium is another process) is printed beside each.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's storyboard
sys.path.insert(0, str(Path(__file__).resolve().parent))

from seasonseries import make_season

from storyboard.files import write_atomic
from storyboard.language.compile import compile_path
from storyboard.language.picks import state_key
from storyboard.language.request import Manifest
from storyboard.review.studio.server import StudioServer
from storyboard.run.state.cache import OutputCache
from storyboard.run.state.lock.lockfile import describe, lock_path, render_lock

TARGET = 2.0
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
MADE = "dashscope-bench"  # the cache the lock says the made videos are in


def made_quarter(manifest: Manifest) -> int:
    """A quarter of the episodes made: boards approved, videos rendered; the shots made."""
    made = manifest.episodes[: max(1, len(manifest.episodes) // 4)]
    boards = {f"{a.episode}/{a.name}": a for a in manifest.cast}
    cache = OutputCache(manifest.root, MADE)
    cache.dir.mkdir(parents=True, exist_ok=True)
    shots, takes = {}, {}
    for episode in made:
        for shot in episode.shots:
            cache.path(shot.hash).write_bytes(b"bench")
            entry = {**describe(shot, manifest.root), "hash": shot.hash, "cache_key": MADE,
                     "provider": "dashscope"}
            shots[f"{shot.series}/{shot.episode}/{shot.id}"] = entry
            if shot.board is not None and shot.board.asset in boards:
                takes[state_key(boards[shot.board.asset])] = {"approved": 1, "picked": 1}
    write_atomic(lock_path(manifest.root), render_lock(shots, takes), durable=False)
    return len(shots)


def grid_shown(page: object, url: str, episodes: int) -> float:
    """Seconds from asking for the grid until its every tile is on the page."""
    start = time.perf_counter()
    page.goto(url, wait_until="commit")  # type: ignore[attr-defined]
    page.wait_for_function(f"document.querySelectorAll('a.tile').length === {episodes}",  # type: ignore[attr-defined]
                           timeout=120_000, polling=10)
    return time.perf_counter() - start


def cast_shown(page: object, url: str) -> tuple[float, int]:
    """Seconds from asking for the cast's page until it is on the page, and its tiles."""
    start = time.perf_counter()
    page.goto(url, wait_until="commit")  # type: ignore[attr-defined]
    page.wait_for_selector("#cast", timeout=120_000)  # type: ignore[attr-defined]
    return time.perf_counter() - start, page.locator("a.seen").count()  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=80)
    parser.add_argument("--shots", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        root = Path(folder) / "season"
        make_season(root, args.episodes, args.shots, provider="dashscope")
        made = made_quarter(compile_path(root))
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page()
        with StudioServer(root, render_drafts=False) as server:
            url = server.url.replace("/?", "/season?")
            cpu = time.process_time()
            first = grid_shown(page, url, args.episodes)
            first_cpu = time.process_time() - cpu
            again = [grid_shown(page, url, args.episodes) for _ in range(args.rounds)]
            tile = page.locator("a.tile").first.inner_text().replace("\n", " | ")
            cast = cast_shown(page, server.url.replace("/?", "/season/cast?"))
        cpu = time.process_time()
        server = StudioServer(root, render_drafts=False).start(first_draft=False)
        try:
            cold = grid_shown(page, server.url.replace("/?", "/season?"), args.episodes)
            cold_cpu = time.process_time() - cpu
        finally:
            server.stop()
        browser.close()
    report(args, made, first, first_cpu, statistics.median(again), cold, cold_cpu, tile)
    print(f"(d) cast shown          : {cast[0]:6.3f} s  ({cast[1]} appearances; not judged)")


def report(args: argparse.Namespace, made: int, first: float, first_cpu: float, again: float,
           cold: float, cold_cpu: float, tile: str) -> None:
    print(f"season: {args.episodes} episodes x {args.shots} shots, {made} videos made")
    for name, figure, extra in (("(a) grid shown, first   ", first, f"; CPU {first_cpu:.3f} s"),
                                ("(b) grid shown, again   ", again, "")):
        met = "met" if figure <= TARGET else "NOT met"
        print(f"{name}: {figure:6.3f} s  ({figure / TARGET:.2f}x the {TARGET} s target: "
              f"{met}{extra})")
    print(f"(c) studio start -> grid: {cold:6.3f} s  (CPU {cold_cpu:.3f} s; not judged)")
    print(f"    first tile           : {tile}")
    print("    load average         : " + " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
