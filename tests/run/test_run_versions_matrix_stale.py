"""A matrix's language variation made as its base's version goes stale as a plain series'
version does (issue 97): a look worn from episode 2 re-renders the base's shots the ``es``
variation was made from; ``check`` (at the look's line, naming it), ``plan`` (text and
``--json``) and ``status`` say the ``es`` version of ep02 (variation es) is stale, with what
brings it back (approve the base's shots as they are now, then ``render``); once they are, the
``render`` makes it again and nothing is stale."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fixtures.dashscope_cli import Emulator, invoke
from tests.run.test_run_versions_matrix import _series
from tests.run.test_run_versions_version import EP01, EP02, SHOTS, MakeMedia, run

pytestmark = pytest.mark.usefixtures("env")  # the key in the environment

LOOK = ("  mia:\n    image: media/mia.png\n    voice: mia-voice\n"
        '    looks:\n      coat: {image: media/coat.png, episodes: "2-"}')


def said(root: Path) -> dict[str, str]:
    """What ``check``, ``plan`` and ``status`` say (the studio and the season's delivery take
    no matrix)."""
    return {read: invoke(*args).output for read, args in (
        ("check", ("check", root)), ("plan", ("plan", root, "--provider", "dashscope")),
        ("status", ("status", root)))}


def ok(*args: str | Path) -> None:
    code, _, output = run(*args)
    assert code == 0, output


def test_a_look_change_makes_the_matrixs_language_version_stale(
        tmp_path: Path, make_media: MakeMedia, emulator: Emulator) -> None:
    emulator(plain_results=False, latency=0.1)
    root = _series(tmp_path / "dubbed", make_media)
    make_media("image", root / "media" / "coat.png", width=480, height=480, color="blue")
    ok("render", root, "--provider", "dashscope", "--yes", "--variation", "en")
    for shot in SHOTS:
        ok("approve", root, f"en/{shot}", "--force")
    folder = root / "languages" / "es"
    folder.mkdir(parents=True)
    (folder / "ep01.yaml").write_text(EP01, encoding="utf-8")
    (folder / "ep02.yaml").write_text(EP02, encoding="utf-8")
    ok("render", root, "--provider", "dashscope", "--yes")  # es made as en's version
    assert not any("stale" in text for text in said(root).values())

    series = root / "storyboard.yaml"
    series.write_text(series.read_text("utf-8").replace(
        "  mia: {image: media/mia.png, voice: mia-voice}", LOOK), encoding="utf-8")
    ok("render", root, "--provider", "dashscope", "--yes", "--variation", "en",
       "--replace-approved")
    texts = said(root)
    stale = "the es version of ep02 (variation es) is stale: its cut changed since it was made"
    back = (f"bring it back: approve en/ep02/door, en/ep02/bye as they are now (storyboard "
            f"approve {root} SHOT, each), then storyboard render {root}")
    for read, text in texts.items():
        assert stale in text and back in text, (read, text)
        assert "version of ep01" not in text, (read, text)  # ep01 wears no coat
    assert (f"{series}:18:7: warning: mia's look coat changed what ep02/door, ep02/bye wear "
            f"(Image 1 (mia): content changed (media/coat.png)): {stale}") in texts["check"]
    planned = json.loads(invoke("plan", root, "--provider", "dashscope", "--json").stdout)
    assert [(s["variation"], s["episode"], s["to_approve"]) for s in planned["stale"]] == [
        ("es", "ep02", ["ep02/door", "ep02/bye"])]

    for shot in ("ep02/door", "ep02/bye"):  # approved as they are now: made again by render
        ok("approve", root, f"en/{shot}", "--force")
    ok("render", root, "--provider", "dashscope", "--yes")
    assert not any("stale" in text for text in said(root).values())
