"""bench/breakdown_local.py without the model: the GGUF header it reads and names, the refusals of
its arguments, and its whole path (breakdown, check, render on local) against the emulator's chat
endpoint given as ``--base-url``, so the figures it prints are read from a real run's output.

The bench is run as a user runs it (its own process, the repository on PYTHONPATH).
"""

from __future__ import annotations

import os
import signal
import struct
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from storyboard.breakdown.source import read_story
from storyboard.emulator.server import EmulatorServer
from tests.breakdown.scripted import Scripted

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench" / "breakdown_local.py"
STORY = ROOT / "tests" / "data" / "breakdown" / "rumpelstiltskin-three.md"


def bench(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, str(BENCH), *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout, check=False)


def text(value: str) -> bytes:
    data = value.encode()
    return struct.pack("<Q", len(data)) + data


def gguf(path: Path, pairs: list[tuple[str, int, bytes]]) -> Path:
    """A GGUF header (version 3, no tensors) with these key, type and packed value triples."""
    body = b"GGUF" + struct.pack("<IQQ", 3, 0, len(pairs))
    body += b"".join(text(key) + struct.pack("<I", kind) + value for key, kind, value in pairs)
    path.write_bytes(body)
    return path


def test_the_model_file_is_named_by_its_header(tmp_path: Path) -> None:
    tokens = struct.pack("<IQ", 8, 2) + text("<a>") + text("<b>")  # an array, skipped
    model = gguf(tmp_path / "m.gguf", [
        ("general.architecture", 8, text("qwen2")), ("tokenizer.ggml.tokens", 9, tokens),
        ("general.name", 8, text("Qwen2.5 Coder 1.5B Instruct")),
        ("general.size_label", 8, text("1.5B")), ("general.file_type", 4, struct.pack("<I", 15))])
    done = bench("--gguf", str(model), "--describe")
    assert done.returncode == 0, done.stderr
    assert done.stdout == ("model file: m.gguf: Qwen2.5 Coder 1.5B Instruct (architecture qwen2, "
                           "size_label 1.5B, file_type Q4_K_M)\n")


def test_a_file_that_is_not_gguf_is_refused_in_one_line(tmp_path: Path) -> None:
    other = tmp_path / "model.bin"
    other.write_bytes(b"PK\x03\x04" + bytes(60))
    cut = gguf(tmp_path / "cut.gguf", [("general.name", 8, text("Qwen"))])
    cut.write_bytes(cut.read_bytes()[:-2])
    for path, said in ((other, "not a GGUF file"), (cut, "ends inside its header")):
        done = bench("--gguf", str(path), "--describe")
        assert done.returncode == 2 and said in done.stderr, done.stderr
        assert "Traceback" not in done.stderr


@pytest.mark.parametrize(("args", "said"), [
    ((), "name a server: --python, --llama-server or --base-url"),
    (("--python", "python3"), "--gguf MODEL.gguf is needed"),
    (("--python", "p", "--llama-server", "s"), "not allowed with argument"),
    (("--base-url", "http://127.0.0.1:1/v1", "--story", "none.md"), "--story none.md: no such"),
])
def test_arguments_that_cannot_run_are_refused_by_name(args: tuple[str, ...], said: str) -> None:
    done = bench(*args)
    assert done.returncode == 2 and said in done.stderr, done.stderr


def test_the_story_is_three_chapters() -> None:
    assert [c.title for c in read_story(STORY).chapters] == [
        "The Miller's Boast", "The Little Man", "The Name"]


@pytest.mark.timeout(400)
def test_against_the_emulator_the_series_checks_and_renders(chat_emulator: EmulatorServer,
                                                            tmp_path: Path) -> None:
    base = chat_emulator.base_url.rsplit("/api/v1", 1)[0] + "/compatible-mode/v1"
    done = bench("--base-url", base, "--model", "qwen-plus", "--series", str(tmp_path / "s"),
                 "--quiet", timeout=380)
    assert done.returncode == 0, done.stdout + done.stderr
    rows = done.stdout.splitlines()
    assert rows[1] == f"against qwen-plus at {base}, 1 thread(s), context 12288"
    # the 9 calls and the probe of whether the endpoint holds its schema (``holding``)
    assert rows[2].startswith("calls: 9 answered (10 request(s) sent, 0 from the cache)"), rows
    assert rows[3].startswith("tokens: ") and " prompt + " in rows[3]
    assert rows[4].startswith("breakdown: exit 0, ") and "0 problem(s) left" in rows[4]
    assert "check: clean (3 episode file(s))" in rows
    assert any(r.startswith("render on local: ok in ") for r in rows)
    assert sorted(p.name for p in (tmp_path / "s" / "out").glob("*.mp4")) == [
        "ep01.mp4", "ep02.mp4", "ep03.mp4"]


