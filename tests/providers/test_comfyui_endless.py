"""An endless ComfyUI ``/view`` (here 96 MB without a length) is read no further than the
shot's download limit: the client hangs up there, nothing of it is kept, and the shot waits
for a run with a higher limit."""

from __future__ import annotations

from pathlib import Path

import storyboard
from storyboard.emulator.comfyui.server import ComfyUIServer
from storyboard.emulator.comfyui.state import ComfyConfig
from storyboard.run.trip.guards.downloadcap import MB
from tests.fixtures.comfyui import series_on

CAP_MB = 2
SENT = 96 * MB  # the server's end: far past the limit
BUFFERS = 16 * MB  # what the sockets' buffers may hold past the cap, both ends together


def test_an_endless_view_is_read_to_the_limit_and_no_further(tmp_path: Path) -> None:
    with ComfyUIServer(ComfyConfig(job_time=0.05, view_bytes=SENT)) as gpu:
        series = series_on(tmp_path, [gpu], "wan-phantom-references.json",
                           max_download_mb=CAP_MB)
        report = storyboard.render(series, out=tmp_path / "out", episode="ep02")
        shots = report.run.shots
        streamed = gpu.stats()["streamed"]
    assert len(shots) == 2 and {s.state for s in shots} == {"pending"}
    assert all(f"over its limit of {CAP_MB} MB" in s.message for s in shots)
    assert 0 < streamed < len(shots) * (CAP_MB * MB + BUFFERS)
    state = series / ".storyboard"
    kept = [p for folder in (state / "cache", state / "rejected") if folder.exists()
            for p in folder.rglob("*.mp4")]
    assert kept == []
