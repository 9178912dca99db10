"""A look and a registered identity compose (issue 85): a look carries its own id per vendor.

A character whose picture goes to a vendor by an id (a Seedance portrait on ``ark`` or
``modelark``, a Kling 4.0 element) shows its own look there, so a look it wears sends the look's
own id (``looks: {swan: {image: ..., identity: {ark: {asset: ID}, kling: {element: ID}}}}``), or
one made from the look's sheet (``make``); a look without one is refused at its line for that
target, never sent as the base face, never its picture where an id goes. Through the CLI:
``compile`` and ``check`` on a small series.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from storyboard.cli import cli
from storyboard.targets.video.models import model_of
from storyboard.targets.wire.gateways import TARGETS

SEEDANCE = {"ark": "doubao-seedance-2-0-260128", "modelark": "dreamina-seedance-2-0-260128"}
BASE_IDS = {"ark": "asset-2026-duck", "modelark": "asset-bp-duck"}
SWAN_IDS = {"ark": "asset-2026-swan", "modelark": "asset-bp-swan"}
SERIES = """\
storyboard: 1
title: Duckling
defaults: {resolution: RES, ratio: "16:9"}
provider: {name: PROVIDER, media_base_url: "https://media.example.com/duckling"}
voices:
  duck-voice: {audio: media/duck.wav}
characters:
  duckling:
    image: IMAGE
    voice: duck-voice
    identity:
IDENTITY      permission: "a drawn duckling; the studio owns the design"
    looks:
      swan:
        image: LOOK
        episodes: "WORN"
LOOK_IDENTITY  pond: {image: media/pond.png}
episodes:
  - id: ep01
    shots:
      - {id: one, model: MODEL, duration: 5, FIRST}
  - id: ep02
    shots:
      - {id: two, model: MODEL, duration: 5, prompt: "@pond shines as @duckling flies"}
