"""Benchmark: the breakdown's quality and cost on a screenplay this script writes itself.

    python bench/breakdown.py [--scenes 24 | --short] [--faults chat:schema]
    python bench/breakdown.py --base-url http://127.0.0.1:8080/v1 --model smollm2 [--api-key-env VAR]
    python bench/breakdown.py --real --budget USD

Writes a Fountain screenplay (``--scenes`` scenes in sections of six, a cast of six, three lines
of dialogue a scene; deterministic, nothing downloaded; ``--short``: one section of six scenes),
breaks it down twice into two fresh folders (each with its own cache, so the second run asks
again), and prints: the share of the screenplay's dialogue kept verbatim, the characters found
against its own cast, shots per minute of screen time, calls and tokens per page (55 lines), the
cost by the usage reported, whether the two runs wrote the same bytes, the answers sent back to
the model and those refused (each answer judged wrong, sent back or left), and the time a call.

Against the emulator (``storyboard emulate``'s chat endpoint, started here) by default, with
``--faults`` scripted for the first run (its ``--fault-script`` words). With
``--base-url`` against any OpenAI-compatible endpoint (a local llama.cpp, Ollama or vLLM server):
the key is read from ``--api-key-env`` (a loopback endpoint needs none: a placeholder is sent), and a
model with no list price is priced by ``--price-in``/``--price-out`` (0 on loopback). With
``--real`` against DashScope's compatible mode with the key in ``DASHSCOPE_API_KEY``, which is
paid, so ``--budget`` is required (the two runs each get it). Any other ``Options`` field the
breakdown has (a structured-output mode, a deadline, streaming) is given as ``--set NAME=VALUE``.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from storyboard.breakdown.pipeline import Options, Report, breakdown
from storyboard.errors import StoryboardError
from storyboard.targets.llm import DEFAULT_KEY_ENV, LOOPBACK, chat_price

CAST = ("MIA", "SAM", "RUTH", "OMAR", "LENA", "JONAS")
PLACES = ("CAFE", "HARBOUR", "STATION", "ROOFTOP")
LINES = ("I did not think you would come back.", "The tide turns at six, not before.",
         "Keep the lamp lit until I say so.", "You always say that, and then you leave.",
         "We have one more night, that is all.", "Listen. Do you hear the bells?")
PAGE_LINES = 55
SHORT_SCENES = 6
PLACEHOLDER_ENV = "BENCH_CHAT_KEY"  # a loopback endpoint's key: any text
SENT_BACK = re.compile(r"the (\w+) call for (?:chapter|episode) (\d+).*: .*sent back")
LEFT = re.compile(r"the (\w+) answer for chapter (\d+)")


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
    series_file = series / "storyboard.yaml"
    cast = (yaml.safe_load(series_file.read_text()) or {}).get("characters") or {} \
        if series_file.is_file() else {}
    names = {str(c.get("description", "")).upper() for c in cast.values()
             if isinstance(c.get("image"), dict) and "kind" not in c["image"]}
    return said, names, shots, seconds


def files(series: Path) -> dict[str, bytes]:
    return {p.relative_to(series).as_posix(): p.read_bytes()
            for p in sorted(series.rglob("*.yaml")) if p.is_file()}


@dataclasses.dataclass
class Run:
    """One breakdown's report, what it said while it ran, and how long it took."""

    report: Report
    said: list[str]
    seconds: float

    @property
    def sent_back(self) -> int:
        return sum(1 for line in self.said if SENT_BACK.search(line))

    @property
    def refused(self) -> int:
        """Answers judged wrong: each one sent back, and each one still wrong at the end."""
        left = {m.groups() for d in self.report.problems if (m := LEFT.search(d.message))}
        return self.sent_back + len(left)


