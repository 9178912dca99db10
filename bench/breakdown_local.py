"""Benchmark: a three-chapter tale broken down by a real local model into a series that checks and
renders, with the run's calls, tokens, wall and CPU time.

    python bench/breakdown_local.py --python /opt/llama-venv/bin/python --gguf MODEL.gguf
    python bench/breakdown_local.py --llama-server BIN --gguf MODEL.gguf   # llama.cpp's own server
    python bench/breakdown_local.py --base-url http://127.0.0.1:8080/v1 --model NAME  # running
    python bench/breakdown_local.py --gguf MODEL.gguf --describe    # the file's header, no server

Starts llama.cpp's OpenAI-compatible server on loopback (a free port): llama-cpp-python's
(``--python``: the venv's Python that has ``llama_cpp.server``, as ``.ci/llama-server.sh`` builds
it) or llama.cpp's own ``llama-server`` binary (``--llama-server``), with the GGUF file
``--gguf``, whose header (``general.name``, ``general.architecture``) is read and printed first so
the figure names the model it measured. Then, as a user runs them: ``storyboard breakdown`` of
the story (default: tests/data/breakdown/rumpelstiltskin-three.md, three short chapters of a
public-domain Grimm tale) into a series whose ``breakdown:`` block points at the server
(``stream: true``, so an answer that loops is stopped as soon as it shows, a CPU's ``deadline``,
the server's ``context``),
``storyboard check`` (clean: exit 0, no warning) and ``storyboard render SERIES`` on ``local``.
Prints: the calls and requests, prompt and completion tokens, wall time, CPU time (the server's
and storyboard's), the load average at the start and the end, the answers sent back, the
near-misses read as meant, each repair's count by mode ("repair fence: 3 (prompt)", from the
breakdown's ``--json`` ``repairs``), whether the check was clean and the render succeeded.
``--novel WORDS`` breaks down a long novel made for the run instead (the suite's 100,000-word
one: ``--novel 100000``), and ``--episodes N`` asks for a season of N episodes
(``--episode-seconds``, ``--ratio``), as ``storyboard breakdown --episodes`` does.
``--verbose`` runs the breakdown as ``storyboard --verbose``: every answer the model gave is in the
output (an answer that loops is stored, and stopped while it streams: it is counted at its ceiling,
since no usage comes for it).
``--corpus`` breaks down each story of bench/corpus/ (corpus.yaml: its file, shape and N; ``--only``
some) as a season, one server for all, and prints each story's figures (tests/fixtures/corpus.py:
episodes, seconds, shots, quotes verbatim, speakers missing; then calls, tokens, the repairs the
breakdown's summary says fired, wall time and load); ``--keep-answers bench/answers`` keeps each
run in bench/answers/corpus-STORY-SERVER.tar.xz (SERVER: ``llama-server``, ``llama-cpp-python``,
or ``llama-cpp-python-0.2.62`` for a version other than 0.3.x), which the suite replays with no
server.
Exit 0 only when both did. ``--series DIR`` keeps the series (its answers under
``.storyboard/breakdown/``; a second run takes them from the cache); else a temporary folder is
used and removed. Nothing here is paid: the endpoint is on loopback, priced at 0.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import resource
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import httpx

ROOT = Path(__file__).resolve().parents[1]
STORY = ROOT / "tests" / "data" / "breakdown" / "rumpelstiltskin-three.md"
ANSWERS = ROOT / "bench" / "answers"
ALIAS = "local-model"
KEY_ENV = "BENCH_LOCAL_KEY"  # a loopback endpoint takes any key
START = 600.0  # seconds the server may take to load the model (a busy machine, a 1 GB file)
TOKENS = re.compile(r"^\s+(.+?): (\d+) \+ (\d+) tokens, ")
CEILING = re.compile(r"^\s+(.+?): counted at its ceiling")
SENT_BACK = "sent back to the model with them quoted"
STEPPED = "refuses response_format"
GGUF_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q",
                11: "<q", 12: "<d"}
GGUF_STRING, GGUF_ARRAY = 8, 9
FILE_TYPES = {0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1",
              10: "Q2_K", 11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M",
              16: "Q5_K_S", 17: "Q5_K_M", 18: "Q6_K"}  # llama.cpp's llama_ftype
NAMED = ("general.name", "general.architecture", "general.size_label", "general.finetune",
         "general.file_type")


class BenchError(Exception):
    """What stops the bench before a figure: said in one line, exit 2."""


# --- the model file's header ------------------------------------------------------------------

def _read(stream: BinaryIO, size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise BenchError("the GGUF file ends inside its header")
    return data


def _unpack(stream: BinaryIO, fmt: str) -> Any:
    return struct.unpack(fmt, _read(stream, struct.calcsize(fmt)))[0]


def _string(stream: BinaryIO) -> str:
    size = _unpack(stream, "<Q")
    if size > 1 << 20:
        raise BenchError(f"a GGUF string of {size} bytes: not a GGUF header")
    return _read(stream, size).decode("utf-8", "replace")


def _value(stream: BinaryIO, kind: int) -> Any:
    if kind in GGUF_SCALARS:
        return _unpack(stream, GGUF_SCALARS[kind])
    if kind == GGUF_STRING:
        return _string(stream)
    if kind == GGUF_ARRAY:
        inner, count = _unpack(stream, "<I"), _unpack(stream, "<Q")
        for _ in range(count):  # skipped: the tokenizer's lists are long and not asked for
            _value(stream, inner)
        return None
    raise BenchError(f"a GGUF value of unknown type {kind}")


def gguf_header(path: Path) -> dict[str, Any]:
    """The ``general.*`` fields of a GGUF file's header (versions 2 and 3)."""
    with path.open("rb") as stream:
        if _read(stream, 4) != b"GGUF":
            raise BenchError(f"{path}: not a GGUF file (no GGUF magic at its start)")
        version = _unpack(stream, "<I")
        if version not in (2, 3):
            raise BenchError(f"{path}: GGUF version {version}, expected 2 or 3")
        _unpack(stream, "<Q")  # tensors
        found: dict[str, Any] = {"version": version}
        for _ in range(_unpack(stream, "<Q")):
            key = _string(stream)
            value = _value(stream, _unpack(stream, "<I"))
            if key.startswith("general."):
                found[key] = value
        return found


