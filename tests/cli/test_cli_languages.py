"""A series' ``languages:`` through the command line (issue 85): a wrong tag (``sp``, ``es_ES``)
is one error, at its place in the list, with what it likely means, never one error per voice
line nor the schema's regular expression."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fixtures.cli import invoke
from tests.fixtures.versions import versioned


@pytest.mark.parametrize(("tag", "meant"), [
    ("sp", "names no language ISO 639 codes (did you mean `es`?)"),
    ("es_ES", "is not a language tag (did you mean `es-ES` / `es`?)"),
    ("es-es", "is not a language tag (did you mean `es-ES` / `es`?)"),
    ("Spanish", "is not a language tag (did you mean `es`?)"),
])
def test_a_wrong_language_tag_is_one_error_at_the_languages_line(
        tmp_path: Path, make_media: Callable[..., Path], tag: str, meant: str) -> None:
    root = versioned(tmp_path / "series", make_media)
    path = root / "storyboard.yaml"
    path.write_text(path.read_text("utf-8").replace("[en, es]", f"[en, {tag}]"), "utf-8")
    result = invoke("check", root)
    assert result.exit_code == 1
    said = [line for line in result.stderr.split("\n") if ": error: " in line]
    assert said == [f"{path}:3:17: error: {tag!r} {meant}; expected a BCP-47 tag: a language as "
                    "ISO 639 codes it, optionally a script and a region, joined by '-': en, es, "
                    "pt-BR, zh-Hans, es-419"], result.stderr
    assert "^[a-z]" not in result.stderr  # never the schema's pattern
    found = json.loads(invoke("check", root, "--json").stdout)
    assert [(d["line"], d["column"], d["code"]) for d in found if d["severity"] == "error"] == [
        (3, 17, "language-tag")]


def test_a_right_tag_with_a_region_or_script_checks_clean(
        tmp_path: Path, make_media: Callable[..., Path]) -> None:
    root = versioned(tmp_path / "series", make_media)
    path = root / "storyboard.yaml"
    path.write_text(path.read_text("utf-8").replace("[en, es]", "[en, es-ES, pt-BR, zh-Hans, "
                                                                "es-419]"), "utf-8")
    result = invoke("check", root)
    assert ": error: " not in result.stderr and "language-tag" not in result.stderr
