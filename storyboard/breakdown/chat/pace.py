"""An endpoint's measured speed into each call's deadline, and the deadline "to go on" asks.

A deadline that is set (``--deadline SECONDS``, or ``deadline:`` in the series' ``breakdown:``
block) is every call's, as given. Unset, each call's is ``BASE`` seconds, or longer where the
endpoint was measured slower: ``MARGIN`` times what the call would take at the slowest pace
measured this run, its prompt (estimated from its characters) read at ``PROMPT_SHARE`` of the time
of an answer token and its whole ``max_tokens`` written (the most it may take, as its price
ceiling is its whole ``max_tokens``), at most ``MOST``.

The pace is measured where nothing is paid: a free endpoint on loopback (its prices 0, a local
server) is sent one small ``probe`` (``PROBE``, at most ``PROBE_TOKENS`` answer tokens, never
stored) before the run's first call; and every answer asked in the run adds its own pace (its wall
time over its usage), so a paid endpoint, which is never probed, is measured by the calls it was
paid for. A call is never sent again for its deadline: one that passes it stops the run, and "to
go on" asks with ``--deadline`` at the figure ``enough`` gives (twice the one passed, or what the
pace measured needs).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from storyboard.errors import ConnectFailed, ProviderError, TransportError
from storyboard.targets.llm import ChatPrice, on_loopback


class Usage(Protocol):
    """What a probe reads of an answer (``client.Answer``)."""

    @property
    def prompt_tokens(self) -> int | None: ...

    @property
    def completion_tokens(self) -> int | None: ...


class Completes(Protocol):
    """The one call a probe makes (``client.ChatClient``, which imports this module)."""

    def complete(self, body: dict[str, Any], *, deadline: float | None = None,
                 said: str = ...) -> Usage: ...

BASE = 600.0  # seconds: an unset deadline, on an endpoint measured no slower
MOST = 86400.0  # seconds: the longest deadline (the setting's bound too)
MARGIN = 2.0  # a call's deadline is this many times what it would take at the measured pace
PROMPT_SHARE = 0.25  # a prompt token's time against an answer token's (llama.cpp on a CPU reads
# a prompt 3.5 to 6.5 times faster than it writes: docs/breakdown.md#a-local-model)
PROBE_TOKENS = 16
PROBE = "Count from one to fifty in words, separated by commas."
HOW = "--deadline SECONDS, or deadline: in the series' breakdown: block"


class DeadlinePassed(TransportError):
    """A call that passed its deadline (``deadline``, seconds): it may have been made and
    billed, so it is never sent again by itself."""

    def __init__(self, message: str, *, provider: str, deadline: float) -> None:
        super().__init__(message, provider=provider)
        self.deadline = deadline


def probe_body(model: str) -> dict[str, Any]:
    """The probe: a short plain question whose answer is cut at ``PROBE_TOKENS`` tokens."""
    return {"model": model, "messages": [{"role": "user", "content": PROBE}],
            "temperature": 0.0, "max_tokens": PROBE_TOKENS, "stream": False}


def weight(prompt: int, answer: int) -> float:
    """A call's tokens in answer tokens' time."""
    return answer + prompt * PROMPT_SHARE


@dataclass
class Pace:
    """The deadline given (None: unset, fitted to the pace) and the slowest pace measured."""

    given: float | None = None
    seconds_per_token: float | None = None  # an answer token's, the prompt's weighed in
    source: str = ""  # where the pace was measured

    def measured(self, seconds: float, prompt: int, answer: int, source: str) -> None:
        """Add a call's wall time and tokens; the slowest pace stays (a machine's load varies)."""
        tokens = weight(prompt, answer)
        if not (math.isfinite(seconds) and seconds >= 0 and tokens > 0):
            return
        pace = seconds / tokens
        if self.seconds_per_token is None or pace > self.seconds_per_token:
            self.seconds_per_token, self.source = pace, source

    def expected(self, prompt: int, max_tokens: int) -> float | None:
        """Seconds a call would take at the measured pace (None: not measured)."""
        if self.seconds_per_token is None:
            return None
        return self.seconds_per_token * weight(prompt, max_tokens)

    def deadline(self, prompt: int, max_tokens: int) -> float:
        """The call's deadline: the one given, else ``BASE`` or what the pace needs."""
        if self.given is not None:
            return self.given
        expected = self.expected(prompt, max_tokens)
        return BASE if expected is None else min(MOST, max(BASE, MARGIN * expected))

    def enough(self, passed: float, prompt: int, max_tokens: int) -> float:
        """The deadline "to go on" asks after a call passed ``passed`` seconds: twice that, or
        what the pace measured needs, rounded up to a minute (at most ``MOST``)."""
        expected = self.expected(prompt, max_tokens) or 0.0
        wanted = max(2 * passed, MARGIN * expected)
        return min(MOST, math.ceil(wanted / 60) * 60)

    def said(self, deadline: float) -> str:
        """Where a call's deadline came from, for its message."""
        if self.given is not None:
            return f"set by {HOW}"
        if deadline <= BASE or self.seconds_per_token is None:
            return f"the default; set it with {HOW}"
        rate = 1 / self.seconds_per_token if self.seconds_per_token > 0 else math.inf
        return (f"{BASE:g} s fitted to the endpoint's pace of {rate:.1f} tokens/s, measured on "
                f"{self.source}; set it with {HOW}")


def probed_pace(answer_tokens: int | None, prompt_tokens: int | None, seconds: float,
                pace: Pace) -> str:
    """Add the probe's pace (its usage, else its asked bound and prompt) and say it."""
    done = PROBE_TOKENS if answer_tokens is None else answer_tokens
    read = 24 if prompt_tokens is None else prompt_tokens
    pace.measured(seconds, read, done, "a probe")
    rate = weight(read, done) / seconds if seconds > 0 else math.inf
    return (f"  the endpoint's pace: a probe of {done} answer token(s) took {seconds:.1f} s "
            f"({rate:.1f} tokens/s; free, on loopback): each call's deadline fits it, at least "
            f"{BASE:g} s")


def probe(client: Completes, base_url: str, model: str, price: ChatPrice, pace: Pace,
          say: Callable[[str], None]) -> None:
    """Measure a free endpoint on loopback's pace by one small call, said; nothing for a paid
    or remote one (measured by its answers only), nor when the deadline is set."""
    if pace.given is not None or not price.free or not on_loopback(base_url):
        return
    started = time.monotonic()
    try:
        got = client.complete(probe_body(model), deadline=BASE, said="the probe's")
    except ConnectFailed:
        raise
    except DeadlinePassed:  # slower than BASE for the probe: at least that slow
        say(probed_pace(None, None, time.monotonic() - started, pace))
        return
    except ProviderError as error:
        say(f"  the endpoint's pace was not measured (its probe: {error}): each call's "
            f"deadline is {BASE:g} s until an answer measures it")
        return
    say(probed_pace(got.completion_tokens, got.prompt_tokens, time.monotonic() - started, pace))
