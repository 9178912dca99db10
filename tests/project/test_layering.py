"""The import-linter contracts: kept by the tree, and broken by a low module importing a high one."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def lint_imports(cwd: Path, *, cached: bool = False) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` run in ``cwd``: from scratch, or ``cached`` (with its cache in ``cwd``: the
    imports of each module it has read, read again where the file's time changed)."""
    script = "import sys; from importlinter.cli import lint_imports_command; lint_imports_command()"
    return subprocess.run([sys.executable, "-c", script, *([] if cached else ["--no-cache"])],
                          cwd=cwd, text=True, capture_output=True, timeout=120,
                          env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"})


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the package and its contracts, one a module: each test breaks it in one module
    and puts that module back as it was, its file's time included."""
    copy = tmp_path_factory.mktemp("tree")
    shutil.copytree(ROOT / "storyboard", copy / "storyboard",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / ".importlinter", copy / ".importlinter")
    return copy


@contextmanager
def importing(module: Path, high: str) -> Iterator[None]:
    """``module`` importing ``high`` (a line written at its end), then as it was."""
    text, before = module.read_bytes(), module.stat()
    module.write_bytes(text + f"\nimport {high}  # noqa\n".encode())
    try:
        yield
    finally:
        module.write_bytes(text)
        os.utime(module, ns=(before.st_atime_ns, before.st_mtime_ns))


def test_the_tree_keeps_every_contract() -> None:
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.mark.parametrize(("low", "high", "contract"), [
    ("targets/__init__.py", "storyboard.cli", "The stages import one way"),
    ("language/compile.py", "storyboard.dialects.native", "The language compiles without"),
    ("stitch/model.py", "httpx", "Only providers, run, the emulator and the breakdown's client"),
    # issue 46: the breakdown talks HTTP in its client module only, and sits above the scaffold
    ("breakdown/stages/walk.py", "httpx", "Only providers, run, the emulator and the breakdown's client"),
    ("breakdown/pipeline.py", "openai", "Only providers, run, the emulator and the breakdown's"),
    ("scaffold/emit.py", "storyboard.breakdown.stages.writer", "The stages import one way"),
    ("review/export.py", "subprocess", "Only media starts ffmpeg"),
    # the moves of issue 32: the stitcher draws cards, the emulator signs callbacks, from below
    ("stitch/series/episodes.py", "storyboard.providers.local", "The stitcher and the emulator know"),
    ("emulator/gateways/routes.py", "storyboard.run.trip.pace.webhooks",
     "The stitcher and the emulator know"),
    ("providers/local.py", "storyboard.emulator", "The stages import one way"),
    ("animatic/shots.py", "storyboard.providers.local", "The stages import one way"),
    ("animatic/draw.py", "storyboard.dialects", "The stages import one way"),
    ("targets/signatures/webhooks.py", "storyboard.run.trip.pace.webhooks", "The stages import one way"),
    # issue 55: run/ in floors; the arrow back up (team storage importing the set-up) is gone
    ("run/team/store.py", "storyboard.run.setup", "A run's floors import one way"),
    ("run/team/ledger.py", "storyboard.run.state.tasks.journal", "A run's floors import one way"),
    ("run/state/tasks/journal.py", "storyboard.run.trip.runner", "A run's floors import one way"),
    ("run/trip/poll.py", "storyboard.run.rendering", "A run's floors import one way"),
    # issue 66: the route in real floors: the plan below the set-up, the boards' package above it,
    # and the modules of one floor independent of each other (``|``)
    ("run/plans.py", "storyboard.run.setup", "A run's floors import one way"),
    ("run/trip/session.py", "storyboard.run.plans", "A run's floors import one way"),
    ("run/setup.py", "storyboard.run.boards.gate", "A run's floors import one way"),
    ("run/boards/gate.py", "storyboard.run.rendering", "A run's floors import one way"),
    ("run/config.py", "storyboard.run.plans", "A run's floors import one way"),
    ("run/drafts.py", "storyboard.run.sync", "A run's floors import one way"),
    # the language in floors: reading lowest, compile on top, the peers of a floor apart (``|``)
    ("language/read/series.py", "storyboard.language.resolving.resolve", "The language's floors"),
    ("language/resolving/looks.py", "storyboard.language.expansion.matrix", "The language's floors"),
    ("language/lint/season.py", "storyboard.language.cache.checkcache", "The language's floors"),
    ("language/cache/episodecache.py", "storyboard.language.compile", "The language's floors"),
    ("language/request.py", "storyboard.language.document", "The language's floors"),
    # issue 96: the faces extra is imported by media's faces alone, dlib by its models alone
    ("run/state/measured.py", "numpy", "Only media's faces import dlib"),
    ("review/sheet/build.py", "dlib", "Only media's faces import dlib"),
    ("media/faces/scan.py", "face_recognition_models", "Within media's faces, only models"),
    # issue 55: a provider family never reaches into another; the registry attaches them all
    ("providers/gateway/provider.py", "storyboard.providers.dashscope.wire",
     "Each provider family stands alone"),
    # issue 99: the command line in floors: the render flags beneath every mode, no arrow back up
    ("cli/flags/options.py", "storyboard.cli.render.commands", "The command line's floors"),
    ("cli/runs/running.py", "storyboard.cli.season.admission", "The command line's floors"),
    ("cli/season/commands.py", "storyboard.cli.versions.making", "The command line's floors"),
    ("cli/common.py", "storyboard.cli.flags.options", "The command line's floors"),
    # issue 99: every folder with packages in floors, the breakdown's loose modules on them too
    ("breakdown/settings.py", "storyboard.breakdown.stages.walk", "The breakdown's floors"),
    ("emulator/faultwire.py", "storyboard.emulator.gateways.routes", "The emulator's floors"),
    ("media/ffmpeg.py", "storyboard.media.probes.probe", "Media's floors"),
    ("run/state/lock/lockfile.py", "storyboard.run.state.takes", "A run's state imports one way"),
])
def test_a_low_module_importing_a_high_one_breaks_a_contract(tree: Path, low: str, high: str,
                                                             contract: str) -> None:
    with importing(tree / "storyboard" / low, high):
        done = lint_imports(tree, cached=True)
    assert done.returncode != 0
    verdicts = [line for line in done.stdout.splitlines() if line.startswith(contract)]
    assert verdicts and " BROKEN" in verdicts[0], done.stdout  # "BROKEN (1 ignored import)"