def describe(header: dict[str, Any]) -> str:
    shown = {**header, "general.file_type": FILE_TYPES.get(header.get("general.file_type", -1),
                                                           header.get("general.file_type"))}
    named = [f"{key.removeprefix('general.')} {shown[key]}" for key in NAMED[1:] if key in header]
    return f"{header.get('general.name', '(no general.name)')} ({', '.join(named)})"


# --- the server -------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_command(args: argparse.Namespace, port: int) -> list[str]:
    """llama-cpp-python's server (``--python``) or llama.cpp's own (``--llama-server``)."""
    common = ["--host", "127.0.0.1", "--port", str(port)]
    if args.llama_server:
        return [args.llama_server, "-m", str(args.gguf), "--alias", ALIAS, *common,
                "-c", str(args.ctx), "-t", str(args.threads), "-np", "1"]
    return [args.python, "-m", "llama_cpp.server", "--model", str(args.gguf), "--model_alias",
            ALIAS, *common, "--n_ctx", str(args.ctx), "--n_threads", str(args.threads)]


def ready(base: str, server: subprocess.Popen[bytes], log: Path) -> None:
    until = time.monotonic() + START
    while time.monotonic() < until and server.poll() is None:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/models", timeout=5.0).status_code == 200:
                return
        time.sleep(1.0)
    tail = log.read_text(errors="replace")[-2000:]
    raise BenchError(f"the server did not answer at {base} (exit {server.poll()}): {tail}")


def cpu_seconds(pid: int) -> float:
    """A live process's user and system time, from /proc (its own, not its children's)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Server:
    base_url: str
    process: subprocess.Popen[bytes] | None = None

    def cpu(self) -> float | None:
        return cpu_seconds(self.process.pid) if self.process is not None else None


@contextlib.contextmanager
def serving(args: argparse.Namespace, folder: Path) -> Iterator[Server]:
    if args.base_url:
        yield Server(args.base_url)
        return
    port, log = free_port(), folder / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(server_command(args, port), stdout=out,
                                   stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/v1"
    try:
        ready(base, process, log)
        yield Server(base, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- the commands, as a user runs them --------------------------------------------------------

def block(base_url: str, model: str, args: argparse.Namespace) -> str:
    return (f"storyboard: 1\nbreakdown:\n  base_url: {base_url}\n  model: {model}\n"
            f"  key_env: {KEY_ENV}\n  price_in: 0\n  price_out: 0\n  stream: true\n"
            f"  deadline: {args.deadline:g}\n  context: {args.ctx}\n")


@dataclass
class Step:
    """One command: its exit code, output, and the wall and CPU seconds it took."""

    code: int
    stdout: str
    stderr: str
    wall: float
    cpu: float


def children_cpu() -> float:
    """The CPU time of this process's children that have ended (each command, once waited)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return float(usage.ru_utime + usage.ru_stime)


