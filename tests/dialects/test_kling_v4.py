"""Kling 4.0 (issue 69.1): its modes' bodies, its caps held at the line, identities, the emulator.

One model family on Kling's own API: a prompt alone, frames, or references (images, feature
videos, a character's saved element and voice by id: ``identity: {kling: ...}``), picked by what
the body holds; the flash variant's narrower limits; each body golden; what the model refuses is
refused by ``check`` at its line and by the emulator in Kling's envelope; a series renders end to
end through the CLI against the emulator, its reference video's seconds billed beside the output's.
"""

from __future__ import annotations

import json
import os
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from storyboard.cli import cli
from storyboard.dialects import DIALECTS
from storyboard.emulator import EmulatorServer
from storyboard.emulator.gateways.unwire import unbody
from storyboard.language.compile import compile_lenient
from storyboard.language.read.series import load_source
from storyboard.targets.signatures import jwtokens
from storyboard.targets.video.kling4 import FLASH_WIRE_ID, KLING_V4, LABELS, WIRE_ID
from tests.fixtures import web
from tests.fixtures.gateway_runs import KEY, serve
from tests.fixtures.media_host import serve as serve_http
from tests.fixtures.vendor_models import CDN, url_for

KLING = DIALECTS["kling"]
GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "models-kling-v4.json"

HEAD = """\
storyboard: 1
title: Kling 4
defaults: {resolution: 720P, ratio: "16:9"}
provider: {name: kling, media_base_url: "https://media.example.com/k4"}
voices:
  noor-voice: {audio: media/noor.wav}
characters:
  mia: {image: media/mia.png, identity: {kling: {element: "8810", voice: "v-mia"}}}
  sam: {video: media/sam.mp4}
  guitar: {image: media/guitar.png}
  noor: {image: media/noor.png, voice: noor-voice}
"""

TEXT_SHOT = "duration: 6\nprompt: 'a quiet street at dawn, rain on the windows'\n"
FRAMES_SHOT = ("duration: 5\nfirst_frame: media/guitar.png\nmiddle_frame: media/mia.png\n"
               "last_frame: media/noor.png\nprompt: 'the guitar turns into the singer'\n")
REFERENCES_SHOT = """\
duration: 10
scenes:
  - at: 0-3s
    action: "@sam holds @guitar and plays"
  - at: 3-10s
    action: "@mia smiles"
    say: {mia: "That was lovely."}
"""


def k4_series(root: Path, make_media: Any, model: str, shot: str, characters: str = ""
              ) -> tuple[Path, str]:
    """A one-shot series on ``model`` (its text too, to find a line in)."""
    for name, color in (("mia", "red"), ("guitar", "brown"), ("noor", "blue")):
        make_media("image", root / "media" / f"{name}.png", width=480, height=480, color=color)
    make_media("video", root / "media" / "sam.mp4", width=320, height=240, seconds=4.0)
    make_media("voice", root / "media" / "noor.wav", seconds=2.0)
    text = (HEAD + characters + "episodes:\n  - id: ep01\n    shots:\n      - id: one\n"
            f"        model: {model}\n" + textwrap.indent(shot, " " * 8))
    (root / "storyboard.yaml").write_text(text, encoding="utf-8")
    return root, text


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), start=1) if needle in line)


def compiled_bodies(root: Path) -> tuple[list[dict[str, Any]], list[str]]:
    manifest, problems = compile_lenient(load_source(root), provider="kling")
    return ([KLING.body(s.request, url_for) for s in manifest.shots()],
            [p.message for p in problems if p.severity == "error"])


# -- the bodies, one a mode ----------------------------------------------------------------------

MODES = {"text": (WIRE_ID, TEXT_SHOT), "frames": (WIRE_ID, FRAMES_SHOT),
         "references": (WIRE_ID, REFERENCES_SHOT),
         "flash-references": (FLASH_WIRE_ID, REFERENCES_SHOT.replace(
             '    say: {mia: "That was lovely."}\n', ""))}


