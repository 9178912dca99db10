"""What a line says is text in the editor exports too: a line holding the markup of
docs/language.md's hostile-input section (``{\\an8}``, ``<i>``, ``\\N``, ``&amp;``...) reaches
the Jianying and CapCut drafts' subtitles and the OTIO, FCP 7, FCPXML and EDL markers exactly as
written, escaped only by each file's own syntax (JSON, XML), never styled nor escaped twice."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import opentimelineio as otio
import pytest

from storyboard.language.compile import compile_path
from storyboard.review.export import export_series
from storyboard.review.jianying import MAIN_FILE
from tests.fixtures.hostile_text import markup_strings
from tests.fixtures.paths import EXAMPLES

LINE = " ".join(markup_strings())


@pytest.fixture(scope="module")
def series(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example, its first line the whole markup corpus (a YAML single-quoted string)."""
    root = tmp_path_factory.mktemp("markup") / "coffee-shop"
    shutil.copytree(EXAMPLES / "coffee-shop", root,
                    ignore=shutil.ignore_patterns(".storyboard", "out"))
    episode = root / "episodes" / "01-first-meeting.yaml"
    text = episode.read_text("utf-8")
    assert "'" not in LINE and '"That was lovely."' in text
    episode.write_text(text.replace('"That was lovely."', f"'{LINE}'"), "utf-8")
    return root


def exported(series: Path, name: str, out: Path) -> Path:
    export_series(compile_path(series), name, out=out, cache_key="nothing-rendered",
                  episode="ep01", warn=lambda _: None)
    return out


@pytest.mark.parametrize("name", ["jianying", "capcut"])
def test_a_drafts_subtitles_say_the_line_as_written(series: Path, name: str,
                                                    tmp_path: Path) -> None:
    out = exported(series, name, tmp_path)
    data = json.loads((out / f"ep01-{name}" / MAIN_FILE).read_text("utf-8"))
    texts = {m["id"]: json.loads(m["content"])["text"] for m in data["materials"]["texts"]}
    (subtitles,) = [t for t in data["tracks"] if t["name"] == "subtitles"]
    said = " ".join(texts[s["material_id"]] for s in subtitles["segments"])
    assert said.replace("\n", " ") == f"Mia: {LINE}"  # split into cues at spaces, nothing added


def test_otio_markers_name_the_line_as_written(series: Path, tmp_path: Path) -> None:
    out = exported(series, "otio", tmp_path)
    (timeline_file,) = out.rglob("*.otio")
    timeline = otio.adapters.read_from_file(str(timeline_file))
    markers = [m for clip in timeline.find_clips() for m in clip.markers]
    assert [m.name.split(": ", 1)[1] for m in markers if m.name.endswith(LINE)] == [LINE]
    assert any(m.metadata["storyboard"]["text"].endswith(f"says: {LINE}") for m in markers)


@pytest.mark.parametrize(("name", "suffix"), [("fcp7", ".xml"), ("fcpxml", ".fcpxml")])
def test_xml_timelines_hold_the_line_as_written(series: Path, name: str, suffix: str,
                                                tmp_path: Path) -> None:
    out = exported(series, name, tmp_path)
    (timeline_file,) = out.rglob(f"*{suffix}")
    tree = ET.parse(timeline_file)
    values = [e.text or "" for e in tree.iter()]
    values += [v for e in tree.iter() for v in e.attrib.values()]
    assert any(v.endswith(f": {LINE}") for v in values), name


def test_an_edl_marker_holds_the_line_as_written(series: Path, tmp_path: Path) -> None:
    out = exported(series, "edl", tmp_path)
    (edl,) = out.rglob("*.edl")
    lines = edl.read_text("utf-8").splitlines()
    assert any(line.endswith(f": {LINE.upper()}") for line in lines)  # CMX 3600: upper case
