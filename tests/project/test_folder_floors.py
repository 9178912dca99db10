"""Each folder's imports, drawn, into the arrows that go back up (issue 99, item 1).

For every package folder that holds packages, at any depth, the graph of its direct children
(its packages and its loose modules) is drawn from the source with ``ast``: every import, at
module level, inside a function or under ``TYPE_CHECKING``, counts. A cycle among the children is
an arrow back up, named at its ``file:line``; so is an arrow against the order the folder's layers
contract in ``.importlinter`` declares. And every such folder has that contract, naming each of its
children, so ``lint-imports`` holds the floors too. Each rule is shown to catch a made-up breach.
"""

from __future__ import annotations

import ast
import configparser
import functools
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from tests.fixtures.paths import ROOT

# Folders whose floors are not yet declared, each taken out when its floors land. None today
# (cli's landed with its render flags in a floor of their own): every folder holds the rule.
PENDING: frozenset[str] = frozenset()
# A package's own doors, not rooms: the folder itself, and the command it runs as.
DOORS = frozenset({"__init__", "__main__"})


class Arrow(NamedTuple):
    """One import from one child of a folder to another, where it is written."""

    source: str
    target: str
    where: str

    def __str__(self) -> str:
        return f"{self.source} -> {self.target} ({self.where})"


def dotted(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def folders(root: Path) -> list[Path]:
    """Every package folder under ``root/storyboard`` (itself included) that holds a package."""
    top = root / "storyboard"
    inits = [top / "__init__.py", *sorted(top.rglob("*/__init__.py"))]
    return [init.parent for init in inits
            if any((sub / "__init__.py").is_file() for sub in init.parent.iterdir())]


def children(folder: Path) -> list[str]:
    """A folder's packages and loose modules, by name, its doors aside."""
    packages = [p.name for p in folder.iterdir() if (p / "__init__.py").is_file()]
    return sorted(packages + [p.stem for p in folder.glob("*.py") if p.stem not in DOORS])


def imported(node: ast.Import | ast.ImportFrom, package: str) -> Iterator[str]:
    """Each dotted name an import statement may reach (``from a import b``: ``a`` and ``a.b``)."""
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
        return
    base = package.split(".")
    module = ".".join(base[:len(base) - node.level + 1] + ([node.module] if node.module else [])) \
        if node.level else node.module or ""
    yield module
    yield from (f"{module}.{alias.name}" for alias in node.names)


@functools.cache
def imports(path: Path, root: Path) -> tuple[tuple[int, tuple[str, ...]], ...]:
    """Each import statement of a module, anywhere in it: its line, the dotted names it reaches."""
    module = dotted(path, root)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    return tuple((node.lineno, tuple(imported(node, package)))
                 for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                 if isinstance(node, ast.Import | ast.ImportFrom))


def reexported(folder: Path, name: str) -> dict[str, str]:
    """The names ``folder``'s ``__init__.py`` takes from its children, each into that child: an
    import of ``storyboard.stitch.stitch`` is an arrow to ``stitcher``, where it is made."""
    tree = ast.parse((folder / "__init__.py").read_text(encoding="utf-8"))
    return {alias.asname or alias.name: node.module.removeprefix(f"{name}.").split(".")[0]
            for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
            and node.module and node.module.startswith(f"{name}.") for alias in node.names}


def arrows(folder: Path, root: Path) -> list[Arrow]:
    """Every import from one child of ``folder`` into another, module level or not, a name the
    folder's ``__init__.py`` re-exports counted as an import of the child it comes from."""
    name, rooms = dotted(folder / "__init__.py", root), set(children(folder))
    exported = {alias: room for alias, room in reexported(folder, name).items() if room in rooms}
    found: set[Arrow] = set()
    for path in sorted(folder.rglob("*.py")):
        source = path.relative_to(folder).parts[0].removesuffix(".py")
        if source not in rooms:
            continue
        for line, targets in imports(path, root):
            where = f"{path.relative_to(root).as_posix()}:{line}"
            for target in targets:
                room = target.removeprefix(f"{name}.").split(".")[0]
                room = room if room in rooms else exported.get(room, room)
                if target.startswith(f"{name}.") and room in rooms and room != source:
                    found.add(Arrow(source, room, where))
    return sorted(found)


def cycles(edges: list[Arrow]) -> list[Arrow]:
    """The arrows that close a cycle: those whose target reaches back to their source."""
    reach: dict[str, set[str]] = {}
    for arrow in edges:
        reach.setdefault(arrow.source, set()).add(arrow.target)
    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            here = todo.pop()
            if here == goal:
                return True
            if here not in seen:
                seen.add(here)
                todo += reach.get(here, ())
        return False
    return [arrow for arrow in edges if reaches(arrow.target, arrow.source)]


def declared_floors(config: Path) -> dict[str, list[set[str]]]:
    """Each layers contract of ``.importlinter``: its container (``""`` for none) into its floors,
    top first, each floor the set of names on it."""
    parser = configparser.ConfigParser()
    parser.read(config, encoding="utf-8")
    floors: dict[str, list[set[str]]] = {}
    for section in parser.sections():
        if parser.get(section, "type", fallback="") != "layers":
            continue
        layers = [{name.strip().strip("()") for name in line.split("|")}
                  for line in parser.get(section, "layers").split("\n") if line.strip()]
        for container in parser.get(section, "containers", fallback="").split() or [""]:
            floors[container] = layers
    return floors


def floor_of(name: str, container: str, floors: list[set[str]]) -> int | None:
    full = f"{container}.{name}" if container else name
    return next((n for n, floor in enumerate(floors)
                 if full in {f"{container}.{x}" if container else x for x in floor}), None)


def breaches(root: Path, pending: frozenset[str] = PENDING) -> list[str]:
    """Every arrow back up in every folder with packages, and every child no contract places."""
    declared = declared_floors(root / ".importlinter")
    said: list[str] = []
    for folder in folders(root):
        where = folder.relative_to(root).as_posix()
        if where in pending:
            continue
        name = dotted(folder / "__init__.py", root)
        container = "" if name == "storyboard" else name
        prefix = "storyboard." if name == "storyboard" else ""
        edges = arrows(folder, root)
        said += [f"{where}/: a cycle through {arrow}" for arrow in cycles(edges)]
        floors = declared.get(container)
        if floors is None:
            said.append(f"{where}/: no layers contract with containers = {name} in .importlinter")
            continue
        placed = {child: floor_of(prefix + child, container, floors) for child in children(folder)}
        said += [f"{where}/: {child} is on no floor of its layers contract"
                 for child, floor in placed.items() if floor is None]
        said += [f"{where}/: an arrow back up, {arrow}" for arrow in edges
                 if (low := placed[arrow.source]) is not None
                 and (high := placed[arrow.target]) is not None and low >= high]
    return said


def test_every_folder_imports_its_floors_one_way() -> None:
    assert breaches(ROOT) == []


def test_pending_folders_still_need_it() -> None:
    """A folder left pending that holds its floors now is taken out of ``PENDING``."""
    assert [f for f in PENDING if not breaches(ROOT, PENDING - {f})] == []


def _tree(root: Path, files: dict[str, str], floors: str = "high\n    low") -> Path:
    """A made-up package under ``root``: each file's text, and a layers contract for ``pkg``."""
    for path, text in {"storyboard/__init__.py": "", "storyboard/pkg/__init__.py": "",
                       "storyboard/pkg/low/__init__.py": "", **files}.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")
    (root / ".importlinter").write_text(
        "[importlinter:contract:top]\ntype = layers\nlayers =\n    storyboard.pkg\n"
        f"[importlinter:contract:pkg]\ntype = layers\ncontainers =\n    storyboard.pkg\n"
        f"layers =\n    {floors}\n", encoding="utf-8")
    return root


def test_a_folder_that_keeps_its_floors_passes(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"storyboard/pkg/high.py": "from storyboard.pkg.low import deep\n",
                            "storyboard/pkg/low/deep.py": "from . import other\nimport os\n",
                            "storyboard/pkg/low/other.py": ""})
    assert breaches(root, frozenset()) == []


