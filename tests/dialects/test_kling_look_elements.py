"""A look's own Kling element made by storyboard (issue 85): ``looks: {LOOK: {identity: {kling:
{element: make}}}}``, rendered on (emulated) Kling 4.0.

The look's element is a cast asset of its own (``elements/NAME.LOOK``), made from the look's
picture beside the character's own, and a shot that wears the look sends the look's element id,
never the character's nor a picture where an id goes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from storyboard.cli import cli
from storyboard.emulator import EmulatorServer
from tests.fixtures.gateway_runs import KEY
from tests.fixtures.media_host import serve as serve_http

SERIES = """\
storyboard: 1
title: Looks on Kling
defaults: {resolution: 720P, ratio: "16:9"}
provider: {name: kling, base_url: 'BASE', media_base_url: 'HOSTED', poll: [0.1]}
characters:
  mia:
    image: media/mia.png
    identity: {kling: {element: make}, permission: "Mia Chen consented on 2026-11-02; legal/mia.pdf"}
    looks:
      rain: {image: media/mia-rain.png, identity: {kling: {element: make}}}
episodes:
  - id: ep01
    shots:
      - {id: dry, model: kling-v4-omni, duration: 5, prompt: "@mia waits at the door"}
      - {id: wet, model: kling-v4-omni, duration: 5, look: rain, prompt: "@mia walks into the rain"}
"""


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    monkeypatch.setenv("KLING_ACCESS_KEY", "ak-test")
    monkeypatch.setenv("KLING_SECRET_KEY", KEY)
    with EmulatorServer(latency=0.05, api_key=KEY, fetch_media=True) as server:
        yield server


def test_a_render_makes_the_looks_element_and_sends_it_where_the_look_is_worn(
        tmp_path: Path, make_media: Any, emu: EmulatorServer) -> None:
    root = tmp_path / "s"
    make_media("image", root / "media" / "mia.png", width=480, height=480, color="red")
    make_media("image", root / "media" / "mia-rain.png", width=480, height=480, color="yellow")
    with serve_http(root) as hosted:
        (root / "storyboard.yaml").write_text(
            SERIES.replace("BASE", emu.gateway_url("kling")).replace("HOSTED", hosted),
            encoding="utf-8")
        done = CliRunner().invoke(cli, ["render", str(root), "--yes", "--json"])
        assert done.exit_code == 0, done.output
    assert int(emu.stats()["cast"]["requests"]["element"]) == 2  # mia's and the rain look's
    lock = json.loads((root / "storyboard.lock").read_text(encoding="utf-8"))
    entries = {f"{e['episode']}/{e['id']}": e for e in lock["shots"].values()}
    made = {asset: entry["task_id"].removeprefix("element-")
            for asset, entry in entries.items() if asset.startswith("elements/")}
    assert made.keys() == {"elements/mia", "elements/mia.rain"}
    assert [m["path"] for m in entries["elements/mia.rain"]["media"].values()] == [
        "media/mia-rain.png"]  # made from the look's own picture
    assert made["elements/mia"] != made["elements/mia.rain"]
    sent = {task.wire["prompt"]: task.wire for task in emu.service.table.tasks.values()
            if task.wire is not None}
    dry, wet = sent["<<<element_1>>> waits at the door"], sent["<<<element_1>>> walks into the rain"]
    assert [str(e["element_id"]) for e in dry["element_list"]] == [made["elements/mia"]]
    assert [str(e["element_id"]) for e in wet["element_list"]] == [made["elements/mia.rain"]]
    assert "image_list" not in wet  # the look's element, not its picture

