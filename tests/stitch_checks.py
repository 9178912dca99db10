"""Checks on stitched episodes: a full re-encode to compare with, PSNR, parameter sets, playback.

The reference encode is written independently of ``storyboard.stitch.segments``: one ffmpeg graph
over the source clips (conformed, each overlap blended by the same transition filters the stitcher
uses, ``transitions.xfade_420``) encoded in one go, the way a plain re-encode of the timeline
would be made. The blend filters themselves are checked against xfade's own output in
``test_stitch_transitions``.
"""

from __future__ import annotations

import functools
import http.server
import re
import subprocess
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path
from typing import Any

from storyboard.language.request import Transition
from storyboard.media import ffmpeg
from storyboard.stitch.timeline import plan
from storyboard.stitch.transitions import xfade_420

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]


def reference(clips: Sequence[Path], transitions: Sequence[Transition], size: tuple[int, int],
              fps: int, out: Path, lengths: Sequence[float]) -> Path:
    """The whole timeline decoded from the sources and encoded at once (near-lossless, crf 10).

    Like a careful editor's render: frames outside an overlap are the source's, only overlaps are
    blended.
    """
    tl = plan(lengths, transitions, Fraction(fps), [str(c) for c in clips])
    w, h = size
    args: list[str] = []
    chains, parts = [], []
    for i, path in enumerate(clips):
        args += ["-i", str(path)]
        incoming = tl.overlaps[i]
        outgoing = tl.overlaps[i + 1] if i + 1 < len(clips) else 0
        chains.append(f"[{i}:v]fps={fps},scale={w}:{h}:force_original_aspect_ratio=decrease,"
                      f"pad={w}:{h}:(ow-iw)/2:(oh-ih)/2,setsar=1,format=yuv420p,"
                      f"tpad=stop_mode=clone:stop=2,trim=end_frame={tl.frames[i]},"
                      f"setpts=PTS-STARTPTS,split=3[h{i}][m{i}][t{i}]")
        chains.append(f"[h{i}]trim=end_frame={incoming},setpts=PTS-STARTPTS[head{i}]")
        chains.append(f"[m{i}]trim=start_frame={incoming}:end_frame={tl.frames[i] - outgoing},"
                      f"setpts=PTS-STARTPTS[mid{i}]")
        chains.append(f"[t{i}]trim=start_frame={tl.frames[i] - outgoing},setpts=PTS-STARTPTS"
                      f"[tail{i}]")
        if incoming:
            chains += xfade_420(f"tail{i - 1}", f"head{i}", tl.kinds[i], incoming / fps, f"x{i}")
            parts.append(f"[x{i}]")
        else:
            chains += [f"[head{i}]nullsink", f"[tail{i - 1}]nullsink"] if i else [
                f"[head{i}]nullsink"]
        parts.append(f"[mid{i}]")
    chains.append(f"[tail{len(clips) - 1}]nullsink")
    chains.append("".join(parts) + f"concat=n={len(parts)}:v=1:a=0[v]")
    ffmpeg.run([*args, "-filter_complex", ";".join(chains), "-map", "[v]", "-c:v",
                "libx264", "-preset", "ultrafast", "-crf", "10", "-pix_fmt", "yuv420p",
                str(out)], what="full re-encode")
    return out


def psnr_per_frame(ours: Path, ref: Path, work: Path) -> list[float]:
    """PSNR (average of Y, U, V, in dB) of each frame of ``ours`` against ``ref``."""
    stats = work / "psnr.log"
    _psnr(ours, ref, stats)
    values = re.findall(r"psnr_avg:(\S+)", stats.read_text())
    return [float("inf") if v == "inf" else float(v) for v in values]


def _psnr(ours: Path, ref: Path, stats: Path) -> str:
    # The stats file name goes through the filter parser: run from its folder, name it plainly.
    proc = subprocess.run([ffmpeg.binary(), "-hide_banner", "-nostdin", "-y", "-i", str(ours),
                           "-i", str(ref), "-lavfi", f"[0:v][1:v]psnr=stats_file={stats.name}",
                           "-f", "null", "-"], cwd=stats.parent, capture_output=True, text=True,
                          check=True)
    return proc.stderr


def decode_errors(path: Path) -> str:
    """What ``ffmpeg -v error`` prints while decoding every stream (empty: clean)."""
    proc = subprocess.run([ffmpeg.binary(), "-nostdin", "-v", "error", "-i", str(path),
                           "-f", "null", "-"], capture_output=True, text=True, check=False)
    return proc.stderr.strip() + ("" if proc.returncode == 0 else f" (exit {proc.returncode})")


def parameter_sets(path: Path) -> tuple[int, int]:
    """(SPS, PPS) count in the video: the sample entry's and any repeated in-band (trace_headers)."""
    proc = subprocess.run([ffmpeg.binary(), "-hide_banner", "-nostdin", "-i", str(path),
                           "-map", "0:v:0", "-c", "copy", "-bsf:v", "trace_headers", "-f",
                           "null", "-"], capture_output=True, text=True, check=True)
    return (proc.stderr.count("Sequence Parameter Set"),
            proc.stderr.count("Picture Parameter Set"))


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def served(folder: Path) -> Iterator[str]:
    """A loopback HTTP server for ``folder``; yields its base URL."""
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


PLAY = """(src) => new Promise(done => {
  const v = document.createElement('video');
  v.muted = true; v.src = src;
  v.onended = () => done({ended: true, duration: v.duration, time: v.currentTime,
                          frames: v.getVideoPlaybackQuality().totalVideoFrames,
                          dropped: v.getVideoPlaybackQuality().droppedVideoFrames});
  v.onerror = () => done({ended: false, error: v.error ? v.error.code : -1});
  document.body.appendChild(v);
  v.play().catch(e => done({ended: false, error: String(e)}));
})"""


def play_in_chromium(path: Path) -> dict[str, Any]:
    """Play ``path`` to its end in headless Chromium; what the <video> element reported."""
    from playwright.sync_api import sync_playwright

    with served(path.parent) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page()
            page.goto(f"{base}/")
            result: dict[str, Any] = page.evaluate(PLAY, f"/{path.name}")
        finally:
            browser.close()
    return result