def test_a_deferred_import_back_up_is_caught_at_its_line(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "storyboard/pkg/high.py": "from storyboard.pkg.low import deep\n",
        "storyboard/pkg/low/deep.py": "def f():\n    from storyboard.pkg import high\n"})
    assert breaches(root, frozenset()) == [
        "storyboard/pkg/: a cycle through high -> low (storyboard/pkg/high.py:1)",
        "storyboard/pkg/: a cycle through low -> high (storyboard/pkg/low/deep.py:2)",
        "storyboard/pkg/: an arrow back up, low -> high (storyboard/pkg/low/deep.py:2)"]


def test_a_relative_import_and_one_through_the_folders_init_are_arrows(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "storyboard/pkg/__init__.py": "from storyboard.pkg.high import shown\n",
        "storyboard/pkg/high.py": "shown = 1\n",
        "storyboard/pkg/low/deep.py": "from storyboard.pkg import shown\n",
        "storyboard/pkg/low/other.py": "from ...pkg.high import shown\n"})
    assert breaches(root, frozenset()) == [
        "storyboard/pkg/: an arrow back up, low -> high (storyboard/pkg/low/deep.py:1)",
        "storyboard/pkg/: an arrow back up, low -> high (storyboard/pkg/low/other.py:1)"]


def test_peers_on_one_floor_import_neither_way(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"storyboard/pkg/high.py": "from storyboard.pkg import low\n"},
                 floors="high | low")
    assert breaches(root, frozenset()) == [
        "storyboard/pkg/: an arrow back up, high -> low (storyboard/pkg/high.py:1)"]


def test_a_child_on_no_floor_and_a_folder_with_no_contract_are_caught(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"storyboard/pkg/loose.py": "",
                            "storyboard/pkg/low/inner/__init__.py": ""})
    assert breaches(root, frozenset()) == [
        "storyboard/pkg/: loose is on no floor of its layers contract",
        "storyboard/pkg/low/: no layers contract with containers = storyboard.pkg.low in "
        ".importlinter"]
    assert breaches(root, frozenset({"storyboard/pkg/low"})) == [
        "storyboard/pkg/: loose is on no floor of its layers contract"]
