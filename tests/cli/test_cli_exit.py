"""The command's exit: what the collector tracks is frozen first, so Python's collections at
shutdown walk none of it (a checked series is millions of objects)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[2]
# A hook registered before ``main`` runs after main's own (``atexit`` runs them last first).
PROGRAM = """
import atexit, gc, sys
print("frozen at the start:", gc.get_freeze_count() > 0, flush=True)
atexit.register(lambda: print("frozen at exit:", gc.get_freeze_count() > 0, flush=True))
sys.argv = ["storyboard", "--version"]
from storyboard.cli import main
main()
"""


def test_the_command_freezes_what_the_collector_tracks_as_it_exits() -> None:
    env = {**os.environ, "PYTHONPATH": str(HERE)}
    done = subprocess.run([sys.executable, "-c", PROGRAM], env=env, cwd=HERE, check=True,
                          capture_output=True, text=True)
    lines = done.stdout.splitlines()
    assert lines[0] == "frozen at the start: False"  # the test can tell
    assert lines[1].startswith("storyboard, version ")
    assert lines[-1] == "frozen at exit: True" and done.stderr == ""
