"""Faces on Seedance through the CLI and the emulator (issue 69.2): refused, attributed, registered.

``storyboard render`` on Ark and ModelArk against the emulator, which takes ``mia.png`` for a real
person (``EmulatorConfig.real_faces``): the submit is refused with Ark's
``InputImageSensitiveContentDetected.PrivacyInformation``, the shot fails naming mia's picture and
the fix, nothing is billed and nothing is sent again. With mia's face declared
(``identity: {ark: {asset: ID}}``) and held by the emulator's portrait library, the same shot is
sent with ``asset://ID`` in her picture's place and renders; an id the library does not hold is
refused by the service, never paid.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from storyboard.cli import cli
from storyboard.dialects import DIALECTS
from storyboard.emulator import EmulatorServer
from storyboard.targets.video.models import SEEDANCE_20_ARK, SEEDANCE_25_MODELARK
from tests.fixtures.compiler import write_series
from tests.fixtures.gateway_runs import KEY, quick_render
from tests.fixtures.media_host import serve

ASSET = "asset-20261101-mia"
SHOT = """\
- id: ep01
  shots:
    - {id: a, prompt: "@mia waves at @guitar"}
"""
IDENTITY = (f", identity: {{ark: {{asset: {ASSET}}}, modelark: {{asset: {ASSET}}}, "
            "permission: \"Mia Lund, signed release 2026-10-01, kept in legal/mia.pdf\"}")


def head(name: str, model: str, base_url: str, media: str, identity: str = "") -> str:
    return f"""\
storyboard: 1
title: Faces
defaults: {{resolution: 720P, ratio: "16:9", duration: 4, model: {model}}}
provider: {{name: {name}, base_url: '{base_url}', media_base_url: '{media}', poll: [0.1]}}
output: {{loudness: null}}
characters:
  guitar: {{image: media/guitar.png}}
  mia: {{image: media/mia.png{identity}}}
"""


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    for name in ("ark", "modelark"):
        monkeypatch.setenv(DIALECTS[name].key_env, KEY)
    monkeypatch.setenv("CI", "1")
    with EmulatorServer(latency=0.2, api_key=KEY, render=quick_render,
                        real_faces=("mia.png",)) as server:
        yield server


@pytest.fixture
def origin(tmp_path: Path) -> Iterator[str]:
    with serve(tmp_path) as served:  # the gateway fetches media_base_url: it is served
        yield served


def a_series(tmp_path: Path, make_media: Any, emu: EmulatorServer, origin: str, *,
             name: str = "ark", model: str = SEEDANCE_20_ARK.id, identity: str = "") -> Path:
    folder = tmp_path / "faces"
    folder.mkdir(exist_ok=True)
    return write_series(folder, make_media, SHOT, head=head(
        name, model, emu.gateway_url(name), f"{origin}/faces", identity))


def invoke(*args: str | Path) -> Result:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    return result


def render(series: Path) -> tuple[int, dict[str, Any]]:
    result = invoke("render", series, "--yes", "--json", "-o", series / "out")
    return result.exit_code, json.loads(result.stdout) if result.stdout.strip() else {}


def shot_a(report: dict[str, Any]) -> dict[str, Any]:
    (only,) = report["shots"]
    return dict(only)


def counts(emu: EmulatorServer) -> tuple[int, int]:
    """Submits asked, and submits accepted (a task made: what could be billed)."""
    stats = emu.stats()
    return stats["requests"]["submit"], stats["submissions"]["total"]


def test_a_real_face_refused_is_attributed_to_its_character_with_the_fix(
        tmp_path: Path, make_media: Any, emu: EmulatorServer, origin: str) -> None:
    series = a_series(tmp_path, make_media, emu, origin)
    checked = invoke("check", series)
    assert "storyboard.yaml:7:" in checked.output and "guitar, mia: photoreal pictures go by " \
        "URL to ark" in checked.output
    assert checked.output.count("refuses faces sent by URL") == 1  # said once for both
    code, report = render(series)
    shot = shot_a(report)
    assert code == 1 and (shot["state"], shot["code"]) == (
        "failed", "InputImageSensitiveContentDetected.PrivacyInformation"), shot
    message = shot["message"]
    assert "may contain real person" in message
    assert "the picture refused is mia's picture (Image 1)" in message
    assert "register the face of mia in the vendor's portrait library and declare it: " \
        "characters.mia.identity: {ark: {asset: ID}}" in message
    assert "docs/cast.md#identities-registered-once" in message
    assert "nothing billed" in message and "not billed" in message
    assert counts(emu) == (1, 0)  # asked once, never accepted, never sent again
    code, _ = render(series)
    assert code == 1 and counts(emu) == (2, 0)  # a new run asks once more: refused, free


def test_a_declared_face_is_sent_as_its_asset_and_renders(
        tmp_path: Path, make_media: Any, emu: EmulatorServer, origin: str) -> None:
    emu.service.config.portraits = (ASSET,)
    series = a_series(tmp_path, make_media, emu, origin, identity=IDENTITY)
    checked = invoke("check", series)
    assert "guitar: a photoreal picture goes by URL to ark" in checked.output
    assert "mia" not in checked.output.split("guitar:")[1].split("\n")[0].split("(")[0]
    compiled = invoke("compile", series, "--provider", "ark")
    assert f'"url": "asset://{ASSET}"' in compiled.stdout
    code, report = render(series)
    assert code == 0 and shot_a(report)["state"] == "done", report
    (task,) = emu.service.table.tasks.values()
    pictures = [i for i in task.wire["content"] if i["type"] == "image_url"]
    assert pictures[0]["image_url"]["url"] == f"asset://{ASSET}"  # the prompt's Image 1
    assert pictures[1]["image_url"]["url"].endswith("/faces/media/guitar.png")
    assert task.wire["content"][0]["text"] == "Image 1 waves at Image 2"
    assert counts(emu) == (1, 1)


def test_an_asset_the_library_does_not_hold_is_refused_unpaid_on_modelark(
        tmp_path: Path, make_media: Any, emu: EmulatorServer, origin: str) -> None:
    series = a_series(tmp_path, make_media, emu, origin, name="modelark",
                      model=SEEDANCE_25_MODELARK.id, identity=IDENTITY)
    code, report = render(series)
    shot = shot_a(report)
    assert code == 1 and (shot["state"], shot["code"]) == ("failed", "InvalidParameter"), shot
    assert f"asset {ASSET} does not exist or is not Active" in shot["message"]
    assert counts(emu) == (1, 0)


def test_a_refusal_naming_no_picture_names_every_picture_sent_by_url(
        tmp_path: Path, make_media: Any, emu: EmulatorServer, origin: str) -> None:
    """The ``submit:refused=person`` fault names no item: the pictures sent by URL are named,
    a registered one is not."""
    emu.service.config.portraits = (ASSET,)
    identity = f", identity: {{ark: {{asset: {ASSET}}}}}"
    series = a_series(tmp_path, make_media, emu, origin, identity=identity)
    emu.script("submit:refused=person")
    code, report = render(series)
    shot = shot_a(report)
    assert code == 1 and shot["code"] == "InputImageSensitiveContentDetected.PrivacyInformation"
    assert "The request failed because the input image may contain real person." in \
        shot["message"]
    assert "the answer names no picture; those sent by URL: guitar's picture (Image 2); " \
        "register the face of guitar" in shot["message"]
    assert counts(emu) == (1, 0)
    code, report = render(series)  # the fault is spent: the same shot renders, paid once
    assert code == 0 and shot_a(report)["state"] == "done" and counts(emu) == (2, 1)
