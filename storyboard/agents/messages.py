"""Our errors into the text a tool or a read answers: located problems, refusals, never a trace."""

from __future__ import annotations

from storyboard.errors import StoryboardError

EXPECTED = (StoryboardError, OSError, ValueError, RecursionError)


def message(error: BaseException) -> str:
    """What a failed call answers: our errors as they are (problems located), a file or a value
    the system refused in one sentence."""
    if isinstance(error, StoryboardError):
        return _text(error)
    if isinstance(error, RecursionError):
        return "error: nested too deep"
    if isinstance(error, OSError):
        return f"error: {error.strerror or error}"
    return f"error: {error}"


def _text(error: StoryboardError) -> str:
    formatted = getattr(error, "format", None)
    return str(formatted()) if callable(formatted) else str(error)
