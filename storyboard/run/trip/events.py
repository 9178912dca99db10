"""A shot's steps into what the run's caller hears: events, results, and the ends of a flow.

One ``Events`` per run, handed to every part of a shot's way: ``emit`` tells ``on_event`` (a
broken display never loses a paid task), ``heard`` takes a provider's pushed word on a task (its
``on_progress`` hook), ``result`` and ``end`` make a shot's ``ShotResult`` and the ``Outcome``
that ends its flow early.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from storyboard.language.request import CompiledShot
from storyboard.run.state.cache import OutputCache
from storyboard.run.state.lock.lockfile import shot_key
from storyboard.run.trip.budget.money import Money
from storyboard.run.trip.model import Clock, EventState, ResultState, ShotEvent, ShotResult

log = logging.getLogger("storyboard.run")
UNPOLLED_TASKS, UNPOLLED_WORDS = 64, 500  # progress kept for tasks whose poll has not started


class Outcome(Exception):
    """Ends a shot's flow early with a result."""

    def __init__(self, result: ShotResult) -> None:
        super().__init__(result.message)
        self.result = result


class Events:
    def __init__(self, on_event: Callable[[ShotEvent], None] | None, clock: Clock,
                 cache: OutputCache, money: Money) -> None:
        self.on_event, self.clock, self.cache, self.money = on_event, clock, cache, money
        self.started: dict[str, float] = {}  # a shot's key -> when its flow started
        self.following: dict[str, CompiledShot] = {}  # task id -> the shot its poll waits for
        self.unpolled: dict[str, list[tuple[float | None, str]]] = {}  # words before a poll

    def emit(self, shot: CompiledShot, state: EventState, message: str = "",
             task_id: str | None = None, progress: float | None = None) -> None:
        if self.on_event is None:
            return
        elapsed = self.clock() - self.started.get(shot_key(shot), self.clock())
        output = self.cache.path(shot.hash) if state in ("done", "cached") else None
        event = ShotEvent(shot.episode, shot.id, state, elapsed, round(self.money.spent, 4),
                          message, shot.series, task_id, output, progress)
        try:
            self.on_event(event)
        except Exception:  # a broken progress display must not lose a paid task
            log.exception("on_event callback failed")

    def heard(self, task_id: str, fraction: float | None, message: str) -> None:
        """A provider's word on a task (a step, a node): an event, nothing else; the poll's
        answer alone moves the shot on. Words that come before the task's poll starts (a job
        can start before its submit has answered) wait for it, a few of them."""
        shot = self.following.get(task_id)
        if shot is not None:
            self.emit(shot, "running", message, task_id, fraction)
        elif (task_id in self.unpolled or len(self.unpolled) < UNPOLLED_TASKS) and \
                len(self.unpolled.get(task_id, ())) < UNPOLLED_WORDS:
            self.unpolled.setdefault(task_id, []).append((fraction, message))

    def follow(self, shot: CompiledShot, task_id: str) -> None:
        """The task's poll starts: what its provider said of it so far, then all it says."""
        self.following[task_id] = shot
        for fraction, message in self.unpolled.pop(task_id, []):
            self.emit(shot, "running", message, task_id, fraction)

    def result(self, shot: CompiledShot, state: ResultState, message: str = "", **kw: Any
               ) -> ShotResult:
        return ShotResult(shot.series, shot.episode, shot.id, shot.hash, state, message=message,
                          **kw)

    def end(self, shot: CompiledShot, state: ResultState, message: str, event: EventState,
            **kw: Any) -> Outcome:
        self.emit(shot, event, message, kw.get("task_id"))
        return Outcome(self.result(shot, state, message, **kw))

    def pending(self, shot: CompiledShot, task_id: str, why: str) -> Outcome:
        return self.end(shot, "pending", f"{why}; task {task_id} stays in the journal: run again "
                        "to resume it without paying twice", "failed", task_id=task_id)
