"""Benchmark: load + validate + compile of a synthetic 2,000-shot series, in shots per second.

    python bench/compile.py [--shots 2000] [--episodes 20]

The media are made once by ffmpeg (their facts are cached like a user's second run; the first,
uncached check is timed separately). Target: at least 5,000 shots/s on one core. The ratio printed
is against a baseline measured in the same run: parsing the same YAML with PyYAML's plain
``safe_load`` (the least any YAML-based tool must do).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import yaml

from storyboard import samples
from storyboard.compile import compile_path

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
        manifest = compile_path(root)
        cold = time.perf_counter() - start
        count = len(manifest.shots())
        warm = best_of(3, lambda: compile_path(root))
        texts = [f.read_text() for f in files]
        baseline = best_of(3, lambda: [yaml.safe_load(t) for t in texts])
    rate = count / warm
    print(f"shots: {count}")
    print(f"cold check (media probed by ffmpeg): {cold:.3f} s")
    print(f"load + validate + compile: {warm:.3f} s = {rate:,.0f} shots/s "
          f"(target {TARGET:,.0f}: {'met' if rate >= TARGET else 'NOT met'})")
    print(f"baseline yaml.safe_load of the same files: {baseline:.3f} s = "
          f"{count / baseline:,.0f} shots/s")
    print(f"ratio storyboard / safe_load time: {warm / baseline:.2f}x")


if __name__ == "__main__":
    main()
