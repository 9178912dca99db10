"""Scene entries into timed windows: ``at: 0-3s`` (or ``"[0-3s] text"``), in order, within the shot.

Point 5 of "Compiling a shot", for scenes: a window is ``A-Bs`` with A < B, scenes are in order, do
not overlap and end at or before the shot's duration. Every problem is located at its scene.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from storyboard.errors import Diagnostic
from storyboard.language.document import Document, PathKey

WINDOW = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*s?\s*-\s*(\d+(?:\.\d+)?)\s*s\s*$")
SHORTHAND = re.compile(r"^\s*\[([^\]]*)\]\s*(.*)$", re.S)


@dataclass
class ResolvedScene:
    index: int
    start: float
    end: float
    action: str
    say: list[tuple[str, str]]
    path: PathKey
    # The speakers heard and never lip-synced (``voiceover: true``: all of them; a list: those
    # named, off screen), and each line's route to the lips (``routes``), in ``say``'s order.
    voiceover: frozenset[str] = frozenset()
    routes: list[str] = field(default_factory=list)


def parse(problems: list[Diagnostic], doc: Document, where: PathKey, scene: Any, index: int
          ) -> ResolvedScene | None:
    """One scene entry into its window, action and lines; None (with a problem) if it has none."""
    if isinstance(scene, str):
        match = SHORTHAND.match(scene)
        if match is None:
            problems.append(doc.diagnostic(where, 'expected a scene like "[0-3s] what happens"',
                                           code="scene-form"))
            return None
        window, action = match.group(1), match.group(2).strip()
        say: dict[str, Any] = {}
    elif isinstance(scene, dict) and isinstance(scene.get("at"), str):
        window, action = scene["at"], str(scene.get("action", "")).strip()
        say = scene["say"] if isinstance(scene.get("say"), dict) else {}
        if not action and not say:
            problems.append(doc.diagnostic(where, "a scene needs an 'action' or a 'say'",
                                           code="scene-form"))
    else:
        return None
    at_path = where if isinstance(scene, str) else (*where, "at")
    found = _window(problems, doc, at_path, window)
    if found is None:
        return None
    lines = [(str(k), str(v)) for k, v in say.items()]
    heard = _voiceover(problems, doc, where, scene, [k for k, _ in lines])
    return ResolvedScene(index, found[0], found[1], action, lines, where, heard)


def _voiceover(problems: list[Diagnostic], doc: Document, where: PathKey, scene: Any,
               speakers: list[str]) -> frozenset[str]:
    """``voiceover: true`` (every line of the scene) or a list of its speakers heard off screen."""
    value = scene.get("voiceover") if isinstance(scene, dict) else None
    if value is True:
        return frozenset(speakers)
    if not isinstance(value, list):
        return frozenset()
    for index, name in enumerate(value):
        if name not in speakers:
            problems.append(doc.diagnostic((*where, "voiceover", index), (
                f"{name!r} says no line in this scene; expected one of its speakers: "
                f"{', '.join(speakers) or '(none: the scene has no say)'}"), code="line-route"))
    return frozenset(str(name) for name in value if name in speakers)


def _window(problems: list[Diagnostic], doc: Document, at_path: PathKey, window: str
            ) -> tuple[float, float] | None:
    found = _WINDOWS.get(window)
    if found is not None:
        return found
    timing = WINDOW.match(window)
    if timing is None:
        problems.append(doc.diagnostic(at_path, f"{window!r} is not a time window; expected "
                                                "A-Bs, e.g. 0-3s", code="scene-window"))
        return None
    start, end = float(timing.group(1)), float(timing.group(2))
    if start >= end:
        problems.append(doc.diagnostic(at_path, f"window {window!r} ends before it starts; "
                                                "expected A < B", code="scene-window"))
        return None
    if len(_WINDOWS) < 10_000:
        _WINDOWS[window] = (start, end)
    return start, end


_WINDOWS: dict[str, tuple[float, float]] = {}  # each good window's text read once: "0-3s"


def check_windows(problems: list[Diagnostic], doc: Document, scenes: list[ResolvedScene],
                  duration: object) -> None:
    """Scenes in order, not overlapping, within the shot's ``duration``."""
    previous: ResolvedScene | None = None
    for scene in scenes:
        if previous is not None and scene.start < previous.start:
            problems.append(doc.diagnostic(window_path(doc, scene), (
                f"scene {scene.index} starts at {_n(scene.start)}s, before scene "
                f"{previous.index}; expected scenes in order"), code="scene-order"))
        elif previous is not None and scene.start < previous.end:
            problems.append(doc.diagnostic(window_path(doc, scene), (
                f"scene {scene.index} [{_n(scene.start)}-{_n(scene.end)}s] overlaps scene "
                f"{previous.index} [{_n(previous.start)}-{_n(previous.end)}s]"),
                code="scene-order"))
        if isinstance(duration, int) and scene.end > duration:
            problems.append(doc.diagnostic(window_path(doc, scene), (
                f"scene {scene.index} ends at {_n(scene.end)}s, past the shot's end "
                f"({duration}s); expected windows within the shot"), code="scene-window"))
        previous = scene


def shorthand_offset(scene: Any) -> int:
    """Where the action text starts inside a ``"[0-3s] text"`` string."""
    if not isinstance(scene, str):
        return 0
    match = SHORTHAND.match(scene)
    return match.start(2) if match else 0


def _n(value: float) -> str:
    return f"{value:g}"


def window_path(doc: Document, scene: ResolvedScene) -> PathKey:
    raw = doc.get(scene.path)
    return scene.path if isinstance(raw, str) else (*scene.path, "at")
