"""No two of storyboard's modules import each other, directly or round a longer loop (issue 48).

The import graph is grimp's (import-linter's own engine), built from every ``import`` in the
source: at module level, inside functions and under ``TYPE_CHECKING`` alike, since each is a
dependency a reader must follow. Each strongly connected component of more than one module is a
circle; there must be none. A made-up circle in a copy of the tree is caught, so the test can fail.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CIRCLES = """
import sys
import grimp

graph = grimp.build_graph("storyboard", cache_dir=None)
edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in sorted(graph.modules)}
index, low, stack, on, found = {}, {}, [], set(), []


def visit(start):  # Tarjan's strongly connected components, iteratively
    work = [(start, iter(edges[start]))]
    index[start] = low[start] = len(index)
    stack.append(start)
    on.add(start)
    while work:
        node, rest = work[-1]
        step = next(rest, None)
        if step is None:
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(" <-> ".join(sorted(component)))
        elif step not in index:
            index[step] = low[step] = len(index)
            stack.append(step)
            on.add(step)
            work.append((step, iter(edges[step])))
        elif step in on:
            low[node] = min(low[node], index[step])


for module in edges:
    if module not in index:
        visit(module)
print("\\n".join(sorted(found)))
"""


def circles(tree: Path) -> list[str]:
    """Each import circle among the ``storyboard`` package under ``tree``."""
    done = subprocess.run([sys.executable, "-c", CIRCLES], cwd=tree, text=True,
                          capture_output=True, timeout=300, check=True,
                          env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"})
    return [line for line in done.stdout.splitlines() if line]


def test_no_module_imports_one_that_imports_it_back() -> None:
    assert circles(ROOT) == []


def test_a_made_up_circle_is_caught(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "storyboard", tmp_path / "storyboard",
                    ignore=shutil.ignore_patterns("__pycache__"))
    low = tmp_path / "storyboard" / "review" / "editors.py"  # export imports it
    low.write_text(low.read_text() + "\n\ndef _late() -> None:\n"
                   "    from storyboard.review import export  # noqa: F401\n")
    deeper = tmp_path / "storyboard" / "language" / "lint" / "limits.py"  # a longer loop, typing only
    deeper.write_text(deeper.read_text() + "\nfrom typing import TYPE_CHECKING\n"
                      "if TYPE_CHECKING:\n    import storyboard.language.compile  # noqa: F401\n")
    found = circles(tmp_path)
    assert len(found) == 2, found
    assert any({"storyboard.review.editors", "storyboard.review.export"} <= set(c.split(" <-> "))
               for c in found), found
    assert any({"storyboard.language.lint.limits", "storyboard.language.compile"} <= set(
        c.split(" <-> ")) for c in found), found
