"""The import graph of ``storyboard/run/`` into figures: floors, modules and arrows per floor.

    python bench/floors.py

A floor is one of ``run/``'s packages (``trip``, ``state``, ``team``) or the route: the modules of
``run/`` itself and the boards' package (the contract gives the route floors of its own); the
order is the one ``.importlinter``'s floors contract holds. An arrow is one module importing
another inside ``run/`` (grimp's graph: imports under ``TYPE_CHECKING`` and inside functions count
too); an arrow back up goes from a lower floor to a higher one (the contract keeps it at 0).
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # this checkout's storyboard, not another installed one
    sys.path.insert(0, str(ROOT))

RUN = "storyboard.run"
FLOORS = ("route", "trip", "state", "team")


def floor_of(module: str) -> str:
    """The floor a module of ``run/`` stands on (``run/__init__.py`` is the route's)."""
    parts = module.split(".")
    return parts[2] if len(parts) > 2 and parts[2] in FLOORS else "route"


def lines_of(module: str) -> int:
    path = ROOT.joinpath(*module.split("."))
    file = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    return len(file.read_text(encoding="utf-8").splitlines())


def main() -> None:
    graph = grimp.build_graph("storyboard", cache_dir=None)
    modules = sorted(m for m in graph.modules if m == RUN or m.startswith(RUN + "."))
    arrows = [(m, d) for m in modules for d in graph.find_modules_directly_imported_by(m)
              if d in modules]
    up = [(m, d) for m, d in arrows if FLOORS.index(floor_of(d)) < FLOORS.index(floor_of(m))]
    print(f"{'floor':<6} {'modules':>7} {'lines':>6} {'median':>6} {'arrows out':>10} "
          f"{'within':>6}")
    for floor in FLOORS:
        mine = [m for m in modules if floor_of(m) == floor]
        out = [a for a in arrows if floor_of(a[0]) == floor]
        within = [a for a in out if floor_of(a[1]) == floor]
        sizes = [lines_of(m) for m in mine]
        print(f"{floor:<6} {len(mine):>7} {sum(sizes):>6} {statistics.median(sizes):>6.0f} "
              f"{len(out):>10} {len(within):>6}")
    print(f"{len(modules)} modules on {len(FLOORS)} floors, {len(arrows)} arrows, "
          f"{len(up)} back up" + "".join(f"\n  up: {m} -> {d}" for m, d in up))


if __name__ == "__main__":
    main()
