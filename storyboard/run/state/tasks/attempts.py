"""Journal rows into ``Attempt`` records: the journal's row type, its table and states, and what a
row is looked up by (a lost submit's ``lookup_key``, a derived take's origin, messages scrubbed of
secrets). ``journal.py`` writes and reads the rows; everything here is plain data and pure functions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from storyboard.language.request import CompiledShot
from storyboard.providers import base
from storyboard.run.team.ledger import LedgerEntry, find_key
from storyboard.targets.wire.gateways import listed_without_prompt

AttemptState = Literal[
    "intent", "submitted", "running", "downloading", "done", "failed", "canceled", "lost"]
UNFINISHED: tuple[AttemptState, ...] = ("intent", "submitted", "running", "downloading")
FINISHED: tuple[AttemptState, ...] = ("done", "failed", "canceled", "lost")

SCHEMA_VERSION = 1
JOURNAL_NAME = "journal.sqlite"

SCHEMA = """
CREATE TABLE IF NOT EXISTS attempts (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    series          TEXT NOT NULL,
    episode         TEXT NOT NULL,
    shot            TEXT NOT NULL,
    shot_hash       TEXT NOT NULL,
    provider        TEXT NOT NULL,
    cache_key       TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN
                    ('intent','submitted','running','downloading','done','failed','canceled','lost')),
    task_id         TEXT,
    intent_at       REAL NOT NULL,
    submitted_at    REAL,
    last_status     TEXT,
    error_code      TEXT,
    error_message   TEXT,
    note            TEXT,
    estimate        REAL,
    output_path     TEXT,
    output_sha256   TEXT,
    output_seconds  REAL,
    input_video_seconds REAL,
    billed_seconds  REAL,
    cost            REAL,
    currency        TEXT,
    updated_at      REAL NOT NULL,
    ledger_id       TEXT
);
CREATE INDEX IF NOT EXISTS attempts_by_hash ON attempts (shot_hash, cache_key, state);
CREATE UNIQUE INDEX IF NOT EXISTS attempts_by_task ON attempts (cache_key, task_id)
    WHERE task_id IS NOT NULL;
"""

_URL_QUERY = re.compile(r"(https?://[^\s?\"']+)\?[^\s\"']*")
_BEARER = re.compile(r"(?i)(bearer\s+|api[_-]?key[=:]\s*)[^\s,\"']+")
_SK_KEY = re.compile(r"\bsk-[A-Za-z0-9_-]{8,}")


def scrub(text: str) -> str:
    """Drop what could be a secret from a provider message: signed URL queries, keys, tokens."""
    text = _URL_QUERY.sub(r"\1?…", text)
    text = _BEARER.sub(r"\1…", text)
    return _SK_KEY.sub("sk-…", text)[:2000]


def lookup_key(shot: CompiledShot) -> str:
    """What a lookup of ``shot``'s lost submit tells apart: its model and prompt, or for a
    generated image its model alone (an image task's answer does not carry its prompt, so any
    image task of the model could be its), or on a target whose list shows no prompt (Ark) its
    model and the settings the list shows. Submits with one key are sent one at a time."""
    request = shot.request
    if is_image(shot):
        return find_key(request.model, "")
    if listed_without_prompt(request.model):
        return find_key(request.model, f"{request.duration} s, {request.resolution}, "
                                       f"{request.ratio}, seed {request.seed}")
    return find_key(request.model, request.prompt)


def derived_from(shot: CompiledShot) -> str:
    """What a derived take is made from, as its intent row says it: ``edit of take 1 (HASH)``
    ("" for a take of its own)."""
    made = shot.canonical.get("derived")
    if not isinstance(made, dict):
        return ""
    kind = "edit" if made.get("kind") == "edit" else "lip-sync"
    return f"{kind} of take {made.get('take')} ({str(made.get('from'))[:12]})"


def is_image(shot: CompiledShot) -> bool:
    return shot.asset is not None and shot.asset.kind == "image"


def image_confusable(entry: LedgerEntry, series: str, around: float | None) -> bool:
    """Whether another unanswered image submit (``entry``) could be confused with one of
    ``series``: one of the same series always is (the hold stays in its series). Another
    series' never holds a new submit back (its task, once answered, is known to the ledger, so
    no lookup meets it); when a lost submit at ``around`` is reconciled, another series' counts
    only if their tasks may have been created in the same window (``LOST_SUBMIT_LANDS``)."""
    if entry.series == series:
        return True
    window = base.LOST_SUBMIT_LANDS + base.CLOCK_SKEW
    return around is not None and abs(entry.intent_at - around) <= window


@dataclass(frozen=True)
class Attempt:
    """One journal row, as read back."""

    id: int
    series: str
    episode: str
    shot: str
    shot_hash: str
    provider: str
    cache_key: str
    state: AttemptState
    task_id: str | None
    intent_at: float
    submitted_at: float | None
    last_status: str | None
    error_code: str | None
    error_message: str | None
    note: str | None
    estimate: float | None
    output_path: str | None
    output_sha256: str | None
    output_seconds: float | None
    input_video_seconds: float | None
    billed_seconds: float | None
    cost: float | None
    currency: str | None
    updated_at: float
    ledger_id: str | None = None  # its entry in the per-user ledger (``ledger``)

    @property
    def key(self) -> str:
        return f"{self.series}/{self.episode}/{self.shot}"

    @property
    def finished(self) -> bool:
        return self.state in FINISHED

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def journal_path(series_dir: Path) -> Path:
    return series_dir / ".storyboard" / JOURNAL_NAME
