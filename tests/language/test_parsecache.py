"""A new process reads each unchanged file's parsed document back from ``.storyboard/parsed/``,
the very document a parse gives; an entry this user on this machine did not write (planted in a
cloned repository, damaged, copied, or written by another Python) is parsed anew, never read."""

from __future__ import annotations

import marshal
from collections.abc import Iterator
from pathlib import Path

import pytest

from storyboard.language import storedform
from storyboard.language.cache import incremental
from storyboard.language.read import series
from storyboard.language.read.series import load_source
from tests.fixtures.series_gen import make_series


@pytest.fixture
def root(tmp_path: Path) -> Iterator[Path]:
    made = make_series(tmp_path / "generated", episodes=2, shots=12)
    incremental.forget()
    yield made
    incremental.forget()


def entries(root: Path) -> list[Path]:
    return sorted((root / ".storyboard" / "parsed").glob("*.parsed"))


def documents(root: Path) -> list[tuple[object, ...]]:
    """Each document of the series as a new process loads it: its data and span tables."""
    incremental.forget()
    source = load_source(root)
    return [(d.file, d.data, d.spans, d.key_spans, d.quoted, d.digest, d.lines)
            for d in [source.series, *(e.doc for e in source.episodes)]]


def parses(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The files parsed from now on (each parse recorded, then done)."""
    parsed: list[Path] = []
    real = series.parse

    def counted(text: str, file: Path) -> object:
        parsed.append(file)
        return real(text, file)

    monkeypatch.setattr(series, "parse", counted)
    return parsed


def test_a_new_process_reads_every_unchanged_file_back(root: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    first = documents(root)
    assert len(entries(root)) == 3  # the series file and its two episodes
    parsed = parses(monkeypatch)
    assert documents(root) == first and parsed == []
    episode = root / "episodes" / "01.yaml"
    episode.write_text(episode.read_text().replace("plays take 0", "sings take 0"))
    edited = documents(root)
    assert parsed == [episode] and edited != first and len(entries(root)) == 3


def key_of(entry: Path) -> str:
    return entry.read_bytes().partition(b"\n")[2].partition(b"\n")[0].split(b" ")[1].decode()


DAMAGED = {
    "unsigned": lambda entry: entry.write_bytes(b"0" * 64 + entry.read_bytes()[64:]),
    "cut short": lambda entry: entry.write_bytes(entry.read_bytes()[:-40]),
    "signed, not marshal": lambda entry: storedform.write(entry, key_of(entry), b"\xffjunk"),
    "signed, another shape": lambda entry: storedform.write(
        entry, key_of(entry), marshal.dumps(({"a": 1}, {}, [], {}))),
    "signed, code": lambda entry: storedform.write(
        entry, key_of(entry), marshal.dumps(compile("raise SystemExit", "<x>", "exec"))),
    "planted": lambda entry: entry.write_bytes(marshal.dumps(({}, {}, {}, {}))),
}


@pytest.mark.parametrize("damage", DAMAGED.values(), ids=DAMAGED.keys())
def test_an_entry_this_machine_did_not_write_is_parsed_anew(
        root: Path, monkeypatch: pytest.MonkeyPatch, damage: object) -> None:
    first = documents(root)
    for entry in entries(root):
        damage(entry)  # type: ignore[operator]
    parsed = parses(monkeypatch)
    assert documents(root) == first and len(parsed) == 3
    assert documents(root) == first and len(parsed) == 3  # stored again


def test_an_entry_of_another_python_is_parsed_anew(root: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    first = documents(root)
    monkeypatch.setattr(storedform, "TAG", "cpython-399-marshal9")
    parsed = parses(monkeypatch)
    assert documents(root) == first and len(parsed) == 3


def test_an_entry_copied_from_another_user_is_parsed_anew(
        root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORYBOARD_STATE_DIR", str(tmp_path / "elsewhere"))
    first = documents(root)  # written, and signed, by "another user"
    monkeypatch.setenv("STORYBOARD_STATE_DIR", str(tmp_path / "here"))
    parsed = parses(monkeypatch)
    assert documents(root) == first and len(parsed) == 3
