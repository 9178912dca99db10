"""A process's intent into whether its checks keep what they made: one check, nothing kept.

A process that checks the same series again (the studio on a save, the MCP server on a call, a
worker on a change) keeps each episode's resolved shots and compiled requests (``incremental``),
so its next check redoes only what changed. A command that checks once would pay for a next check
that never comes: each shot's key and context made and held, about a tenth of a fresh check of
2,000 shots. The library keeps (a program may check again); the command line keeps only for the
commands that check again (``cli.main``'s ``RECHECKING``). Either way a check stores each compiled
episode on disk for the next process, and gives the same shots, hashes and problems.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

_KEEPS = [True]  # whether this process's checks keep what they made for its next check


def keeps() -> bool:
    """Whether a check in this process keeps what it made for the next (``kept``)."""
    return _KEEPS[0]


@contextmanager
def kept(on: bool) -> Iterator[None]:
    """Checks inside keep what they made (``on``) or nothing; as before after."""
    before, _KEEPS[0] = _KEEPS[0], on
    try:
        yield
    finally:
        _KEEPS[0] = before
