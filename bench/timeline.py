"""A run's work into a timeline: every subprocess (ffmpeg) and the marked stages, with when each
started and ended, for ``bench/boards.py --timeline``.

Debug aid only: it patches ``subprocess.run`` and a few of the run's functions for the length of a
``with Timeline()`` block, so what the command does after its pass (and while it) can be read as
a sequence, not only as totals.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

# (module, function) pairs timed as stages: the held boards' wait, the measuring's, the stitch
STAGES = (
    ("storyboard.run.boards.animatic.AheadOfAnimatic", "wait"),
    ("storyboard.run.boards.ahead.AheadOfMeasure", "outcomes"),
    ("storyboard.run.boards.ahead.AheadOfStitch", "wait"),
    ("storyboard.run.pipeline", "_measure"),
    ("storyboard.run.pipeline", "board_animatic"),
    ("storyboard.stitch.series.episodes.EpisodeBuilder", "build"),
)


@dataclass
class Span:
    start: float
    end: float
    thread: str
    what: str
    cpu: float = 0.0  # the process's user and system CPU seconds (a subprocess's)


def _run(cmd: Any, **kwargs: Any) -> tuple[subprocess.CompletedProcess[Any], float]:
    """``subprocess.run`` for a captured command, reaped by ``os.wait4`` to read its CPU."""
    if not kwargs.pop("capture_output", False) or "input" in kwargs:
        return subprocess_run(cmd, capture_output=False, **kwargs), 0.0
    kwargs.pop("check", None), kwargs.pop("timeout", None)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)
    read: dict[str, Any] = {}
    readers = [threading.Thread(target=lambda n=n, f=f: read.__setitem__(n, f.read()))
               for n, f in (("out", proc.stdout), ("err", proc.stderr))]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    for pipe in (proc.stdout, proc.stderr):
        if pipe is not None:
            pipe.close()
    done = subprocess.CompletedProcess(cmd, proc.returncode, read["out"], read["err"])
    return done, usage.ru_utime + usage.ru_stime


subprocess_run = subprocess.run


def _label(cmd: Any) -> str:
    """What a subprocess was for: its program and what it writes (or reads)."""
    args = [str(a) for a in cmd] if isinstance(cmd, (list, tuple)) else [str(cmd)]
    name = args[0].rsplit("/", 1)[-1]
    if "signalstats" in " ".join(args) and "libx264" not in args:
        return f"{name} measure {args[args.index('-i') + 1].rsplit('/', 1)[-1][:12]}"
    if "libx264" in args and "h264" in args:  # a held board's pictures (and its still measured)
        return f"{name} -> pictures.h264"
    last = args[-1].rsplit("/", 1)[-1]
    if last in ("-", "/dev/null") or last.startswith("-"):
        inputs = [args[i + 1].rsplit("/", 1)[-1] for i, a in enumerate(args[:-1]) if a == "-i"]
        return f"{name} reads {' '.join(i[:20] for i in inputs[:2])}"
    return f"{name} -> {last[:40]}"


def _resolve(dotted: str) -> Any:
    module, _, attr = dotted.rpartition(".")
    try:
        return importlib.import_module(dotted)
    except ImportError:
        return getattr(importlib.import_module(module), attr)


class Timeline:
    """Spans of subprocesses and stages, and marks (a board's arrival), from ``origin``."""

    def __init__(self) -> None:
        self.origin = time.perf_counter()
        self.spans: list[Span] = []
        self.marks: list[tuple[float, str]] = []
        self.lock = threading.Lock()

    def mark(self, what: str) -> None:
        with self.lock:
            self.marks.append((time.perf_counter(), what))

    def _timed(self, call: Callable[..., Any], what: Callable[..., str]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return call(*args, **kwargs)
            finally:
                with self.lock:
                    self.spans.append(Span(start, time.perf_counter(),
                                           threading.current_thread().name,
                                           what(*args, **kwargs)))
        return timed

    def _process(self, cmd: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        done, cpu = _run(cmd, **kwargs)
        with self.lock:
            self.spans.append(Span(start, time.perf_counter(), threading.current_thread().name,
                                   _label(cmd), cpu))
        return done

    @contextmanager
    def recording(self) -> Iterator[Timeline]:
        undo: list[tuple[Any, str, Any]] = [(subprocess, "run", subprocess.run)]
        subprocess.run = self._process  # type: ignore[assignment]
        for owner_name, attr in STAGES:
            owner = _resolve(owner_name)
            undo.append((owner, attr, getattr(owner, attr)))
            setattr(owner, attr, self._timed(getattr(owner, attr),
                                             lambda *a, _n=attr, **k: f"STAGE {_n}"))
        try:
            yield self
        finally:
            for owner, attr, was in reversed(undo):
                setattr(owner, attr, was)

    def print(self, since: float, pass_end: float, every: bool) -> None:
        """Each span (``every``), then what ran after the pass ended: each kind's count, busy
        seconds, first start and last end (from ``since``, the command's start)."""
        rows = sorted(self.spans, key=lambda s: s.start)
        if every:
            events = sorted([(t, f"MARK {w}") for t, w in self.marks])
            for start, what in events:
                print(f"  {start - since:7.2f}          {what}")
            for s in rows:
                print(f"  {s.start - since:7.2f} {s.end - since:7.2f} {s.end - s.start:5.2f} "
                      f"{s.cpu:5.2f} {s.thread[:22]:22} {s.what}")
        print(f"timeline: the pass ended at {pass_end - since:.2f} s")
        kinds: dict[str, list[Span]] = {}
        for s in rows:
            kinds.setdefault(_kind(s.what), []).append(s)
        for kind, spans in sorted(kinds.items()):
            after = [s for s in spans if s.end > pass_end]
            busy = sum(s.end - max(s.start, pass_end) for s in after)
            print(f"  {kind:28} {len(spans):3} run(s), {sum(s.cpu for s in spans):5.2f} CPU s; "
                  f"after the pass {len(after):3}, busy {busy:5.2f} s" + (
                      f", {min(s.start for s in after) - since:6.2f} to "
                      f"{max(s.end for s in after) - since:6.2f}" if after else ""))


def _kind(what: str) -> str:
    if what.startswith("STAGE"):
        return what
    if " measure " in what:
        return "measure"
    if "held-" in what or "pictures.h264" in what:
        return "held " + ("picture (and its still measured)" if "pictures.h264" in what
                          else "sound")
    if "framecrc" in what:
        return "facts (framecrc)"
    return what.split(" -> ")[-1][:30] if " -> " in what else what[:30]
