"""An agent's tool calls into library calls, with the money rules held inside: never an unannounced bill.

Every function here is one MCP tool's body, and maps one to one onto the library: ``check``,
``compile``, ``plan``, ``status``, ``sheet``, ``doctor`` are free; ``note`` and a ``local`` render
write files and spend nothing; a ``render`` with a paid provider spends, and only under both limits:
the call's own ``max_cost`` (required) and what is left of the server's ceiling, which no call can
raise. A paid call re-plans first and is refused, with the plan, when the plan costs more than it
may; it never asks anyone to confirm (there is nobody to ask), and the runner's budget holds the
same limit while it runs. Every path is relative to the server's root and may not leave it.
"""

from __future__ import annotations

import fnmatch
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import storyboard
from storyboard.agents import matrix
from storyboard.dialects import DIALECTS
from storyboard.dialects import manifest as manifest_json
from storyboard.errors import (
    BudgetExceeded,
    Diagnostic,
    StoryboardError,
    printable,
    shown,
)
from storyboard.language.read.schemacheck import did_you_mean
from storyboard.media import ffbinary
from storyboard.review.notes import note_on
from storyboard.review.sheet import build_sheet
from storyboard.run import read_status
from storyboard.run.choices.checks import approve_checked
from storyboard.run.pipeline import RenderReport, render_series
from storyboard.run.plans import Plan
from storyboard.run.rendering import plan_setup
from storyboard.run.setup import Callbacks, RenderFlags, RunSetup, open_run, prepare, single
from storyboard.run.state import takes
from storyboard.run.state.tasks.journal import Attempt
from storyboard.run.trip.budget.costs import estimate
from storyboard.run.trip.cancel import failure_of
from storyboard.run.trip.model import ShotEvent
from storyboard.targets.kinds import DASHSCOPE, KINDS, has, is_paid
from storyboard.targets.prices import amount, under

PROVIDERS = tuple(name for name, kind in KINDS.items() if kind.agents)
Listener = Callable[[ShotEvent], None]  # hears a run's progress (a task's cancel hooks in here)


def elsewhere(folder: Path, provider: str | None, rows: list[Attempt]
              ) -> tuple[list[dict[str, Any]], list[str]]:
    """``Tools.status``'s shots made elsewhere, as ``storyboard status`` looks for them
    (``seasonstatus.looked_elsewhere``), and why they could not all be looked for (a store or a
    ledger out of reach, a series that does not compile)."""
    from storyboard.review.seasonstatus import elsewhere_dict, looked_elsewhere
    from storyboard.run.state.lock.lockfile import lock_path, read_lock
    from storyboard.run.trip.cancel import current_versions
    try:
        variants = matrix.variants(folder, provider)
        lock = read_lock(lock_path(variants.root))
        now = current_versions(takes.every_take(variants.manifests, lock))
        shown = {r.key for r in rows if (r.key, r.shot_hash) in now}
        made, notes, name = looked_elsewhere(
            variants, lambda counted: matrix.variants(folder, counted), provider, rows, shown)
    except StoryboardError as error:  # the journal is still answered
        return [], [f"shots made elsewhere not looked for: {error}"]
    return [elsewhere_dict(s, name) for s in made], notes


class Refused(StoryboardError):
    """A call the server will not carry out; its message says why (and what the plan costs)."""


@dataclass
class Budget:
    """The server's ceiling and what its paid calls have spent (across calls, for its life), as
    the runner's budget counts it: each task at no less than its list price (a call over its
    plan counts what its run counted, ``RunResult.budget_spent``)."""

    ceiling: float
    spent: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def left(self) -> float:
        return max(0.0, round(self.ceiling - self.spent, 6))


