"""An image's size read from its header, and a decompression bomb refused before it is decoded.

``check`` of a 0.8 MB PNG whose header says 16000x16000 used to hand it to ffprobe, which decoded
it whole (about 800 MB). The PNG here is made in the test (a zlib stream of zeros, 16000 rows of
one 1.2 MB block); ``check`` runs in a child process whose peak memory, with its own children's
(ffprobe's), is read with ``resource.getrusage``: the bound is far above a normal check's.
"""

from __future__ import annotations

import base64
import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import pytest

import storyboard
from storyboard.media import ffmpeg, imagehead, samples

SIDE = 16000
MEMORY_BOUND_KB = 400 * 1024  # a check peaks near 100 MB; decoding the bomb takes ~800 MB


def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_of_zeros(path: Path, side: int, rows: int = 400) -> Path:
    """An RGB PNG of ``side`` x ``side`` black pixels, compressed without ever holding them:
    one block of ``rows`` rows is deflated (flushed, so each copy is the same bytes) and
    repeated; the Adler-32 of n zero bytes is ``(n % 65521) << 16 | 1``."""
    stride = side * 3 + 1
    block = bytes(stride * rows)
    deflate = zlib.compressobj(9)
    first = deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH)
    again = deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH)
    adler = ((stride * side) % 65521) << 16 | 1
    idat = first + again * (side // rows - 1) + deflate.flush()[:-4] + adler.to_bytes(4, "big")
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat)
                     + chunk(b"IEND", b""))
    return path


def kind_of(path: Path) -> str:
    return imagehead.sniff(path.read_bytes()[:32])


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".bmp", ".webp"])
def test_the_size_is_read_from_the_header(tmp_path: Path, suffix: str) -> None:
    made = samples.image(tmp_path / f"a{suffix}", 334, 250)
    video = ffmpeg.probe(made).video
    assert video is not None and (video.width, video.height) == (334, 250)
    assert imagehead.size(made, kind_of(made)) == (334, 250)


def riff(chunk_kind: bytes, body: bytes) -> bytes:
    payload = b"WEBP" + chunk_kind + struct.pack("<I", len(body)) + body
    return b"RIFF" + struct.pack("<I", len(payload)) + payload


@pytest.mark.parametrize(("data", "expected"), [
    # lossless: 14 bits each of width - 1 and height - 1 after the 0x2f signature
    (riff(b"VP8L", b"\x2f" + (12000 - 1 | (9000 - 1) << 14).to_bytes(4, "little") + bytes(8)),
     (12000, 9000)),
    # extended: 24 bits each of the canvas's width - 1 and height - 1
    (riff(b"VP8X", b"\x10\x00\x00\x00" + (70000 - 1).to_bytes(3, "little")
          + (50 - 1).to_bytes(3, "little") + bytes(4)), (70000, 50)),
])
def test_webps_lossless_and_extended_headers(tmp_path: Path, data: bytes,
                                             expected: tuple[int, int]) -> None:
    path = tmp_path / "a.webp"
    path.write_bytes(data)
    assert kind_of(path) == "webp" and imagehead.size(path, "webp") == expected


def test_a_jpegs_frame_header_is_found_past_its_other_segments(tmp_path: Path) -> None:
    made = samples.image(tmp_path / "a.jpg", 64, 48).read_bytes()
    comment = b"\xff\xfe" + struct.pack(">H", 2 + 3000) + b"c" * 3000  # a COM segment
    path = tmp_path / "b.jpg"
    path.write_bytes(made[:2] + b"\xff\xff" + comment * 20 + made[2:])  # with a fill byte
    assert imagehead.size(path, "jpeg") == (64, 48)
    path.write_bytes(made[:2] + comment)  # cut before any frame header
    assert imagehead.size(path, "jpeg") is None


def test_a_cut_header_is_none_and_ffmpeg_decides(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    path.write_bytes(samples.image(tmp_path / "b.png", 300, 300).read_bytes()[:20])
    assert imagehead.size(path, "png") is None
    assert imagehead.too_many_pixels(path, "png") is None


PEAK = """
import json, resource, subprocess, sys
proc = subprocess.run([sys.executable, *sys.argv[1:]], capture_output=True, text=True)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"rc": proc.returncode, "out": proc.stdout, "err": proc.stderr, "peak_kb": peak}))
"""


def peak(*args: str) -> dict[str, Any]:
    """``python ARGS`` in a child; its exit code, its output, and the peak memory (KB) of it and
    of the processes it started (ffprobe's, ffmpeg's)."""
    done = subprocess.run([sys.executable, "-c", PEAK, *args], capture_output=True, text=True,
                          check=True, timeout=240)
    found: dict[str, Any] = json.loads(done.stdout)
    return found


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bomb") / "s"
    folder.mkdir()
    made = png_of_zeros(folder / "mia.png", SIDE)
    assert made.stat().st_size < 1024 * 1024  # 0.7 MB that says 768 MB of pixels
    (folder / "storyboard.yaml").write_text(
        "storyboard: 1\ncharacters:\n  mia: {image: mia.png}\n"
        'episodes:\n  - id: ep01\n    shots:\n      - {id: a, prompt: "@mia waves", duration: 2}\n',
        encoding="utf-8")
    return made


def test_check_refuses_a_decompression_bomb_without_decoding_it(bomb: Path) -> None:
    found = peak("-m", "storyboard", "check", str(bomb.parent))
    assert found["rc"] == 1, found["err"]
    assert (f"storyboard.yaml:3:16: error: mia.png: {SIDE}x{SIDE} pixels; expected each side "
            "between 240 and 8000") in found["err"]
    assert "Traceback" not in found["err"]
    assert found["peak_kb"] < MEMORY_BOUND_KB, found  # nothing decoded it


def test_measuring_a_bomb_as_a_take_gives_its_size_undecoded(bomb: Path) -> None:
    found = peak("-c", "import sys; from storyboard.media.probes.measure import measure; "
                 "print(measure(__import__('pathlib').Path(sys.argv[1]), 'image'))", str(bomb))
    assert found["rc"] == 0, found["err"]
    assert f"width={SIDE}, height={SIDE}" in found["out"] and "spread=None" in found["out"]
    assert found["peak_kb"] < MEMORY_BOUND_KB, found


def test_a_data_uris_picture_is_held_to_the_pixel_limit_by_its_header(tmp_path: Path) -> None:
    """A ``data:`` URI is never probed: its header alone says it is too large to decode."""
    header = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", SIDE, SIDE, 8, 2, 0,
                                                                 0, 0))
    uri = "data:image/png;base64," + base64.b64encode(header).decode()
    (tmp_path / "storyboard.yaml").write_text(
        f'storyboard: 1\ncharacters:\n  mia: {{image: "{uri}"}}\nepisodes:\n  - id: ep01\n'
        '    shots:\n      - {id: a, prompt: "@mia waves", duration: 2}\n', encoding="utf-8")
    said = f"the data: URI's picture is {SIDE}x{SIDE} pixels; expected at most 8000x8000"
    [problem] = [d for d in storyboard.check(tmp_path) if d.message == said]
    assert problem.severity == "error" and problem.span is not None and problem.span.line == 3


