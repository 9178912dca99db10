"""The import-linter contracts: kept by the tree, and broken by a low module importing a high one."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    script = "import sys; from importlinter.cli import lint_imports_command; lint_imports_command()"
    return subprocess.run([sys.executable, "-c", script, "--no-cache"], cwd=cwd, text=True,
                          capture_output=True, timeout=120, env={"PYTHONPATH": str(cwd),
                                                                 "PATH": "/usr/bin:/bin"})


def test_the_tree_keeps_every_contract() -> None:
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.mark.parametrize(("low", "high", "contract"), [
    ("targets/__init__.py", "storyboard.cli", "The stages import one way"),
    ("language/compile.py", "storyboard.dialects.native", "The language compiles without"),
    ("stitch/model.py", "httpx", "Only providers, run, the emulator and the breakdown's client"),
    # issue 46: the breakdown talks HTTP in its client module only, and sits above the scaffold
    ("breakdown/walk.py", "httpx", "Only providers, run, the emulator and the breakdown's client"),
    ("breakdown/pipeline.py", "openai", "Only providers, run, the emulator and the breakdown's"),
    ("scaffold/emit.py", "storyboard.breakdown.writer", "The stages import one way"),
    ("review/export.py", "subprocess", "Only media starts ffmpeg"),
    # the moves of issue 32: the stitcher draws cards, the emulator signs callbacks, from below
    ("stitch/episodes.py", "storyboard.providers.local", "The stitcher and the emulator know"),
    ("emulator/gateways.py", "storyboard.run.webhooks", "The stitcher and the emulator know"),
    ("providers/local.py", "storyboard.emulator", "The stages import one way"),
    ("animatic/shots.py", "storyboard.providers.local", "The stages import one way"),
    ("animatic/draw.py", "storyboard.dialects", "The stages import one way"),
    ("targets/signing.py", "storyboard.run.webhooks", "The stages import one way"),
    # issue 55: a provider family never reaches into another; the registry attaches them all
    ("providers/gateway/provider.py", "storyboard.providers.dashscope.wire",
     "Each provider family stands alone"),
])
def test_a_low_module_importing_a_high_one_breaks_a_contract(tmp_path: Path, low: str, high: str,
                                                             contract: str) -> None:
    shutil.copytree(ROOT / "storyboard", tmp_path / "storyboard",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    module = tmp_path / "storyboard" / low
    module.write_text(module.read_text() + f"\nimport {high}  # noqa\n")
    done = lint_imports(tmp_path)
    assert done.returncode != 0
    verdicts = [line for line in done.stdout.splitlines() if line.startswith(contract)]
    assert verdicts and " BROKEN" in verdicts[0], done.stdout  # "BROKEN (1 ignored import)"
