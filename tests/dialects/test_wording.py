"""Each model's multi-shot wording (issue 69.3): one series with timed scenes compiled to every model
that takes them, each body golden; the model that takes none refused at its line.

Seedance 2.0 follows shots by order, Seedance 2.5 whole-second timestamps, MiniMax H3 a timed list,
Kling its ``multi_prompt`` (at most 5 shots of 1..12 s), Wan and HappyHorse storyboard's prose.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from storyboard.dialects import DIALECTS
from storyboard.dialects.wording import worded
from storyboard.language.request import Scene
from storyboard.targets.video.models import MODELS
from storyboard.targets.video.wording import SHOT_ORDER, TIMESTAMPS, WORDINGS, timed_models
from storyboard.targets.wire.gateways import TARGETS
from tests.fixtures.models import FRAME_SHOT, SHOTS, compiled, errors, series

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "models-wording.json"
CDN = "https://media.example.com"
SCENES = """\
      scenes:
        - at: 0-2s
          action: "the barista looks up"
        - at: 2-5s
          action: "the barista smiles and hums"
"""
# Where the usual shot of a model (``tests.fixtures.models.SHOTS``) has one prompt: its scenes.
TIMED = {"wan2.7-i2v": FRAME_SHOT.replace('      prompt: "the barista smiles and hums"\n',
                                          SCENES),
         "happyhorse-1.1-i2v": "      duration: 5\n      first_frame: media/mia.png\n" + SCENES,
         "wan2.7-videoedit": "      duration: 2\n      source_video: media/sam.mp4\n      scenes:\n"
                             "        - '[0-1s] @mia wears the hat'\n"
                             "        - '[1-2s] @mia takes it off'\n"}


def url_for(ref: object) -> str:
    return f"{CDN}/{Path(str(ref)).name}"


def provider_of(model: str) -> str:
    """The first target that sells ``model``."""
    return next(name for name, target in TARGETS.items() if model in target.models)


def body_on(tmp_path: Path, make_media: Any, model: str) -> dict[str, Any]:
    provider = provider_of(model)
    shot = TIMED.get(model) or SHOTS.get(model)
    shots, problems = compiled(series(tmp_path, make_media, model, shot), provider)
    assert errors(problems) == [], (model, errors(problems))
    assert len(shots[0].request.scenes) > 1, model  # timed scenes, not one prompt
    return DIALECTS[provider].body(shots[0].request, url_for)


@pytest.fixture(scope="module")
def golden() -> dict[str, Any]:
    return json.loads(GOLDEN.read_text(encoding="utf-8")) if GOLDEN.exists() else {}


@pytest.mark.parametrize("model", timed_models())
def test_every_model_that_takes_timed_scenes_gets_its_golden_body(
        tmp_path: Path, make_media: Any, model: str, golden: dict[str, Any]) -> None:
    body = body_on(tmp_path, make_media, model)
    if os.environ.get("STORYBOARD_WRITE_GOLDEN"):
        golden[model] = body
        GOLDEN.write_text(json.dumps(golden, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
                          encoding="utf-8")
    assert body == golden[model]


def prompt_of(body: dict[str, Any]) -> str:
    """The prompt as the body sends it (native and gateway bodies keep it in different places)."""
    if "input" in body:
        return str(body["input"]["prompt"])
    if "content" in body:
        return str(body["content"][0]["text"])
    return str(body["prompt"])


@pytest.mark.parametrize(("model", "first", "second"), [
    ("doubao-seedance-2-0-260128", "Shot 1: ", "Cut to Shot 2: "),
    ("dreamina-seedance-2-0-260128", "Shot 1: ", "Cut to Shot 2: "),
    ("doubao-seedance-2-5-260628", "[0s-3s] ", "[3s-10s] "),
    ("dreamina-seedance-2-5-260628", "[0s-3s] ", "[3s-10s] "),
    ("MiniMax/MiniMax-H3", "1. [0-3s] ", "2. [3-10s] "),
    ("MiniMax-H3", "1. [0-3s] ", "2. [3-10s] "),
    ("wan2.7-r2v", "Scene 1 [0-3s]: ", "Scene 2 [3-10s]: "),
])
def test_each_model_words_its_scenes_its_own_way(
        tmp_path: Path, make_media: Any, model: str, first: str, second: str) -> None:
    lines = prompt_of(body_on(tmp_path, make_media, model)).splitlines()
    assert lines[0].startswith(first) and lines[1].startswith(second), lines
    if first[0] != "S" or first.startswith("Shot"):
        assert "Scene " not in "\n".join(lines)


def test_kling_sends_its_scenes_as_multi_prompt(tmp_path: Path, make_media: Any) -> None:
    body = body_on(tmp_path, make_media, "kling-v3-omni")
    assert body["multi_shot"] is True
    assert [(i["index"], i["duration"]) for i in body["multi_prompt"]] == [(1, "3"), (2, "7")]


def test_a_model_that_takes_no_timed_scenes_is_refused_at_the_line(
        tmp_path: Path, make_media: Any) -> None:
    shot = "      resolution: 768P\n      duration: 6\n      first_frame: media/mia.png\n" + \
        SCENES.replace("2-5s", "2-6s")
    _, problems = compiled(series(tmp_path, make_media, "MiniMax-Hailuo-2.3", shot),
                           "minimax-hailuo")
    [found] = [p for p in problems if p.code == "model-scenes"]
    assert found.severity == "error" and found.span is not None
    assert (found.span.line, found.span.col) == (19, 9)  # the shot's scenes: key
    assert found.message.startswith("MiniMax-Hailuo-2.3 takes no timed scenes")
    assert "doubao-seedance-2-5-260628" in found.message and "MiniMax-H3" in found.message
    assert "MiniMax-Hailuo-2.3," not in found.message


def test_seedance_2_5_refuses_a_window_off_whole_seconds_at_its_line(
        tmp_path: Path, make_media: Any) -> None:
    shot = "      duration: 10\n      scenes:\n        - at: 0-3.5s\n          action: 'a'\n" \
        "        - at: 3.5-10s\n          action: 'b'\n"
    _, problems = compiled(series(tmp_path, make_media, "doubao-seedance-2-5-260628", shot),
                           "ark")
    found = [p for p in problems if p.code == "model-scenes"]
    assert [(p.span.line if p.span else 0) for p in found] == [18, 20], found
    assert "follows whole-second timestamps" in found[0].message
    # Seedance 2.0 words them by order: the same windows are fine there.
    _, problems = compiled(series(tmp_path / "20", make_media, "doubao-seedance-2-0-260128",
                                  shot), "ark")
    assert not [p for p in problems if p.code == "model-scenes"]


@pytest.mark.parametrize(("scenes", "said"), [
    ([(0, 2), (2, 4), (4, 6), (6, 8), (8, 10), (10, 12)],
     "kling (kling-v3-omni) takes 1 to 5 timed scenes in one call; this shot has 6"),
    ([(0, 13), (13, 15)], "scene 1 lasts 13 s; kling-v3-omni takes at most 12 s a scene"),
])
def test_kling_3_takes_five_scenes_of_at_most_twelve_seconds(
        tmp_path: Path, make_media: Any, scenes: list[tuple[int, int]], said: str) -> None:
    written = "".join(f"        - at: {a}-{b}s\n          action: 'the barista hums'\n"
                      for a, b in scenes)
    shot = f"      duration: {scenes[-1][1]}\n      scenes:\n{written}"
    _, problems = compiled(series(tmp_path, make_media, "kling-v3-omni", shot), "kling")
    assert any(said in message for message in errors(problems)), errors(problems)


def test_the_rewrite_keeps_what_is_not_a_head() -> None:
    scenes = (Scene(1, 0.0, 3.0, ""), Scene(2, 3.0, 5.0, ""))
    prompt = "Scene 1 [0-3s]: Image 1 walks. Scene 2 is not a head\nScene 2 [3-5s]: she sits"
    assert worded(prompt, scenes, SHOT_ORDER) == \
        "Shot 1: Image 1 walks. Scene 2 is not a head\nCut to Shot 2: she sits"
    assert worded(prompt, scenes, TIMESTAMPS) == \
        "[0s-3s] Image 1 walks. Scene 2 is not a head\n[3s-5s] she sits"
    assert worded("one prompt, no scenes", (), SHOT_ORDER) == "one prompt, no scenes"


def test_every_wording_names_a_declared_model() -> None:
    assert set(WORDINGS) <= set(MODELS)
    assert "MiniMax-Hailuo-2.3" not in timed_models()


def test_one_scene_on_a_model_without_timed_scenes_is_its_prompt(
        tmp_path: Path, make_media: Any) -> None:
    shot = "      resolution: 768P\n      duration: 6\n      first_frame: media/mia.png\n" \
        "      scenes: ['[0-6s] the barista smiles']\n"
    shots, problems = compiled(series(tmp_path, make_media, "MiniMax-Hailuo-2.3", shot),
                               "minimax-hailuo")
    assert errors(problems) == []
    assert prompt_of(DIALECTS["minimax-hailuo"].body(shots[0].request, url_for)) == \
        "the barista smiles"