def storyboard(*words: str, echo: bool = False) -> Step:
    """``storyboard WORDS`` in its own process, this checkout's code; stderr echoed if asked.
    Its stdout goes to a file, read at its end: a pipe nobody reads while stderr is followed
    fills at 64 KB and stops the command (a season's ``--json`` report is larger)."""
    env = {**os.environ, KEY_ENV: "none", "PYTHONPATH": str(ROOT)}
    started, cpu = time.monotonic(), children_cpu()
    with tempfile.TemporaryFile("w+", encoding="utf-8") as out:
        process = subprocess.Popen([sys.executable, "-m", "storyboard", *words], env=env,
                                   cwd=ROOT, stdout=out, stderr=subprocess.PIPE, text=True)
        assert process.stderr is not None
        said: list[str] = []
        try:
            for line in process.stderr:
                said.append(line)
                if echo:
                    print(f"[{time.monotonic() - started:7.1f} s] {line}", end="",
                          file=sys.stderr, flush=True)
            code = process.wait()
        finally:  # the bench stopped (SIGTERM, Ctrl-C): its command stops too, its lock freed
            if process.poll() is None:
                process.terminate()
                process.wait()
        out.seek(0)
        stdout = out.read()
    return Step(code, stdout, "".join(said), time.monotonic() - started, children_cpu() - cpu)


def stopped_by_term(_signal: int, _frame: Any) -> None:
    """SIGTERM as an exit, so the server and the command are stopped on the way out."""
    raise SystemExit(143)


@dataclass
class Figures:
    """What the breakdown's output says of its calls."""

    calls: int = 0
    prompt: int = 0
    completion: int = 0
    at_ceiling: int = 0
    sent_back: int = 0
    stepped_down: int = 0
    report: dict[str, Any] = field(default_factory=dict)


def figures(step: Step) -> Figures:
    found = Figures()
    for line in step.stderr.splitlines():
        if m := TOKENS.match(line):
            found.calls, found.prompt = found.calls + 1, found.prompt + int(m[2])
            found.completion += int(m[3])
        elif CEILING.match(line):
            found.calls, found.at_ceiling = found.calls + 1, found.at_ceiling + 1
        found.sent_back += SENT_BACK in line
        found.stepped_down += STEPPED in line
    with contextlib.suppress(json.JSONDecodeError):
        data = json.loads(step.stdout or "{}")
        found.report = data if isinstance(data, dict) else {}
    return found


def check_said(step: Step) -> str:
    try:
        found = json.loads(step.stdout or "[]")
    except json.JSONDecodeError:
        return f"not read (exit {step.code}): {step.stderr.strip()[-300:]}"
    errors = [d for d in found if d.get("severity") == "error"]
    warnings = [d for d in found if d.get("severity") == "warning"]
    if step.code == 0 and not found:
        return "clean"
    if step.code == 0 and not errors:  # a season turns the density lint on: warnings only
        codes = Counter(str(d.get("code", "")) for d in warnings)
        return (f"clean of errors, {len(warnings)} warning(s) ("
                f"{', '.join(f'{n} {c}' for c, n in sorted(codes.items()))})")
    first = (errors or warnings)[0] if found else {"message": step.stderr.strip()[-300:]}
    return (f"NOT clean (exit {step.code}): {len(errors)} error(s), {len(warnings)} warning(s);"
            f" first: {first.get('file', '')}:{first.get('line', '')}: {first.get('message')}")


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


# --- the report -------------------------------------------------------------------------------

