"""The transition filters (``transitions.xfade_420``, ``dissolve_420``) against xfade's own output:
blending in 4:2:0 must show what xfade shows, without its 4:4:4 round trip."""

from __future__ import annotations

import itertools
import re
from fractions import Fraction
from pathlib import Path

import pytest

from storyboard.media import ffmpeg
from storyboard.stitch.transitions import dissolve_420, write_noise, xfade_420

W, H, FRAMES = 160, 120, 10
FPS = Fraction(30)
SOURCES = (f"testsrc=s={W}x{H}:r=30,format=yuv420p,trim=end_frame={FRAMES}",
           f"smptebars=s={W}x{H}:r=30,format=yuv420p,trim=end_frame={FRAMES}")


def _blend(chains: list[str], out: Path, extra_inputs: list[str] | None = None) -> Path:
    graph = ffmpeg.GRAPH_PREFIX + ";".join([f"{SOURCES[0]}[a]", f"{SOURCES[1]}[b]", *chains])
    ffmpeg.run([*(extra_inputs or []), "-filter_complex", graph, "-map", "[out]",
                "-c:v", "rawvideo", "-pix_fmt", "yuv420p", "-f", "nut", str(out)],
               what="blending a test transition")
    return out


def _psnr(ours: Path, theirs: Path) -> list[dict[str, float]]:
    stats = ours.with_name(f"{ours.stem}-{theirs.stem}.log")
    ffmpeg.run(["-i", str(ours), "-i", str(theirs), "-lavfi", f"psnr=stats_file={stats}",
                "-f", "null", "-"], what="comparing")
    rows = [dict(re.findall(r"psnr_(y|u|v):(\S+)", line))
            for line in stats.read_text(encoding="utf-8").splitlines()]
    return [{k: float(v) for k, v in row.items()} for row in rows]


def _frames(path: Path) -> list[bytes]:
    """The luma plane of every frame of a raw yuv420p NUT file, via rawvideo."""
    raw = path.with_suffix(".yuv")
    ffmpeg.run(["-i", str(path), "-f", "rawvideo", "-pix_fmt", "yuv420p", str(raw)],
               what="reading frames")
    data, size = raw.read_bytes(), W * H * 3 // 2
    return [data[n:n + W * H] for n in range(0, len(data), size)]


@pytest.mark.parametrize("kind", ["crossfade", "fade", "wipeleft", "wipeup", "wiperight",
                                  "wipedown", "slideleft", "slideup"])
def test_blending_in_420_matches_xfade(tmp_path: Path, kind: str) -> None:
    seconds = FRAMES / 30
    ours = _blend(xfade_420("a", "b", kind, seconds, "out"), tmp_path / "ours.nut")
    name = {"crossfade": "fade", "fade": "fadeblack"}.get(kind, kind)
    theirs = _blend([f"[a][b]xfade=transition={name}:duration={seconds:.6f}:offset=0,"
                     "format=yuv420p[out]"], tmp_path / "theirs.nut")
    rows = _psnr(ours, theirs)
    assert len(rows) == FRAMES
    # The brightness is xfade's to the bit; the colour differs only by xfade's resampling of
    # these sharp test patterns and, in a slide, by the half chroma sample that 4:2:0 cannot move
    # (a fade to black that took the chroma to 0 instead of neutral grey, or a chroma edge off by
    # a few samples, would be far below this).
    # A slide's first frame is left out: Debian's ffmpeg 5.1 xfade draws it differently from run
    # to run, and where it is the first clip as it is, only xfade's resampling blurs its colour.
    steady = rows[1:] if kind.startswith("slide") else rows
    assert all(r["y"] == float("inf") for r in steady), rows
    # (Half a chroma sample on these 160x120 bars costs about 23 dB; chroma moved by the luma's
    # offset, or not at all, costs far more.)
    assert min(min(r["u"], r["v"]) for r in steady) >= (22 if kind.startswith("slide") else 25)
    if kind in ("crossfade", "fade"):  # a fade's first frame is the first clip's, exactly
        first = _psnr(ours, _blend(["[a]null[out]", "[b]nullsink"], tmp_path / "a.nut"))[0]
        assert set(first.values()) == {float("inf")}


def test_dissolve_switches_a_growing_share_of_pixels_once(tmp_path: Path) -> None:
    noise = write_noise(tmp_path / "noise.yuv", W, H)
    black, white = (f"color=c={c}:s={W}x{H}:r=30,format=yuv420p,trim=end_frame={FRAMES}"
                    for c in ("black", "white"))
    graph = ";".join([f"{black}[a]", f"{white}[b]",
                      *dissolve_420("a", "b", "0:v", FRAMES, (W, H), FPS, "out")])
    out = tmp_path / "dissolve.nut"
    ffmpeg.run([*noise.input_args(FPS), "-filter_complex", graph, "-map", "[out]", "-c:v",
                "rawvideo", "-f", "nut", str(out)], what="a test dissolve")
    frames = _frames(out)
    assert len(frames) == FRAMES
    shares = [sum(p > 128 for p in f) / (W * H) for f in frames]
    for k, share in enumerate(shares):
        assert abs(share - k / FRAMES) < 0.02, shares
    for before, after in itertools.pairwise(frames):
        assert all(a > 128 for b, a in zip(before, after, strict=True) if b > 128)


def test_the_noise_is_the_same_every_time(tmp_path: Path) -> None:
    one = write_noise(tmp_path / "one.yuv", 64, 48).path.read_bytes()
    assert one == write_noise(tmp_path / "two.yuv", 64, 48).path.read_bytes()
    assert len(one) == 64 * 48 * 3 // 2
