"""Money under attack, end to end against the emulator: twin prompts, a lost journal, changed files.

Every test counts what the emulator was paid for (``submissions.by_body``: one request body per
shot) and checks that each cached video is the one the emulator rendered for that shot's own task.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from storyboard.emulator import EmulatorServer
from storyboard.run import read_status
from tests.fixtures.compiler import write_series
from tests.fixtures.dashscope_cli import (
    HEAD,
    THREE_SHOTS,
    Emulator,
    MakeMedia,
    child_env,
    command,
    kill,
    no_key,
    render,
    states,
    submissions,
    tasks,
    wait_until,
)

pytestmark = pytest.mark.usefixtures("env")  # the key in the environment

# `@mia smiles` and `@guitar smiles` both compile to "Image 1 smiles": twins.
TWINS = """\
- id: ep01
  shots:
    - {id: a, prompt: "@mia smiles"}
    - {id: b, prompt: "@guitar smiles"}
"""


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def lock_entries(series: Path) -> dict[str, Any]:
    shots: dict[str, Any] = json.loads((series / "storyboard.lock").read_text("utf-8"))["shots"]
    return shots


def emulator_task(emu: EmulatorServer, task_id: str) -> Any:
    return emu._on_loop(lambda: emu.service.table.tasks[task_id])


def each_paid_once_with_its_own_video(emu: EmulatorServer, series: Path,
                                      images: dict[str, str]) -> None:
    """Each shot's cached video is the emulator's video of a task whose body carried that shot's
    own image, and every body was paid for exactly once."""
    stats = emu.stats()["submissions"]
    assert stats["total"] == len(images) and stats["duplicates"] == 0, stats
    entries = lock_entries(series)
    seen_tasks = set()
    for key, entry in entries.items():
        shot = key.rsplit("/", 1)[1]
        task = emulator_task(emu, entry["task_id"])
        image_digest = sha256(series / images[shot])
        assert image_digest[:32] in json.dumps(task.body), f"{shot} got another shot's task"
        cached = series / ".storyboard" / "cache" / "dashscope" / f"{entry['hash']}.mp4"
        assert sha256(cached) == sha256(Path(task.video)), f"{shot}'s cache holds another video"
        seen_tasks.add(entry["task_id"])
    assert len(seen_tasks) == len(images)


@pytest.mark.parametrize("faults", ["submit:lost", "submit:lost,submit:lost",
                                    "submit:ok,submit:lost"])
def test_twin_prompts_with_lost_submits_are_each_paid_once(
        tmp_path: Path, make_media: MakeMedia, emulator: Emulator, faults: str) -> None:
    series = write_series(tmp_path / "twins", make_media, TWINS, head=HEAD)
    emu = emulator()
    emu.script(faults)
    code, report, err = render(series, "--yes", "-o", tmp_path / "out")
    assert code == 0, (report, err)
    assert states(report) == {"a": "done", "b": "done"}
    lost = faults.count("lost")
    assert emu.stats()["faults"].get("submit:lost") == lost
    each_paid_once_with_its_own_video(emu, series, {"a": "media/mia.png",
                                                    "b": "media/guitar.png"})
    # a second run pays nothing
    code, report, _ = render(series, "--yes", "-o", tmp_path / "out")
    assert code == 0 and states(report) == {"a": "cached", "b": "cached"}
    assert submissions(emu) == 2


FOUR_TWINS = """\
- id: ep01
  shots:
    - {id: a, prompt: "@mia waves at @sam"}
    - {id: b, prompt: "@sam plays @guitar"}
    - {id: c, prompt: "@mia smiles"}
    - {id: d, prompt: "@guitar smiles"}
