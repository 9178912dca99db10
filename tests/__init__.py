"""The test suite, a package so that tests.fixtures imports and same-named test files never clash.

Bytecode is written (``__pycache__``, gitignored) from here on, before ``conftest`` imports the
first of storyboard's modules, in each worker and in every process a test starts: under
PYTHONDONTWRITEBYTECODE=1 (set on the machines here) each worker rewrote the test
modules' asserts on every run (about 11 s of CPU a worker), and each ``python -m storyboard`` a
test starts compiled from source every module no worker had written (the emulator's, imported
before the switch sat in ``conftest``; the MCP server's and the queue worker's, imported in those
processes alone).
"""

import os
import sys

sys.dont_write_bytecode = False
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
