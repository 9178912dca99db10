"""A version's render (``version render``, or a matrix's language variation made as one) into
what the command prints: its lines, passes, spend and episodes, what failed, and ``--json``'s."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from storyboard.run.versions import VersionReport


def version_dict(report: VersionReport) -> dict[str, Any]:
    """A version's render as ``--json`` gives it."""
    shots = report.shots
    return {"language": report.language, "variation": report.made_as, "ok": report.ok,
            "spent": report.spent,
            "currency": report.plan.currency, "planned_cost": report.plan.total_cost,
            "passes": report.passes, "fits": report.fits, "seconds": report.seconds,
            "planned": [{"key": s.key, "status": s.status, "duration": s.duration,
                         "cost": s.cost} for s in report.plan.shots],
            "shots": [{"key": s.key, "state": s.state, "cost": s.cost} for s in shots],
            "episodes": [{"id": e.id, "path": str(e.path), "state": e.state,
                          "subtitles": [str(p) for p in e.subtitles], "message": e.message}
                         for e in report.episodes]}


def failures(report: VersionReport) -> list[str]:
    """What of a version did not come out: each line or pass that failed, each episode not
    stitched, with why."""
    shots = [f"{s.key}: {s.state} {s.message}".rstrip() for s in report.shots if not s.ok]
    return shots + [f"{report.language} {e.id}: {e.state} {e.message}".rstrip()
                    for e in report.episodes if e.state not in ("stitched", "up to date")]


def show(report: VersionReport) -> None:
    """A version's render in a few lines."""
    plan = report.plan
    made_as = f" (variation {report.made_as.partition('/')[2]})" if report.made_as else ""
    click.echo(f"{report.language}{made_as}: {len(report.seconds)} line(s), {len(report.passes)} "
               f"lip-sync pass(es); spent {report.spent:.4f} {plan.currency} (planned "
               f"{plan.total_cost:.4f})")
    for episode in report.episodes:
        said = f": {episode.message}" if episode.message else ""
        click.echo(f"  {episode.id}: {episode.state} {episode.path}{said}")