def run(source: Path, series: Path, options: Options, echo: Callable[[str], None]) -> Run:
    said: list[str] = []

    def say(text: str) -> None:
        said.append(text)
        echo(text)
    started = time.monotonic()
    try:
        report = breakdown(source, series, options, say=say)
    except StoryboardError as error:
        sys.exit(f"error: {error}")
    for problem in report.problems:
        print(problem.format(), file=sys.stderr)
    return Run(report, said, time.monotonic() - started)


def measure(source: Path, folder: Path, options: Options, echo: Callable[[str], None],
            faults: Callable[[], None] = lambda: None, runs: int = 2) -> None:
    faults()
    first = run(source, folder / "a", options, echo)
    second = run(source, folder / "b", options, echo) if runs == 2 else None
    for line in figures(source, folder, first, second):
        print(line)


def figures(source: Path, folder: Path, first: Run, second: Run | None) -> list[str]:
    """The figures of the first run, and what the second (None: not made) says against it."""
    text = source.read_text()
    lines, pages = dialogue(text), max(1.0, len(text.split("\n")) / PAGE_LINES)
    said, names, shots, seconds = written(folder / "a")
    kept = sum(1 for line in lines if line in said)
    spend = first.report.spend
    assert spend is not None
    tokens = spend.input_tokens + spend.output_tokens
    calls = spend.calls
    return [*_firsts(lines, kept, names, shots, seconds),
        f"calls: {calls} ({calls / pages:.1f} a page of {PAGE_LINES} lines), "
        f"tokens: {tokens:,} ({tokens / pages:,.0f} a page); problems left: "
        f"{len(first.report.problems)}",
        *_against(folder, first, second),
        f"time: {first.seconds:.1f} s ({first.seconds / max(calls, 1):.1f} s a call, "
        f"{spend.output_tokens / max(first.seconds, 1e-9):,.1f} output tokens/s)"
        + (f", second run {second.seconds:.1f} s" if second else ""),
    ]


def _firsts(lines: list[str], kept: int, names: set[str], shots: int, seconds: float
            ) -> list[str]:
    return [
        f"dialogue kept verbatim: {kept}/{len(lines)} ({kept / max(1, len(lines)):.0%})",
        f"characters found: {len(names & set(CAST))}/{len(CAST)} of the screenplay's cast"
        f" ({len(names - set(CAST))} other)",
        f"shots: {shots} over {seconds / 60:.1f} min of screen time "
        f"({shots / max(seconds / 60, 1e-9):.1f} a minute)"]


def _against(folder: Path, first: Run, second: Run | None) -> list[str]:
    """The cost, the bytes and the answers judged wrong, the second run's beside the first's."""
    spent = first.report.spend.spent if first.report.spend else 0.0
    wrong = f"sent back: {first.sent_back} answer(s); refused: {first.refused} answer(s)"
    if second is None:
        return [f"cost: ${spent:.4f} (one run)", "same bytes on two runs: not measured (one run)",
                wrong]
    later = second.report.spend.spent if second.report.spend else 0.0
    same = "yes" if files(folder / "a") == files(folder / "b") else "no"
    return [f"cost: ${spent:.4f} (first run), ${later:.4f} (second)",
            f"same bytes on two runs: {same}",
            f"{wrong} (second run: {second.sent_back} sent back, {second.refused} refused)"]


def extra(pairs: list[str]) -> dict[str, Any]:
    """``--set NAME=VALUE`` pairs as ``Options`` fields, each value of its field's type (text
    stays text: ``stream=false`` is the word a text field takes)."""
    defaults = {f.name: f.default for f in dataclasses.fields(Options)}
    found: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or name not in defaults:
            sys.exit(f"--set {pair!r}: expected NAME=VALUE with NAME one of {sorted(defaults)}")
        found[name] = typed(pair, defaults[name], value)
    return found


def typed(pair: str, default: Any, value: str) -> Any:
    if isinstance(default, str):
        return value
    data = yaml.safe_load(value)
    if isinstance(default, bool) and not isinstance(data, bool):
        sys.exit(f"--set {pair!r}: expected true or false")
    if isinstance(default, float) and isinstance(data, int | float) and not isinstance(data, bool):
        return float(data)
    return data


