"""Chat requests into stored answers: content-addressed, written atomically before they are used.

The key is a digest of everything that decides an answer: the instructions' version, the model and
every setting in the body (temperature, seed, the schema), and the messages (the source slice and
what earlier stages decided). Not the endpoint or the key. An answer is stored the moment it
arrives, before anything reads it, as ``.storyboard/breakdown/answers/<key>.json`` (a temporary
file beside it, flushed, then renamed), so a run killed at any point leaves either the whole answer
or none, and the next run asks again only what was not answered. An entry that cannot be read
(too large, nested too deep, not JSON: read as untrusted) is treated as absent (asked again with
consent), never as an answer. ``questions.json`` beside them pins how the series' questions
were first asked (``AnswerCache.titles_whole``), so a newer storyboard asks an older series'
calls as it asked them, and pays for none of them again.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from storyboard import files
from storyboard.breakdown.state.statefile import read

FOLDER = Path(".storyboard") / "breakdown"
QUESTIONS = "questions.json"  # how the series' questions were first asked: {"titles": "whole"}


def request_key(instructions: str, body: dict[str, Any]) -> str:
    text = json.dumps({"instructions": instructions, "body": body}, sort_keys=True,
                      ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def write_atomic(path: Path, data: bytes) -> None:
    """``data`` at ``path``: whole or not at all, even across a kill, and synced."""
    files.write_atomic(path, data, durable=True)


class AnswerCache:
    """The answers of one series folder."""

    def __init__(self, series: Path) -> None:
        self.series = series
        self.folder = series / FOLDER / "answers"

    def path(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        try:
            record = read(self.path(key))  # bounded in size and depth (``statefile``)
        except (OSError, ValueError):
            return None
        ok = isinstance(record, dict) and isinstance(record.get("content"), str)
        return record if ok else None

    def put(self, key: str, record: dict[str, Any]) -> None:
        text = json.dumps(record, sort_keys=True, ensure_ascii=False, indent=1) + "\n"
        write_atomic(self.path(key), text.encode())

    def titles_whole(self, *, pin: bool) -> bool:
        """Whether this series' shot calls offer quotes whole across a title's stop
        (``quotable.sentences``), as its questions were first asked: pinned in ``QUESTIONS``.
        A series with answers stored and no pin was begun before, and keeps the cut at every
        stop it was asked with (asked otherwise, each of its calls would be paid again); a
        fresh one offers them whole, pinned so when ``pin`` (a run that asks, not a plan)."""
        path = self.series / FOLDER / QUESTIONS
        try:
            pinned = read(path)
        except (OSError, ValueError):
            pinned = None
        if isinstance(pinned, dict) and pinned.get("titles") == "whole":
            return True
        if self.folder.is_dir() and any(self.folder.glob("*.json")):
            return False
        if pin:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, b'{"titles": "whole"}\n')
        return True