def png_as(path: Path, pixels: str) -> Path:
    ffmpeg.run(["-f", "lavfi", "-i", "testsrc2=s=64x36", "-frames:v", "1", "-update", "1",
                "-pix_fmt", pixels, str(path)])
    return path


def with_transparent_colour(path: Path) -> Path:
    """``path`` (an RGB PNG) with a ``tRNS`` chunk before its image data: black is transparent."""
    data = path.read_bytes()
    at = data.index(b"IDAT") - 4
    path.write_bytes(data[:at] + chunk(b"tRNS", bytes(6)) + data[at:])
    return path


def test_a_pngs_decoded_format_is_told_to_ffmpeg_from_its_header(tmp_path: Path) -> None:
    """Issue 66 item 7: an 8-bit RGB or RGBA PNG's pixel format and size go to ffmpeg as input
    options (``png_input``), so it decodes the picture once instead of twice (once to find them);
    anything else (another depth or colour type, a transparent colour, not a PNG) has its reader
    alone named (``demuxer``), ffmpeg finding the rest. What ffmpeg decodes either way is the
    same."""
    rgb, rgba = png_as(tmp_path / "rgb.png", "rgb24"), png_as(tmp_path / "rgba.png", "rgba")
    assert imagehead.png_input(rgb) == ["-f", "png_pipe", "-pixel_format", "rgb24",
                                        "-video_size", "64x36"]
    assert imagehead.png_input(rgba)[3] == "rgba"
    keyed = with_transparent_colour(png_as(tmp_path / "keyed.png", "rgb24"))
    others = [png_as(tmp_path / "grey.png", "gray"), png_as(tmp_path / "deep.png", "rgb48be"),
              keyed, samples.image(tmp_path / "photo.jpg", 64, 36), tmp_path / "missing.png"]
    assert [imagehead.png_input(path) for path in others] == [["-f", "png_pipe"]] * 3 + [
        ["-f", "image2", "-pattern_type", "none"], []]
    for picture in (rgb, rgba, *others[:4]):
        told, probed = (tmp_path / f"{picture.stem}-{n}.md5" for n in ("told", "probed"))
        ffmpeg.run([*imagehead.png_input(picture), "-i", str(picture), "-f", "md5", str(told)])
        ffmpeg.run(["-i", str(picture), "-f", "md5", str(probed)])
        assert told.read_text() == probed.read_text(), picture.name


@pytest.mark.parametrize(("head", "reader"), [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", ["-f", "png_pipe"]),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF", ["-f", "image2", "-pattern_type", "none"]),
    (b"RIFF\x24\x00\x00\x00WEBPVP8 ", ["-f", "webp_pipe"]),
    (b"RIFF\x24\x00\x00\x00WAVEfmt ", []),  # not a still: ffmpeg finds its format
    (b"\x00\x00\x00\x18ftypmp42", []),
    (b"", []),
])
def test_a_still_s_reader_is_named_by_its_signature(tmp_path: Path, head: bytes,
                                                    reader: list[str]) -> None:
    path = tmp_path / "file.bin"
    path.write_bytes(head + b"\x00" * 64)
    assert imagehead.demuxer(path) == reader
    assert imagehead.demuxer(tmp_path / "missing.png") == []


def test_a_jpeg_whose_name_holds_a_percent_sign_is_read_as_it_is(tmp_path: Path) -> None:
    """A JPEG is read by ``image2`` (as ffmpeg chose for it) told that its name is no frame
    pattern: ``50%.jpg`` is that file, not ``5`` followed by frame numbers."""
    photo = samples.image(tmp_path / "photo 50%.jpg", 64, 36)
    info = ffmpeg.probe(photo)
    assert info.video is not None and (info.video.width, info.video.height) == (64, 36)
    assert ffmpeg.decode_problem(photo) is None