def lines(run: Figures, step: Step, server_cpu: float | None, check: str, render: Step | None,
          loads: tuple[str, str]) -> list[str]:
    report = run.report
    read = report.get("read_as_meant") or []
    problems = report.get("problems") or []
    cpu = f"{step.cpu:.1f} s storyboard" + (f", {server_cpu:.1f} s the server"
                                            if server_cpu is not None else "")
    return [
        f"calls: {run.calls} answered ({report.get('sent', '?')} request(s) sent, "
        f"{report.get('cached', '?')} from the cache), {run.stepped_down} response_format "
        f"step-down(s)",
        f"tokens: {run.prompt:,} prompt + {run.completion:,} completion"
        + (f" ({run.at_ceiling} call(s) counted at their ceiling)" if run.at_ceiling else ""),
        f"breakdown: exit {step.code}, {report.get('shots', 0)} shot(s), {len(problems)} "
        f"problem(s) left; wall {step.wall:.1f} s; CPU {cpu}",
        f"sent back: {run.sent_back}",
        f"near-misses read as meant: {len(read)}", *(f"  {note}" for note in read),
        f"repairs fired: {len(report.get('repairs') or [])}",
        *(f"  repair {r.get('name')}: {r.get('count')} ({r.get('mode')})"
          for r in report.get("repairs") or []),
        *(f"  problem: {p.get('file', '')}:{p.get('line', '')}: {p.get('message')}"
          for p in problems[:5]),
        f"warnings: {len(report.get('warnings') or [])}",
        *(f"  warning: {w.get('file', '')}:{w.get('line', '')}: {w.get('message')}"
          for w in (report.get("warnings") or [])[:5]),
        f"check: {check}",
        "render on local: " + ("not run (the breakdown or check failed)" if render is None else
                               "ok" if render.code == 0 else
                               f"FAILED (exit {render.code}): {render.stderr.strip()[-300:]}")
        + (f" in {render.wall:.1f} s" if render is not None and render.code == 0 else ""),
        f"load average (1, 5, 15 min): {loads[0]} at the start, {loads[1]} at the end",
    ]


def story(args: argparse.Namespace, folder: Path) -> Path:
    """The story broken down: ``--story``, or a long novel of ``--novel`` words made for the run
    (the suite's own: the public-domain tales told again and again, a chapter each telling)."""
    if not args.novel:
        return Path(args.story)
    sys.path.insert(0, str(ROOT))
    from tests.fixtures.breakdown import novel  # the suite's maker, for the bench only
    return novel(folder / "novel.md", args.novel)


def season_words(args: argparse.Namespace) -> list[str]:
    """The season's target as a user gives it: ``--episodes N --episode-seconds S --ratio R``."""
    if not args.episodes:
        return []
    return ["--episodes", str(args.episodes), "--episode-seconds", f"{args.episode_seconds:g}",
            "--ratio", args.ratio]


def measure(args: argparse.Namespace, series: Path, logs: Path) -> bool:
    loads = load()
    with serving(args, logs) as server:
        model = ALIAS if not args.base_url else args.model
        print(f"against {model} at {server.base_url}, {args.threads} thread(s), context "
              f"{args.ctx}", flush=True)
        series.mkdir(parents=True, exist_ok=True)
        # the bench's own file: a kept series is pointed at this run's server (its port is new)
        (series / "storyboard.yaml").write_text(block(server.base_url, model, args), "utf-8")
        verbose = ["--verbose"] if args.verbose else []
        step = storyboard(*verbose, "breakdown", str(story(args, logs)), str(series), "--yes",
                          "--json", *season_words(args), echo=not args.quiet)
        server_cpu = server.cpu()
    run = figures(step)
    check = storyboard("check", str(series), "--json")
    episodes = len(list((series / "episodes").glob("*.yaml")))
    said = check_said(check) + f" ({episodes} episode file(s))"
    render = storyboard("render", str(series), "--provider", "local", "--yes") \
        if step.code == 0 and said.startswith("clean") and episodes else None
    for line in lines(run, step, server_cpu, said, render, (loads, load())):
        print(line)
    return render is not None and render.code == 0


# --- the corpus: each story with its N, its answers kept ---------------------------------------

