"""Module file names say one thing each (issue 99, item 2): a name two modules of the package share
is one concept in parallel places, declared below with why; any other shared name is caught, and so
is a declaration no longer needed."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from tests.fixtures.paths import ROOT

DOORS = frozenset({"__init__.py", "__main__.py"})
FRONT = "a command and the library module it fronts"
MIMIC = "the emulator's side of what it mimics"
ROLE = "one role in each of a family (a provider family, a server, a declaration and its use)"
STAGE = "one concept, each stage's part of it"

PARALLEL = {
    "admission.py": FRONT, "cache.py": FRONT, "delivery.py": FRONT, "init.py": FRONT,
    "models.py": FRONT, "store.py": FRONT, "takes.py": FRONT, "worker.py": FRONT,
    "arkassets.py": MIMIC, "assets.py": MIMIC, "catalogues.py": MIMIC, "episode.py": MIMIC,
    "portraits.py": MIMIC, "versionwords.py": MIMIC,
    "app.py": ROLE, "base.py": ROLE, "client.py": ROLE, "commands.py": ROLE, "config.py": ROLE,
    "faults.py": ROLE, "images.py": ROLE, "model.py": ROLE, "pipeline.py": ROLE,
    "provider.py": ROLE, "retired.py": ROLE, "server.py": ROLE, "settings.py": ROLE,
    "state.py": ROLE, "webhooks.py": ROLE, "wording.py": ROLE,
    "boards.py": STAGE, "cast.py": STAGE, "cut.py": STAGE, "density.py": STAGE,
    "derived.py": STAGE, "episodes.py": STAGE, "findings.py": STAGE, "matrix.py": STAGE,
    "passes.py": STAGE, "season.py": STAGE, "variations.py": STAGE,
}


def shared_names(top: Path) -> dict[str, list[str]]:
    """Each module file name under ``top`` that two or more modules have, and their folders."""
    found: dict[str, list[str]] = defaultdict(list)
    for path in sorted(top.rglob("*.py")):
        if path.name not in DOORS:
            found[path.name].append(path.parent.relative_to(top).as_posix())
    return {name: folders for name, folders in found.items() if len(folders) > 1}


def problems(top: Path, parallel: dict[str, str]) -> list[str]:
    shared = shared_names(top)
    said = [f"{name} names different modules ({', '.join(folders)}): name each for what it is, "
            "or declare the concept they share in PARALLEL"
            for name, folders in shared.items() if name not in parallel]
    return said + [f"{name} is declared in PARALLEL but no two modules share it: take it out"
                   for name in sorted(parallel) if name not in shared]


def test_a_shared_module_name_is_one_concept_in_parallel_places() -> None:
    assert problems(ROOT / "storyboard", PARALLEL) == []


def test_a_new_shared_name_and_a_stale_declaration_are_caught(tmp_path: Path) -> None:
    for path in ("a/fit.py", "b/fit.py", "a/cast.py", "b/cast.py", "a/__init__.py",
                 "b/__init__.py", "c/wire.py"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("", encoding="utf-8")
    assert problems(tmp_path, {"cast.py": STAGE, "wire.py": ROLE}) == [
        "fit.py names different modules (a, b): name each for what it is, or declare the concept "
        "they share in PARALLEL",
        "wire.py is declared in PARALLEL but no two modules share it: take it out"]
