"""A team's rows in the hand-written queue table (``storyboard_queue``, before the queue stood on
Procrastinate) carried over into the engine's jobs, once, by the first process that opens the queue.

Each row becomes one job of the same render (id, budget, retries by default) in the state it had:
``queued`` (and a ``claimed`` row whose lease passed) waits to be taken, ``done`` and ``failed``
stay so with what they cost and counted and their last word; then the old table is dropped. A row
still claimed under a live lease means a worker of the version before is rendering it: nothing is
carried over, and the error says to stop that worker (or wait for its lease) first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from storyboard.errors import StoryboardError
from storyboard.run.team import engine_pg

OLD = "storyboard_queue"
ROWS = ("SELECT id, render_id, series, provider, shot, shot_hash, tags, budget, state, holder, "
        "tries, cost, counted, message, queued_by, queued_at, after, "
        "lease_until > extract(epoch from clock_timestamp()) FROM storyboard_queue "
        "ORDER BY render_id, queued_at, id")
DONE = {"done": "succeeded", "failed": "failed"}


def carry_over(db: Any, task: str, queue_name: Callable[[str, Sequence[str]], str]) -> int:
    """The old table's rows into jobs of ``task`` on their provider's and tags' queue, and the
    table dropped; how many rows (0: no old table). Runs inside the caller's transaction, under
    the schema's advisory lock."""
    if db.execute(f"SELECT to_regclass('{OLD}')").fetchone()[0] is None:
        return 0
    rows = db.execute(ROWS).fetchall()
    live = [r for r in rows if r[8] == "claimed" and r[17]]
    if live:
        holders = ", ".join(sorted({str(r[9]) for r in live}))
        raise StoryboardError(
            f"the team's queue has {len(live)} shot(s) claimed in the old queue table "
            f"({OLD}) by {holders}: stop those workers (`storyboard worker` of the version "
            "before the queue stood on Procrastinate; Ctrl-C gives their claims back at once), "
            "then start this one again: the old table's shots are carried over then")
    place: dict[str, int] = {}
    for row in rows:
        k = place[row[1]] = place.get(row[1], -1) + 1
        job = engine_pg.defer(db, task, queue_name(row[3], row[6] or ()), -k, None,
                              {"render": row[1], "series": row[2], "provider": row[3],
                               "shot": row[4]})
        if row[8] in DONE:  # the engine's API makes no job in a final state: written as it is
            db.execute("UPDATE procrastinate_jobs SET status = %s, attempts = %s WHERE id = %s",
                       (DONE[row[8]], row[10], job))
        db.execute(
            "INSERT INTO storyboard_queue_shots (job_id, render_id, series, provider, shot, "
            "shot_hash, tags, budget, retries, after, queued_by, queued_at, holder, cost, "
            "counted, message) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,2,%s,%s,%s,%s,%s,%s,%s)",
            (job, row[1], row[2], row[3], row[4], row[5], list(row[6] or ()), row[7], row[16],
             row[14], row[15], row[9], row[11], row[12], row[13]))
    db.execute(f"DROP TABLE {OLD}")
    return len(rows)
