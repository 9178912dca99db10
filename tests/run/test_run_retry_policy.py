"""One name per concept (issue 99): the runner's backoff, the breakdown's chat client's and the queue
workers' are one ``RetryPolicy`` (a base doubled each try up to a cap, a service's ``Retry-After``
honoured instead, full jitter where the waiters are many); the queue's task is declared once."""

from __future__ import annotations

import random

import pytest

from storyboard.backoff import RetryPolicy
from storyboard.breakdown.chat import client
from storyboard.run.team import ledger_pg
from storyboard.run.workers import engine, jobs


def test_a_base_doubles_each_try_up_to_its_cap() -> None:
    steady = RetryPolicy(base=2.0, cap=60.0, jitter=False)
    assert [steady.delay(tries) for tries in range(1, 8)] == [2, 4, 8, 16, 32, 60, 60]


def test_a_retry_after_is_honoured_instead_and_capped_only_where_the_policy_says() -> None:
    assert RetryPolicy(base=1.0, cap=5.0, jitter=False).delay(3, said=120.0) == 120.0
    assert RetryPolicy(base=1.0, cap=5.0, jitter=False, cap_said=True).delay(3, 120.0) == 5.0
    assert RetryPolicy(base=1.0, cap=5.0, jitter=False, cap_said=True).delay(3, 2.0) == 2.0


@pytest.mark.parametrize("tries", [1, 3, 9])
def test_full_jitter_waits_at_most_the_doubling_and_a_little_over_a_retry_after(tries: int
                                                                                 ) -> None:
    policy, rng = RetryPolicy(base=1.0, cap=60.0), random.Random(tries)
    waits = [policy.delay(tries, rng=rng) for _ in range(200)]
    assert all(0 <= w <= min(60.0, 2 ** (tries - 1)) for w in waits)
    assert len(set(waits)) > 100  # spread, so many shots do not come back at once
    said = [policy.delay(tries, 30.0, rng) for _ in range(200)]
    assert all(30.0 <= w <= 31.0 for w in said) and len(set(said)) > 100


def test_the_chat_client_and_the_workers_wait_by_the_one_policy() -> None:
    assert isinstance(client.BACKOFF, RetryPolicy) and isinstance(jobs.BACKOFF, RetryPolicy)
    assert [client.BACKOFF.delay(a) for a in (1, 2, 5, 9)] == [2, 4, 30, 30]  # at most MAX_WAIT
    assert client.BACKOFF.delay(1, 45.0) == client.MAX_WAIT
    assert [jobs.backoff(f) for f in (0, 1, 2, 3, 6, 40)] == [2, 2, 4, 8, 60, 60]
    assert [engine.AWAY.delay(t) for t in range(1, 7)] == [0.2, 0.4, 0.8, 1.6, 2.0, 2.0]


def test_the_queue_task_is_declared_once_at_module_level_and_every_workers_app_runs_it() -> None:
    """Procrastinate's way: the task declared where its module is imported, not registered by
    each worker at run time; each worker's own app (several may run in one process) runs it."""
    from storyboard.run.team.queue_pg import TASK
    assert list(jobs.SHOTS.tasks) == [TASK]
    task = jobs.SHOTS.tasks[TASK]
    assert task.pass_context and isinstance(task.retry_strategy, jobs.ShotRetry)
    one, two = (engine.app_on(f"postgresql://127.0.0.1:9/{n}", 1.0) for n in ("a", "b"))
    assert one.tasks[TASK] is task and two.tasks[TASK] is task


def test_the_team_ledgers_reconnects_wait_by_the_one_policy() -> None:
    assert isinstance(ledger_pg.BACKOFF, RetryPolicy)
    assert [ledger_pg.BACKOFF.delay(t) for t in range(1, 8)] == [0.1, 0.2, 0.4, 0.8, 1.6, 2, 2]
