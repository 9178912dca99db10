"""A sheet's episode and cast views into the stills they show, by name (what the studio may serve)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from storyboard.review.sheet.model import Asset, Episode


def episode_stills(ep: Episode) -> dict[str, Path]:
    """Every still an episode shows, by its name (what the studio's page may ask for)."""
    found = [ep.poster] if ep.poster is not None else []
    for p in ep.panels:
        found += [*p.stills, *(r.still for r in p.references if r.still is not None),
                  *(t.still for t in p.takes if t.still is not None),
                  *(t.still for t in (p.board.takes if p.board else ()) if t.still is not None),
                  *(still for strip in p.findings for still in strip.stills)]
    return {still.path.name: still.path for still in found}


def cast_stills(cast: Sequence[Asset]) -> dict[str, Path]:
    """Every still the Cast section shows, by its name."""
    return {t.still.path.name: t.still.path for a in cast for t in a.takes if t.still is not None}
