"""A lost image submit settles by itself and holds back only what it could be confused with.

An image task's answer does not carry its prompt, so a lost image submit is told apart from
others of its model by when its task was created (within ``LOST_SUBMIT_LANDS`` of its intent) and
by its size. Another series is never held back by it. Through the emulator: renders SIGKILLed
while their image submit is in the air, then renders of those series and of others.
"""

from __future__ import annotations

import shlex
import time
from pathlib import Path

import pytest

from storyboard.emulator import EmulatorServer
from storyboard.providers import base
from storyboard.providers.dashscope import provider as dashscope
from tests.fixtures.cast import kill_when
from tests.fixtures.dashscope_cli import Emulator, invoke, render

pytestmark = pytest.mark.usefixtures("env")  # the key in the environment

SERIES = """\
storyboard: 1
title: {title}
defaults: {{resolution: 720P, ratio: "16:9", duration: 2}}
provider: {{name: dashscope, poll: [0.2], clock_skew: 0.5}}
output: {{loudness: null}}
characters:
  hero: {{image: {{generate: "{look}"}}}}
episodes:
  - id: ep01
    shots:
      - {{id: a, prompt: "@hero waves"}}
"""


def series(root: Path, look: str) -> Path:
    root.mkdir(parents=True)
    text = SERIES.format(title=root.name.title(), look=look)
    (root / "storyboard.yaml").write_text(text, encoding="utf-8")
    return root


def killed_in_image_submit(emu: EmulatorServer, root: Path) -> str:
    """A render of ``root`` SIGKILLed once the service accepted (and billed) its image submit:
    the id of the task it never heard of."""
    before = set(emu.service.images.tasks)
    emu.script("image:lost=10")
    kill_when(emu, root, lambda: set(emu.service.images.tasks) - before != set())
    emu.clear_faults()
    (task_id,) = set(emu.service.images.tasks) - before
    return task_id


def images(emu: EmulatorServer) -> int:
    return len(emu.service.images.tasks)


def done(root: Path) -> str:
    code, report, err = render(root, "--yes")
    assert code == 0, (report, err)
    return str(report)


def test_a_second_series_is_not_held_by_the_first_ones_lost_image_submit(
        tmp_path: Path, emulator: Emulator) -> None:
    emu = emulator()
    first, second = series(tmp_path / "first", "a barista"), series(tmp_path / "second", "a sailor")
    killed_in_image_submit(emu, first)
    done(second)  # at once, not "not submitted: an unanswered submit of cast/hero in first"
    done(first)  # and the first's own task is found and adopted, not paid again
    assert images(emu) == 2


def test_lost_image_submits_of_two_series_each_settle_by_themselves(
        tmp_path: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two lost submits whose tasks were made apart in time (here 2 s windows stand for the
    real 300 s ones): each finds its own task, none stops as "cannot tell which"."""
    for module in (base, dashscope):
        monkeypatch.setattr(module, "LOST_SUBMIT_LANDS", 2.0)
    monkeypatch.setattr(base, "CLOCK_SKEW", 0.5)
    emu = emulator()
    first, second = series(tmp_path / "first", "a barista"), series(tmp_path / "second", "a sailor")
    killed_in_image_submit(emu, first)
    time.sleep(4)
    killed_in_image_submit(emu, second)
    done(first)
    done(second)
    assert images(emu) == 2


def test_confusable_lost_image_submits_name_the_commands_that_settle_them(
        tmp_path: Path, emulator: Emulator) -> None:
    emu = emulator()
    first, second = series(tmp_path / "first", "a barista"), series(tmp_path / "second", "a sailor")
    own = killed_in_image_submit(emu, first)
    killed_in_image_submit(emu, second)  # the same minute, the same size: cannot be told apart
    code, report, _ = render(first, "--yes")
    assert code != 0 and images(emu) == 2
    message = next(s["message"] for s in report["shots"] if s["key"].endswith("cast/hero"))
    adopt = f"storyboard task adopt {shlex.quote(str(first))} cast/hero TASK_ID"
    assert adopt in message and own in message
    assert f"storyboard task forget {shlex.quote(str(first))} cast/hero" in message
    words = shlex.split(adopt.replace("TASK_ID", own))
    assert invoke(*words[1:]).exit_code == 0  # the command as said, with the task's id
    done(first)
    assert images(emu) == 2
