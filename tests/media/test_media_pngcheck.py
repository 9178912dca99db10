"""A made PNG checked whole in Python on arrival (``pngcheck``), instead of by an ffprobe process:
what ffmpeg writes and the emulator draws passes; a file cut short, a damaged critical chunk or
image data of the wrong length does not; what decoders pass over is passed over."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest

from storyboard.emulator.cast.standins import picture
from storyboard.media import ffmpeg, samples
from storyboard.media.probes import pngcheck
from storyboard.media.probes import probe as probe_module
from storyboard.run.trip.guards.verdicts import InvalidOutput, verify_asset


def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png(width: int, height: int, raw: bytes, *, colour: int = 2, extra: bytes = b"") -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0)
    return (pngcheck.SIGNATURE + chunk(b"IHDR", header) + extra
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("pix_fmt", ["rgb24", "rgba", "gray", "pal8", "rgb48be", "monob"])
def test_what_ffmpeg_writes_is_whole(tmp_path: Path, pix_fmt: str) -> None:
    made = tmp_path / f"{pix_fmt}.png"
    ffmpeg.run(["-f", "lavfi", "-i", "testsrc=size=333x197", "-frames:v", "1",
                "-pix_fmt", pix_fmt, str(made)])
    assert pngcheck.is_png(made) and pngcheck.problem(made) is None


def test_the_emulators_pictures_and_samples_are_whole(tmp_path: Path) -> None:
    assert pngcheck.problem(write(tmp_path / "a.png", picture(1280, 720, "seed"))) is None
    assert pngcheck.problem(samples.image(tmp_path / "b.png", 64, 48)) is None


def test_a_damaged_picture_says_what_is_wrong(tmp_path: Path) -> None:
    good = picture(320, 180, "seed")
    flipped = bytearray(good)
    flipped[60] ^= 1  # inside IDAT
    wanted = 180 * (1 + 320 * 3)
    found = {
        "cut": pngcheck.problem(write(tmp_path / "cut.png", good[:-20])),
        "flipped": pngcheck.problem(write(tmp_path / "flip.png", bytes(flipped))),
        "no end": pngcheck.problem(write(tmp_path / "end.png", good[:-12])),
        "short": pngcheck.problem(write(tmp_path / "short.png", png(320, 180, bytes(wanted - 1)))),
        "long": pngcheck.problem(write(tmp_path / "long.png", png(320, 180, bytes(wanted + 1)))),
        "bad colour": pngcheck.problem(write(tmp_path / "c.png", png(1, 1, bytes(4), colour=5))),
    }
    assert found == {
        "cut": "cut short inside its IDAT chunk",
        "flipped": "its IDAT chunk is damaged (CRC)",
        "no end": "cut short: no IEND chunk",
        "short": f"its image data holds {wanted - 1} bytes where its rows need {wanted}",
        "long": f"its image data holds {wanted + 1} bytes where its rows need {wanted}",
        "bad colour": "a bit depth of 8 with colour type 5",
    }


def test_what_decoders_pass_over_is_passed_over(tmp_path: Path) -> None:
    raw = bytes(2 * (1 + 2 * 3))
    damaged = bytearray(chunk(b"tEXt", b"Comment\x00made here"))
    damaged[-1] ^= 1  # an ancillary chunk's CRC
    assert pngcheck.problem(write(tmp_path / "a.png", png(2, 2, raw, extra=bytes(damaged)))) \
        is None
    assert pngcheck.problem(write(tmp_path / "b.png", png(2, 2, raw) + b"trailing")) is None


def test_a_made_png_that_is_cut_is_refused_on_arrival(tmp_path: Path) -> None:
    path = write(tmp_path / "board.png", picture(320, 180, "seed")[:-30])
    with pytest.raises(InvalidOutput, match="the image cannot be read: cut short"):
        verify_asset(path, "image")
    verify_asset(write(tmp_path / "whole.png", picture(320, 180, "seed")), "image")


TRNS = {0: b"\x00\x00", 2: b"\x00" * 6, 3: b"\x00\x80"}  # a transparent colour or palette entry
KINDS = [(colour, depth, trns) for colour, depths in pngcheck.DEPTHS.items() for depth in depths
         for trns in (False, True) if colour in TRNS or not trns]  # 4, 6: alpha in their samples


def any_png(width: int, height: int, colour: int, depth: int, trns: bool) -> bytes:
    """A whole PNG of any colour type and depth (a palette of four when it has one)."""
    row = (width * pngcheck.CHANNELS[colour] * depth + 7) // 8
    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    extra = (chunk(b"PLTE", bytes(12)) if colour == 3 else b"") + \
        (chunk(b"tRNS", TRNS[colour]) if trns else b"")
    pixels = bytes(row) if colour == 3 else bytes(k % 251 for k in range(row))
    raw = b"".join(b"\x00" + pixels for _ in range(height))
    return (pngcheck.SIGNATURE + chunk(b"IHDR", header) + extra
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


@pytest.mark.parametrize(("colour", "depth", "trns"), KINDS)
def test_a_whole_pngs_facts_are_what_ffmpeg_probes(tmp_path: Path, colour: int, depth: int,
                                                   trns: bool) -> None:
    """Every colour type, depth and transparency: the size and alpha read in Python are what
    ffmpeg's probe of the same file says (its pixel format)."""
    made = write(tmp_path / "any.png", any_png(301, 247, colour, depth, trns))
    header = pngcheck.whole(made)
    video = ffmpeg.probe(made).video
    assert header is not None and video is not None
    assert (header.width, header.height, header.alpha) == (
        video.width, video.height, probe_module._has_alpha(video.pix_fmt)), video.pix_fmt


def test_measuring_a_whole_png_starts_no_ffmpeg_and_a_damaged_one_is_probed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    whole = write(tmp_path / "whole.png", any_png(320, 240, 6, 8, False))
    cut = write(tmp_path / "cut.png", whole.read_bytes()[:-20])
    probed: list[Path] = []
    real = ffmpeg.probe

    def counted(path: Path) -> ffmpeg.MediaInfo:
        probed.append(path)
        return real(path)
    monkeypatch.setattr(ffmpeg, "probe", counted)
    facts = probe_module.measure(whole)
    assert (facts.kind, facts.width, facts.height, facts.alpha, facts.seconds) == (
        "png", 320, 240, True, 0.0)
    assert (facts.damage, facts.has_audio, facts.complete, facts.init_card) == ("", False, True,
                                                                                False)
    assert probed == []
    damaged = probe_module.measure(cut)
    assert probed == [cut] and damaged.damage.startswith("cut short"), damaged
