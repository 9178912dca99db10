"""ffmpeg's own ``-progress`` reports, heard as a run goes (``media.ffprogress``): inside
``listening`` every run reports how far it has got and ends with its last report; a worker
thread a run is handed to with ``carried`` reports as well; outside, nothing is heard; a run that
fails or runs out of time still says so, with its log."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from storyboard.errors import FFmpegError
from storyboard.media import ffmpeg, samples
from storyboard.media.ffprogress import Progress, carried, listening


def encode(source: Path, out: Path, what: str = "encoding") -> str:
    return ffmpeg.run(["-i", str(source), "-c:v", "libx264", "-preset", "ultrafast", "-an",
                       "-f", "mp4", str(out)], what=what, length=3.0)


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return samples.video(tmp_path_factory.mktemp("progress") / "in.mp4", 320, 240, 3.0)


def test_a_run_reports_how_far_it_has_got_and_its_end(source: Path, tmp_path: Path) -> None:
    heard: list[Progress] = []
    with listening(heard.append):
        log = encode(source, tmp_path / "out.mp4")
    assert "Stream" in log  # the log is still ffmpeg's own stderr
    assert heard and all(p.what == "encoding" and p.length == 3.0 for p in heard)
    assert [p.done for p in heard] == [False] * (len(heard) - 1) + [True]
    assert heard[-1].seconds == pytest.approx(3.0, abs=0.1)
    assert [p.seconds for p in heard] == sorted(p.seconds for p in heard)
    assert heard[-1].words() == "encoding: 3.0 of 3.0 s, done"
    assert ffmpeg.probe(tmp_path / "out.mp4").duration == pytest.approx(3.0, abs=0.1)


def test_outside_listening_nothing_is_heard(source: Path, tmp_path: Path) -> None:
    heard: list[Progress] = []
    with listening(heard.append):
        pass
    encode(source, tmp_path / "out.mp4")
    assert heard == []


def test_a_worker_thread_reports_when_the_work_is_carried(source: Path, tmp_path: Path) -> None:
    heard: list[Progress] = []
    with listening(heard.append), ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(carried(lambda n: encode(source, tmp_path / f"{n}.mp4", f"run {n}")),
                      [1, 2]))
        list(pool.map(lambda n: encode(source, tmp_path / f"{n}.mp4", f"run {n}"), [3]))
    assert {p.what for p in heard if p.done} == {"run 1", "run 2"}  # not the one not carried


def test_a_failed_run_and_a_run_out_of_time_still_say_so(source: Path, tmp_path: Path) -> None:
    heard: list[Progress] = []
    with listening(heard.append), pytest.raises(FFmpegError, match="reading nothing failed"):
        ffmpeg.run(["-i", str(tmp_path / "missing.mp4"), str(tmp_path / "o.mp4")],
                   what="reading nothing")
    slow = ["-f", "lavfi", "-i", "testsrc=size=1280x720:rate=30:duration=600", "-c:v", "libx264",
            "-preset", "veryslow", "-f", "mp4", str(tmp_path / "slow.mp4")]
    with listening(heard.append), pytest.raises(FFmpegError, match="took longer than 1"):
        ffmpeg.run(slow, what="a long encode", timeout=1)
