"""The files the conftest deals out to the workers first (``LONGEST_FIRST``) are there, each
once: a file renamed or moved would otherwise be dealt in collection order again, unnoticed,
and a long one dealt last leaves the other workers idle while it finishes."""

from __future__ import annotations

from tests.conftest import LONGEST_FIRST
from tests.fixtures.paths import ROOT


def test_every_file_dealt_first_is_a_test_file_named_once() -> None:
    assert len(set(LONGEST_FIRST)) == len(LONGEST_FIRST), LONGEST_FIRST
    missing = [name for name in LONGEST_FIRST if not (ROOT / name).is_file()
               or not name.startswith("tests/") or "/test_" not in name]
    assert not missing, missing
