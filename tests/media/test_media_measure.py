"""An image take measured by one ffmpeg run (``media/measure``), no probe (issue 66 item 7).

A board's measuring was a system ffprobe for its size, then a 4:4:4 signalstats pass for its
spread; it is now the one pass, its size read from the same log, over a 4:2:0 frame, whose luma
is the 4:4:4 frame's pixel for pixel: the same measurement for every kind of picture.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from storyboard.media import ffmpeg, samples
from storyboard.media.probes.measure import measure
from tests.fixtures.ffmpeg_runs import nothing_remembered


def spread_as_before(image: Path) -> float:
    """YHIGH - YLOW of the 4:4:4 frame, as the measurer found it before."""
    log = ffmpeg.run(["-nostats", "-i", str(image), "-vf",
                      "format=yuv444p,signalstats,metadata=print", "-frames:v", "1", "-f", "null",
                      "-"])
    low, high = (float(re.findall(rf"signalstats\.{name}=(\S+)", log)[0])
                 for name in ("YLOW", "YHIGH"))
    return high - low


def pictures(folder: Path) -> list[Path]:
    """An RGB PNG, a JPEG, a BMP, a WebP, an odd-sized noisy PNG, one with alpha, a grey one, a
    16-bit one, one of a palette and a JPEG of full chroma."""
    made = [samples.image(folder / f"pattern{suffix}", 333, 201) for suffix in
            (".png", ".jpg", ".bmp", ".webp")]
    for name, source, pix_fmt in (("noisy.png", "testsrc2=s=641x359,noise=alls=60:allf=t", "rgb24"),
                                  ("alpha.png", "mandelbrot=s=320x240", "rgba"),
                                  ("grey.png", "testsrc2=s=320x240", "gray"),
                                  ("deep.png", "testsrc2=s=320x240", "rgb48be"),
                                  ("palette.png", "testsrc2=s=320x240", "pal8"),
                                  ("full.jpg", "testsrc2=s=320x240", "yuvj444p")):
        ffmpeg.run(["-f", "lavfi", "-i", source, "-frames:v", "1", "-pix_fmt", pix_fmt,
                    str(folder / name)])
        made.append(folder / name)
    return made


def test_an_image_is_measured_as_before_by_one_run_and_no_probe(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made = pictures(tmp_path)
    expected = {p.name: (spread_as_before(p), ffmpeg.probe(p).video) for p in made}
    run, calls = ffmpeg.run, []

    def counted(args: list[str], **kwargs: Any) -> str:
        calls.append(args)
        return run(args, **kwargs)

    def no_probe(path: Path) -> None:
        raise AssertionError(f"{path} probed")

    monkeypatch.setattr(ffmpeg, "run", counted)
    monkeypatch.setattr(ffmpeg, "probe", no_probe)
    nothing_remembered(monkeypatch)  # none measured before
    for image in made:
        found = measure(image, "image")
        spread, video = expected[image.name]
        assert video is not None
        assert (found.spread, found.width, found.height) == (spread, video.width, video.height), \
            image.name
    assert len(calls) == len(made)
