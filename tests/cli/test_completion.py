"""Shell completion: `storyboard completion SHELL` prints click's script, and the series' episode,
shot and variation ids complete, asked the way the scripts ask (click's completion variables), in a
subprocess, on the example series."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COFFEE = ROOT / "examples" / "coffee-shop"
AD = ROOT / "examples" / "ad"


def storyboard(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    return subprocess.run([sys.executable, "-m", "storyboard", *args], env=environ,
                          capture_output=True, text=True, timeout=120, check=False)


def complete(*words: str, shell: str = "bash") -> list[str]:
    """What the shell's script gets back for the command line ``words`` (the last one is the word
    being completed)."""
    done = storyboard(_STORYBOARD_COMPLETE=f"{shell}_complete",
                      COMP_WORDS=" ".join(("storyboard", *words)), COMP_CWORD=str(len(words)))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return [line.split(",", 1)[1] for line in done.stdout.splitlines() if "," in line]


def test_episode_ids_complete_from_the_series() -> None:
    assert complete("render", str(COFFEE), "ep0")[:2] == ["ep01", "ep02"]
    assert complete("plan", str(COFFEE), "--episode", "ep0") == ["ep01", "ep02"]
    assert complete("push", str(COFFEE), "--episode", "ep02") == ["ep02"]


def test_shot_ids_complete_from_the_episode_given() -> None:
    assert complete("compile", str(COFFEE), "--shot", "") == ["ballad", "reply", "order", "serve"]
    assert complete("compile", str(COFFEE), "--episode", "ep02", "--shot", "") == ["order",
                                                                                   "serve"]
    assert complete("compile", "--episode", "ep01", str(COFFEE), "--shot", "r") == ["reply"]


def test_variation_names_complete_and_templated_shots_have_their_ids() -> None:
    assert complete("render", str(AD), "--variation", "latte-e") == [
        "latte-en-9x16", "latte-en-16x9", "latte-es-9x16"]
    assert complete("compile", str(AD), "--shot", "") == ["hook", "hero", "testimonial", "cta"]
    assert complete("render", str(COFFEE), "--variation", "") == []


def test_a_missing_series_completes_nothing_quietly(tmp_path: Path) -> None:
    assert complete("render", str(tmp_path / "nope"), "") == []
    assert complete("plan", "--episode", "") == []


def test_commands_complete_too() -> None:
    assert "completion" in complete("comp") and "config" in complete("conf")
    assert complete("re") == ["render", "retake"]  # every command is still there


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_the_script_for_each_shell_is_clicks_own(shell: str) -> None:
    done = storyboard("completion", shell)
    assert done.returncode == 0, done.stderr
    assert f"_STORYBOARD_COMPLETE={shell}_complete" in done.stdout.replace('"', "")
    assert "storyboard" in done.stdout


def test_an_unknown_shell_is_a_usage_error() -> None:
    done = storyboard("completion", "tcsh")
    assert done.returncode == 2 and "tcsh" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_bash_with_the_script_loaded_completes_an_episode(tmp_path: Path) -> None:
    """The whole way: bash evaluates the printed script, then asks it as it would on TAB."""
    wrapper = tmp_path / "bin" / "storyboard"
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m storyboard "$@"\n')
    wrapper.chmod(0o755)
    script = ('eval "$(storyboard completion bash)"; '
              f'COMP_WORDS=(storyboard plan {COFFEE} --episode ep); COMP_CWORD=4; '
              '_storyboard_completion storyboard; printf "%s\\n" "${COMPREPLY[@]}"')
    env = {**os.environ, "PYTHONPATH": str(ROOT),
           "PATH": f"{wrapper.parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["ep01", "ep02"]


def test_shot_arguments_and_render_shot_complete_as_episode_slash_shot() -> None:
    """As docs/config.md says: the take commands' SHOT and ``render SERIES EP/SHOT`` (EPISODE/SHOT)."""
    every = ["ep01/ballad", "ep01/reply", "ep02/order", "ep02/serve"]
    boards = ["boards/ep01/ballad", "boards/ep02/order", "boards/ep02/serve"]  # in its lock
    assert complete("takes", str(COFFEE), "") == every + boards
    assert complete("pick", str(COFFEE), "ep02/") == ["ep02/order", "ep02/serve"]
    assert complete("approve", str(COFFEE), "ep01/r") == ["ep01/reply"]
    assert complete("retake", str(COFFEE), "ep0") == every
    assert complete("task", "adopt", str(COFFEE), "ep01/b") == ["ep01/ballad"]
    assert complete("task", "forget", str(COFFEE), "") == every + boards
    assert complete("render", str(COFFEE), "") == ["ep01", "ep02", *every, *boards]
    assert complete("render", str(COFFEE), "ep02", "")[2:] == [
        "ep02/order", "ep02/serve", "boards/ep02/order", "boards/ep02/serve"]


def test_in_a_matrix_the_shot_argument_starts_with_the_variation() -> None:
    offered = complete("takes", str(AD), "latte-en-9x16/")
    assert offered and all(o.startswith("latte-en-9x16/ad/") for o in offered)
    assert "latte-en-9x16/ad/hook" in offered


def test_shot_arguments_complete_the_boards_cast_and_voices_the_lock_holds(tmp_path: Path) -> None:
    """Boards are addressed as ``boards/EP/SHOT`` wherever a shot id is taken: the take commands
    complete the assets made so far (read from the lock file, each once however many takes)."""
    series = shutil.copytree(COFFEE, tmp_path / "coffee-shop",
                             ignore=shutil.ignore_patterns(".storyboard", "out"))
    boards = ["boards/ep01/ballad", "boards/ep02/order", "boards/ep02/serve"]
    assert complete("approve", str(series), "boards/") == boards
    assert complete("pick", str(series), "boards/ep02/s") == ["boards/ep02/serve"]
    lock = series / "storyboard.lock"
    text = lock.read_text("utf-8")
    made = ('"coffee-shop/cast/mia": {"hash": "a.png"}, "coffee-shop/cast/mia#2": {"hash": "b.png"}, '
            '"coffee-shop/voices/mia-voice": {"hash": "c.wav"}, ')
    lock.write_text(text.replace('"shots": {', '"shots": {' + made, 1), "utf-8")
    assert complete("retake", str(series), "cast/") == ["cast/mia"]
    assert complete("takes", str(series), "v") == ["voices/mia-voice"]
    lock.write_text("{not json", "utf-8")  # a broken lock: the episodes' shots, quietly
    assert complete("approve", str(series), "") == [
        "ep01/ballad", "ep01/reply", "ep02/order", "ep02/serve"]