"""


@pytest.mark.parametrize("remove", ["folder", "journal", "empty journal"])
def test_killed_render_then_lost_journal_pays_no_shot_twice(
        tmp_path: Path, make_media: MakeMedia, emulator: Emulator, remove: str) -> None:
    series = write_series(tmp_path / "wire", make_media, FOUR_TWINS, head=HEAD)
    emu = emulator(latency=3.0)
    out = tmp_path / "out"
    child = subprocess.Popen(command(series, "--yes", "--quiet", "-o", str(out)),
                             env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_until("four submissions", lambda: submissions(emu) >= 4, child)
        assert tasks(emu, "SUCCEEDED") < 4, "too slow: every task finished before the kill"
    finally:
        kill(child)
    journal = series / ".storyboard" / "journal.sqlite"
    if remove == "folder":
        shutil.rmtree(series / ".storyboard")
    elif remove == "journal":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{journal}{suffix}").unlink(missing_ok=True)
    else:
        for suffix in ("-wal", "-shm"):
            Path(f"{journal}{suffix}").unlink(missing_ok=True)
        journal.write_bytes(b"")

    done = subprocess.run(command(series, "--yes", "-o", str(out)), env=child_env(),
                          capture_output=True, timeout=120, check=False)
    no_key(done.stdout, done.stderr)
    stderr = done.stderr.decode(errors="replace")
    assert done.returncode == 0, stderr
    assert "is new, but the ledger" in stderr and "not paid for again" in stderr, stderr
    stats = emu.stats()["submissions"]
    assert stats["total"] == 4 and stats["duplicates"] == 0, stats
    each_paid_once_with_its_own_video(emu, series, {
        "a": "media/mia.png", "b": "media/guitar.png", "c": "media/mia.png",
        "d": "media/guitar.png"})
    assert {a.shot for a in read_status(series) if a.state == "done"} == {"a", "b", "c", "d"}


def test_a_damaged_journal_says_what_to_do(make_media: MakeMedia, emulator: Emulator,
                                           tmp_path: Path) -> None:
    three = write_series(tmp_path / "wire", make_media, THREE_SHOTS, head=HEAD)
    emulator()
    journal = three / ".storyboard" / "journal.sqlite"
    journal.parent.mkdir(parents=True)
    journal.write_bytes(b"this is not a database, it was overwritten" * 100)
    code, _, err = render(three, "--yes", "-o", tmp_path / "out")
    assert code != 0
    assert "is damaged" in err and "move it aside" in err and "ledger" in err, err
    assert "Traceback" not in err


def test_a_reference_replaced_mid_run_is_never_sent_under_the_old_hash(
        tmp_path: Path, make_media: MakeMedia, emulator: Emulator) -> None:
    series = write_series(tmp_path / "swap", make_media, TWINS, head=HEAD)
    emu = emulator(latency=0.5)
    out = tmp_path / "out"
    # b waits behind a (same prompt, one unknown submit at a time); swap b's image meanwhile.
    emu.script("submit:slow=2")
    child = subprocess.Popen(command(series, "--yes", "--json", "--set", "concurrency=1", "-o",
                                     str(out)),
                             env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_until("the first submit", lambda: emu.stats()["requests"]["submit"] >= 1, child)
        make_media("image", series / "media" / "guitar.png", width=256, height=256,
                   color="green")
        out_bytes, err_bytes = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            kill(child)
    err = err_bytes.decode(errors="replace")
    assert child.returncode == 1, err
    shots = {s["key"].rsplit("/", 1)[1]: s for s in json.loads(out_bytes)["shots"]}
    assert shots["a"]["state"] == "done" and shots["b"]["state"] == "failed"
    assert shots["b"]["code"] == "InputChanged"
    assert "changed after it was checked" in shots["b"]["message"]
    assert "guitar.png" in shots["b"]["message"]
    assert submissions(emu) == 1  # a was paid; b was never sent
    assert "b" not in {key.rsplit("/", 1)[1] for key in lock_entries(series)}
    code, report, _ = render(series, "--yes", "-o", out)  # the new picture, under its new hash
    assert code == 0 and states(report) == {"a": "cached", "b": "done"}
    assert submissions(emu) == 2
