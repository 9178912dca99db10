"""A story and a series folder into a written series, for an agent: the breakdown's quote and run.

``quote`` is what the breakdown would ask and cost (its cache alone, nothing sent), as a paid
render's ``estimate``; ``write`` runs it under the call's ``max_cost`` and what is left of the
server's ceiling, as a paid render spends. The endpoint, the model and the key's variable come
from the series' ``breakdown:`` block (a person's) or the defaults, never from the agent: a key
reaches only the host its series names.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from storyboard.agents.tools import Refused, Tools
from storyboard.breakdown.pipeline import Options, Report, breakdown
from storyboard.breakdown.settings import merged
from storyboard.errors import BudgetExceeded


def options(folder: Path, budget: float | None, episodes: int | None,
            dry_run: bool = False) -> Options:
    return Options(**merged(folder, {"budget": budget, "episodes": episodes,
                                     "dry_run": dry_run}))


def places(tools: Tools, source: str, series: str) -> tuple[Path, Path]:
    """The story (a file inside the root) and the series folder (inside it too)."""
    story = tools.series(source)
    if not story.is_file():
        raise Refused(f"{source!r} is not a file under the series root")
    return story, tools.series(series)


def quote(tools: Tools, source: str, series: str = ".",
          episodes: int | None = None) -> dict[str, Any]:
    """The breakdown's estimate: its calls and the most they may cost; nothing is sent."""
    story, folder = places(tools, source, series)
    estimate = breakdown(story, folder, options(folder, None, episodes, dry_run=True)).estimate
    return {"provider": f"{estimate.price.model} at {estimate.host}", "currency": "USD",
            "cost": math.ceil(estimate.worst * 1e6) / 1e6, "calls": len(estimate.pending),
            "cached": estimate.cached, "shots": 0, "seconds": 0.0, "waiting_on_boards": 0,
            "rows": [], "key_env": estimate.key_env}


def write(tools: Tools, source: str, series: str = ".", max_cost: float | None = None,
          episodes: int | None = None,
          progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """The breakdown, spending at most ``max_cost`` within the server's ceiling."""
    story, folder = places(tools, source, series)
    with tools.budget.lock:
        allowed = tools.allowed(max_cost)
        try:
            report = breakdown(story, folder, options(folder, allowed, episodes),
                               progress=progress or (lambda _text: None))
        except BudgetExceeded as error:
            raise Refused(str(error)) from error
        tools.budget.spent += report.spend.spent if report.spend is not None else 0.0
    return report_dict(report)


def report_dict(report: Report) -> dict[str, Any]:
    spend = report.spend
    return {"ok": not any(p.severity == "error" for p in report.problems),
            "spent": spend.spent if spend is not None else 0.0, "currency": "USD",
            "calls": report.sent, "cached": report.cached, "shots": report.shots,
            "written": report.outcome.written, "proposed": report.outcome.proposed,
            "problems": [p.message for p in report.problems],
            "warnings_left": len(report.left)}
