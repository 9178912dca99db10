"""Benchmark: the breakdown's quality and cost on a screenplay this script writes itself.

    python bench/breakdown.py [--scenes 24] [--real --budget USD]

Writes a Fountain screenplay (``--scenes`` scenes in sections of six, a cast of six, three lines
of dialogue a scene; deterministic, nothing downloaded), breaks it down twice into two fresh
folders (each with its own cache, so the second run asks again), and prints: the share of the
screenplay's dialogue kept verbatim, the characters found against its own cast, shots per minute
of screen time, calls and tokens per page (55 lines), the cost by the usage reported, and whether
the two runs wrote the same bytes. Against the emulator (``storyboard emulate``'s chat endpoint,
started here) unless ``--real`` is given: then DashScope's compatible mode with the key in
``DASHSCOPE_API_KEY``, which is paid, so ``--budget`` is required (the two runs each get it).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import yaml

from storyboard.breakdown.pipeline import Options, Report, breakdown
from storyboard.targets.llm import DEFAULT_KEY_ENV

CAST = ("MIA", "SAM", "RUTH", "OMAR", "LENA", "JONAS")
PLACES = ("CAFE", "HARBOUR", "STATION", "ROOFTOP")
LINES = ("I did not think you would come back.", "The tide turns at six, not before.",
         "Keep the lamp lit until I say so.", "You always say that, and then you leave.",
         "We have one more night, that is all.", "Listen. Do you hear the bells?")
PAGE_LINES = 55


def screenplay(scenes: int) -> str:
    rows = ["Title: The Harbour Lights", ""]
    for n in range(scenes):
        if n % 6 == 0:
            rows += [f"# Part {n // 6 + 1}", ""]
        a, b = CAST[n % len(CAST)], CAST[(n + 1) % len(CAST)]
        rows += [f"INT. {PLACES[n % len(PLACES)]} - NIGHT", "",
                 f"{a} waits by the window. {b} comes in, shaking off the rain.", ""]
        for k in range(3):
            speaker = (a, b)[k % 2]
            rows += [speaker, LINES[(n + k) % len(LINES)], ""]
    return "\n".join(rows)


def dialogue(text: str) -> list[str]:
    rows = text.split("\n")
    return [rows[i + 1] for i, row in enumerate(rows[:-1]) if row in CAST]


def written(series: Path) -> tuple[list[str], set[str], int, float]:
    """The say lines, the characters' names, the shots and the seconds of the written series."""
    said, shots, seconds = [], 0, 0.0
    for episode in sorted((series / "episodes").glob("*.yaml")):
        for shot in yaml.safe_load(episode.read_text())["shots"]:
            shots, seconds = shots + 1, seconds + float(shot["duration"])
            said += [w for scene in shot["scenes"] for w in (scene.get("say") or {}).values()]
    cast = yaml.safe_load((series / "storyboard.yaml").read_text())["characters"]
    names = {str(c.get("description", "")).upper() for c in cast.values()
             if isinstance(c.get("image"), dict) and "kind" not in c["image"]}
    return said, names, shots, seconds


def files(series: Path) -> dict[str, bytes]:
    return {p.relative_to(series).as_posix(): p.read_bytes()
            for p in sorted(series.rglob("*.yaml")) if p.is_file()}


def run(source: Path, series: Path, options: Options) -> Report:
    report = breakdown(source, series, options)
    for problem in report.problems:
        print(problem.format(), file=sys.stderr)
    return report


def measure(source: Path, folder: Path, options: Options) -> None:
    first, second = run(source, folder / "a", options), run(source, folder / "b", options)
    text = source.read_text()
    lines, pages = dialogue(text), max(1.0, len(text.split("\n")) / PAGE_LINES)
    said, names, shots, seconds = written(folder / "a")
    kept = sum(1 for line in lines if line in said)
    spend = first.spend
    assert spend is not None
    tokens = spend.input_tokens + spend.output_tokens
    print(f"dialogue kept verbatim: {kept}/{len(lines)} ({kept / max(1, len(lines)):.0%})")
    print(f"characters found: {len(names & set(CAST))}/{len(CAST)} of the screenplay's cast"
          f" ({len(names - set(CAST))} other)")
    print(f"shots: {shots} over {seconds / 60:.1f} min of screen time "
          f"({shots / max(seconds / 60, 1e-9):.1f} a minute)")
    print(f"calls: {spend.calls} ({spend.calls / pages:.1f} a page of {PAGE_LINES} lines), "
          f"tokens: {tokens:,} ({tokens / pages:,.0f} a page); problems left: "
          f"{len(first.problems)}")
    print(f"cost: ${spend.spent:.4f} (first run), "
          f"${(second.spend.spent if second.spend else 0):.4f} (second)")
    print(f"same bytes on two runs: {'yes' if files(folder / 'a') == files(folder / 'b') else 'no'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenes", type=int, default=24)
    parser.add_argument("--real", action="store_true")
    parser.add_argument("--budget", type=float, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-breakdown-") as temporary:
        folder = Path(temporary)
        source = folder / "harbour.fountain"
        source.write_text(screenplay(args.scenes), encoding="utf-8")
        if args.real:
            if args.budget is None or not os.environ.get(DEFAULT_KEY_ENV):
                sys.exit(f"--real needs --budget USD and {DEFAULT_KEY_ENV} set")
            measure(source, folder, Options(budget=args.budget))
            return
        from storyboard.emulator.server import EmulatorServer
        os.environ.setdefault("BENCH_CHAT_KEY", "sk-bench")
        with EmulatorServer() as emulator:
            base = emulator.base_url.rsplit("/api/v1", 1)[0] + "/compatible-mode/v1"
            print(f"against the emulator ({args.scenes} scenes)")
            measure(source, folder, Options(base_url=base, key_env="BENCH_CHAT_KEY", yes=True))


if __name__ == "__main__":
    main()
