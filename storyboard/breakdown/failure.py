"""A breakdown that failed part-way into one message: which call, what was sent, spent and kept,
and the command that goes on from there.

The error keeps its own type (a ``BudgetExceeded`` stays one, a dropped answer stays a
``TransportError``); its text gains where it happened (the stage and chapter of the call being
asked), the requests sent and the money the reported usage counted so far, how many answers are
stored (a re-run takes them from the cache for nothing), and the exact command that resumes.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any, Protocol

from storyboard.breakdown.answers.asking import Asker
from storyboard.breakdown.chat.streaming import StreamCut
from storyboard.errors import ProblemsFound, ProviderError, StoryboardError

FLAGS = (("model", "--model"), ("base_url", "--base-url"), ("key_env", "--api-key-env"),
         ("episodes", "--episodes"), ("episode_minutes", "--episode-minutes"),
         ("episode_seconds", "--episode-seconds"), ("ratio", "--ratio"),
         ("video_model", "--video-model"),
         ("price_in", "--price-in"), ("price_out", "--price-out"), ("budget", "--budget"),
         ("deadline", "--deadline"))


class Flags(Protocol):
    @property
    def yes(self) -> bool: ...


def resume_command(source: Path, series: Path, options: Flags) -> str:
    """The command that runs this breakdown again with the same flags."""
    words = ["storyboard", "breakdown", str(source), str(series)]
    for name, flag in FLAGS:
        value: Any = getattr(options, name, None)
        if value is not None:
            words += [flag, f"{value:g}" if isinstance(value, float) else str(value)]
    if options.yes:
        words.append("--yes")
    return shlex.join(words)


def summary(asker: Asker, command: str) -> str:
    spend = asker.spend
    where = f"\n  while asking {asker.current}" if asker.current else ""
    return (f"{where}\n  so far: {asker.sent} request(s) sent, {spend.spent:.4f} USD spent by the "
            f"usage counted ({spend.input_tokens:,} + {spend.output_tokens:,} tokens), "
            f"{len(asker.fresh)} new answer(s) stored in .storyboard/breakdown/answers (a "
            f"re-run takes them from there for nothing)\n  to go on: {command}")


def failed(error: Exception, asker: Asker, command: str) -> Exception:
    """``error`` with the run's ``summary`` added to its text (the same object, same type)."""
    if isinstance(error, ProblemsFound):
        return error
    said = summary(asker, command)
    if isinstance(error, StreamCut):  # billed or not: the price says
        error.detail += "; priced free, nothing was billed" if asker.spend.price.free else \
            "; it may have been billed"
    if isinstance(error, ProviderError):
        error.detail += said
        return error
    if isinstance(error, StoryboardError):
        error.args = (f"{error.args[0] if error.args else ''}{said}", *error.args[1:])
        return error
    return StoryboardError(f"{error}{said}")