def server_name(args: argparse.Namespace) -> str:
    """The server's name in a kept run's file: llama-cpp-python's with its version unless it is
    a 0.3.x (as CI builds it): ``llama-cpp-python-0.2.62``."""
    if args.llama_server:
        return "llama-server"
    if not args.python:
        return "base-url"
    version = subprocess.run([args.python, "-c", "import llama_cpp; print(llama_cpp.__version__)"],
                             capture_output=True, text=True, check=True).stdout.strip()
    return "llama-cpp-python" if version.startswith("0.3.") else f"llama-cpp-python-{version}"


def corpus_story(args: argparse.Namespace, server: Server, model: str, entry: dict[str, Any],
                 seconds: float, ratio: str, folder: Path) -> list[str]:
    """One story of the corpus broken down as a user runs it, its figures, its answers kept."""
    from tests.fixtures.corpus import CORPUS, PLACEHOLDER, keep, mode_of
    story_path, asked = CORPUS / entry["file"], int(entry["episodes"])
    series = folder / Path(entry["file"]).stem
    series.mkdir(parents=True, exist_ok=True)
    template = block(PLACEHOLDER, model, args)
    (series / "storyboard.yaml").write_text(template.replace(PLACEHOLDER, server.base_url),
                                            "utf-8")
    loads = load()
    step = storyboard("breakdown", str(story_path), str(series), "--yes", "--json",
                      "--episodes", str(asked), "--episode-seconds", f"{seconds:g}",
                      "--ratio", ratio, echo=not args.quiet)
    run, check = figures(step), storyboard("check", str(series), "--json")
    found = figures_of(story_path, series, asked, seconds)
    name = server_name(args)
    kept = {"story": entry["file"], "shape": entry["shape"], "server": name,
            "model": model, "mode": mode_of(series), "block": template, "exit": step.code,
            "base_url": server.base_url,
            "figures": found, "calls": run.calls, "sent": run.report.get("sent"),
            "tokens": [run.prompt, run.completion], "at_ceiling": run.at_ceiling,
            "wall": round(step.wall, 1), "load": [loads, load()], "check": check_said(check),
            "repairs": run.report.get("repairs")}
    archive = None
    if args.keep_answers is not None:
        archive = args.keep_answers / f"corpus-{series.name}-{name}.tar.xz"
        keep(series, kept, archive)
    return corpus_lines(kept, archive)


def figures_of(story_path: Path, series: Path, asked: int, seconds: float) -> dict[str, Any]:
    from tests.fixtures.corpus import figures as written_figures
    return written_figures(story_path, series, asked, seconds)


def corpus_lines(kept: dict[str, Any], archive: Path | None) -> list[str]:
    found = kept["figures"]
    spread = found["episode_seconds"] or {"median": 0, "min": 0, "max": 0}
    shots = found["shots_per_episode"] or {"median": 0, "min": 0, "max": 0}
    verbatim, quotes = found["quotes_verbatim"]
    return [
        f"== {kept['story']} ({kept['shape']}) on {kept['server']} ({kept['mode']})",
        f"exit: {kept['exit']}; episodes: {found['episodes_written']} written of "
        f"{found['episodes_asked']} asked; check: {kept['check']}",
        f"seconds: {found['seconds_asked']:g} asked; each episode's median {spread['median']:g}, "
        f"min {spread['min']:g}, max {spread['max']:g}",
        f"shots per episode: median {shots['median']:g}, min {shots['min']:g}, "
        f"max {shots['max']:g}",
        f"quotes verbatim: {verbatim} of {quotes}",
        f"speaking characters missing from the cast: {len(found['speakers_missing'])}"
        + (f" ({', '.join(found['speakers_missing'])})" if found["speakers_missing"] else ""),
        f"calls: {kept['calls']} answered ({kept['sent']} request(s) sent); tokens: "
        f"{kept['tokens'][0]:,} prompt + {kept['tokens'][1]:,} completion",
        # the breakdown's summary of the declared repairs that fired, whatever it gives
        f"repairs fired: {kept['repairs'] if kept['repairs'] is not None else '(not reported)'}",
        f"wall: {kept['wall']:.1f} s at load (1, 5, 15 min) {kept['load'][0]} at the start, "
        f"{kept['load'][1]} at the end",
        f"answers kept: {archive if archive else 'no (--keep-answers DIR)'}",
    ]


