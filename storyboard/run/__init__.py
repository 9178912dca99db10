"""Compiled shots into rendered, cached, journaled videos: plan, render, status, cancel.

``plan`` is free and offline (``rendering`` lists a shared store for it); ``render`` is the only
stage that talks to a provider. See ``runner`` for the crash-safety rules, ``journal`` for the task
journal, ``cache`` for the output cache and ``lockfile`` for ``storyboard.lock``; ``store`` is the
shared render store (fsspec) and ``sharing`` what a run does with it (a lookup before a submit, a
push after a render).
"""

from storyboard.run.plans import (
    Plan,
    ShotPlan,
    apply_price_overrides,
    check_consent,
    plan,
    plan_for,
)
from storyboard.run.state.cache import CacheEntry, OutputCache
from storyboard.run.state.lock.lockfile import LockFile, lock_path, read_lock
from storyboard.run.state.tasks.journal import Attempt, Journal, read_status
from storyboard.run.trip.budget.costs import estimate
from storyboard.run.trip.cancel import CancelOutcome, cancel_pending, status
from storyboard.run.trip.changes import Change
from storyboard.run.trip.model import RunOptions, RunResult, ShotEvent, ShotResult, Wiring
from storyboard.run.trip.runner import render

__all__ = [
    "Attempt",
    "CacheEntry",
    "CancelOutcome",
    "Change",
    "Journal",
    "LockFile",
    "OutputCache",
    "Plan",
    "RunOptions",
    "RunResult",
    "ShotEvent",
    "ShotPlan",
    "ShotResult",
    "Wiring",
    "apply_price_overrides",
    "cancel_pending",
    "check_consent",
    "estimate",
    "lock_path",
    "plan",
    "plan_for",
    "read_lock",
    "read_status",
    "render",
    "status",
]
