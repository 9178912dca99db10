"""The task journal, the output cache and the lock file as building blocks."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from storyboard.errors import JournalError
from storyboard.run import CacheEntry, Journal, OutputCache, read_status
from storyboard.run.state.lock.lockfile import describe, lock_path, read_lock, update_lock
from storyboard.run.state.tasks.journal import journal_path, scrub
from tests.fixtures.run_fakes import make_shot


def other_process_view(root: Path) -> list[dict[str, object]]:
    """What a second process reads right now (a fresh connection, no shared state)."""
    db = sqlite3.connect(journal_path(root))
    db.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in db.execute("SELECT * FROM attempts ORDER BY id")]
    finally:
        db.close()


def test_intent_and_task_id_are_committed_at_once(tmp_path: Path) -> None:
    shot = make_shot("a")
    with Journal.open(tmp_path) as journal:
        attempt = journal.begin(shot, "fake", "fake-key", estimate=0.2)
        [row] = other_process_view(tmp_path)
        assert (row["state"], row["task_id"], row["shot_hash"]) == ("intent", None, shot.hash)
        journal.set_task(attempt.id, "t-1")
        [row] = other_process_view(tmp_path)
        assert (row["state"], row["task_id"]) == ("submitted", "t-1")
        assert row["submitted_at"] is not None
        mode = journal._db.execute("PRAGMA journal_mode").fetchone()[0]
        assert mode == "wal"


def test_unfinished_lookup_by_hash_and_cache_key(tmp_path: Path) -> None:
    a, b = make_shot("a"), make_shot("b")
    with Journal.open(tmp_path) as journal:
        done = journal.begin(a, "fake", "k", estimate=0.2)
        journal.set_task(done.id, "t-1")
        journal.done(done.id, output_path="x", output_sha256="0" * 64, output_seconds=2,
                     input_video_seconds=0, billed_seconds=2, cost=0.2, currency="USD")
        open_one = journal.begin(a, "fake", "k", estimate=0.2)
        journal.begin(a, "fake", "other-key", estimate=0.2)
        journal.begin(b, "fake", "k", estimate=0.2)
        assert [x.id for x in journal.unfinished(a.hash, "k")] == [open_one.id]
        assert journal.knows_task("k", "t-1") and not journal.knows_task("other-key", "t-1")
        with pytest.raises(JournalError):
            journal.set_task(open_one.id, "t-1")  # one task id, one attempt
    assert [r.state for r in read_status(tmp_path, unfinished_only=True)] == ["intent"] * 3


def test_no_secret_reaches_the_journal(tmp_path: Path) -> None:
    message = ("download of https://oss.example.com/v.mp4?Expires=1&Signature=s3cr3t failed; "
               "header Authorization: Bearer sk-abcdef0123456789")
    with Journal.open(tmp_path) as journal:
        attempt = journal.begin(make_shot("a"), "fake", "k", estimate=0.2)
        journal.fail(attempt.id, "X", message)
    stored = json.dumps(other_process_view(tmp_path))
    assert "s3cr3t" not in stored and "sk-abcdef0123456789" not in stored
    assert "https://oss.example.com/v.mp4" in stored
    assert scrub("api_key=abc123 rest") == "api_key=… rest"


def test_status_of_a_series_that_never_ran_creates_nothing(tmp_path: Path) -> None:
    assert read_status(tmp_path) == []
    assert not (tmp_path / ".storyboard").exists()


def test_cache_put_get_and_leftovers(tmp_path: Path) -> None:
    cache = OutputCache(tmp_path, "dash/scope:intl")
    assert cache.dir.name == "dash_scope_intl"
    tmp = cache.temp_path("h1")
    tmp.write_bytes(b"video bytes")
    entry = CacheEntry("h1", "f" * 64, "fake", "t-1", 7, 2.0, 0.2, "USD")
    cache.put(entry, tmp)
    assert not tmp.exists() and cache.has("h1") and cache.hashes() == {"h1"}
    assert cache.get("h1") == entry
    cache.sidecar("h1").unlink()  # a lost sidecar is rebuilt from the video itself
    rebuilt = cache.get("h1")
    assert rebuilt is not None and rebuilt.sha256 != entry.sha256 and rebuilt.hash == "h1"
    cache.temp_path("h2").write_bytes(b"half")
    assert cache.clean_temporaries() == 1 and cache.hashes() == {"h1"}


def test_lock_file_is_sorted_one_block_per_shot_and_merges(tmp_path: Path) -> None:
    path = lock_path(tmp_path)
    update_lock(path, [describe(make_shot("b"), tmp_path), describe(make_shot("a"), tmp_path)])
    text = path.read_text()
    assert text.index('"demo/ep01/a"') < text.index('"demo/ep01/b"')
    assert json.loads(text)["storyboard_lock"] == 1
    update_lock(path, [describe(make_shot("c", episode="ep00"), tmp_path)])
    assert list(read_lock(path).shots) == ["demo/ep00/c", "demo/ep01/a", "demo/ep01/b"]
    update_lock(path, [], prune_series={"demo": {"demo/ep01/a"}})
    assert list(read_lock(path).shots) == ["demo/ep01/a"]
    assert not list(tmp_path.glob(".storyboard.lock.*"))  # written through a renamed temp file


def test_broken_lock_file_is_a_clear_error(tmp_path: Path) -> None:
    lock_path(tmp_path).write_text("not json")
    with pytest.raises(Exception, match="not a storyboard lock file"):
        read_lock(lock_path(tmp_path))
