"""The fixture plugins the conftest loads start without the extras a smoke run may leave out.

CI's lowest-versions step installs the package with some extras only (no playwright, no
hypothesis: `.ci/lowest.sh`) and runs a subset of the tests, and a user may run tests without
others; conftest.py loads every module of ``pytest_plugins`` first, so one
top-level import of a missing extra there stops every test from starting.
"""

from __future__ import annotations

import re
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
    # tests.fixtures.composed imports hypothesis at its top: as a plugin it could not load
    needs = BLOCKED.replace("print(\"ok\")", "importlib.import_module('tests.fixtures.composed')")
    done = subprocess.run([sys.executable, "-c", needs], cwd=ROOT, capture_output=True,
                          text=True, check=False)
    assert done.returncode != 0
    assert "hypothesis" in done.stderr


# The tests' HTTP calls go through ``tests/fixtures/web.py``: httpx's own functions, and a client
# made without a context, load a CA bundle into a TLS context of their own each time (about 16 ms
# of CPU), and the suite makes thousands of calls.
DIRECT = re.compile(r"\bhttpx\.(get|post|put|patch|delete|head|options|request|stream|Client)\(")
HELPER = ROOT / "tests" / "fixtures" / "web.py"


def test_no_test_makes_an_http_call_that_loads_its_own_tls_context() -> None:
    found = [f"{path.relative_to(ROOT)}:{text[:at.start()].count(chr(10)) + 1}"
             for path in sorted((ROOT / "tests").rglob("*.py")) if path != HELPER
             for text in [path.read_text("utf-8")] for at in DIRECT.finditer(text)]
    assert not found, f"call tests.fixtures.web instead of httpx directly: {found}"
