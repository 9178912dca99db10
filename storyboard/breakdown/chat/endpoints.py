"""An endpoint's refusals into the ways it is asked: the structured-output mode and streaming found
for each base URL and model, remembered in ``.storyboard/breakdown/endpoints.json``.

``response_format: auto`` asks ``json_schema`` (strict) first; an endpoint that refuses that field
(llama-cpp-python's server answers HTTP 500 "Input should be 'text' or 'json_object'") is asked
again in ``json_object`` (the schema sent beside it), then in plain ``text`` (the schema is in the
instructions in every mode).
``stream: auto`` streams, and an endpoint that refuses streaming is asked again without. The
context window a refusal taught is kept too (``fitting``), and an endpoint's refusal of
``presence_penalty`` (asked only after a looping answer, ``cutshort``), and whether it holds
the mode it is asked in (``holding``'s probe). What was
found is written down so the next run starts there (and its cache keys match). The file is state
a person or a program may have changed: it is read defensively, anything odd in it ignored.
Settings of how to ask that cannot work are refused before any call (``asking_problem``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storyboard.breakdown.state.answerstore import FOLDER, write_atomic
from storyboard.breakdown.state.reading import loads
from storyboard.errors import ProviderError, StoryboardError

MODES = ("json_schema", "json_object", "text")
FORMAT_WORDS = ("response_format", "json_schema", "json_object")
REFUSING = (400, 422, 500)
MAX_FILE = 1_000_000
KEPT = ("context", "presence_penalty", "holds")  # kept only when found


def _key(base_url: str, model: str) -> str:
    return f"{base_url.rstrip('/')} {model}"


def next_mode(mode: str) -> str | None:
    """The mode to try after ``mode`` was refused (None: none is left)."""
    at = MODES.index(mode)
    return MODES[at + 1] if at + 1 < len(MODES) else None


def refuses(error: ProviderError, words: tuple[str, ...]) -> bool:
    """Whether ``error`` is the endpoint refusing a field (named by one of ``words``) before any
    answer was made: a 400, 422 or 500 whose message names it."""
    text = str(error).lower()
    return error.status in REFUSING and any(word in text for word in words)


def hinted(error: ProviderError, body: dict[str, Any]) -> None:
    """Add to ``error`` the setting that would get past it, when it refused a field."""
    if body.get("stream") and refuses(error, ("stream",)):
        error.detail += " (the endpoint refuses streaming: set stream: false, or auto, in the " \
                        "series file's breakdown: block)"
    elif refuses(error, FORMAT_WORDS):
        lower = next_mode(str((body.get("response_format") or {}).get("type", "text")))
        error.detail += f" (the endpoint refuses this response_format: set response_format: " \
                        f"{lower or 'text'}, or auto, in the series file's breakdown: block)"


@dataclass
class Endpoints:
    """What was found of each endpoint; ``path`` the file it is kept in."""

    path: Path
    found: dict[str, dict[str, Any]] = field(default_factory=dict)
    probed: set[tuple[str, str, str]] = field(default_factory=set)  # this run's (``holding``)

    @classmethod
    def of(cls, series: Path) -> Endpoints:
        path = series / FOLDER / "endpoints.json"
        return cls(path, _read(path))

    def mode(self, base_url: str, model: str) -> str | None:
        value = self.found.get(_key(base_url, model), {}).get("response_format")
        return value if value in MODES else None

    def stream(self, base_url: str, model: str) -> bool | None:
        value = self.found.get(_key(base_url, model), {}).get("stream")
        return value if isinstance(value, bool) else None

    def penalty(self, base_url: str, model: str) -> bool | None:
        """False when the endpoint refused ``presence_penalty`` (None: not known)."""
        value = self.found.get(_key(base_url, model), {}).get("presence_penalty")
        return value if isinstance(value, bool) else None

    def held(self, base_url: str, model: str) -> dict[str, bool]:
        """Each mode a probe found the endpoint to hold (True) or not (``holding``)."""
        value = self.found.get(_key(base_url, model), {}).get("holds")
        return {k: v for k, v in value.items() if k in MODES and isinstance(v, bool)} \
            if isinstance(value, dict) else {}

    def holds(self, base_url: str, model: str, mode: str) -> bool | None:
        """Whether the endpoint holds ``mode`` (None: not known)."""
        return self.held(base_url, model).get(mode)

    def context(self, base_url: str, model: str) -> int | None:
        """The context window a refusal taught (tokens), if one did."""
        value = self.found.get(_key(base_url, model), {}).get("context")
        return value if type(value) is int and 0 < value <= 100_000_000 else None

    def note(self, base_url: str, model: str, **found: Any) -> None:
        """Remember ``found`` of the endpoint (written at once: a later failure keeps it)."""
        entry = self.found.setdefault(_key(base_url, model), {})
        if all(entry.get(k) == v for k, v in found.items()):
            return
        entry.update(found)
        text = json.dumps(self.found, indent=1, sort_keys=True) + "\n"
        write_atomic(self.path, text.encode())


def _read(path: Path) -> dict[str, dict[str, Any]]:
    try:
        if path.is_symlink() or path.stat().st_size > MAX_FILE:
            return {}
        data = loads(path.read_bytes())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): {"response_format": v.get("response_format"), "stream": v.get("stream"),
                     **{name: v[name] for name in KEPT if name in v}}
            for k, v in data.items() if isinstance(v, dict)}


def asking_problem(settings: Any) -> None:
    """Refuse settings of how to ask that cannot work (fail closed: NaN, inf, 0, a word not
    known), before any call."""
    if settings.response_format not in (*MODES, "auto"):
        raise StoryboardError(f"response_format must be one of auto, {', '.join(MODES)}; got "
                              f"{settings.response_format!r}")
    if settings.stream not in ("auto", "true", "false"):
        raise StoryboardError(f"stream must be auto, true or false; got {settings.stream!r}")
    for name, most in (("deadline", 86400.0), ("max_answer_mb", 1024.0)):
        value = getattr(settings, name)
        if value is None and name == "deadline":  # fitted to the endpoint's pace (``pace``)
            continue
        if not (isinstance(value, int | float) and 0 < value <= most):
            raise StoryboardError(f"{name} must be a number above 0 and at most {most:g}; got "
                                  f"{value!r}")
    context = getattr(settings, "context", None)
    if context is not None and not (type(context) is int and 512 <= context <= 100_000_000):
        raise StoryboardError(f"context must be a whole number of tokens from 512 to "
                              f"100000000; got {context!r}")
