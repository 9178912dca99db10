"""Benchmark: load + validate + compile of a synthetic 2,000-shot series, in shots per second.

    taskset -c 0 python bench/compile.py [--shots 2000] [--episodes 20]

Three timings (the first once, the others the best of five):
- first check: nothing cached (every media file probed by ffmpeg, every YAML file parsed);
- fresh parse: media facts cached, every YAML file parsed and schema-checked again (an edit to
  every episode at once);
- re-check: the steady state of editing a series: unchanged files come from the parse cache.
Target: at least 5,000 shots/s on one core. The ratio printed is against a baseline measured in the
same run: parsing the same YAML with PyYAML's plain ``safe_load`` (the least any YAML tool does).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import yaml

from storyboard.language.compile import compile_path
from storyboard.media import samples

TARGET = 5000.0


def make_series(root: Path, shots: int, episodes: int) -> list[Path]:
    media = root / "media"
    samples.image(media / "mia.png", 320, 320)
    samples.image(media / "guitar.png", 256, 256, color="brown")
    samples.video(media / "sam.mp4", 320, 240, seconds=2.0)
    samples.voice(media / "mia.wav", seconds=2.0)
    (root / "storyboard.yaml").write_text(
        "storyboard: 1\ntitle: Bench\ndefaults: {resolution: 720P, ratio: '16:9', duration: 5}\n"
        "voices:\n  mia-voice: {audio: media/mia.wav}\n"
        "characters:\n  mia: {image: media/mia.png, voice: mia-voice}\n"
        "  sam: {video: media/sam.mp4}\n  guitar: {image: media/guitar.png}\n"
        "episodes:\n  - episodes/*.yaml\n", encoding="utf-8")
    (root / "episodes").mkdir()
    per_episode = shots // episodes
    files = []
    for e in range(episodes):
        lines = [f"id: ep{e:03d}", f"title: Episode {e}", "shots:"]
        for s in range(per_episode):
            lines += [f"  - id: s{s:04d}", "    duration: 8", "    scenes:",
                      "      - at: 0-3s",
                      f"        action: \"@sam holds @guitar and plays take {s}\"",
                      "      - at: 3-8s",
                      "        action: \"@mia smiles and walks towards @sam\"",
                      f"        say: {{mia: \"Line number {s}.\"}}"]
            if s % 5 == 4:
                lines += [f"    first_frame: {{from: s{s - 1:04d}}}",
                          "    transition: {type: crossfade, duration: 0.5}"]
        file = root / "episodes" / f"{e:03d}.yaml"
        file.write_text("\n".join(lines) + "\n", encoding="utf-8")
        files.append(file)
    return files


def best_of(runs: int, fn: object) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shots", type=int, default=2000)
    parser.add_argument("--episodes", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "bench-series"
        files = make_series(root, args.shots, args.episodes)
        start = time.perf_counter()
        count = len(compile_path(root).shots())
        first = time.perf_counter() - start
        parsed = root / ".storyboard" / "parsed"
        fresh = best_of(5, lambda: (shutil.rmtree(parsed, ignore_errors=True),
                                    compile_path(root)))
        warm = best_of(5, lambda: compile_path(root))
        texts = [f.read_text() for f in files]
        baseline = best_of(3, lambda: [yaml.safe_load(t) for t in texts])
    print(f"shots: {count}")
    print(f"baseline yaml.safe_load of the same files: {baseline:.3f} s = "
          f"{count / baseline:,.0f} shots/s")
    for name, seconds in (("first check (nothing cached)", first),
                          ("fresh parse (media facts cached)", fresh),
                          ("re-check (unchanged files cached)", warm)):
        rate = count / seconds
        verdict = "met" if rate >= TARGET else "NOT met"
        print(f"{name}: {seconds:.3f} s = {rate:,.0f} shots/s, {seconds / baseline:.2f}x the "
              f"baseline's time (target {TARGET:,.0f}/s: {verdict})")


if __name__ == "__main__":
    main()