def endpoint(args: argparse.Namespace) -> Options:
    """The options for ``--base-url``: its key, and a price for a model with none listed."""
    host = (urlsplit(args.base_url).hostname or "").lower()
    local = host in LOOPBACK or host.startswith("127.")
    key_env = args.api_key_env or PLACEHOLDER_ENV
    if not local and not os.environ.get(key_env):
        sys.exit(f"--base-url {args.base_url} needs its key: name its variable with --api-key-env")
    if key_env == PLACEHOLDER_ENV:
        os.environ.setdefault(PLACEHOLDER_ENV, "sk-bench")
    price_in, price_out = args.price_in, args.price_out
    if chat_price(args.model, input=price_in, output=price_out) is None and local:
        price_in, price_out = price_in or 0.0, price_out or 0.0
    return Options(model=args.model, base_url=args.base_url, key_env=key_env, yes=args.budget is None,
                   budget=args.budget, price_in=price_in, price_out=price_out)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--scenes", type=int, default=24)
    parser.add_argument("--short", action="store_true",
                        help=f"one section of {SHORT_SCENES} scenes (CI, a slow model)")
    parser.add_argument("--base-url", help="any OpenAI-compatible endpoint (…/v1)")
    parser.add_argument("--model", default="qwen-plus")
    parser.add_argument("--api-key-env", help="the variable that holds --base-url's key")
    parser.add_argument("--price-in", type=float, help="USD per 1M input tokens")
    parser.add_argument("--price-out", type=float, help="USD per 1M output tokens")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="another breakdown option (e.g. a deadline, a response format)")
    parser.add_argument("--real", action="store_true", help="DashScope, paid: needs --budget")
    parser.add_argument("--budget", type=float, default=None)
    parser.add_argument("--faults", default="", metavar="SCRIPT",
                        help="the emulator's faults for the first run (e.g. chat:schema)")
    parser.add_argument("--runs", type=int, choices=(1, 2), default=2,
                        help="1: one run, no second for the same bytes (a slow model)")
    parser.add_argument("--quiet", action="store_true", help="print only the figures")
    args = parser.parse_args()
    if args.short:
        args.scenes = SHORT_SCENES
    return args


def options_for(args: argparse.Namespace) -> Options:
    if args.real:
        if args.budget is None or not os.environ.get(DEFAULT_KEY_ENV):
            sys.exit(f"--real needs --budget USD and {DEFAULT_KEY_ENV} set")
        return Options(budget=args.budget)
    return endpoint(args)


def main() -> None:
    args = arguments()
    started = time.monotonic()
    echo: Callable[[str], None] = (lambda _text: None) if args.quiet else (
        lambda text: print(f"[{time.monotonic() - started:7.1f} s] {text}", file=sys.stderr,
                           flush=True))
    with tempfile.TemporaryDirectory(prefix="bench-breakdown-") as temporary:
        folder = Path(temporary)
        source = folder / "harbour.fountain"
        source.write_text(screenplay(args.scenes), encoding="utf-8")
        if args.real or args.base_url:
            options = dataclasses.replace(options_for(args), **extra(args.set))
            print(f"against {options.model} at {args.base_url or 'DashScope'} ({args.scenes} scenes)")
            measure(source, folder, options, echo, runs=args.runs)
            return
        from storyboard.emulator.server import EmulatorServer
        os.environ.setdefault(PLACEHOLDER_ENV, "sk-bench")
        with EmulatorServer() as emulator:
            base = emulator.base_url.rsplit("/api/v1", 1)[0] + "/compatible-mode/v1"
            print(f"against the emulator ({args.scenes} scenes)")
            options = Options(base_url=base, key_env=PLACEHOLDER_ENV, yes=True)
            measure(source, folder, dataclasses.replace(options, **extra(args.set)), echo,
                    lambda: emulator.script(*[f for f in args.faults.split(",") if f]), args.runs)


if __name__ == "__main__":
    main()
