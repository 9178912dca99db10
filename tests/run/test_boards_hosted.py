"""A board larger than the video model takes, on a gateway: its scaled copy hosted and sent.

A gateway fetches every file from the hosted series folder, so a 2K Seedream board goes to the
video model as a copy scaled to what that model takes, written under ``.storyboard/sent/`` as
soon as the board is approved (``approve`` names the file to host) and again, the same bytes
under the same name, when the video is sent (issue 56, item 5). The copy is trusted by its
bytes, not its name: another picture, or a link, put there after ``approve`` is drawn over
before the render checks or sends it (issue 63, item 1).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from storyboard.emulator.cast.standins import png_size
from storyboard.run.state.housekeeping import usage
from tests.fixtures.boards import ARK_BOARDS
from tests.fixtures.dashscope_cli import Emulator, child_env, invoke
from tests.fixtures.media_host import serve

pytestmark = pytest.mark.usefixtures("env")

def test_an_approved_2k_board_is_hosted_scaled_and_sent_by_that_url(
        tmp_path: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    emu = emulator()
    monkeypatch.setenv("ARK_API_KEY", "ark-test-key")
    series = tmp_path / "ark"
    series.mkdir()
    with serve(series) as media:
        (series / "storyboard.yaml").write_text(
            ARK_BOARDS.format(base=emu.gateway_url("ark"), media=media), encoding="utf-8")
        made = invoke("render", series, "boards", "--yes", "--quiet")
        assert made.exit_code == 0, made.output
        picked = invoke("pick", series, "boards/ep1/cup", "1", "--json")
        assert picked.exit_code == 0, picked.output
        approved = invoke("approve", series, "boards/ep1/cup", "--json")
        assert approved.exit_code == 0, approved.output
        [hosted] = json.loads(approved.stdout)["hosted"]
        assert json.loads(picked.stdout)["hosted"] == [hosted]  # picked: final without the gate
        assert hosted.startswith(".storyboard/sent/") and hosted.endswith("-2048x1152.png")
        copy = series / hosted
        size = png_size(copy.read_bytes())
        assert size is not None and size[:2] == (2048, 1152)
        said = invoke("approve", series, "boards/ep1/cup")  # the same board: the same file
        assert f"host {hosted} with the series folder" in said.stdout, said.output
        assert "approved take 1 of boards/ep1/cup (drawn on ark)" in said.stdout
        assert f"ep1/cup may render from it now: storyboard render {series}\n" in said.stdout
        rendered = invoke("render", series, "--yes", "--quiet")
        assert rendered.exit_code == 0, rendered.output
    task = next(t for t in emu.service.table.tasks.values()
                if "steams" in t.submission.prompt and t.submission.media)
    assert [m["url"] for m in task.submission.media] == [f"{media}/{hosted}"]
    kinds = {row.kind: row.bytes for row in usage(series)}  # storyboard cache names them
    assert kinds["scaled stills sent (hosted)"] == copy.stat().st_size


@pytest.mark.parametrize("planted", ["another picture", "a link"])
def test_a_hosted_copy_replaced_after_approve_is_drawn_again_before_it_is_checked_or_sent(
        tmp_path: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch, make_media: Any,
        planted: str) -> None:
    """Replace the approved board's hosted copy with another picture of its size (or a link to
    one) and render: the video is sent the board scaled, never the other picture. The link is
    rendered in a new process (the copy drawn afresh there), the picture in this one (checked
    by its digest)."""
    emu = emulator()
    monkeypatch.setenv("ARK_API_KEY", "ark-test-key")
    series = tmp_path / "ark"
    decoy = make_media("image", series / "media" / "decoy.png", width=2048, height=1152,
                       color="red")  # hosted too: a link to it would be fetched as it
    with serve(series) as media:
        (series / "storyboard.yaml").write_text(
            ARK_BOARDS.format(base=emu.gateway_url("ark"), media=media), encoding="utf-8")
        assert invoke("render", series, "boards", "--yes", "--quiet").exit_code == 0
        approved = invoke("approve", series, "boards/ep1/cup", "--json")
        assert approved.exit_code == 0, approved.output
        [hosted] = json.loads(approved.stdout)["hosted"]
        copy = series / hosted
        genuine = copy.read_bytes()
        copy.unlink()
        if planted == "a link":
            copy.symlink_to(decoy)
            child = subprocess.run([sys.executable, "-m", "storyboard", "render", str(series),
                                    "--yes", "--quiet"], env=child_env(), capture_output=True,
                                   text=True, timeout=300, check=False)
            assert child.returncode == 0, child.stderr
        else:
            copy.write_bytes(decoy.read_bytes())
            rendered = invoke("render", series, "--yes", "--quiet")
            assert rendered.exit_code == 0, rendered.output
    task = next(t for t in emu.service.table.tasks.values()
                if "steams" in t.submission.prompt and t.submission.media)
    assert [m["url"] for m in task.submission.media] == [f"{media}/{hosted}"]  # not the link's
    assert not copy.is_symlink() and copy.read_bytes() == genuine  # what that URL served
    assert decoy.read_bytes() != genuine
