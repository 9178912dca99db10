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
import os
import tempfile
from pathlib import Path
from typing import Any

from storyboard.breakdown.statefile import read
from storyboard.files import NEW_FILE_MODE

FOLDER = Path(".storyboard") / "breakdown"


def request_key(instructions: str, body: dict[str, Any]) -> str:
    text = json.dumps({"instructions": instructions, "body": body}, sort_keys=True,
                      ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def write_atomic(path: Path, data: bytes) -> None:
    """``data`` at ``path``: whole or not at all, even across a kill."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, NEW_FILE_MODE)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


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