@dataclass
class Tools:
    root: Path
    budget: Budget
    last_plan: dict[str, Any] = field(default_factory=dict)

    def series(self, path: str) -> Path:
        """``path`` (relative to the root) as a folder inside the root, or Refused."""
        if not printable(path):
            raise Refused(f"{shown(path)}: expected a path of printable characters")
        if Path(path).is_absolute():
            raise Refused(f"{path!r}: give a path relative to the series root, not an absolute one")
        target = (self.root / path).resolve()
        if not target.is_relative_to(self.root):
            raise Refused(f"{path!r} leaves the series root {self.root}; only paths inside it")
        return target

    def check(self, series: str = ".", provider: str | None = None) -> dict[str, Any]:
        problems = storyboard.check(self.series(series), provider=provider)
        return {"ok": not any(p.severity == "error" for p in problems),
                "problems": [problem_dict(p) for p in problems]}

    def compile(self, series: str = ".", provider: str | None = None, episode: str | None = None,
                shot: str | None = None) -> dict[str, Any]:
        manifest = as_picked(compiled(self.series(series), provider), provider)
        episodes = [e.id for e in manifest.episodes]
        if episode is not None and episode not in episodes:
            raise Refused(f"no episode {episode!r} in this series{did_you_mean(episode, episodes)}"
                          f"; expected one of: {', '.join(episodes)}")
        ids = sorted({s.id for e in manifest.episodes if episode in (None, e.id) for s in e.shots})
        if shot is not None and shot not in ids:
            where = f"episode {episode}" if episode else "this series"
            raise Refused(f"no shot {shot!r} in {where}{did_you_mean(shot, ids)}; expected a "
                          "shot id (ballad, or ballad#2 for its second take)")
        dialect = DIALECTS.get(provider or DASHSCOPE.name, DIALECTS[DASHSCOPE.name])
        return manifest_json.to_dict(manifest, episode=episode, shot=shot, dialect=dialect)

    def plan(self, series: str = ".", provider: str | None = None, episode: str | None = None,
             draft: bool = False) -> dict[str, Any]:
        folder = self.series(series)
        if matrix.is_matrix(folder):  # as `storyboard plan` plans it: versions beside renders
            self.last_plan = matrix.plan(folder, RenderFlags(provider, episode, draft))
            return self.last_plan
        the_plan = storyboard.plan(folder, provider=provider, episode=episode, draft=draft)
        self.last_plan = the_plan.to_dict()
        return self.last_plan

    def status(self, series: str = ".", provider: str | None = None) -> dict[str, Any]:
        """The journal's attempts, and the shots it lacks at their current version that are
        made or being made elsewhere (the store, the team's ledger, another run), as ``storyboard
        status`` names them (``made_elsewhere``), and why they were not all looked for (``notes``)."""
        folder = self.series(series)
        rows = read_status(folder)
        made, notes = elsewhere(folder, provider, rows)
        return {"attempts": [{"episode": r.episode, "shot": r.shot, "state": r.state,
                              "status": r.last_status, "task_id": r.task_id,
                              "provider": r.provider, "estimate": r.estimate,
                              "cost": r.cost, "error": r.error_message,
                              "failure": failure_dict(r)} for r in rows],
                "made_elsewhere": made, "notes": notes}

    def sheet(self, series: str = ".", draft: bool = False) -> dict[str, Any]:
        result = build_sheet(self.series(series), draft=draft)
        return {"html": str(result.html), "episodes": result.episodes, "panels": result.panels,
                "problems": len(result.problems)}

    def doctor(self) -> dict[str, Any]:
        return dict(ffbinary.doctor_report(ffbinary.current()))

    def read_file(self, path: str) -> str:
        """A file of the series as text (a link out of the root is refused, never read)."""
        target = self.series(path)
        if not target.is_file():
            raise Refused(f"{path!r} is not a file of the series")
        return target.read_text(encoding="utf-8", errors="replace")

    def note(self, shot: str, text: str, series: str = ".", take: int | None = None,
             author: str = "agent") -> dict[str, Any]:
        """A note on a shot of a series (compiled first: a folder that is not a series, or a shot
        it does not have, is refused with the command line's "did you mean")."""
        return note_on(compiled(self.series(series), None), shot, text, take=take,
                       author=author).to_dict()

    def takes(self, shot: str, series: str = ".") -> dict[str, Any]:
        rows = takes.take_rows(compiled(self.series(series), None), shot)
        return {"shot": shot, "takes": [row.to_dict() for row in rows]}

    def pick(self, shot: str, take: int, series: str = ".",
             replace_approved: bool = False) -> dict[str, Any]:
        """``pick`` as the CLI applies it: an approved shot's other take only with
        ``replace_approved`` (its approval is then lifted)."""
        takes.pick(compiled(self.series(series), None), shot, take,
                   replace_approved=replace_approved)
        return {"shot": shot, "picked": take}

    def approve(self, shot: str, series: str = ".", force: bool = False) -> dict[str, Any]:
        """``approve`` as the CLI applies it: a take with findings is refused unless ``force``."""
        manifest = compiled(self.series(series), None)
        return {"shot": shot, "approved": approve_checked(manifest, shot, force=force)}

    def retake(self, shot: str, count: int = 1, series: str = ".", provider: str = "local",
               max_cost: float | None = None, on_event: Listener | None = None) -> dict[str, Any]:
        """``count`` more takes of ``shot``; a paid provider is priced and refused first, before
        anything is written, when the takes cost more than this call may spend."""
        folder = self.series(series)
        if not has(provider, "drafts"):
            self._price_retake(folder, provider, shot, count, max_cost)
        asked = takes.ask_retakes(compiled(folder, None), shot, count, provider=provider,
                                  free=has(provider, "drafts"))
        report = self._render(folder, provider, None, max_cost, asked.takes, asked.changes,
                              on_event)
        made = all(s["state"] in ("done", "cached") for s in report["shots"])
        return {"asked": asked.message, **report, "ok": made,
                "stitched": all(e["state"] != "skipped" for e in report["episodes"])}

    def _price_retake(self, folder: Path, provider: str, shot: str, count: int,
                      max_cost: float | None) -> None:
        allowed = self.allowed(max_cost)
        manifest = compiled(folder, provider)
        setup = prepare(manifest, provider=provider, offline=True)
        one = at_list_price(takes.find_shot(manifest, shot), setup)
        if not under(one * count, allowed):
            raise Refused(f"refused, nothing was submitted or written: {count} take(s) of {shot} "
                          f"cost about {one * count:.2f} {setup.prices.currency}, more than this "
                          f"call may spend ({allowed:.2f})")

    def allowed(self, max_cost: object) -> float:
        """The most this call may spend: its ``max_cost`` (a finite amount: NaN, inf and
        negative numbers are refused) within what is left of the ceiling."""
        if max_cost is None:
            raise Refused("a paid call needs max_cost (USD): the most this call may spend")
        try:
            asked = amount(max_cost, "max_cost")
        except ValueError as error:
            raise Refused(f"refused, nothing was submitted: {error}") from error
        return min(asked, self.budget.left)

    def render(self, series: str = ".", provider: str = "local", episode: str | None = None,
               max_cost: float | None = None, boards: bool = False, queue: bool = False,
               on_event: Listener | None = None) -> dict[str, Any]:
        """A ``local`` render spends nothing (drafts when the series' provider is paid); any
        other provider needs ``max_cost`` and fits under the server's ceiling, or is refused.
        ``boards``: the boards pass (a still per shot and the cast they use, no video);
        ``queue``: priced and consented the same way, then queued on the team ledger for
        ``storyboard worker``s (``queue render``) instead of rendered here."""
        if queue:
            return self._queue(self.series(series), provider, episode, max_cost)
        return self._render(self.series(series), provider, episode, max_cost, (), (), on_event,
                            boards)

    def _queue(self, folder: Path, provider: str, episode: str | None,
               max_cost: float | None) -> dict[str, Any]:
        """``queue render``: what the workers may spend counts against this server's ceiling
        now, as it was agreed to here."""
        from storyboard.run.workers.queueing import queue_render
        if provider not in PROVIDERS or has(provider, "drafts"):
            raise Refused(f"queue: expected a provider that renders (not local), got {provider!r}")
        if matrix.is_matrix(folder):
            raise Refused("queue: this series has a variations matrix, which is not queued (by "
                          "a tool call or `storyboard queue render`): render it here, with a "
                          "`render` call without `queue` (held to max_cost) or `storyboard "
                          "render SERIES`")
        paid = is_paid(provider)
        allowed = self.allowed(max_cost) if paid else 0.0
        with self.budget.lock:
            priced = self._priced(folder, provider, episode, (), ())
            cost = priced.cost
            if paid and not under(cost, min(allowed, self.budget.left)):
                raise Refused(refusal(cost, priced.currency, max_cost or 0.0, self.budget,
                                      priced.to_dict()))
            flags = RenderFlags(provider, episode, yes=not paid,
                                budget=min(allowed, self.budget.left) if paid else None)
            queued = queue_render(single(compiled(folder, provider)), flags, Callbacks(),
                                  base=self.root)
            self.budget.spent += cost if paid else 0.0
        return {"queued": queued.shots, "render": queued.render_id, "series": queued.series,
                "provider": queued.provider, "budget": queued.budget,
                "currency": queued.currency, "ledger": queued.where}

    def estimate(self, series: str = ".", provider: str | None = None, episode: str | None = None,
                 shot: str | None = None, count: int = 1, boards: bool = False) -> dict[str, Any]:
        """What a paid ``render`` (or, with ``shot``, a ``retake`` of ``count`` takes) would
        spend and buy, priced as the paid call is held to it; nothing is submitted or written."""
        folder = self.series(series)
        name = provider or compiled(folder, None).provider
        if name not in PROVIDERS:
            raise Refused(f"unknown provider {name!r}; expected one of: {', '.join(PROVIDERS)}")
        if shot is not None:
            return self._retake_quote(folder, name, shot, count)
        priced = self._priced(folder, name, episode, (), (), boards)
        the_plan = priced.plan
        rows = [s for s in the_plan.shots if s.renders]
        return {"provider": name, "currency": the_plan.currency, "cost": priced.cost,
                "shots": len(rows), "seconds": round(sum(s.billed_seconds for s in rows), 3),
                "waiting_on_boards": sum(1 for s in the_plan.shots if s.status == "waits"),
                "rows": [{"key": s.key, "status": s.status, "cost": s.cost,
                          "seconds": s.billed_seconds} for s in the_plan.shots],
                **({"versions": [v.to_dict() for v in priced.versions]} if priced.versions
                   else {})}

    def _retake_quote(self, folder: Path, provider: str, shot: str, count: int) -> dict[str, Any]:
        manifest = compiled(folder, provider)
        setup = prepare(manifest, provider=provider, offline=True)
        found = takes.find_shot(manifest, shot)
        one = at_list_price(found, setup)
        return {"provider": provider, "currency": setup.prices.currency,
                "cost": round(one * count, 6), "shots": count,
                "seconds": float(found.request.duration * count), "waiting_on_boards": 0,
                "rows": [{"key": found.shot_id, "status": "retake", "cost": one,
                          "seconds": float(found.request.duration)}] * count}

    def _render(self, folder: Path, provider: str, episode: str | None, max_cost: float | None,
                shots: tuple[str, ...], changes: tuple[Any, ...] = (),
                on_event: Listener | None = None, boards: bool = False) -> dict[str, Any]:
        """``changes``: a retake's lock change, written by the render once it may spend."""
        if provider not in PROVIDERS:
            raise Refused(f"unknown provider {provider!r}; expected one of: {', '.join(PROVIDERS)}")
        if has(provider, "drafts"):
            flags = RenderFlags(provider, episode, draft=True, yes=True, shots=shots,
                                take_changes=changes, boards=boards)
            if matrix.is_matrix(folder):
                return matrix.report_dict(matrix.drafts(folder, flags,
                                                        Callbacks(on_event=on_event)))
            return report_dict(render_series(compiled(folder, None), flags,
                                             Callbacks(on_event=on_event)))
        return self._paid(folder, provider, episode, max_cost, shots, changes, on_event, boards)

    def _paid(self, folder: Path, provider: str, episode: str | None,
              max_cost: float | None, shots: tuple[str, ...],
              changes: tuple[Any, ...], on_event: Listener | None = None,
              boards: bool = False) -> dict[str, Any]:
        allowed = self.allowed(max_cost)
        with self.budget.lock:  # one paid call at a time: the ceiling is shared
            allowed = min(allowed, self.budget.left)
            priced = self._priced(folder, provider, episode, shots, changes, boards)
            cost = priced.cost
            self.last_plan = priced.to_dict()
            if not under(cost, allowed):  # fails closed
                raise Refused(refusal(cost, priced.currency, max_cost or 0.0, self.budget,
                                      self.last_plan))
            flags = RenderFlags(provider, episode, budget=allowed, shots=shots,
                                take_changes=changes, boards=boards)
            try:
                if matrix.is_matrix(folder):  # as `storyboard render` renders it
                    made = matrix.render(folder, flags, Callbacks(on_event=on_event))
                    if matrix.submitted(made):
                        self.budget.spent += max(made.budget_spent, cost)
                    return matrix.report_dict(made)
                report = render_series(compiled(folder, provider), flags,
                                       Callbacks(on_event=on_event))
            except BudgetExceeded as error:
                raise Refused(str(error)) from error
            run = report.run
            if run is not None and run.submits:
                self.budget.spent += max(run.budget_spent, cost)
        return report_dict(report)

    def _priced(self, folder: Path, provider: str, episode: str | None,
                shots: tuple[str, ...], changes: tuple[Any, ...],
                boards: bool = False) -> matrix.Priced:
        """The plan of a paid call, and what it counts against the limits: each task at no
        less than the list price of its model (a series' own prices cannot lower it); a
        matrix's as ``storyboard render`` makes it, its versions priced too."""
        flags = RenderFlags(provider, episode, take_changes=changes, boards=boards)

        def cost(setup: RunSetup, the_plan: Plan) -> float:
            by_hash = {shot.hash: shot for shot in setup.shots}
            return sum(max(s.cost if the_plan.currency == setup.provider.list_prices.currency
                           else 0.0, at_list_price(by_hash[s.hash], setup))
                       for s in the_plan.shots if s.renders and _chosen(s.key, shots))
        if matrix.is_matrix(folder):
            return matrix.priced(folder, flags, cost)
        with open_run(single(compiled(folder, provider)), flags) as setup:
            the_plan = plan_setup(setup)
            return matrix.Priced(the_plan, round(cost(setup, the_plan), 6))


