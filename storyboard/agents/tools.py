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

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import storyboard
from storyboard.dialects import DIALECTS
from storyboard.dialects import manifest as manifest_json
from storyboard.errors import BudgetExceeded, Diagnostic, ProblemsFound, StoryboardError
from storyboard.media import ffbinary
from storyboard.review.notes import add_note
from storyboard.review.sheet import build_sheet
from storyboard.run import read_status
from storyboard.run.rendering import RenderReport, render_series

PROVIDERS = ("local", *DIALECTS)


class Refused(StoryboardError):
    """A call the server will not carry out; its message says why (and what the plan costs)."""


@dataclass
class Budget:
    """The server's ceiling and what its paid calls have spent (across calls, for its life)."""

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
        manifest = compiled(self.series(series), provider)
        dialect = DIALECTS.get(provider or "dashscope", DIALECTS["dashscope"])
        return manifest_json.to_dict(manifest, episode=episode, shot=shot, dialect=dialect)

    def plan(self, series: str = ".", provider: str | None = None, episode: str | None = None,
             draft: bool = False) -> dict[str, Any]:
        the_plan = storyboard.plan(self.series(series), provider=provider, episode=episode,
                                   draft=draft)
        self.last_plan = the_plan.to_dict()
        return self.last_plan

    def status(self, series: str = ".") -> dict[str, Any]:
        rows = read_status(self.series(series))
        return {"attempts": [{"episode": r.episode, "shot": r.shot, "state": r.state,
                              "status": r.last_status, "task_id": r.task_id,
                              "provider": r.provider, "estimate": r.estimate,
                              "cost": r.cost, "error": r.error_message} for r in rows]}

    def sheet(self, series: str = ".", draft: bool = False) -> dict[str, Any]:
        result = build_sheet(self.series(series), draft=draft)
        return {"html": str(result.html), "episodes": result.episodes, "panels": result.panels,
                "problems": len(result.problems)}

    def doctor(self) -> dict[str, Any]:
        return dict(ffbinary.doctor_report(ffbinary.current()))

    def note(self, shot: str, text: str, series: str = ".", take: int | None = None,
             author: str = "agent") -> dict[str, Any]:
        return add_note(self.series(series), shot, text, take=take, author=author).to_dict()

    def render(self, series: str = ".", provider: str = "local", episode: str | None = None,
               max_cost: float | None = None) -> dict[str, Any]:
        """A ``local`` render spends nothing (drafts when the series' provider is paid); any
        other provider needs ``max_cost`` and fits under the server's ceiling, or is refused."""
        if provider not in PROVIDERS:
            raise Refused(f"unknown provider {provider!r}; expected one of: {', '.join(PROVIDERS)}")
        folder = self.series(series)
        if provider == "local":
            return report_dict(render_series(compiled(folder, None), provider="local",
                                             episode=episode, draft=True, yes=True))
        return self._paid(folder, provider, episode, max_cost)

    def _paid(self, folder: Path, provider: str, episode: str | None,
              max_cost: float | None) -> dict[str, Any]:
        if max_cost is None or max_cost < 0:
            raise Refused("a paid render needs max_cost (USD): the most this call may spend")
        with self.budget.lock:  # one paid call at a time: the ceiling is shared
            allowed = min(max_cost, self.budget.left)
            the_plan = storyboard.plan(folder, provider=provider, episode=episode)
            self.last_plan = the_plan.to_dict()
            if the_plan.total_cost > allowed:
                raise Refused(refusal(the_plan.total_cost, the_plan.currency, max_cost,
                                      self.budget, self.last_plan))
            try:
                report = render_series(compiled(folder, provider), provider=provider,
                                       episode=episode, budget=allowed, yes=False)
            except BudgetExceeded as error:
                raise Refused(str(error)) from error
            self.budget.spent += report.run.spent if report.run is not None else 0.0
        return report_dict(report)


def refusal(cost: float, currency: str, max_cost: float, budget: Budget,
            plan: dict[str, Any]) -> str:
    shots = [f"{s['key']}: {s['status']} {s['cost']:.2f}" for s in plan["shots"]]
    return (f"refused, nothing was submitted: the plan costs about {cost:.2f} {currency}, more "
            f"than this call may spend ({min(max_cost, budget.left):.2f}: max_cost "
            f"{max_cost:.2f}, the server's ceiling {budget.ceiling:.2f} of which "
            f"{budget.spent:.2f} is spent). Plan: " + "; ".join(shots))


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


def problems_text(error: ProblemsFound) -> str:
    return error.format()