def measure_corpus(args: argparse.Namespace, folder: Path) -> bool:
    from tests.fixtures.corpus import table
    found = table()
    chosen = [e for e in found["stories"]
              if not args.only or Path(e["file"]).stem in args.only.split(",")]
    if not chosen:
        raise BenchError(f"--only {args.only}: no story of the corpus is named so")
    ok = True
    with serving(args, folder) as server:
        model = ALIAS if not args.base_url else args.model
        print(f"against {model} at {server.base_url}, {args.threads} thread(s), context "
              f"{args.ctx}", flush=True)
        for entry in chosen:
            said = corpus_story(args, server, model, entry, float(found["episode_seconds"]),
                                str(found["ratio"]), args.series or folder)
            print("\n".join(said), flush=True)
            ok = ok and said[1].startswith("exit: 0")
    return ok


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    server = parser.add_mutually_exclusive_group()
    server.add_argument("--python", help="the Python that has llama_cpp.server (its venv's)")
    server.add_argument("--llama-server", help="llama.cpp's own llama-server binary")
    server.add_argument("--base-url", help="a server already running (…/v1): none is started")
    parser.add_argument("--gguf", type=Path, help="the model file the server loads")
    parser.add_argument("--model", default=ALIAS, help="the model's name at --base-url")
    parser.add_argument("--describe", action="store_true",
                        help="print the GGUF file's header and stop (no server, no breakdown)")
    parser.add_argument("--story", type=Path, default=STORY, help="the story broken down")
    parser.add_argument("--series", type=Path, help="the series folder, kept (default: a "
                        "temporary one, removed); a second run takes its answers from the cache")
    parser.add_argument("--novel", type=int, default=0, metavar="WORDS", help="break down a "
                        "long novel of about this many words instead of --story (the suite's)")
    parser.add_argument("--episodes", type=int, default=0, help="a season of this many episodes "
                        "(the season stage: breakdown --episodes)")
    parser.add_argument("--episode-seconds", type=float, default=90.0,
                        help="the season's episode length (with --episodes)")
    parser.add_argument("--ratio", default="9:16", help="the season's ratio (with --episodes)")
    parser.add_argument("--ctx", type=int, default=12288, help="the server's context, tokens")
    parser.add_argument("--threads", type=int, default=1, help="the server's threads")
    parser.add_argument("--deadline", type=float, default=1800.0, help="seconds for one call")
    parser.add_argument("--corpus", action="store_true", help="break down each story of "
                        "bench/corpus/ with its N (corpus.yaml), one server for all; --series "
                        "is then the folder of their series")
    parser.add_argument("--only", default="", help="with --corpus: these stories alone "
                        "(file stems, comma-separated)")
    parser.add_argument("--keep-answers", type=Path, metavar="DIR", help="with --corpus: keep "
                        f"each run's answers in DIR/corpus-STORY-SERVER.tar.xz ({ANSWERS} is "
                        "the suite's, replayed by it)")
    parser.add_argument("--quiet", action="store_true", help="print only the figures")
    parser.add_argument("--verbose", action="store_true", help="storyboard --verbose: each "
                        "request and the model's answer said as it arrives (a looping answer "
                        "read whole up to the trace's 4,000 characters)")
    args = parser.parse_args(argv)
    if (args.python or args.llama_server or args.describe) and args.gguf is None:
        parser.error("--gguf MODEL.gguf is needed to start a server or to --describe one")
    if not (args.python or args.llama_server or args.base_url or args.describe):
        parser.error("name a server: --python, --llama-server or --base-url")
    if not args.story.is_file():
        parser.error(f"--story {args.story}: no such file")
    return args


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    sys.path.insert(0, str(ROOT))  # the suite's corpus helpers (tests/fixtures/corpus.py)
    signal.signal(signal.SIGTERM, stopped_by_term)
    try:
        if args.gguf is not None:
            print(f"model file: {args.gguf.name}: {describe(gguf_header(args.gguf))}", flush=True)
        if args.describe:
            return 0
        with tempfile.TemporaryDirectory(prefix="bench-local-") as temporary:
            series = args.series or Path(temporary) / "series"
            if args.series:
                print(f"series: {series} (kept)", flush=True)
            ok = measure_corpus(args, Path(temporary)) if args.corpus else \
                measure(args, series.resolve(), Path(temporary))
    except (BenchError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