def at_list_price(shot: Any, setup: Any) -> float:
    """A take of ``shot`` at its provider's published price (in that price list's currency)."""
    return estimate(shot, setup.provider.list_prices, setup.seconds)[1]


def _chosen(key: str, shots: tuple[str, ...]) -> bool:
    """Whether a plan line (``series/ep/shot#k``) is one of the shots asked for (all when none)."""
    if not shots:
        return True
    return any(fnmatch.fnmatch(key if "#" in pattern else key.partition("#")[0], "*/" + pattern)
               for pattern in shots)


def refusal(cost: float, currency: str, max_cost: float, budget: Budget,
            plan: dict[str, Any]) -> str:
    shots = [f"{s['key']}: {s['status']} {s['cost']:.2f}" for s in plan["shots"]]
    return (f"refused, nothing was submitted: the plan costs about {cost:.2f} {currency}, more "
            f"than this call may spend ({min(max_cost, budget.left):.2f}: max_cost "
            f"{max_cost:.2f}, the server's ceiling {budget.ceiling:.2f} of which "
            f"{budget.spent:.2f} is spent). Plan: " + "; ".join(shots))


def as_picked(manifest: Any, provider: str | None) -> Any:
    """The manifest as the lock's picks make it (as ``storyboard compile`` prints it)."""
    from storyboard.run.state.takes import with_retakes
    from storyboard.targets.kinds import is_paid, named
    name = named(manifest.provider, provider)
    return with_retakes(manifest, free=not is_paid(name))


def compiled(folder: Path, provider: str | None) -> Any:
    manifest = storyboard.compile(folder, provider=provider)
    return manifest


def problem_dict(problem: Diagnostic) -> dict[str, Any]:
    span = problem.span
    return {"file": str(span.file) if span else None, "line": span.line if span else None,
            "column": span.col if span else None, "severity": problem.severity,
            "message": problem.message}


def report_dict(report: RenderReport) -> dict[str, Any]:
    run = report.run
    return {
        "ok": report.ok,
        "planned_cost": report.plan.total_cost, "currency": report.plan.currency,
        "spent": run.spent if run else 0.0, "submits": run.submits if run else 0,
        "shots": [{"episode": r.episode, "shot": r.shot, "state": r.state,
                   "message": r.message} for r in (run.shots if run else [])],
        "episodes": [{"id": e.id, "state": e.state, "path": str(e.path), "message": e.message}
                     for e in report.episodes]}


def failure_dict(row: Attempt) -> dict[str, object] | None:
    """A failed attempt in our words: refused at submit or after the render, billed or not, the
    input a content refusal flagged."""
    failure = failure_of(row)
    return failure.to_dict() if failure is not None else None