def commands_on(series: Path) -> list[int]:
    """The processes whose command line names ``series``."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            words = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if entry.name.isdigit() and str(series).encode() in words:
            found.append(int(entry.name))
    return found


def test_a_bench_stopped_by_sigterm_stops_its_breakdown_too(tmp_path: Path) -> None:
    """A stopped bench leaves no breakdown running on its series (whose lock would refuse the
    next run: "another breakdown ... is running")."""
    release = threading.Event()

    def held(_body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        release.wait(60)  # the model thinking; answered only after the test is done
        return 500, {"error": {"message": "stopped"}}

    series = tmp_path / "s"
    with Scripted(held) as server:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        running = subprocess.Popen([sys.executable, str(BENCH), "--base-url", server.base_url,
                                    "--model", "m", "--series", str(series), "--quiet"],
                                   env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while not server.bodies and time.monotonic() < deadline:
                time.sleep(0.05)
            assert server.bodies and commands_on(series.resolve()), "the breakdown never asked"
            running.send_signal(signal.SIGTERM)
            assert running.wait(timeout=60) == 143
            assert commands_on(series.resolve()) == []
        finally:
            release.set()
            if running.poll() is None:
                running.kill()


def test_a_command_that_prints_more_than_a_pipe_holds_is_read_whole(tmp_path: Path) -> None:
    """The bench follows a command's stderr as it comes; its stdout (a season's ``--json``
    report runs past a pipe's 64 KB) goes to a file, so the command never blocks writing it
    (the 100,000-word novel's breakdown stopped so, waiting to write its report). A small
    synthetic season's compiled manifest is past 64 KB too."""
    import importlib.util
    seasons = importlib.util.spec_from_file_location("seasonseries_bench",
                                                     ROOT / "bench" / "seasonseries.py")
    assert seasons is not None and seasons.loader is not None
    writer = importlib.util.module_from_spec(seasons)
    seasons.loader.exec_module(writer)
    series = writer.make_season(tmp_path / "season", episodes=4, shots=10).parent
    spec = importlib.util.spec_from_file_location("breakdown_local_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    found: dict[str, Any] = {}
    worker = threading.Thread(target=lambda: found.update(step=module.storyboard(
        "compile", str(series))), daemon=True)
    worker.start()
    worker.join(120)
    assert not worker.is_alive(), "the command blocked writing its stdout"
    step = found["step"]
    assert step.code == 0 and len(step.stdout) > 65536 and step.stdout.startswith("{")


@pytest.mark.timeout(400)
def test_the_corpus_is_reported_story_by_story_and_its_answers_kept(
        chat_emulator: EmulatorServer, tmp_path: Path) -> None:
    """``--corpus --only``: one story of bench/corpus/ as a season of its N, its figures (the
    repairs fired as the breakdown's summary gives them), its answers kept in one archive."""
    base = chat_emulator.base_url.rsplit("/api/v1", 1)[0] + "/compatible-mode/v1"
    done = bench("--base-url", base, "--model", "qwen-plus", "--corpus", "--only",
                 "gift-of-the-magi", "--series", str(tmp_path / "s"), "--keep-answers",
                 str(tmp_path / "kept"), "--quiet", timeout=380)
    assert done.returncode == 0, done.stdout + done.stderr
    rows = done.stdout.splitlines()
    assert rows[2:9] == [
        "== gift-of-the-magi.txt (a costume change) on base-url (json_schema)",
        "exit: 0; episodes: 3 written of 3 asked; check: clean",
        "seconds: 30 asked; each episode's median 30, min 30, max 30",
        "shots per episode: median 5, min 5, max 5", "quotes verbatim: 5 of 5",
        "speaking characters missing from the cast: 0",  # Madame: cast, shown in no shot
        "calls: 22 answered (23 request(s) sent); tokens: 20,807 prompt + 1,971 completion"], rows
    assert rows[9].startswith("repairs fired: ") and rows[10].startswith("wall: ")
    assert " at load (1, 5, 15 min) " in rows[10]
    kept = tmp_path / "kept" / "corpus-gift-of-the-magi-base-url.tar.xz"
    assert rows[11] == f"answers kept: {kept}"
    with tarfile.open(kept) as tar:
        names = tar.getnames()
    assert "run.json" in names and "series/season.yaml" in names
    assert sum(n.startswith("answers/") for n in names) == 22
