"""Every file the emulator serves or reads back is written whole or not at all: never opened for
writing under its own name, where a twin task, a download or a render's probe could read it
half-written (the boards chain's flake: two board tasks alike drew one picture; the second found
it begun, was served it empty, and the video that started from it failed to render).

Python's audit hook sees every ``open`` the emulator (a thread of this process) makes."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from storyboard.emulator import EmulatorServer
from tests.emulator.test_emulator import get_policy, upload
from tests.emulator.test_emulator_assets import ASYNC, IMAGE, image_body
from tests.fixtures import web
from tests.fixtures.emulator import wait_for

WATCHED: list[Path] = []  # the folders whose writes are recorded (none: the hook is idle)
WRITES: list[str] = []
WRITING = ("w", "a", "x", "+")


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if event != "open" or not WATCHED or not isinstance(args[0], str | Path):
        return
    mode, flags = args[1], args[2]
    writes = any(c in mode for c in WRITING) if isinstance(mode, str) else bool(flags & 3)
    if writes and any(Path(args[0]).is_relative_to(folder) for folder in WATCHED):
        WRITES.append(str(args[0]))


sys.addaudithook(_hook)  # an audit hook cannot be removed: it records only while WATCHED is set


@pytest.fixture
def watched(tmp_path: Path) -> Iterator[Path]:
    work = tmp_path / "emulator"
    WATCHED.append(work)
    WRITES.clear()
    try:
        yield work
    finally:
        WATCHED.clear()


def names_written(work: Path) -> set[str]:
    return {Path(path).name for path in WRITES if Path(path).is_relative_to(work)}


def test_pictures_and_uploads_are_only_ever_renamed_into_place(watched: Path,
                                                                tmp_path: Path) -> None:
    with EmulatorServer(latency=0.1, work_dir=watched) as emu, \
            web.client(base_url=emu.base_url, headers=ASYNC, timeout=10) as http:
        ids: list[str] = []

        def submit() -> None:  # two tasks alike, at once: one picture drawn for both
            ids.append(http.post(IMAGE, json=image_body()).json()["output"]["task_id"])
        twins = [threading.Thread(target=submit) for _ in range(2)]
        for twin in twins:
            twin.start()
        for twin in twins:
            twin.join()
        urls = [wait_for(http, task)["output"]["choices"][0]["message"]["content"][0]["image"]
                for task in ids]
        served = {web.get(url, timeout=10).content for url in urls}
        board = tmp_path / "board.png"
        board.write_bytes(served.pop())
        stored = upload(http, get_policy(http), board)
    assert not served and board.read_bytes().endswith(b"IEND\xaeB`\x82")
    assert stored.status_code == 200
    written = names_written(watched)
    assert any(name.endswith(".png") for name in written)  # the hook saw the picture's writes
    final = {path.name for path in watched.rglob("*") if path.is_file()}
    assert final and not final & written, sorted(final & written)  # each renamed into place
