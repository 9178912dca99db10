"""Chat requests into stored answers: content-addressed, written atomically before they are used.

The key is a digest of everything that decides an answer: the instructions' version, the model and
every setting in the body (temperature, seed, the schema), and the messages (the source slice and
what earlier stages decided). Not the endpoint or the key. An answer is stored the moment it
arrives, before anything reads it, as ``.storyboard/breakdown/answers/<key>.json`` (a temporary
file beside it, flushed, then renamed), so a run killed at any point leaves either the whole answer
or none, and the next run asks again only what was not answered. An entry that cannot be read
(too large, nested too deep, not JSON: read as untrusted) is treated as absent (asked again with
consent), never as an answer. ``questions.json`` beside them pins the rules the series' calls
were first asked and judged by (``AnswerCache.rules``), so a newer storyboard asks an older
series' calls as it asked them, and pays for none of them again.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from storyboard import files
from storyboard.breakdown.state.statefile import read

FOLDER = Path(".storyboard") / "breakdown"
QUESTIONS = "questions.json"  # the rules the series' calls were first asked by: {"rules": 4}
# 1: quotes cut at every full stop, a line's speaker read inside its shot's lines; 2: a title's
# stop ends no quote, and a line's speaker is read around its shot; 3: a scene whose action tells
# what its shot's lines do not is sent back; 4: a speaker read in more ways (no quote past its
# paragraph, more verbs of saying, a cry's subject) and a line given to the one it speaks to is
# sent back (``stages.speakers``, ``Chapter.rules``)
RULES = 4


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

    def rules(self, *, pin: bool) -> int:
        """The rules this series' season calls are asked and judged by (``Chapter.rules``), as
        its first were: pinned in ``QUESTIONS``. A series with answers stored and no pin was
        begun before the rules were pinned, and keeps 1 (asked or judged otherwise, its calls
        would be asked and paid for again); a fresh one takes ``RULES``, pinned so when ``pin``
        (a run that asks, not a plan)."""
        path = self.series / FOLDER / QUESTIONS
        try:
            pinned = read(path)
        except (OSError, ValueError):
            pinned = None
        found = pinned.get("rules") if isinstance(pinned, dict) else None
        if type(found) is int and 1 <= found <= RULES:
            return found
        if self.folder.is_dir() and any(self.folder.glob("*.json")):
            return 1
        if pin:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, f'{{"rules": {RULES}}}\n'.encode())
        return RULES
