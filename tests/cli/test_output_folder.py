"""Where episodes go: ``<series>/out`` (or the series' ``output.dir``) wherever the command runs
from, never outside the series folder unless the user names the folder with ``-o``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fixtures.cli import invoke
from tests.fixtures.compiler import MIA_HEAD, write_series

MakeMedia = Callable[..., Path]
ONE = """\
- id: ep01
  shots:
    - {id: a, prompt: "@mia waves"}
"""


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The current folder: not the series folder, nor its parent."""
    folder = tmp_path / "somewhere" / "else"
    folder.mkdir(parents=True)
    monkeypatch.chdir(folder)
    return folder


def test_episodes_go_into_the_series_folder_from_any_directory(
        tmp_path: Path, make_media: MakeMedia, elsewhere: Path) -> None:
    series = write_series(tmp_path / "tiny", make_media, ONE, head=MIA_HEAD)
    result = invoke("render", series, "--draft")
    assert result.exit_code == 0, result.output
    assert (series / "out" / "draft" / "ep01.mp4").is_file()
    assert f"{series / 'out' / 'draft' / 'ep01.mp4'}" in result.output
    assert not any(elsewhere.iterdir())  # nothing written where the command ran
    sheet = invoke("sheet", series, "--draft")
    assert sheet.exit_code == 0, sheet.output
    assert (series / "out" / "draft" / "sheet.html").is_file()


def test_output_dir_and_minus_o_are_relative_to_the_series_and_the_current_folder(
        tmp_path: Path, make_media: MakeMedia, elsewhere: Path) -> None:
    head = MIA_HEAD + "output: {dir: renders}\n"
    series = write_series(tmp_path / "tiny", make_media, ONE, head=head)
    assert invoke("render", series, "--draft").exit_code == 0
    assert (series / "renders" / "draft" / "ep01.mp4").is_file()
    assert invoke("render", series, "--draft", "-o", "mine").exit_code == 0
    assert (elsewhere / "mine" / "draft" / "ep01.mp4").is_file()


def test_the_help_says_where_episodes_go() -> None:
    text = " ".join(invoke("render", "--help").output.split())
    assert "output.dir, else out/, inside the series folder" in text


@pytest.mark.parametrize("where", ["../../elsewhere", "ABSOLUTE"])
def test_an_output_dir_outside_the_series_folder_is_refused(
        tmp_path: Path, make_media: MakeMedia, elsewhere: Path, where: str) -> None:
    """A series from someone else's repository cannot write outside itself: a located error
    before anything is planned or rendered; ``-o`` (the user's own choice) still works."""
    target = tmp_path / "victim" if where == "ABSOLUTE" else tmp_path.parent / "elsewhere"
    value = str(target) if where == "ABSOLUTE" else where
    head = MIA_HEAD + f"output: {{dir: '{value}'}}\n"
    series = write_series(tmp_path / "tiny", make_media, ONE, head=head)
    result = invoke("render", series, "--draft")
    assert result.exit_code == 1
    line = head.splitlines().index(f"output: {{dir: '{value}'}}") + 1
    assert f"storyboard.yaml:{line}:15: error: output.dir {value!r} leaves the series folder" \
        in result.output
    assert "-o DIR" in result.output
    assert not target.exists() and not (series / ".storyboard" / "cache").exists()
    check = invoke("check", series)
    assert check.exit_code == 0 and "warning: output.dir" in check.output
    mine = invoke("render", series, "--draft", "-o", target)
    assert mine.exit_code == 0, mine.output
    assert (target / "draft" / "ep01.mp4").is_file()
