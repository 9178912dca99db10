"""The house's standing rules, read from the source (issue 66, item 8).

No module of the project's own code (the package, ``bench/``, ``hooks/``, ``tools/``) reaches
another module's private names: no ``from x import _y`` (at module level or
inside a function), no ``module._y`` through an imported module, and no ``thing._y`` on anything
but the module's own ``self``, ``cls`` or ``super()`` (a private name is its own module's to
change). And no module of the package is over 500 lines, and every package folder keeps at most
12 loose modules over its packages, save the folders declared apart (plug-ins, not yet in floors,
over it today and not to grow). Each rule is also shown to catch a made-up offender, so no test
can pass by reading nothing.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import NamedTuple

import pytest

from tests.fixtures.paths import ROOT

# The project's own code: the package, its benchmarks, the docs' hooks and the tools (the tests
# reach into what they test, white-box, and are not held to it).
SOURCES = ("storyboard", "bench", "hooks", "tools")
MAX_LINES = 500
OWN = frozenset({"self", "cls"})
# Documented public names of the standard library that merely start with an underscore.
STDLIB_PUBLIC = frozenset({"os._exit", "sys._getframe"})


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _reached(node: ast.Attribute) -> str | None:
    """``thing._y`` as written, unless ``thing`` is the module's own (self, cls, super())."""
    value = node.value
    if isinstance(value, ast.Name) and value.id in OWN:
        return None
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and \
            value.func.id == "super":
        return None
    written = ast.unparse(node)
    return None if written in STDLIB_PUBLIC else written


