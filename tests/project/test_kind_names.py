"""Provider kinds declared once, read from the source (issue 66, item 3).

A kind's name (``targets/kinds.py``'s ``NAMES``: "dashscope", "ark", "local", ...) is compared
nowhere but where kinds are declared: no module compares a value to a kind's name literal (``==``,
``!=``, ``is``, ``in``/``not in`` a literal tuple, list or set holding one, a ``case`` of one),
and none keeps its own tuple of kind names (``SEEDANCE_HOSTS = ("ark", "modelark")`` once did).
What a kind does is a trait on its ``Kind`` (its passes among them), asked through it. The rule is
shown to catch made-up offenders, so it cannot pass by reading nothing.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from storyboard.targets.kinds import NAMES
from tests.fixtures.paths import ROOT

PACKAGE = ROOT / "storyboard"
KIND_NAMES = frozenset(NAMES)
COMPARING = (ast.Eq, ast.NotEq, ast.Is, ast.IsNot, ast.In, ast.NotIn)
# Where a kind's name may be written as a literal, and why:
DECLARING = (
    "targets/kinds.py",  # the declaration of every kind, its name and traits
    "providers/registry.py",  # each family's settings and constructor, keyed by the kinds
)
# The image models' declarations: which kinds make each (``makers``), data read by name.
MAKERS = "targets/cast/assets.py"
EXEMPT = frozenset({*DECLARING, MAKERS})
EXEMPT_FOLDERS = ("emulator/",)


def _names(node: ast.AST) -> list[str]:
    """The kind names ``node`` writes: a string literal, or a literal collection of them."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value] if node.value in KIND_NAMES else []
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return [name for elt in node.elts for name in _names(elt)]
    return []


def _all_names(node: ast.Tuple | ast.List | ast.Set) -> bool:
    """Whether a literal collection is made of kind names alone (a list of kinds)."""
    return bool(node.elts) and len(_names(node)) == len(node.elts)


def _offence(node: ast.AST) -> str | None:
    if isinstance(node, ast.Compare) and any(isinstance(op, COMPARING) for op in node.ops):
        found = [n for side in (node.left, *node.comparators) for n in _names(side)]
        return f"compares with {', '.join(found)}" if found else None
    if isinstance(node, ast.MatchValue) and _names(node.value):
        return f"matches {', '.join(_names(node.value))}"
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)) and _all_names(node):
        return f"lists kinds {', '.join(_names(node))}"
    return None


def offences(source: str) -> list[str]:
    """Each place ``source`` compares with, matches or lists a provider kind's name."""
    found = ((node, _offence(node)) for node in ast.walk(ast.parse(source)))
    return sorted({f"line {getattr(node, 'lineno', 0)}: {what}: {ast.unparse(node)}"
                   for node, what in found if what})


def _checked() -> Iterator[Path]:
    for path in sorted(PACKAGE.rglob("*.py")):
        inside = path.relative_to(PACKAGE).as_posix()
        if inside not in EXEMPT and not inside.startswith(EXEMPT_FOLDERS):
            yield path


def test_no_module_compares_a_provider_kind_by_name() -> None:
    checked = list(_checked())
    assert len(checked) > 100  # the package, not nothing
    found = {path.relative_to(ROOT).as_posix(): offences(path.read_text(encoding="utf-8"))
             for path in checked}
    assert {path: lines for path, lines in found.items() if lines} == {}


def test_every_exemption_is_needed() -> None:
    """The exempt data modules do write kinds' names (an exemption no longer needed is dropped,
    not kept by habit); the declaring modules are exempt by the rule itself."""
    assert offences((PACKAGE / MAKERS).read_text(encoding="utf-8"))
    played = sorted((PACKAGE / EXEMPT_FOLDERS[0]).rglob("*.py"))
    assert any(offences(path.read_text(encoding="utf-8")) for path in played)
    assert all((PACKAGE / inside).is_file() for inside in DECLARING)


@pytest.mark.parametrize("planted", [
    'SEEDANCE_HOSTS = ("ark", "modelark")\n',
    'def f(provider: str) -> bool:\n    return provider == "dashscope"\n',
    'def f(name: str) -> bool:\n    return name != "local"\n',
    'def f(chosen: object) -> bool:\n    return chosen.name in ("kling", "other")\n',
    'def f(kind: str) -> bool:\n    return kind not in {"comfyui"}\n',
    'def f(kind: str) -> int:\n    match kind:\n        case "minimax":\n            return 1\n'
    '    return 0\n',
])
def test_a_planted_offender_is_caught(planted: str) -> None:
    assert offences(planted)


def test_what_is_not_a_kind_name_passes() -> None:
    clean = ('def f(provider: str, kind: object) -> bool:\n'
             '    return provider == "localhost" or kind.edits == "" or provider in ("a", "b")\n'
             'MESSAGE = "render on dashscope"\n')
    assert offences(clean) == []
