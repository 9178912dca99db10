"""Catalogue reports into the lines ``storyboard models check`` prints: one block a target."""

from __future__ import annotations

from collections.abc import Sequence

from storyboard.run.catalogue import Report


def lines(reports: Sequence[Report]) -> list[str]:
    """What each target's catalogue says against its declarations, then the targets not asked."""
    asked = [r for r in reports if r.asked]
    out = [line for report in asked for line in _block(report)]
    out += [f"not asked: {r.target}: {r.why_not}" for r in reports if not r.asked]
    differing = sum(r.differs for r in asked)
    out.append(f"{len(asked)} catalogue(s) read, {differing} differ(s) from the declarations; "
               "nothing was changed")
    return out


def _block(report: Report) -> list[str]:
    marked = f" ({report.source})" if report.source != "official" else ""
    head = f"{report.target}{marked}: {report.listed} id(s) listed"
    if not report.differs:
        return [f"{head}; every declared model is listed"]
    return [f"{head}:",
            *(f"  missing: {name} (declared, not listed)" for name in report.missing),
            *(f"  new: {name} (listed, not declared)" for name in report.new),
            *(f"  different: {said}" for said in report.different)]