"""
IDS = ("      ark: {asset: asset-2026-duck}\n      modelark: {asset: asset-bp-duck}\n"
       '      kling: {element: "8810", voice: vo-4411}\n')
LOOK_IDS = ("        identity:\n          ark: {asset: asset-2026-swan}\n"
            "          modelark: {asset: asset-bp-swan}\n"
            '          kling: {element: "9920"}\n')


def write(root: Path, make_media: Any, provider: str, model: str, *, ids: str = IDS,
          look_ids: str = LOOK_IDS, image: str = "media/duck.png",
          look: str = "media/swan.png", resolution: str = "720P",
          first: str = 'prompt: "@duckling swims across @pond"', worn: str = "2-") -> str:
    make_media("image", root / "media" / "duck.png", width=480, height=480, color="gray")
    make_media("image", root / "media" / "swan.png", width=480, height=480, color="white")
    make_media("image", root / "media" / "pond.png", width=480, height=480, color="blue")
    make_media("voice", root / "media" / "duck.wav", seconds=3.0)
    text = (SERIES.replace("PROVIDER", provider).replace("MODEL", model)
            .replace("RES", resolution).replace("IMAGE", image).replace("LOOK_IDENTITY", look_ids)
            .replace("IDENTITY", ids).replace("LOOK", look).replace("FIRST", first).replace("WORN", worn))
    (root / "storyboard.yaml").write_text(text, encoding="utf-8")
    return text


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def compiled(root: Path, provider: str) -> dict[str, Any]:
    done = run("compile", str(root), "--provider", provider)
    assert done.exit_code == 0, done.output
    found: dict[str, Any] = json.loads(done.stdout)
    return found


def requests(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f"{ep['id']}/{shot['id']}": shot["request"] for ep in manifest["episodes"]
            for shot in ep["shots"]}


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), start=1) if needle in line)


def urls(request: dict[str, Any]) -> list[str]:
    return [item["image_url"]["url"] for item in request["content"]
            if item["type"] == "image_url"]


# -- Seedance: a portrait ---------------------------------------------------------------------------

@pytest.mark.parametrize("provider", sorted(SEEDANCE))
def test_seedance_sends_the_looks_own_portrait_where_it_is_worn(
        tmp_path: Path, make_media: Any, provider: str) -> None:
    write(tmp_path, make_media, provider, SEEDANCE[provider])
    sent = requests(compiled(tmp_path, provider))
    base, swan = f"asset://{BASE_IDS[provider]}", f"asset://{SWAN_IDS[provider]}"
    assert urls(sent["ep01/one"]) == [base, "https://media.example.com/duckling/media/pond.png"]
    # ep02: the pond is Image 1, the swan Image 2, at the place the duckling's portrait went
    assert urls(sent["ep02/two"]) == ["https://media.example.com/duckling/media/pond.png", swan]
    assert "Image 1 shines as Image 2 flies" in sent["ep02/two"]["content"][0]["text"]


@pytest.mark.parametrize("provider", sorted(SEEDANCE))
def test_seedance_refuses_a_look_without_its_own_portrait_at_its_line(
        tmp_path: Path, make_media: Any, provider: str) -> None:
    text = write(tmp_path, make_media, provider, SEEDANCE[provider], look_ids="")
    done = run("check", str(tmp_path), "--provider", provider)
    assert done.exit_code == 1, done.output
    said = next(line for line in done.output.splitlines() if "look 'swan'" in line)
    assert said.startswith(f"{tmp_path / 'storyboard.yaml'}:{line_of(text, 'swan:')}:7: error: ")
    assert f"worn by ep02/two on {provider} " in said
    assert f"registered portrait (identity.{provider}.asset: {BASE_IDS[provider]})" in said
    assert f"looks.swan.identity: {{{provider}: {{asset: ID}}}}" in said
    assert "docs/cast.md#looks-and-identities" in said
    # no warning that the swan goes by URL beside it (the pond's only): the error says what to do
    assert "pond: a photoreal picture goes by URL" in done.output
    assert "duckling: a photoreal" not in done.output


def test_a_look_is_refused_only_on_a_target_where_its_character_goes_by_an_id(
        tmp_path: Path, make_media: Any) -> None:
    only_ark = "      ark: {asset: asset-2026-duck}\n"
    write(tmp_path, make_media, "modelark", SEEDANCE["modelark"], ids=only_ark, look_ids="")
    sent = requests(compiled(tmp_path, "modelark"))  # by URL there, as any picture
    assert urls(sent["ep02/two"])[1] == "https://media.example.com/duckling/media/swan.png"
    path = tmp_path / "storyboard.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(SEEDANCE["modelark"],
                                                             SEEDANCE["ark"]), encoding="utf-8")
    done = run("check", str(tmp_path), "--provider", "ark")
    assert done.exit_code == 1 and "look 'swan' of duckling is worn by ep02/two on ark" \
        in done.output


def test_a_looks_portrait_is_made_from_its_own_sheet(tmp_path: Path, make_media: Any) -> None:
    make = "      ark: {asset: make}\n"
    look_make = "        identity: {ark: {asset: make}}\n"
    write(tmp_path, make_media, "ark", SEEDANCE["ark"], ids=make, look_ids=look_make,
          image='{generate: "a small grey duckling"}', look='{generate: "a white swan"}')
    manifest = compiled(tmp_path, "ark")
    sent = requests(manifest)
    assert urls(sent["ep01/one"])[0] == "{asset: portraits/duckling}"
    assert urls(sent["ep02/two"])[1] == "{asset: portraits/duckling.swan}"
    made = {a["id"]: a for a in manifest["cast"]}
    assert made["portraits/duckling.swan"]["needs"].keys() == {"cast/duckling.swan"}
    assert made["portraits/duckling"]["needs"].keys() == {"cast/duckling"}


def test_a_looks_portrait_of_a_picture_from_a_file_is_refused_at_its_line(
        tmp_path: Path, make_media: Any) -> None:
    text = write(tmp_path, make_media, "ark", SEEDANCE["ark"],
                 look_ids="        identity: {ark: {asset: make}}\n")
    done = run("check", str(tmp_path), "--provider", "ark")
    assert done.exit_code == 1
    [said] = [line for line in done.output.splitlines() if ": error: " in line]
    where = tmp_path / "storyboard.yaml"
    assert said.startswith(f"{where}:{line_of(text, 'identity: {ark: {asset: make}}')}:")
    assert "duckling.swan's picture" in said and "expected a sheet drawn from words" in said


# -- Kling 4.0: an element ------------------------------------------------------------------------

def test_kling_sends_the_looks_own_element(tmp_path: Path, make_media: Any) -> None:
    write(tmp_path, make_media, "kling", "kling-v4-omni")
    sent = requests(compiled(tmp_path, "kling"))
    assert sent["ep01/one"]["element_list"] == [{"element_id": 8810}]
    assert sent["ep02/two"]["element_list"] == [{"element_id": 9920}]
    assert sent["ep02/two"]["image_list"] == [
        {"image_url": "https://media.example.com/duckling/media/pond.png"}]


def test_kling_refuses_a_look_without_its_own_element_at_its_line(
        tmp_path: Path, make_media: Any) -> None:
    text = write(tmp_path, make_media, "kling", "kling-v4-omni", look_ids="",
                 look='{generate: "a white swan"}')  # the sheet that went where an id goes
    done = run("check", str(tmp_path), "--provider", "kling")
    assert done.exit_code == 1, done.output
    said = next(line for line in done.output.splitlines() if "look 'swan'" in line)
    assert said.startswith(f"{tmp_path / 'storyboard.yaml'}:{line_of(text, 'swan:')}:7: error: ")
    assert "worn by ep02/two on Kling 4.0" in said
    assert "saved element (identity.kling.element: 8810)" in said
    assert "looks.swan.identity: {kling: {element: ID}}" in said
    lenient = run("compile", str(tmp_path), "--provider", "kling")
    assert "{asset: cast/duckling.swan}" not in lenient.output


def test_a_looks_element_is_made_from_its_own_sheet(tmp_path: Path, make_media: Any) -> None:
    write(tmp_path, make_media, "kling", "kling-v4-omni",
          ids='      kling: {element: make}\n',
          look_ids='        identity: {kling: {element: make}}\n',
          image='{generate: "a small grey duckling"}', look='{generate: "a white swan"}')
    manifest = compiled(tmp_path, "kling")
    sent = requests(manifest)
    assert sent["ep01/one"]["element_list"] == [{"element_id": "{asset: elements/duckling}"}]
    assert sent["ep02/two"]["element_list"] == [
        {"element_id": "{asset: elements/duckling.swan}"}]
    made = {a["id"]: a for a in manifest["cast"]}
    assert made["elements/duckling.swan"]["needs"].keys() == {"cast/duckling.swan"}
    assert "elements/duckling.swan" in manifest["episodes"][1]["shots"][0]["needs"]


def test_a_looks_element_goes_where_its_character_has_none(
        tmp_path: Path, make_media: Any) -> None:
    write(tmp_path, make_media, "kling", "kling-v4-omni", ids="",
          look_ids='        identity: {kling: {element: "9920"}}\n')
    sent = requests(compiled(tmp_path, "kling"))
    assert "element_list" not in sent["ep01/one"]  # its own picture, an image
    assert sent["ep01/one"]["prompt"] == "<<<image_1>>> swims across <<<image_2>>>"
    assert sent["ep02/two"]["element_list"] == [{"element_id": 9920}]
    assert sent["ep02/two"]["prompt"] == "<<<image_1>>> shines as <<<element_1>>> flies"


def test_compile_prompt_prints_an_id_as_the_request_sends_it(
        tmp_path: Path, make_media: Any) -> None:
    write(tmp_path, make_media, "kling", "kling-v4-omni", look_ids="", worn="9-", first=(
        'scenes: [{at: 0-5s, action: "@duckling swims across @pond", '
        'say: {duckling: "What a lovely pond this is."}}]'))
    sent = requests(compiled(tmp_path, "kling"))
    assert sent["ep01/one"]["voice_list"] == [{"voice_id": "vo-4411"}]
    assert sent["ep01/one"]["element_list"] == [{"element_id": 8810}]
    done = run("compile", str(tmp_path), "--provider", "kling", "--format", "prompt")
    assert done.exit_code == 0, done.output
    assert "{type: element, id: 8810}" in done.stdout
    assert "{type: voice_id, id: vo-4411}" in done.stdout
    assert "None" not in done.stdout


# -- every target ---------------------------------------------------------------------------------

def models() -> list[tuple[str, str]]:
    """Each target with each model of its that takes references, needs no frame or video of
    its own, and renders in the default region."""
    return [(name, model.id) for name, target in TARGETS.items() for m in target.models
            if (model := model_of(m)) is not None and model.takes_references
            and not model.needs and not model.regions]


@pytest.mark.parametrize(("provider", "model"), models())
def test_no_wire_field_of_any_target_holds_a_placeholder_or_the_base_face(
        tmp_path: Path, make_media: Any, provider: str, model: str) -> None:
    found = model_of(model)
    assert found is not None
    resolutions = found.caps.resolutions
    write(tmp_path, make_media, provider, model,
          resolution="720P" if "720P" in resolutions else resolutions[0])
    manifest = compiled(tmp_path, provider)
    sent = requests(manifest)
    wire = json.dumps(manifest["episodes"])
    assert "{asset:" not in wire and "None" not in wire
    swan = json.dumps(sent["ep02/two"])
    for base in (*BASE_IDS.values(), "8810", "media/duck.png"):
        assert base not in swan  # the swan episode never sends the grey duckling
