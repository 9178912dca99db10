"""Start-up: ``storyboard --help``, ``check`` and ``compile`` never import what only a render needs
(nor, for a series the breakdown did not write, the breakdown).

Each command runs in a fresh ``python -X importtime -m storyboard`` process and the modules it
imported are read from that log; ``import storyboard`` alone loads neither the compiler nor run.
The last test proves the check can fail: a copy of the package whose root imports the runner.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "coffee-shop"
HEAVY = ("httpx", "starlette", "uvicorn", "psycopg", "procrastinate", "fsspec", "opentimelineio",
         "storyboard.run.trip.runner")
# Beyond the heavy ones: what the root package must not load before a function is called.
NOT_AT_IMPORT = (*HEAVY, "storyboard.run", "storyboard.language.compile", "storyboard.cli")


def imported(checkout: Path, *args: str) -> set[str]:
    """The modules a fresh process imports running ``args`` (``-X importtime``'s log)."""
    done = subprocess.run([sys.executable, "-X", "importtime", *args], cwd=checkout,
                          capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(checkout), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stdout + done.stderr
    return {line.rpartition("|")[2].strip() for line in done.stderr.splitlines()
            if line.startswith("import time:")}


@pytest.fixture(scope="module")
def series(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example, copied: its caches are written there, not in the checkout."""
    folder = tmp_path_factory.mktemp("startup") / "coffee-shop"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns(".storyboard", "out"))
    return folder


@pytest.mark.parametrize("command", [["--help"], ["check"], ["compile"]],
                         ids=["help", "check", "compile"])
def test_a_command_that_renders_nothing_imports_nothing_heavy(series: Path,
                                                              command: list[str]) -> None:
    args = command if command == ["--help"] else [*command, str(series)]
    found = imported(ROOT, "-m", "storyboard", *args)
    assert "storyboard.cli.main" in found  # the log was read: the command did run
    assert sorted(found.intersection(HEAVY)) == []
    # a series with no season and no breakdown's record loads none of the breakdown's checks
    assert sorted(m for m in found if m.startswith("storyboard.breakdown.")) == []


@pytest.mark.parametrize("command", [["plan"], ["status"]], ids=["plan", "status"])
def test_a_run_on_a_provider_that_talks_no_http_never_loads_it(series: Path,
                                                                command: list[str]) -> None:
    """The example renders on ``local``: its plan and status load the runner, never HTTP (a
    gateway's media check and the shared TLS context import httpx where they fetch)."""
    found = imported(ROOT, "-m", "storyboard", *command, str(series))
    assert "storyboard.run.trip.guards.mediacheck" in found and "storyboard.tls" in found
    assert sorted(found.intersection(("httpx", "httpcore", "starlette", "uvicorn"))) == []


def test_importing_the_package_loads_neither_the_compiler_nor_run() -> None:
    found = imported(ROOT, "-c", "import storyboard")
    assert "storyboard.errors" in found
    assert sorted(found.intersection(NOT_AT_IMPORT)) == []


def test_the_api_still_reaches_run_when_asked() -> None:
    code = ("import sys, storyboard; v = storyboard.compile_variations('examples/coffee-shop'); "
            "before = 'storyboard.run.trip.runner' in sys.modules; "
            "plans = storyboard.plan_variations(v, 'local'); "
            "print(before, 'storyboard.run.trip.runner' in sys.modules, len(plans))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert done.stdout.split() == ["False", "True", "1"], done.stderr


def test_a_root_that_imports_the_runner_is_caught(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "storyboard", tmp_path / "storyboard",
                    ignore=shutil.ignore_patterns("__pycache__"))
    root = tmp_path / "storyboard" / "__init__.py"
    root.write_text(root.read_text() + "\nimport storyboard.run.rendering  # noqa\n")
    assert "storyboard.run.trip.runner" in imported(tmp_path, "-c", "import storyboard")
    assert "storyboard.run.trip.runner" in imported(tmp_path, "-m", "storyboard", "--help")


def test_the_provider_choices_are_the_dialects() -> None:
    """``--provider`` lists the wire targets without importing the dialects: the same names, as
    a render knows them."""
    from storyboard.cli.common import PROVIDERS
    from storyboard.dialects import DIALECTS
    from storyboard.run.config import PROVIDERS as RUN_PROVIDERS
    assert ("local", "comfyui", *DIALECTS) == PROVIDERS
    assert set(PROVIDERS) == set(RUN_PROVIDERS)