def test_each_mode_compiles_to_its_golden_body(tmp_path: Path, make_media: Any) -> None:
    bodies: dict[str, Any] = {}
    for mode, (model, shot) in MODES.items():
        root, _ = k4_series(tmp_path / mode, make_media, model, shot)
        found, errors = compiled_bodies(root)
        assert errors == [], (mode, errors)
        bodies[mode] = found[0]
    text = json.dumps(bodies, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if os.environ.get("STORYBOARD_WRITE_GOLDEN"):
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")


def test_the_reference_mode_sends_the_element_and_voice_for_the_sheet(
        tmp_path: Path, make_media: Any) -> None:
    root, _ = k4_series(tmp_path, make_media, WIRE_ID, REFERENCES_SHOT)
    [body], errors = compiled_bodies(root)
    assert errors == []
    assert body["element_list"] == [{"element_id": 8810}]  # instead of mia.png
    assert body["voice_list"] == [{"voice_id": "v-mia"}]
    assert [i["image_url"] for i in body["image_list"]] == [f"{CDN}/guitar.png"]
    label = LABELS.format(kind="element", index=1)
    assert f'{label} says with the voice of {LABELS.format(kind="voice", index=1)}' in \
        body["prompt"]
    assert "sound" not in body and "multi_prompt" not in body  # always on; scenes as prose
    assert unbody(KLING, body)["input"]["media"] == [
        {"type": "reference_image", "url": f"{CDN}/guitar.png"},
        {"type": "reference_video", "url": f"{CDN}/sam.mp4"},
        {"type": "element", "url": "8810"}, {"type": "voice_id", "url": "v-mia"}]


def test_the_frames_count_among_the_images_and_are_typed(tmp_path: Path, make_media: Any) -> None:
    root, _ = k4_series(tmp_path, make_media, WIRE_ID, FRAMES_SHOT)
    [body], errors = compiled_bodies(root)
    assert errors == []
    assert body["image_list"] == [{"image_url": f"{CDN}/guitar.png", "type": "first_frame"},
                                  {"image_url": f"{CDN}/mia.png", "type": "middle_frame"},
                                  {"image_url": f"{CDN}/noor.png", "type": "last_frame"}]
    assert [i["type"] for i in unbody(KLING, body)["input"]["media"]] == [
        "first_frame", "middle_frame", "last_frame"]


def test_kling_v3_omni_still_sends_no_identity(tmp_path: Path, make_media: Any) -> None:
    """An identity is for the models that take it: 3.0 Omni is sent mia's sheet."""
    shot = REFERENCES_SHOT.replace('    say: {mia: "That was lovely."}\n', "")
    root, _ = k4_series(tmp_path, make_media, "kling-v3-omni", shot)
    [body], errors = compiled_bodies(root)
    assert errors == [] and "element_list" not in body
    assert f"{CDN}/mia.png" in [i["image_url"] for i in body["image_list"]]


# -- check, at the line ----------------------------------------------------------------------------

def characters(count: int, element: bool = False, prefix: str = "x") -> str:
    """``count`` more image characters (x0, x1, ...), each with a saved element if asked."""
    return "".join(f"  {prefix}{n}: {{image: media/guitar.png"
                   + (f', identity: {{kling: {{element: "E{n}"}}}}' if element else "") + "}\n"
                   for n in range(count))


def mentions(count: int, prefix: str = "x") -> str:
    return " ".join(f"@{prefix}{n}" for n in range(count))


CASES = [
    # (model, shot, more characters, what is said, the line's needle)
    (WIRE_ID, "duration: 31\nprompt: 'rain'\n", "", "expected 3 to 30 s on kling-v4-omni",
     "duration: 31"),
    (FLASH_WIRE_ID, "duration: 21\nprompt: 'rain'\n", "", "expected 3 to 20 s on kling-v4-flash",
     "duration: 21"),
    (FLASH_WIRE_ID, "resolution: 1080P\nprompt: 'rain'\n", "", "kling-v4-flash renders 720P",
     "resolution: 1080P"),
    (WIRE_ID, "ratio: '4:3'\nprompt: 'rain'\n", "", "kling-v4-omni takes 16:9, 9:16, 1:1, 21:9",
     "ratio: '4:3'"),
    (WIRE_ID, "seed: 7\nprompt: 'rain'\n", "", "kling-v4-omni takes no seed", "seed: 7"),
    (WIRE_ID, f"first_frame: media/mia.png\nprompt: '{mentions(10)} wave'\n", characters(10),
     "10 image references and 1 frame(s); kling-v4-omni takes at most 10 images", "- id: one"),
    (WIRE_ID, f"first_frame: media/mia.png\nmiddle_frame: media/noor.png\n"
              f"prompt: '{mentions(9)} wave'\n", characters(9),
     "9 image references and 2 frame(s); kling-v4-omni takes at most 10 images", "- id: one"),
    ("kling-v3-omni", "middle_frame: media/noor.png\nprompt: 'rain'\n", "",
     "kling-v3-omni takes no middle_frame (it takes no frames); models that take it: "
     "kling-v4-omni, kling-v4-flash", "middle_frame:"),
    (WIRE_ID, f"prompt: '{mentions(8)} wave'\n", characters(8, element=True),
     "8 characters sent as saved elements", "- id: one"),
    (WIRE_ID, f"first_frame: media/mia.png\nlast_frame: media/noor.png\n"
              f"prompt: '@sam @mia {mentions(8)} {mentions(6, 'y')} wave'\n",
     characters(8) + characters(6, element=True, prefix="y"),
     "18 materials (references, elements, frames and voices); kling-v4-omni takes at most 15",
     "- id: one"),
    (WIRE_ID, "scenes:\n  - {at: 0-5s, action: '@noor waves', say: {noor: 'Hello.'}}\n", "",
     "kling-v4-omni takes voices by their id on kling only: noor", "- id: one"),
    (FLASH_WIRE_ID, "scenes:\n  - {at: 0-5s, action: '@mia waves', say: {mia: 'Hello.'}}\n",
     "", "kling-v4-flash takes no voices: mia", "- id: one"),
    (WIRE_ID, "prompt: '" + "a" * 26001 + "'\n", "", "26000", "prompt: 'aaa"),
]


@pytest.mark.parametrize(("model", "shot", "more", "said", "needle"), CASES)
def test_check_refuses_what_kling_4_cannot_take_at_its_line(
        tmp_path: Path, make_media: Any, model: str, shot: str, more: str, said: str,
        needle: str) -> None:
    root, text = k4_series(tmp_path, make_media, model, shot, more)
    _, problems = compile_lenient(load_source(root), provider="kling")
    found = [p for p in problems if said in p.message and p.severity == "error"]
    assert found, [p.message for p in problems]
    assert found[0].span is not None and found[0].span.line == line_of(text, needle), found[0]


def test_a_reference_video_shorter_than_3_s_is_refused_at_the_shot(
        tmp_path: Path, make_media: Any) -> None:
    root, text = k4_series(tmp_path, make_media, WIRE_ID, "prompt: '@sam waves'\n")
    make_media("video", root / "media" / "sam.mp4", width=320, height=240, seconds=2.0)
    _, problems = compile_lenient(load_source(root), provider="kling")
    found = [p for p in problems if "expected 3 to 30 s" in p.message]
    assert found and found[0].span is not None, [p.message for p in problems]
    assert found[0].span.line == line_of(text, "- id: one")


def test_the_identity_field_is_checked_by_the_schema(tmp_path: Path, make_media: Any) -> None:
    root, _ = k4_series(tmp_path, make_media, WIRE_ID, TEXT_SHOT)
    path = root / "storyboard.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        'voice: "v-mia"', 'voice: "v-mia", avatar: "x"'), encoding="utf-8")
    _, problems = compile_lenient(load_source(root), provider="kling")
    found = [p for p in problems if "avatar" in p.message and p.severity == "error"]
    assert found and found[0].span is not None and found[0].span.line == 8, \
        [p.message for p in problems]


# -- the emulator ----------------------------------------------------------------------------------


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    yield from serve(monkeypatch)


def post(emu: EmulatorServer, body: dict[str, Any]) -> httpx.Response:
    token = jwtokens.sign("ak-test", KEY)
    return web.post(emu.gateway_url("kling") + "/v1/videos/omni-video", json=body,
                      headers={"Authorization": f"Bearer {token}"}, timeout=10)


def test_the_emulator_takes_every_golden_body(emu: EmulatorServer) -> None:
    for mode, body in json.loads(GOLDEN.read_text(encoding="utf-8")).items():
        answer = post(emu, body)
        assert (answer.status_code, answer.json()["code"]) == (200, 0), (mode, answer.json())


def _references() -> dict[str, Any]:
    return dict(json.loads(GOLDEN.read_text(encoding="utf-8"))["references"])


@pytest.mark.parametrize(("change", "said"), [
    ({"model_name": FLASH_WIRE_ID}, "(model kling-v4-flash)"),  # flash takes no voice_id
    ({"duration": "31"}, "duration"),
    ({"mode": "pro", "model_name": FLASH_WIRE_ID, "voice_list": None}, "resolution"),
    ({"image_list": [{"image_url": f"{CDN}/x{n}.png"} for n in range(10)]
      + [{"image_url": f"{CDN}/f.png", "type": "first_frame"}]}, "image_list has 11 items"),
    ({"element_list": [{"element_id": f"https://x/{n}"} for n in range(2)]}, "by its id"),
    ({"element_list": [{"element_id": n} for n in range(8)]}, "element_list"),
    ({"element_list": [{"element_id": n} for n in range(7)],
      "image_list": [{"image_url": f"{CDN}/x{n}.png"} for n in range(7)]}, "materials"),
])
def test_the_emulator_refuses_what_kling_4_refuses_in_its_envelope(
        emu: EmulatorServer, change: dict[str, Any], said: str) -> None:
    body = {k: v for k, v in {**_references(), **change}.items() if v is not None}
    answer = post(emu, body)
    assert answer.status_code == 400, answer.json()
    assert set(answer.json()) == {"code", "message", "request_id"}
    assert answer.json()["code"] == 1201 and said in answer.json()["message"], answer.json()
    assert emu.stats()["submissions"]["total"] == 0


# -- end to end, through the CLI --------------------------------------------------------------------


@pytest.fixture
def fetching(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    """An emulator that fetches the reference video a body names, as Kling does."""
    monkeypatch.setenv("KLING_ACCESS_KEY", "ak-test")
    monkeypatch.setenv("KLING_SECRET_KEY", KEY)
    with EmulatorServer(latency=0.05, api_key=KEY, fetch_media=True) as server:
        yield server


def hosted_series(root: Path, make_media: Any, emu: EmulatorServer, hosted: str) -> Path:
    """The references series on Kling 4.0, its files at ``hosted``, rendered by ``emu``."""
    k4_series(root, make_media, WIRE_ID, REFERENCES_SHOT)
    path = root / "storyboard.yaml"
    text = path.read_text(encoding="utf-8").replace(
        "  noor-voice: {audio: media/noor.wav}\n", "").replace(
        "  noor: {image: media/noor.png, voice: noor-voice}\n", "").replace("voices:\n", "")
    path.write_text(text.replace(
        'provider: {name: kling, media_base_url: "https://media.example.com/k4"}',
        f"provider: {{name: kling, base_url: '{emu.gateway_url('kling')}', "
        f"media_base_url: '{hosted}', poll: [0.1]}}"), encoding="utf-8")
    return root


@contextmanager
def hosting(tmp_path: Path, make_media: Any, emu: EmulatorServer) -> Iterator[Path]:
    """The references series in a new folder that a loopback host serves, for as long as the
    block runs (the emulator fetches its files from there)."""
    root = tmp_path / "s"
    root.mkdir()
    with serve_http(root) as hosted:
        yield hosted_series(root, make_media, emu, hosted)


RATE = KLING_V4.price("intl").per_second["720P"]


def test_a_series_renders_on_emulated_kling_4_with_references_a_voice_and_an_element(
        tmp_path: Path, make_media: Any, fetching: EmulatorServer) -> None:
    with hosting(tmp_path, make_media, fetching) as root:
        planned = CliRunner().invoke(cli, ["plan", str(root), "--json"])
        assert planned.exit_code == 0, planned.output
        result = CliRunner().invoke(cli, ["render", str(root), "--yes", "--json"])
    assert result.exit_code == 0, result.output
    # The 4 s reference video is billed beside the 10 s output, at 720P's $0.196 a second.
    assert json.loads(planned.stdout)["total_cost"] == pytest.approx(14 * RATE)
    [task] = fetching.service.table.tasks.values()
    assert task.status == "SUCCEEDED" and task.wire is not None
    assert task.wire["element_list"] == [{"element_id": 8810}]
    assert task.wire["voice_list"] == [{"voice_id": "v-mia"}]
    assert task.wire["video_list"][0]["video_url"].endswith("/media/sam.mp4")
    assert (root / "out").is_dir()


def test_an_extension_is_a_derived_take_billed_on_its_input_and_output_seconds(
        tmp_path: Path, make_media: Any, fetching: EmulatorServer) -> None:
    with hosting(tmp_path, make_media, fetching) as root:
        assert CliRunner().invoke(cli, ["render", str(root), "--yes"]).exit_code == 0
        too_long = CliRunner().invoke(cli, ["retake", str(root), "ep01/one", "--extend",
                                            "more", "--seconds", "31", "--yes"])
        assert too_long.exit_code != 0 and "extends by 3 to 30 s" in too_long.output
        extend = ["retake", str(root), "ep01/one", "--extend", "the camera pulls back",
                  "--seconds", "5", "--yes", "--json"]
        first = CliRunner().invoke(cli, extend)
        assert first.exit_code == 0, first.output
        again = CliRunner().invoke(cli, extend)
        assert again.exit_code == 0, again.output
    tasks = list(fetching.service.table.tasks.values())
    assert len(tasks) == 2  # the render, then the extension once: asked again, it is cached
    wire = tasks[-1].wire
    assert wire is not None and wire["model_name"] == WIRE_ID and wire["duration"] == "5"
    [video] = wire["video_list"]
    assert video["refer_type"] == "extend" and "aspect_ratio" not in wire
    assert wire["prompt"] == "the camera pulls back"
    report = json.loads(first.stdout)
    # Billed on the 10 s take it extends and its own 5 s, once (asked again: cached, free).
    [shot] = report["shots"]
    assert (shot["key"], shot["state"]) == ("s/ep01/one#2", "done")
    assert shot["cost"] == pytest.approx(15 * RATE) and report["spent"] == shot["cost"]
    assert json.loads(again.stdout)["spent"] == 0
    lock = (root / "storyboard.lock").read_text(encoding="utf-8")
    assert '"kind": "extend"' in lock and '"seconds": 5' in lock


def test_an_extension_on_a_model_without_the_task_is_refused_before_anything_is_asked(
        tmp_path: Path, make_media: Any, fetching: EmulatorServer) -> None:
    with hosting(tmp_path, make_media, fetching) as root:
        path = root / "storyboard.yaml"
        path.write_text(path.read_text(encoding="utf-8").replace(WIRE_ID, "kling-v3-omni")
                        .replace('    say: {mia: "That was lovely."}\n', ""), encoding="utf-8")
        assert CliRunner().invoke(cli, ["render", str(root), "--yes"]).exit_code == 0
        said = CliRunner().invoke(cli, ["retake", str(root), "ep01/one", "--extend", "more",
                                        "--yes"])
    assert said.exit_code != 0 and "extend task (kling-v4-omni, kling-v4-flash)" in said.output
    assert "Traceback" not in said.output
    assert len(fetching.service.table.tasks) == 1


def test_an_edit_sends_the_take_as_its_base_video_billed_on_both(
        tmp_path: Path, make_media: Any, fetching: EmulatorServer) -> None:
    with hosting(tmp_path, make_media, fetching) as root:
        assert CliRunner().invoke(cli, ["render", str(root), "--yes"]).exit_code == 0
        edited = CliRunner().invoke(cli, ["retake", str(root), "ep01/one", "--edit",
                                          "make it night", "--yes", "--json"])
    assert edited.exit_code == 0, edited.output
    wire = list(fetching.service.table.tasks.values())[-1].wire
    assert wire is not None and wire["video_list"][0]["refer_type"] == "base"
    assert wire["duration"] == "10" and "aspect_ratio" not in wire
    [shot] = json.loads(edited.stdout)["shots"]
    assert shot["cost"] == pytest.approx(20 * RATE)  # the 10 s take read, 10 s made
