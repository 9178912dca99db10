"""The free trial of docs/breakdown.md, run as written: its commands taken from the page, on a
Grimm tale and on a short Fountain screenplay, against the emulator's stand-in model, ending in a
series that checks clean and renders on ``local``. And the stand-in's cast is people, never an
ordinary word, and every line of dialogue is the author's, unchanged."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "breakdown"
PAGE = ROOT / "docs" / "breakdown.md"
STORIES = {"grimm": "rumpelstiltskin.md", "fountain": "lighthouse.fountain"}
ORDINARY = {"all", "my", "round", "lo", "madam", "now", "thereupon", "good", "alas", "so"}


def trial_block() -> list[str]:
    """The commands of the page's free trial (the ``sh`` block under ``<!-- free-trial -->``)."""
    text = PAGE.read_text("utf-8")
    block = text[text.index("<!-- free-trial -->"):].split("```sh\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.strip()]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def shim(folder: Path) -> Path:
    """A ``storyboard`` on PATH that runs this checkout's code."""
    bin_dir = folder / "bin"
    bin_dir.mkdir()
    exe = bin_dir / "storyboard"
    exe.write_text(f"#!/bin/sh\nexec {shlex.quote(sys.executable)} -m storyboard \"$@\"\n")
    exe.chmod(0o755)
    return bin_dir


def wait_for(port: int) -> None:
    for _ in range(300):
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"the emulator never listened on {port}")


def said_lines(series: Path) -> list[str]:
    lines = []
    for episode in sorted((series / "episodes").glob("*.yaml")):
        for shot in yaml.safe_load(episode.read_text("utf-8"))["shots"]:
            for scene in shot["scenes"]:
                lines += [str(words) for words in (scene.get("say") or {}).values()]
    return lines


@pytest.mark.parametrize("kind", list(STORIES))
def test_the_free_trial_as_written_ends_in_a_rendered_series(tmp_path: Path, kind: str) -> None:
    lines = trial_block()
    emulate, rest = lines[0], lines[1:]
    assert emulate.startswith("storyboard emulate --port 8765") and emulate.endswith("&")
    assert rest[-1].startswith("storyboard render my-series")
    story = STORIES[kind]
    shutil.copy(DATA / story, tmp_path / story)
    port = free_port()
    env = {**os.environ, "PATH": f"{shim(tmp_path)}{os.pathsep}{os.environ['PATH']}",
           "PYTHONPATH": str(ROOT)}
    env.pop("DASHSCOPE_API_KEY", None)
    server = subprocess.Popen(["sh", "-c", f"exec {emulate.rstrip('&').replace('8765', str(port))}"],
                              cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for(port)
        script = "\n".join(rest).replace("8765", str(port)).replace("story.md", story)
        done = subprocess.run(["bash", "-e", "-c", script], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=600)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and " error" not in done.stderr
    series = tmp_path / "my-series"
    assert sorted(p.name for p in (series / "out").glob("ep*.mp4")), done.stdout
    cast = yaml.safe_load((series / "storyboard.yaml").read_text("utf-8"))["characters"]
    assert cast and not set(cast) & ORDINARY, sorted(cast)
    source = " ".join((tmp_path / story).read_text("utf-8").split())
    spoken = " ".join(row.strip() for row in (tmp_path / story).read_text("utf-8").splitlines()
                      if not re.fullmatch(r"\(.*\)", row.strip()))
    said = said_lines(series)
    assert said and all(line in source or line in " ".join(spoken.split()) for line in said)
    if kind == "grimm":  # speech in single quotes, as the 1884 translation writes it
        assert "All this must be spun during this night; but if you succeed, you shall be my " \
               "wife." in said
        assert "@all" not in "".join(p.read_text() for p in (series / "episodes").iterdir())
