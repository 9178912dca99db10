"""``review.yaml`` read as the series' own files are, and never written unreadable.

Hostile files (a link out of the series, an alias bomb, deep nesting, invalid UTF-8, a lone
surrogate, a tag) each give a located error from ``storyboard sheet``, with no traceback and in
bounded memory; a note that could not be read back (a lone surrogate, a control character) is
refused before anything is written, so the next note and the sheet still work.
"""

from __future__ import annotations

import shutil
import tracemalloc
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from storyboard.cli import cli
from storyboard.errors import ProblemsFound, StoryboardError
from storyboard.review.notes import add_note, read_notes

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "coffee-shop"
BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{n}: &{n} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
    for p, n in zip("abcdefgh", "bcdefghi", strict=True)) + "notes: *i\n"
HOSTILE = {
    "alias bomb": (BOMB, "review.yaml:", "more than 200000 values"),
    "deep nesting": ("notes: " + "[" * 5000 + "]" * 5000 + "\n", "review.yaml:1:", "nested more"),
    "a lone surrogate": ('notes:\n- {shot: ep01/ballad, text: "a \\ud800 b"}\n', "review.yaml:2:",
                         "invalid Unicode"),
    "a tag": ("notes: !!python/object:os.system {}\n", "review.yaml:1:8", "unsupported YAML tag"),
    "a control character": ('notes:\n- {shot: ep01/ballad, text: "bell \\a"}\n',
                            "review.yaml:2:", "a control character"),
    "an unknown key": ("notes:\n- {shot: ep01/ballad, text: x, color: red}\n", "review.yaml:2:",
                       "unknown key 'color'"),
}


@pytest.fixture()
def series(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    copy = tmp_path / "coffee-shop"
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns(".storyboard", "out"))
    return copy


def sheet(series: Path) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["sheet", str(series), "-o", str(series / "sheet.html")])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result.exit_code, result.output


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_review_file_is_a_located_error_in_bounded_memory(series: Path,
                                                                    name: str) -> None:
    text, where, message = HOSTILE[name]
    (series / "review.yaml").write_text(text)
    tracemalloc.start()
    try:
        with pytest.raises(ProblemsFound) as found:
            read_notes(series)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 << 20, f"{peak >> 20} MiB to refuse {name}"
    assert where in found.value.format() and message in found.value.format()
    code, output = sheet(series)
    assert code == 1 and where in output and message in output
    assert not (series / "sheet.html").exists()


def test_invalid_utf8_and_a_link_out_of_the_series_are_refused_unread(series: Path,
                                                                       tmp_path: Path) -> None:
    (series / "review.yaml").write_bytes(b"notes:\n- {shot: ep01/ballad, text: \"\xff\xfe\"}\n")
    code, output = sheet(series)
    assert code == 1 and "review.yaml:1:1: error: not UTF-8 text" in output
    secret = tmp_path / "secret.yaml"
    secret.write_text("password: hunter2\n")
    (series / "review.yaml").unlink()
    (series / "review.yaml").symlink_to(secret)
    code, output = sheet(series)
    assert code == 1 and "review.yaml:1:1: error: review.yaml leads outside the series" in output
    assert "hunter2" not in output and "password" not in output
    with pytest.raises(ProblemsFound):
        add_note(series, "ep01/ballad", "x", author="Bo")
    assert secret.read_text() == "password: hunter2\n"  # neither read into a message nor written


@pytest.mark.parametrize("text", ["a \ud800 b", "bell \x07", "nul \x00"])
def test_a_note_that_could_not_be_read_back_is_refused_before_anything_is_written(
        series: Path, text: str) -> None:
    add_note(series, "ep01/ballad", "first", author="Bo")
    before = (series / "review.yaml").read_bytes()
    with pytest.raises(StoryboardError, match="expected plain text"):
        add_note(series, "ep01/ballad", text, author="Bo")
    with pytest.raises(StoryboardError, match="the author"):
        add_note(series, "ep01/ballad", "fine", author="Bo \udc80")
    for take in (0, -1, True):
        with pytest.raises(StoryboardError, match="expected a whole number, 1 or more"):
            add_note(series, "ep01/ballad", "fine", take=take, author="Bo")
    assert (series / "review.yaml").read_bytes() == before
    add_note(series, "ep01/reply", "line one\r\nline two\tend", author="Bo")
    assert [n.text for n in read_notes(series)] == ["first", "line one\nline two\tend"]
    code, output = sheet(series)
    assert code == 0, output
    assert "line two" in (series / "sheet.html").read_text(encoding="utf-8")


def test_a_note_that_would_take_the_file_past_its_limit_is_refused(series: Path) -> None:
    note = {"shot": "ep01/ballad", "text": "x" * 3900, "author": "Bo", "time": "1970"}
    one = len(yaml.safe_dump([note], width=100))
    count = ((1 << 20) - 3000) // one
    notes = [dict(note) for _ in range(count)]  # copies: no anchors
    (series / "review.yaml").write_text(yaml.safe_dump({"notes": notes}, width=100))
    before = (series / "review.yaml").read_bytes()
    with pytest.raises(StoryboardError, match="past 1 MiB"):
        add_note(series, "ep01/ballad", "y" * 3900, author="Bo")
    assert (series / "review.yaml").read_bytes() == before
    assert len(read_notes(series)) == count