def offences(source: str) -> list[str]:
    """Each place ``source`` imports or reaches a private name of another module."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            found += [f"line {node.lineno}: from {node.module or '.'} import {a.name}"
                      for a in node.names if _private(a.name)]
        elif isinstance(node, ast.Import):
            found += [f"line {node.lineno}: import {a.name}" for a in node.names
                      if any(_private(part) for part in a.name.split("."))]
        elif isinstance(node, ast.Attribute) and _private(node.attr):
            written = _reached(node)
            found += [f"line {node.lineno}: {written}"] if written else []
    return found


def modules() -> list[Path]:
    return sorted(path for folder in SOURCES for path in (ROOT / folder).rglob("*.py"))


def test_no_module_reaches_another_modules_private_names() -> None:
    found = {str(path.relative_to(ROOT)): offences(path.read_text(encoding="utf-8"))
             for path in modules()}
    assert {path: where for path, where in found.items() if where} == {}


@pytest.mark.parametrize("source, expected", [
    ("from storyboard.animatic.draw import _Graph\n", "from storyboard.animatic.draw import _Graph"),
    ("def f():\n    from storyboard.review.jianying import _library\n",
     "from storyboard.review.jianying import _library"),
    ("from storyboard.animatic import draw\ndraw._filter('x')\n", "draw._filter"),
    ("def f(provider):\n    return provider._json\n", "provider._json"),
    ("import storyboard._private\n", "import storyboard._private"),
])
def test_a_made_up_offence_is_caught(source: str, expected: str) -> None:
    assert any(expected in offence for offence in offences(source)), offences(source)


def test_a_modules_own_private_names_are_its_own() -> None:
    source = ("class A:\n    def f(self):\n        return self._x, type(self)._y\n"
              "    @classmethod\n    def g(cls):\n        return cls._z, super()._w\n"
              "def h():\n    import os\n    os._exit(0)\n    return _local\n")
    assert offences(source) == ["line 3: type(self)._y"]


def too_long(paths: list[Path]) -> dict[str, int]:
    counted = {str(p.relative_to(p.parents[1])): len(p.read_text(encoding="utf-8").splitlines())
               for p in paths}
    return {path: lines for path, lines in counted.items() if lines > MAX_LINES}


def test_no_module_is_over_500_lines() -> None:
    assert too_long(sorted((ROOT / "storyboard").rglob("*.py"))) == {}


def test_a_module_over_500_lines_is_caught(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    fits, over = tmp_path / "pkg" / "fits.py", tmp_path / "pkg" / "over.py"
    fits.write_text("x = 1\n" * MAX_LINES)
    over.write_text("x = 1\n" * (MAX_LINES + 1))
    assert too_long([fits, over]) == {"pkg/over.py": MAX_LINES + 1}


MAX_LOOSE = 12  # modules directly in a package folder, its own packages aside (issue 87, item 2)


class Declared(NamedTuple):
    """A folder under ``storyboard/`` (``run/trip``) the folder rule treats apart, and why."""

    folder: str
    reason: str


# Folders of plug-ins: one module per dialect, target or vendor beside their shared machinery, a
# flat list by design (as sqlglot's ``dialects/``). Only the folder itself: a package inside it is
# ruled like any other.
PLUG_INS = (
    Declared("dialects", "one module per wire dialect (ark, kling, minimax, native, ...) on base.py"),
)

# Folders not yet in floors, each with the step that moves it: a folder named here keeps any number
# of loose modules until then. None today: every folder holds the rule.
NOT_YET_IN_FLOORS: tuple[Declared, ...] = ()


def loose_modules(folder: Path) -> list[str]:
    """The modules directly in ``folder``, its ``__init__.py`` aside."""
    return sorted(p.name for p in folder.glob("*.py") if p.name != "__init__.py")


def package_folders(root: Path) -> dict[str, int]:
    """Each package folder under ``root/storyboard`` (``run/trip``; the top one ``.``) and how many
    loose modules it holds."""
    top = root / "storyboard"
    return {init.parent.relative_to(top).as_posix(): len(loose_modules(init.parent))
            for init in sorted(top.rglob("__init__.py"))}


def folder_breaches(root: Path, plug_ins: tuple[Declared, ...] = PLUG_INS,
                    not_yet: tuple[Declared, ...] = NOT_YET_IN_FLOORS) -> list[str]:
    """Each package folder over 12 loose modules, and each declaration gone stale."""
    counts = package_folders(root)
    apart = {declared.folder for declared in plug_ins + not_yet}
    said = [f"storyboard/{folder}/: {count} loose modules, over {MAX_LOOSE}: put them in packages "
            "that say what they are"
            for folder, count in counts.items() if folder not in apart and count > MAX_LOOSE]
    said += [f"storyboard/{folder}/ is declared but is no package" for folder in sorted(apart)
             if folder not in counts]
    said += [f"storyboard/{folder}/ holds the rule now: take it out of its table"
             for folder in sorted(d.folder for d in not_yet)
             if folder in counts and counts[folder] <= MAX_LOOSE]
    return said


def test_every_folder_keeps_at_most_12_loose_modules_over_its_packages() -> None:
    assert folder_breaches(ROOT) == []


def test_the_route_keeps_its_floors() -> None:
    run = ROOT / "storyboard" / "run"
    packages = [p.name for p in run.iterdir() if (p / "__init__.py").is_file()]
    assert {"trip", "state", "team"} <= set(packages) and len(packages) >= 4, packages


def test_a_loose_module_is_counted(tmp_path: Path) -> None:
    for name in ("__init__.py", "a.py", "b.py", "notes.txt"):
        (tmp_path / name).write_text("", encoding="utf-8")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "c.py").write_text("", encoding="utf-8")
    assert loose_modules(tmp_path) == ["a.py", "b.py"]


def _package(root: Path, folder: str, modules: int) -> None:
    path = root / "storyboard" / folder
    path.mkdir(parents=True, exist_ok=True)
    for name in ["__init__"] + [f"m{n}" for n in range(modules)]:
        (path / f"{name}.py").write_text("", encoding="utf-8")


def test_a_new_loose_module_in_a_ruled_folder_is_caught(tmp_path: Path) -> None:
    _package(tmp_path, ".", 3)
    _package(tmp_path, "cli", MAX_LOOSE)
    _package(tmp_path, "cli/render", MAX_LOOSE)  # a package's modules are its own, not cli's
    assert folder_breaches(tmp_path, (), ()) == []
    (tmp_path / "storyboard" / "cli" / "new.py").write_text("", encoding="utf-8")
    assert folder_breaches(tmp_path, (), ()) == [
        "storyboard/cli/: 13 loose modules, over 12: put them in packages that say what they are"]


def test_only_a_declared_folder_itself_stands_apart(tmp_path: Path) -> None:
    _package(tmp_path, ".", 0)
    _package(tmp_path, "dialects", 20)
    _package(tmp_path, "language", 50)
    plug_ins = (Declared("dialects", "one module a dialect"),)
    not_yet = (Declared("language", "moves next"),)
    assert folder_breaches(tmp_path, plug_ins, not_yet) == []
    _package(tmp_path, "dialects/vendors", 13)
    assert folder_breaches(tmp_path, plug_ins, not_yet) == [
        "storyboard/dialects/vendors/: 13 loose modules, over 12: put them in packages that say what "
        "they are"]


def test_a_stale_declaration_is_caught(tmp_path: Path) -> None:
    _package(tmp_path, ".", 0)
    _package(tmp_path, "language", 13)
    not_yet = (Declared("language", "moves next"), Declared("gone", "moved"))
    assert folder_breaches(tmp_path, (Declared("dialects", "plug-ins"),), not_yet) == [
        "storyboard/dialects/ is declared but is no package",
        "storyboard/gone/ is declared but is no package"]
    (tmp_path / "storyboard" / "language" / "m0.py").unlink()  # 12 now: in floors, ruled as any
    assert folder_breaches(tmp_path, (), not_yet[:1]) == [
        "storyboard/language/ holds the rule now: take it out of its table"]
