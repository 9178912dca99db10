"""An own still that does not decode whole (a JPEG or WebP cut short, a PNG with a damaged CRC)
is refused by `check` at its line, before it can be sent: the picture is verified to its end."""

from __future__ import annotations

import json
import struct
import textwrap
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from storyboard.cli.main import cli
from storyboard.media.probes import probe

SERIES = """\
storyboard: 1
title: Stills
defaults: {resolution: 720P, duration: 5}
characters:
  mia: {image: media/mia.png}
boards: {model: wan2.7-image}
episodes:
  - id: ep1
    shots:
      - id: own
        board: media/STILL
        scenes: ["[0-5s] @mia smiles"]
      - id: framed
        board: false
        first_frame: media/FRAME
        scenes: ["[0-5s] @mia waits"]
"""


def cut(path: Path, lose: int) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[:len(data) - lose])
    return path


def bad_crc(path: Path) -> Path:
    """The IDAT chunk's CRC flipped: every byte there, one of them wrong."""
    data = bytearray(path.read_bytes())
    at = data.index(b"IDAT") - 4
    length = struct.unpack(">I", data[at:at + 4])[0]
    crc = at + 8 + length
    data[crc:crc + 4] = struct.pack(">I", zlib.crc32(b"IDAT" + bytes(data[at + 8:crc])) ^ 1)
    path.write_bytes(bytes(data))
    return path


def check(root: Path, make_media: Callable[..., Path], still: str, frame: str,
          spoil: Callable[[Path], Path]) -> tuple[int, str]:
    make_media("image", root / "media" / "mia.png", width=320, height=320)
    for name in (still, frame):
        spoil(make_media("image", root / "media" / name, width=640, height=360))
    text = SERIES.replace("STILL", still).replace("FRAME", frame)
    (root / "storyboard.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", str(root)])
    return result.exit_code, result.output


@pytest.mark.parametrize(("still", "frame", "spoil"), [
    ("still.jpg", "frame.jpg", lambda p: cut(p, 400)),
    ("still.webp", "frame.webp", lambda p: cut(p, 600)),
    ("still.png", "frame.png", bad_crc),
])
def test_a_picture_that_does_not_decode_whole_is_refused_at_its_line(
        tmp_path: Path, make_media: Callable[..., Path], still: str, frame: str,
        spoil: Callable[[Path], Path]) -> None:
    code, output = check(tmp_path, make_media, still, frame, spoil)
    assert code == 1 and "Traceback" not in output
    file = tmp_path / "storyboard.yaml"
    assert f"{file}:11:16: error: media/{still}: the " in output
    assert f"{file}:15:22: error: media/{frame}: the " in output
    assert output.count("is not whole") == 2 and "expected a picture that decodes" in output


def test_whole_pictures_of_each_kind_pass(tmp_path: Path, make_media: Callable[..., Path]) -> None:
    code, output = check(tmp_path, make_media, "still.jpg", "frame.webp", lambda p: p)
    assert code == 0, output
    png = make_media("image", tmp_path / "media" / "x.png", width=320, height=240)
    assert probe.measure(png).damage == ""


def test_a_stored_verdict_of_an_older_version_is_measured_again(
        tmp_path: Path, make_media: Callable[..., Path]) -> None:
    """Facts kept before pictures were decoded whole say nothing of damage: not trusted."""
    code, _ = check(tmp_path, make_media, "still.jpg", "frame.jpg", lambda p: cut(p, 400))
    assert code == 1
    stored = tmp_path / ".storyboard" / "media.json"
    data = json.loads(stored.read_text(encoding="utf-8"))
    assert data["version"] == probe.CACHE_VERSION
    for entry in data["files"].values():
        entry["facts"].pop("damage")
    stored.write_text(json.dumps({**data, "version": 3}), encoding="utf-8")
    output = CliRunner().invoke(cli, ["check", str(tmp_path)]).output
    assert "media/still.jpg: the JPEG is not whole" in output
