"""Hostile text into well-formed exports: every user text written into an EDL, XML or JSON timeline
stays inside its field.

A line break in a ``say:`` line used to start new events and a ``TITLE:`` in the EDL export, and a
control character in a title ended the FCP exports. Here a series whose lines, titles and cards
carry line breaks, carriage returns, NUL-like control characters, escape sequences, ``TITLE:``,
``* FROM CLIP NAME:``, ``<``, ``&`` and quotes is exported in every format, and each file is read
back by a parser: the EDL has as many events as the plain series', the XML parses, the JSON loads.
"""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from storyboard.language.compile import compile_path
from storyboard.review.export import ALL_FORMATS, export_series

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "coffee-shop"
# YAML double-quoted escapes: the text reaches the compiler with the raw characters
HOSTILE = ('\\nTITLE: HACKED\\r\\n* FROM CLIP NAME: evil.mov\\n002  AX V C 00:00:00:00\\x01'
           '\\x07\\x1b[2J\\x7f\\u2028<b>&amp; \\"quoted\\" \'single\' & < >\\t\\x0bend')
TEXTS = (".edl", ".xml", ".fcpxml", ".otio", ".json", ".otioz")  # the drafts' media files are not read here
EVENT = re.compile(r"^\d{3,}\s", re.MULTILINE)


def copy(tmp: Path, hostile: bool) -> Path:
    series = tmp / ("hostile" if hostile else "plain") / "coffee-shop"
    shutil.copytree(EXAMPLE, series, ignore=shutil.ignore_patterns(".storyboard", "out"))
    if hostile:
        episode = series / "episodes" / "01-first-meeting.yaml"
        text = episode.read_text("utf-8")
        for old, new in (('"That was lovely."', f'"That was{HOSTILE}"'),
                         ("title: First Meeting", f'title: "First{HOSTILE}"'),
                         ('"Coffee Shop Stories\\nEpisode 1: First Meeting"', f'"Card{HOSTILE}"')):
            assert old in text
            text = text.replace(old, new)
        episode.write_text(text, "utf-8")
    return series


def exported(series: Path, name: str, out: Path) -> list[Path]:
    manifest = compile_path(series)
    export_series(manifest, name, out=out, cache_key="nothing-rendered", episode="ep01",
                  warn=lambda _: None)
    return [p for p in sorted(out.rglob("*")) if p.is_file() and p.suffix in TEXTS]


def _text_of(path: Path) -> bytes:
    """A file's bytes; an OTIO bundle's timeline inside it."""
    if path.suffix != ".otioz":
        return path.read_bytes()
    with zipfile.ZipFile(path) as bundle:
        return bundle.read("content.otio")


@pytest.mark.parametrize("name", ALL_FORMATS)
def test_every_export_of_hostile_text_parses(name: str, tmp_path: Path) -> None:
    plain = exported(copy(tmp_path, False), name, tmp_path / "plain-out")
    files = exported(copy(tmp_path, True), name, tmp_path / "hostile-out")
    assert [p.name for p in files] == [p.name for p in plain] and files
    for path, before in zip(files, plain, strict=True):
        raw = _text_of(path)
        assert not re.search(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]", raw), path.name  # JSON's rule
        if path.suffix == ".edl":
            text, was = raw.decode("utf-8"), before.read_text("utf-8")
            lines = text.split("\n")
            assert len(EVENT.findall(text)) == len(EVENT.findall(was))
            assert [line for line in lines if line.startswith("TITLE:")] == ["TITLE: ep01"]
            assert "\r" not in text and "\x7f" not in text
            assert not any(line.startswith("* FROM CLIP NAME: evil") for line in lines)
            assert not any(line.startswith("002  AX") for line in lines)
        elif path.suffix in (".xml", ".fcpxml"):
            ET.fromstring(raw)  # well-formed, or a ParseError fails the test
        elif path.suffix in (".otio", ".json", ".otioz"):
            json.loads(raw.decode("utf-8"))
    if name in ("otio", "otioz", "fcp7", "fcpxml"):
        assert any(b"HACKED" in _text_of(p) for p in files)  # the text is kept, on one line
