"""``queue render`` of a series whose videos wait on their boards says what waits and what lets
it go (issue 97), never "every shot is rendered": on DashScope's emulator and a real PostgreSQL
ledger."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from storyboard.media import samples
from tests.fixtures.dashscope_cli import Emulator, invoke

pytestmark = pytest.mark.usefixtures("env")  # the key in the environment

SERIES = """\
storyboard: 1
title: Night Shift
defaults: {resolution: 720P, ratio: "9:16", duration: 2}
provider: {name: dashscope, poll: [0.2]}
boards: {model: wan2.7-image}
characters:
  ada: {image: media/ada.png}
episodes:
  - {id: ep01, shots: [{id: a, prompt: "@ada answers"}, {id: b, prompt: "@ada walks in"}]}
"""


def test_queue_render_says_what_waits_on_boards(tmp_path: Path, pg_url: str,
                                                emulator: Emulator) -> None:
    emulator()
    root = tmp_path / "night"
    samples.image(root / "media" / "ada.png", 320, 320)
    doc = yaml.safe_load(SERIES)
    doc["ledger"] = pg_url
    (root / "storyboard.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), "utf-8")
    result = invoke("queue", "render", root, "--provider", "dashscope", "--yes")
    assert result.exit_code == 0, result.output
    assert "every shot is rendered" not in result.output
    assert (f"nothing to queue yet: 2 video(s) wait on their boards (ep01/a, ep01/b): draw 2 "
            f"board(s) first (storyboard render {root} boards: a worker draws no board), "
            f"approve them (storyboard approve {root} boards/EP), then queue render again"
            in result.output), result.output
    result = invoke("queue", "render", root, "--provider", "dashscope", "--yes", "--json")
    found = json.loads(result.stdout)
    assert (found["shots"], found["waiting_on_boards"], found["boards_to_draw"]) == (
        0, ["ep01/a", "ep01/b"], ["boards/ep01/a", "boards/ep01/b"])
