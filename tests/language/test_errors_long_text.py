"""A megabyte of text refused into a line's worth of output: the quoted source line is cut.

A 1 MB ``sample``, ``design`` or ``say`` is refused (longer than its model takes) and used to be
echoed whole under the error, 1-2 MB of terminal output; and masking URLs in that line took time
growing with its square (a check of a 600 kB line did not end in ten minutes). Each is checked in
a new process here, with a time limit, and its output measured.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from storyboard.errors import QUOTE_WIDTH, Diagnostic, Span, excerpt, mask_urls

BIG = 1_000_000


def series(root: Path, where: str) -> Path:
    big = "x" * BIG
    design, sample = (big, "hello") if where == "design" else ("a warm voice", big)
    if where == "say":
        design, sample = "a warm voice", "hello"
    root.mkdir()
    (root / "storyboard.yaml").write_text(
        'storyboard: 1\ndefaults: {resolution: 720P, ratio: "16:9", duration: 2}\n'
        f'voices:\n  v1: {{design: "{design}", sample: "{sample}"}}\n'
        "characters:\n  mia: {image: {generate: a woman}, voice: v1}\n"
        "episodes:\n  - episodes/*.yaml\n", encoding="utf-8")
    said = big if where == "say" else "hello"
    (root / "episodes").mkdir()
    (root / "episodes" / "e1.yaml").write_text(
        "id: ep01\nshots:\n  - id: a\n    scenes:\n"
        f'      - {{at: 0-2s, action: "@mia waves", say: {{mia: "{said}"}}}}\n', encoding="utf-8")
    return root


@pytest.mark.parametrize("where", ["design", "sample", "say"])
def test_a_megabyte_is_refused_with_a_line_s_worth_of_output(where: str, tmp_path: Path) -> None:
    root = series(tmp_path / "s", where)
    done = subprocess.run([sys.executable, "-m", "storyboard", "check", str(root)],
                          capture_output=True, text=True, timeout=60)
    output = done.stdout + done.stderr
    assert done.returncode == 1 and "Traceback" not in output
    assert len(output) < 2_000, output[:3000]
    assert ": error: " in output and ".yaml:" in output and "^" in output


def test_the_excerpt_keeps_the_caret_under_its_column() -> None:
    line = "a" * 500 + "B" + "c" * 500
    shown, col = excerpt(line, 501)
    assert len(shown) <= QUOTE_WIDTH + 6 and shown[col - 1] == "B"
    assert shown.startswith("...") and shown.endswith("...")
    assert excerpt("short", 3) == ("short", 3)
    start, _ = excerpt("Bxxx" + "y" * 400, 1)
    assert start.startswith("Bxxx") and start.endswith("...")
    end, col = excerpt("y" * 400 + "B", 401)
    assert end.endswith("B") and end[col - 1] == "B"
    text = Diagnostic(Span("f.yaml", 1, 501), "bad", source_line=line).format()
    assert len(text) < 400


def test_masking_a_long_line_reads_it_once() -> None:
    long = "x" * 2_000_000 + " @mia s3://ID:SECRET@bucket/key"
    assert mask_urls(long).endswith(" @mia s3://***@bucket/key")  # in well under a second
