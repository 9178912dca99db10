"""Task attempts into a durable journal: one SQLite row per attempt to render a shot.

Money lives here. The order of writes is what makes a killed run safe to start again:

1. ``begin`` writes and commits an ``intent`` row BEFORE the submit request is sent;
2. ``set_task`` stores the task id the moment the submit answer arrives, before any poll;
3. every status change, the output, the usage and the cost follow.

A row in ``intent`` with no task id means "a submit may or may not have reached the provider": the
runner reconciles it with ``provider.find`` before it ever submits again. A row with a task id that
is not finished is resumed by polling. The two writes that guard money (the intent, the task id)
are committed with ``synchronous=FULL``: they survive a power cut, not only a killed process. The
others use ``NORMAL``, which WAL keeps safe against a killed process; losing one to a power cut
only rolls a row back to a state the next run repairs (a ``done`` whose video is in the cache is
settled from the cache; a ``failed`` task is polled again and fails again, for free). No secret is
ever stored: provider messages are scrubbed of URL query strings (signed download links) and
bearer tokens.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from storyboard.errors import JournalError
from storyboard.language.request import CompiledShot
from storyboard.run.state.tasks.attempts import (
    FINISHED,
    JOURNAL_NAME,
    SCHEMA,
    SCHEMA_VERSION,
    UNFINISHED,
    Attempt,
    AttemptState,
    derived_from,
    image_confusable,
    is_image,
    journal_path,
    lookup_key,
    scrub,
)
from storyboard.run.team.ledger import (
    LEDGER_NAME,
    RECONCILE_HORIZON,
    Ledger,
    LedgerEntry,
    LedgerState,
    ShotClaimed,
)
from storyboard.run.team.ledger import state_dir as ledger_dir

__all__ = [
    "FINISHED", "JOURNAL_NAME", "REDOWNLOAD", "SCHEMA_VERSION", "UNFINISHED", "Attempt",
    "AttemptState", "Journal", "derived_from", "image_confusable", "is_image", "journal_path",
    "lookup_key", "read_status", "scrub",
]


class Journal:
    """The task journal of one series folder. One connection, used from one thread."""

    def __init__(self, path: Path, ledger: Ledger | None = None) -> None:
        self.path = path
        self.ledger = ledger  # every money write is mirrored there (see ``ledger``)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # One connection; the runner drives it from one worker thread (never two at once).
            self._db = sqlite3.connect(path, timeout=30, isolation_level=None,
                                       check_same_thread=False)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(SCHEMA)
            self._migrate()
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            self.was_empty = not self._db.execute("SELECT 1 FROM attempts LIMIT 1").fetchone()
        except sqlite3.DatabaseError as exc:
            raise JournalError(_damaged(path, exc)) from exc
        except OSError as exc:
            raise JournalError(f"cannot open the task journal {path}: {exc}") from exc
        self._durable = True
        self._lock = threading.Lock()
        self._link_unfinished()

    def _migrate(self) -> None:
        """Journals written before the ledger existed lack its column."""
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(attempts)")}
        if "ledger_id" not in columns:
            self._db.execute("ALTER TABLE attempts ADD COLUMN ledger_id TEXT")

    @classmethod
    def open(cls, series_dir: Path, ledger: Ledger | None = None) -> Journal:
        return cls(journal_path(series_dir), ledger)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writing -------------------------------------------------------------------------------

    @contextmanager
    def _write(self, durable: bool) -> Iterator[sqlite3.Connection]:
        """One committed transaction; ``durable`` ones are fsynced before this returns."""
        with self._lock:
            yield from self._transaction(durable)

    def _transaction(self, durable: bool) -> Iterator[sqlite3.Connection]:
        try:
            if durable != self._durable:
                self._db.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
                self._durable = durable
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise JournalError(f"cannot write the task journal {self.path}: {exc}") from exc

    def _update(self, attempt_id: int, durable: bool, **fields: Any) -> None:
        fields["updated_at"] = time.time()
        columns = ", ".join(f"{name} = ?" for name in fields)
        with self._write(durable) as db:
            db.execute(f"UPDATE attempts SET {columns} WHERE id = ?",
                       (*fields.values(), attempt_id))
        state = fields.get("state")
        if state in FINISHED and self.ledger is not None:
            ledger_id = self._ledger_id(attempt_id)
            if ledger_id is not None:
                self.ledger.settle(ledger_id, _LEDGER_STATE[state])

    def _ledger_id(self, attempt_id: int) -> str | None:
        rows = self._select("id = ?", (attempt_id,))
        return rows[0].ledger_id if rows else None

    @property
    def series_dir(self) -> Path:
        return self.path.parent.parent

    def _link_unfinished(self) -> None:
        """Rows written before the ledger existed (or while it was away) get their entry now."""
        if self.ledger is None:
            return
        for attempt in self.attempts(unfinished_only=True):
            if attempt.ledger_id is not None:
                continue
            try:
                entry = self.ledger.intend(attempt.cache_key, attempt.shot_hash, "",
                                           series=str(self.series_dir),
                                           shot=f"{attempt.episode}/{attempt.shot}",
                                           intent_at=attempt.intent_at)
            except ShotClaimed:  # the shot's one open entry exists: this row stays local
                continue
            if attempt.task_id:
                self.ledger.record_task(entry.id, attempt.task_id)
            self.set_ledger(attempt.id, entry.id)

    def restore(self, shot: CompiledShot, provider: str, cache_key: str, *,
                estimate: float, now: float | None = None) -> list[Attempt]:
        """Rows for the ledger's record of ``shot`` when this journal has none (it was deleted,
        or another machine wrote it): open entries whose holder died (taken over here), and
        results of the last 24 hours that this journal does not know. Returns the unfinished
        rows after that, oldest first."""
        if self.ledger is None:
            return []
        horizon = (now or time.time()) - RECONCILE_HORIZON
        linked = {a.ledger_id for a in self.attempts()}
        for entry in self.ledger.entries(cache_key, shot.hash):
            if entry.id in linked or not _worth_restoring(entry, horizon):
                continue
            if entry.open and not self.ledger.take_over(entry.id):
                continue  # a living process holds it: the runner waits for it
            if entry.task_id and self.knows_task(cache_key, entry.task_id, ledger=False):
                continue
            note = f"restored from the ledger {self.ledger.where}"
            if not entry.open:
                note += REDOWNLOAD
            attempt = self.begin(shot, provider, cache_key, estimate=estimate, note=note,
                                 ledger_id=entry.id, intent_at=entry.intent_at)
            if entry.task_id:
                self._update(attempt.id, True, task_id=entry.task_id, state="submitted",
                             submitted_at=entry.updated_at)
        return self.unfinished(shot.hash, cache_key)

    def ledger_entry(self, attempt: Attempt) -> LedgerEntry | None:
        if self.ledger is None or attempt.ledger_id is None:
            return None
        found = [e for e in self.ledger.entries(attempt.cache_key, attempt.shot_hash)
                 if e.id == attempt.ledger_id]
        return found[0] if found else None

    def other_open_intents(self, shot: CompiledShot, cache_key: str, own: set[str | None], *,
                           now: float | None = None, around: float | None = None
                           ) -> list[LedgerEntry]:
        """Open intents without a task id, not in ``own``, that a lookup by this shot's prompt
        could confuse with its own task (any other shot, any series, the last 24 hours; the
        shot's own open entry is its claim, which ``intend`` guards). A generated image is
        looked for by its model and time alone (``image_confusable``): ``around`` is the intent
        being reconciled, None for a submit about to be sent."""
        if self.ledger is None:
            return []
        horizon = (now or time.time()) - RECONCILE_HORIZON
        key = lookup_key(shot)
        found = [e for e in self.ledger.open_for_key(cache_key, key)
                 if e.task_id is None and e.id not in own and e.intent_at >= horizon
                 and e.shot_hash != shot.hash]
        if not is_image(shot):
            return found
        return [e for e in found if image_confusable(e, str(self.series_dir), around)]

    def begin(self, shot: CompiledShot, provider: str, cache_key: str, *, estimate: float,
              note: str = "", ledger_id: str | None = None,
              intent_at: float | None = None) -> Attempt:
        """Write the intent to submit ``shot`` (committed and fsynced) and return its row,
        after the ledger's own record of it. ``intent_at`` and ``ledger_id`` are given when the
        row restores an entry the ledger kept."""
        now = time.time()
        if self.ledger is not None and ledger_id is None:
            claim = self.ledger.intend(
                cache_key, shot.hash, lookup_key(shot),
                series=str(self.series_dir), shot=f"{shot.episode}/{shot.id}",
                intent_at=intent_at)
            self._not_done_elsewhere(claim, shot, cache_key)
            ledger_id = claim.id
        with self._write(durable=True) as db:
            cursor = db.execute(
                "INSERT INTO attempts (series, episode, shot, shot_hash, provider, cache_key,"
                " state, intent_at, estimate, note, updated_at, ledger_id)"
                " VALUES (?,?,?,?,?,?,'intent',?,?,?,?,?)",
                (shot.series, shot.episode, shot.id, shot.hash, provider, cache_key,
                 now if intent_at is None else intent_at, estimate, note or derived_from(shot)
                 or None, now, ledger_id))
            attempt_id = cursor.lastrowid
        assert attempt_id is not None
        return self.get(attempt_id)

    def _not_done_elsewhere(self, claim: LedgerEntry, shot: CompiledShot, cache_key: str) -> None:
        """A claim won just after another run finished the shot (its claim was settled
        ``done`` after this run last looked) is given back: ``ShotClaimed`` names that result,
        which the runner takes from the store or downloads by its task id, unpaid."""
        assert self.ledger is not None
        horizon = time.time() - RECONCILE_HORIZON
        for other in self.ledger.entries(cache_key, shot.hash):
            if (other.id != claim.id and other.state == "done" and other.task_id
                    and _worth_restoring(other, horizon)
                    and not self.knows_task(cache_key, other.task_id, ledger=False)):
                self.ledger.settle(claim.id, "lost")
                raise ShotClaimed(other)

    def set_task(self, attempt_id: int, task_id: str, *, note: str = "") -> None:
        """Record the task id of an attempt: the first thing done when a submit answers."""
        fields: dict[str, Any] = {"task_id": task_id, "state": "submitted",
                                  "submitted_at": time.time()}
        if note:
            fields["note"] = note
        self._update(attempt_id, True, **fields)
        ledger_id = self._ledger_id(attempt_id)
        if self.ledger is not None and ledger_id is not None:
            self.ledger.record_task(ledger_id, task_id)

    def set_ledger(self, attempt_id: int, ledger_id: str) -> None:
        self._update(attempt_id, True, ledger_id=ledger_id)

    def set_state(self, attempt_id: int, state: AttemptState, *, status: str | None = None,
                  note: str | None = None) -> None:
        fields: dict[str, Any] = {"state": state}
        if status is not None:
            fields["last_status"] = status
        if note is not None:
            fields["note"] = note
        self._update(attempt_id, False, **fields)

    def set_status(self, attempt_id: int, status: str) -> None:
        self._update(attempt_id, False, last_status=status)

    def note(self, attempt_id: int, note: str) -> None:
        self._update(attempt_id, False, note=scrub(note))

    def fail(self, attempt_id: int, code: str, message: str, *,
             state: AttemptState = "failed", status: str | None = None,
             cost: float | None = None, currency: str | None = None) -> None:
        """An attempt that ended without a video; ``cost``: what its provider bills for it (a
        task that failed after the render, where the provider bills those), else None."""
        fields: dict[str, Any] = {"state": state, "error_code": code or None,
                                  "error_message": scrub(message) or None}
        if cost is not None:
            fields.update(cost=cost, currency=currency)
        if status is not None:
            fields["last_status"] = status
        self._update(attempt_id, False, **fields)

    def done(self, attempt_id: int, *, output_path: str, output_sha256: str,
             output_seconds: float | None, input_video_seconds: float | None,
             billed_seconds: float, cost: float, currency: str, note: str | None = None) -> None:
        fields: dict[str, Any] = {
            "state": "done", "last_status": "SUCCEEDED", "output_path": output_path,
            "output_sha256": output_sha256, "output_seconds": output_seconds,
            "input_video_seconds": input_video_seconds, "billed_seconds": billed_seconds,
            "cost": cost, "currency": currency}
        if note is not None:
            fields["note"] = note
        self._update(attempt_id, False, **fields)

    # --- reading -------------------------------------------------------------------------------

    def _select(self, where: str = "1", params: tuple[Any, ...] = ()) -> list[Attempt]:
        try:
            with self._lock:
                rows = self._db.execute(f"SELECT * FROM attempts WHERE {where} ORDER BY id",
                                        params).fetchall()
        except sqlite3.Error as exc:
            raise JournalError(f"cannot read the task journal {self.path}: {exc}") from exc
        return [Attempt(**dict(row)) for row in rows]

    def get(self, attempt_id: int) -> Attempt:
        rows = self._select("id = ?", (attempt_id,))
        if not rows:
            raise JournalError(f"no attempt {attempt_id} in {self.path}")
        return rows[0]

    def attempts(self, *, unfinished_only: bool = False) -> list[Attempt]:
        if unfinished_only:
            return self._select(f"state IN ({_placeholders(UNFINISHED)})", UNFINISHED)
        return self._select()

    def unfinished(self, shot_hash: str, cache_key: str) -> list[Attempt]:
        """Attempts for this hash that may still become (or be) a paid task, oldest first: of
        this endpoint (``cache_key`` is its task key), or written before tasks named theirs."""
        keys = _keys(cache_key)
        return self._select(
            f"shot_hash = ? AND cache_key IN ({_placeholders(keys)}) "
            f"AND state IN ({_placeholders(UNFINISHED)})", (shot_hash, *keys, *UNFINISHED))

    def elsewhere(self, shot_hash: str, cache_key: str) -> list[Attempt]:
        """Unfinished attempts of this hash made by the same provider at another endpoint (or
        with another key): never polled here, never a reason to wait."""
        base = cache_key.split("@", 1)[0]
        return [a for a in self._select(
            f"shot_hash = ? AND cache_key LIKE ? AND state IN ({_placeholders(UNFINISHED)})",
            (shot_hash, base + "@%", *UNFINISHED)) if a.cache_key != cache_key]

    def billed_failures(self, cache_key: str) -> list[Attempt]:
        """Attempts of this endpoint that failed and were billed (a result that could not be
        used, a failure its provider bills), oldest first."""
        keys = _keys(cache_key)
        return self._select(f"cache_key IN ({_placeholders(keys)}) AND state = 'failed' "
                            "AND cost > 0", keys)

    def unfinished_for_provider(self, cache_key: str) -> list[Attempt]:
        return self._select(f"cache_key = ? AND state IN ({_placeholders(UNFINISHED)})",
                            (cache_key, *UNFINISHED))

    def knows_task(self, cache_key: str, task_id: str, *, ledger: bool = True) -> bool:
        """Whether this journal (or, with ``ledger``, the ledger) holds this task id."""
        keys = _keys(cache_key)
        if self._select(f"cache_key IN ({_placeholders(keys)}) AND task_id = ?",
                        (*keys, task_id)):
            return True
        return ledger and self.ledger is not None and self.ledger.knows_task(cache_key, task_id)


REDOWNLOAD = ": a finished result, to download again"
_LEDGER_STATE: dict[str, LedgerState] = {
    "done": "done", "failed": "failed", "canceled": "failed", "lost": "lost"}


def _worth_restoring(entry: LedgerEntry, horizon: float) -> bool:
    """An open entry, or a result young enough to download again."""
    if entry.open:
        return True
    return entry.state == "done" and entry.task_id is not None and entry.updated_at >= horizon


def _damaged(path: Path, exc: sqlite3.DatabaseError) -> str:
    return (f"the task journal {path} is damaged ({exc}): move it aside (mv '{path}' "
            f"'{path}.damaged') and run again; tasks in flight are also recorded in the per-user "
            f"ledger {ledger_dir() / LEDGER_NAME}, so the next run resumes them without paying "
            "twice")


def _keys(cache_key: str) -> tuple[str, ...]:
    """A task key and the plain provider key journals wrote before tasks named their endpoint
    (``freepik@https://...#k...`` and ``freepik``): a row of an older journal is still resumed."""
    base = cache_key.split("@", 1)[0]
    return (cache_key, base) if base != cache_key else (cache_key,)


def _placeholders(values: tuple[str, ...]) -> str:
    return ",".join("?" * len(values))


def read_status(series_dir: Path, *, unfinished_only: bool = False) -> list[Attempt]:
    """Every journal row of a series (``storyboard status``); empty when nothing ever ran."""
    path = journal_path(series_dir)
    if not path.exists():
        return []
    with Journal(path) as journal:
        return journal.attempts(unfinished_only=unfinished_only)
