"""Long review work (the sheet's stills and contact sheet, an export's cuts) into a line per step.

The command that wants them listens (``told``): ``storyboard sheet`` and ``export`` print each
step to stderr as it starts, so a minute of ffmpeg is not a minute of silence; a library caller
hears nothing unless it listens.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_LISTENER: ContextVar[Callable[[str], None] | None] = ContextVar("storyboard_steps", default=None)


@contextmanager
def told(listener: Callable[[str], None]) -> Iterator[None]:
    """Within the block, each ``step`` is said to ``listener``."""
    token = _LISTENER.set(listener)
    try:
        yield
    finally:
        _LISTENER.reset(token)


def step(text: str) -> None:
    """Say that ``text`` starts now (to the listener, if any)."""
    listener = _LISTENER.get()
    if listener is not None:
        listener(text)
