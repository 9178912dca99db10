"""The tests' HTTP calls go through ``tests/fixtures/web.py``: httpx's own functions, and a client
made without a context, load a CA bundle into a TLS context of their own each time (about 16 ms
of CPU), and the suite makes thousands of calls."""

from __future__ import annotations

import re

from tests.fixtures.paths import ROOT

DIRECT = re.compile(r"\bhttpx\.(get|post|put|patch|delete|head|options|request|stream|Client)\(")
HELPER = ROOT / "tests" / "fixtures" / "web.py"


def test_no_test_makes_an_http_call_that_loads_its_own_tls_context() -> None:
    found = [f"{path.relative_to(ROOT)}:{text[:at.start()].count(chr(10)) + 1}"
             for path in sorted((ROOT / "tests").rglob("*.py")) if path != HELPER
             for text in [path.read_text("utf-8")] for at in DIRECT.finditer(text)]
    assert not found, f"call tests.fixtures.web instead of httpx directly: {found}"
