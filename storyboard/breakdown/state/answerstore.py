"""Chat requests into stored answers: content-addressed, written atomically before they are used.

The key is a digest of everything that decides an answer: the instructions' version, the model and
every setting in the body (temperature, seed, the schema), and the messages (the source slice and
what earlier stages decided). Not the endpoint or the key. An answer is stored the moment it
arrives, before anything reads it, as ``.storyboard/breakdown/answers/<key>.json`` (a temporary
file beside it, flushed, then renamed), so a run killed at any point leaves either the whole answer
or none, and the next run asks again only what was not answered. An entry that cannot be read
(too large, nested too deep, not JSON: read as untrusted) is treated as absent (asked again with
consent), never as an answer.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from storyboard import files
from storyboard.breakdown.state.statefile import read

FOLDER = Path(".storyboard") / "breakdown"


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
