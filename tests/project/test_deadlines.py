"""The tests that start the real command in a child process (``storyboard mcp``, a render killed
with SIGKILL and resumed) wait for it as long as a loaded 2-core machine needs: no wall-clock
deadline in them is shorter than ``LOADED``. They assert what happened, not how fast."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.fixtures.paths import ROOT
from tests.fixtures.patience import LOADED

TESTS = ROOT / "tests"
# The tests of issue 63.14 and the fixtures they wait through.
CHILDREN = ("agents/test_mcp.py", "providers/test_gateway_render.py", "cli/test_cli_dashscope.py",
            "providers/test_comfyui_render.py", "fixtures/dashscope_cli.py",
            "fixtures/comfyui.py", "fixtures/mcp.py", "fixtures/cast.py")


def files() -> list[Path]:
    found = {TESTS / name for name in CHILDREN} | set(TESTS.rglob("test_mcp*.py"))
    return sorted(found)


def deadlines(tree: ast.AST) -> Iterator[tuple[int, float]]:
    """Every number given as a ``timeout=`` or added to ``time.monotonic()``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "timeout" and \
                isinstance(node.value, ast.Constant) and isinstance(node.value.value, int | float):
            yield node.value.lineno, float(node.value.value)
        if isinstance(node, ast.arguments):
            for arg, default in zip(node.args[::-1], node.defaults[::-1], strict=False):
                if arg.arg == "timeout" and isinstance(default, ast.Constant) and \
                        isinstance(default.value, int | float):
                    yield default.lineno, float(default.value)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add) and \
                "monotonic" in ast.unparse(node.left) and isinstance(node.right, ast.Constant) \
                and isinstance(node.right.value, int | float):
            yield node.right.lineno, float(node.right.value)


def test_no_wait_for_a_child_is_shorter_than_a_loaded_machine_needs() -> None:
    short = [f"{path.relative_to(ROOT)}:{line}: {seconds:g} s"
             for path in files() for line, seconds in deadlines(ast.parse(path.read_text()))
             if seconds < LOADED]
    assert short == [], f"deadlines shorter than {LOADED:g} s: {short}"


def test_the_check_sees_a_short_deadline() -> None:
    tree = ast.parse("child.wait(timeout=10)\nend = time.monotonic() + 60\n"
                     "def wait(check, timeout=30): ...\n")
    assert sorted(deadlines(tree)) == [(1, 10.0), (2, 60.0), (3, 30.0)]
