"""A series' last breakdown into what ``storyboard plan`` and the studio say of it: proposals
waiting beside edited files, and what bringing the series up to date with its story would cost.

It reads ``.storyboard/breakdown/last.json``, which every run leaves (``pipeline.remember``), as
untrusted (``statefile``: bounded, and each option held to its type; a bad record is one located
warning, never a traceback), and plans from the cache alone: nothing is sent. The command it
suggests goes back to the endpoint the last run asked (the series file records it; a flag is
added only where the file does not say the same).
"""

from __future__ import annotations

import functools
import math
import os
import shlex
from dataclasses import fields
from pathlib import Path
from typing import Any

from storyboard.breakdown.pipeline import Options, plan
from storyboard.breakdown.settings import DEFAULTS, RATIOS, endpoint, from_series
from storyboard.breakdown.source import Story, read_story
from storyboard.breakdown.state.answerstore import FOLDER
from storyboard.breakdown.state.statefile import Unreadable, read, warning
from storyboard.errors import StoryboardError
from storyboard.review.studio.proposals import PROPOSED, Waiting

TEXTS = ("model", "base_url", "key_env")
AMOUNTS = ("price_in", "price_out", "episode_minutes", "episode_seconds")
BOUNDS = ("deadline", "max_answer_mb")  # finite and > 0 (a deadline None: fitted to the pace)
CHOICES = {"response_format": ("auto", "json_schema", "json_object", "text"),
           "stream": ("auto", "true", "false")}
FLAGS = {"model": "--model", "base_url": "--base-url", "key_env": "--api-key-env"}


def _option(name: str, value: Any) -> Any:
    if name in TEXTS and isinstance(value, str) and 0 < len(value) <= 2000:
        return value
    if name in AMOUNTS and (value is None or (isinstance(value, int | float) and not isinstance(
            value, bool) and math.isfinite(value) and value >= 0)):
        return value
    if name == "episodes" and (value is None or (type(value) is int and 1 <= value <= 500)):
        return value
    if name == "deadline" and value is None:
        return value
    if name in BOUNDS and isinstance(value, int | float) and not isinstance(value, bool) \
            and math.isfinite(value) and value > 0:
        return value
    if value in CHOICES.get(name, ()):
        return value
    if name == "ratio" and (value is None or value in RATIOS):
        return value
    if name == "video_model" and (value is None or (isinstance(value, str) and
                                                    0 < len(value) <= 200)):
        return value
    if name == "context" and (value is None or (type(value) is int and 0 < value <= 10**8)):
        return value
    raise Unreadable(f"expected options.{name} as {_kind(name)}, found {type(value).__name__}")


def _kind(name: str) -> str:
    if name in CHOICES:
        return "one of " + ", ".join(CHOICES[name])
    if name in (*TEXTS, "video_model"):
        return "text"
    return "a whole number from 1 to 500" if name == "episodes" \
        else "a finite number > 0" if name in BOUNDS else "a finite number >= 0"


def record(series: Path) -> tuple[Options, str, list[str]]:
    """The last run's options, its story's path and the proposals it named (``Unreadable``
    when the record is not that shape; ``FileNotFoundError`` when there is none)."""
    data = read(series / FOLDER / "last.json")
    given = data.get("options") if isinstance(data, dict) else None
    story, named = (data.get("source"), data.get("proposed", [])) if isinstance(data, dict) \
        else (None, None)
    if not isinstance(given, dict) or not isinstance(story, str) or not isinstance(named, list) \
            or not all(isinstance(n, str) for n in named):
        raise Unreadable("expected a record with options, source and proposed")
    known = {f.name for f in fields(Options)} - {"yes", "budget", "dry_run", "switch_endpoint"}
    options = Options(**{k: _option(k, v) for k, v in given.items() if k in known})
    return options, story, named


def recorded(series: Path) -> tuple[Options, Story] | None:
    """The last breakdown's options and the story it read (None: none recorded, or the story
    cannot be read now); read once while the record and the story stay as they are (``check``
    asks for the season file's check and the cast's)."""
    try:
        options, story, _ = record(series)
        source = Path(os.path.normpath(series / story))
        if not source.is_file():  # never opened: a FIFO would block
            return None
        return options, _story(source, *_stamp(source))
    except (OSError, Unreadable, StoryboardError):
        return None


def _stamp(path: Path) -> tuple[int, int, int]:
    found = path.stat()
    return found.st_size, found.st_mtime_ns, found.st_ino


@functools.lru_cache(maxsize=8)
def _story(source: Path, _size: int, _mtime: int, _inode: int) -> Story:
    """The story at ``source``, as it is at that size, time and inode (``Story`` is frozen)."""
    return read_story(source)


def waiting(series: Path) -> Waiting | None:
    """What the series' last breakdown left (None: it has none)."""
    path = series / FOLDER / "last.json"
    try:
        options, story, named = record(series)
    except FileNotFoundError:
        return None
    except Unreadable as problem:
        return Waiting(problem=warning(path, problem).format())
    source = Path(os.path.normpath(series / story))
    proposals = tuple(n for n in named if (series / (n + PROPOSED)).is_file())
    command = suggested(series, source, options)
    if not source.is_file():  # never opened: a FIFO would block the plan
        return Waiting(proposals, source.name, command=command,
                       problem=f"cannot plan from {source}: expected the story's file")
    try:
        estimate = plan(read_story(source), series, options)
    except StoryboardError as error:
        return Waiting(proposals, source.name, command=command,
                       problem=f"cannot plan from {source}: {error}")
    pending = tuple(f"{_call(p.stage, p.chapter)} (~{p.input_tokens:,} tokens in, up to "
                    f"{p.ceiling:.4f} USD)" for p in estimate.pending)
    return Waiting(proposals, source.name, pending, estimate.ceiling, command)


def _call(stage: str, number: int) -> str:
    if stage in ("episode", "shot"):
        return f"episode {number}" if stage == "episode" else f"a shot of episode {number}"
    return f"{stage} of chapter {number}"


def suggested(series: Path, source: Path, options: Options) -> str:
    """The command that asks what the last run asked, where it asked it: a flag for each
    setting the series file does not say the same of."""
    try:
        recorded = {**DEFAULTS, **from_series(series)}
    except StoryboardError:
        recorded = dict(DEFAULTS)
    words = ["storyboard", "breakdown", str(source), str(series)]
    for name, flag in FLAGS.items():
        value = str(getattr(options, name))
        same = endpoint(value) == endpoint(str(recorded[name])) if name == "base_url" \
            else value == str(recorded[name])
        if not same:
            words += [flag, value]
    if any(w in words for w in ("--base-url", "--api-key-env")):
        words.append("--switch-endpoint")
    return shlex.join(words)


def notes(series: Path) -> list[str]:
    """What ``plan`` prints about the series' breakdown (nothing when it has none)."""
    found = waiting(series)
    if found is None:
        return []
    out = [f"breakdown: a proposal waits beside your edit of {name}: {name}{PROPOSED}"
           for name in found.proposals]
    return [*out, _pending(found)]


def _pending(found: Waiting) -> str:
    if found.problem:
        return f"breakdown: {found.problem}"
    if not found.pending:
        return f"breakdown: up to date with {found.story} (every answer is cached)"
    return (f"breakdown: {found.story} changed since: {len(found.pending)} call(s) to ask, "
            f"up to {found.cost:.4f} USD ({found.command})")
