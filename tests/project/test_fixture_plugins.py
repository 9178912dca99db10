"""The fixture plugins the conftest loads start without the extras a smoke run may leave out.

CI's lowest-versions step installs the package with some extras only (no playwright, no
hypothesis: `.ci/lowest.sh`) and runs a subset of the tests, and a user may run tests without
others; conftest.py loads every module of ``pytest_plugins`` first, so one
top-level import of a missing extra there stops every test from starting.
"""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import pytest_plugins
from tests.fixtures.paths import ROOT

# Extras a run may not have (.ci/lowest.sh installs neither playwright nor hypothesis): a plugin
# imports them when used.
ABSENT = ("mcp", "playwright", "psycopg", "hypothesis")

BLOCKED = f"""
import importlib, sys
for name in {ABSENT!r}:
    sys.modules[name] = None  # importing it now raises ImportError, as if not installed
for plugin in {list(pytest_plugins)!r}:
    importlib.import_module(plugin)
print("ok")
"""


def test_every_plugin_imports_without_the_optional_extras() -> None:
    done = subprocess.run([sys.executable, "-c", BLOCKED], cwd=ROOT, capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_the_check_itself_catches_a_plugin_that_needs_an_extra() -> None:
    needs = BLOCKED.replace("print(\"ok\")", "importlib.import_module('tests.fixtures.mcp')")
    done = subprocess.run([sys.executable, "-c", needs], cwd=ROOT, capture_output=True,
                          text=True, check=False)
    assert done.returncode != 0
    assert "mcp" in done.stderr
