"""A reference's URL is https://, oss:// or data: (docs/language.md): a plain http:// URL, or one
naming an address no service can fetch (link-local, loopback, private), is refused at its line."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from storyboard.cli.main import cli
from storyboard.language.read.literals import url_problem

SERIES = """\
storyboard: 1
title: Urls
defaults: {resolution: 720P, duration: 5}
characters:
  mia: {image: media/mia.png}
boards: {model: wan2.7-image}
episodes:
  - id: ep1
    shots:
      - id: own
        board: BOARD
        scenes: ["[0-5s] @mia smiles"]
      - id: framed
        board: false
        first_frame: FRAME
        scenes: ["[0-5s] @mia waits"]
"""


def check(root: Path, make_media: Callable[..., Path], board: str, frame: str) -> tuple[int, str]:
    make_media("image", root / "media" / "mia.png", width=320, height=320)
    text = SERIES.replace("BOARD", board).replace("FRAME", frame)
    (root / "storyboard.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", str(root)])
    return result.exit_code, result.output


@pytest.mark.parametrize(("board", "frame"), [
    ("http://cdn.example.com/still.png", "http://cdn.example.com/frame.png"),
    ("HTTP://cdn.example.com/still.png", "http://169.254.169.254/latest/f.png"),
    ("https://169.254.169.254/latest/still.png", "https://[fe80::1]/frame.png"),
    ("https://10.0.0.7/still.png", "https://127.0.0.1:8443/frame.png"),
])
def test_board_and_first_frame_urls_a_service_cannot_fetch_are_refused_at_their_line(
        tmp_path: Path, make_media: Callable[..., Path], board: str, frame: str) -> None:
    code, output = check(tmp_path, make_media, board, frame)
    assert code == 1 and "Traceback" not in output
    file = tmp_path / "storyboard.yaml"
    assert f"{file}:11:16: error: {board!r}" in output
    assert f"{file}:15:22: error: {frame!r}" in output
    assert "expected" in output and "oss:// or data:" in output


def test_public_https_oss_and_data_urls_still_pass(tmp_path: Path,
                                                   make_media: Callable[..., Path]) -> None:
    code, output = check(tmp_path, make_media, "https://cdn.example.com/still.png",
                         "oss://bucket/frame.png")
    assert code == 0, output


@pytest.mark.parametrize("url", ["https://cdn.example.com/a.png", "https://8.8.8.8/a.png",
                                 "oss://b/a.png", "data:image/png;base64,AAAA"])
def test_url_problem_passes_what_a_service_can_fetch(url: str) -> None:
    assert url_problem(url) is None
