"""Alibaba's other video models (issue 49.1): HappyHorse 1.1, wan2.7-t2v and wan2.7-videoedit.

One neutral series compiled to every model DashScope sells, each body held to its golden form
(``tests/golden/models-dashscope.json``; ``STORYBOARD_WRITE_GOLDEN=1`` rewrites it); each model's
label spelling, wire names and watermark; what ``check`` refuses for each, at its line; prices.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from storyboard.dialects import DIALECTS
from storyboard.emulator import EmulatorServer
from storyboard.run.plans import plan
from storyboard.targets.video.models import DASHSCOPE_MODELS, MODELS
from storyboard.targets.video.retired import RETIRED
from storyboard.targets.wire.gateways import DASHSCOPE
from tests.fixtures.gateway_runs import a_shot, render_all, serve
from tests.fixtures.models import compiled, errors, series
from tests.fixtures.vendor_models import CDN, url_for

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "models-dashscope.json"
H3 = "MiniMax/MiniMax-H3"


def native_body(root: Path) -> dict[str, Any]:
    shots, problems = compiled(root)
    assert errors(problems) == []
    return DIALECTS["dashscope"].body(shots[0].request, url_for)


def test_every_model_compiles_to_its_golden_dashscope_body(
        tmp_path: Path, make_media: Callable[..., Path]) -> None:
    bodies = {model: native_body(series(tmp_path / model, make_media, model))
              for model in sorted(DASHSCOPE_MODELS)}
    text = json.dumps(bodies, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if os.environ.get("STORYBOARD_WRITE_GOLDEN"):
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")


def test_happyhorse_names_references_in_brackets_and_sends_watermark_off(
        tmp_path: Path, make_media: Callable[..., Path]) -> None:
    body = native_body(series(tmp_path, make_media, "happyhorse-1.1-r2v"))
    assert body["input"]["prompt"].startswith("Scene 1 [0-3s]: [Image 1] holds [Image 2]")
    assert "Image 1 " not in body["input"]["prompt"].replace("[Image 1]", "")
    # Its service marks the video unless told not to: storyboard always says.
    assert body["parameters"]["watermark"] is False
    assert "negative_prompt" not in body["input"] and "prompt_extend" not in body["parameters"]


def test_a_prompt_alone_sends_no_media_and_t2v_audio_is_its_own_field(
        tmp_path: Path, make_media: Callable[..., Path]) -> None:
    horse = native_body(series(tmp_path / "a", make_media, "happyhorse-1.1-t2v"))
    assert "media" not in horse["input"]
    wan = native_body(series(tmp_path / "b", make_media, "wan2.7-t2v"))
    assert "media" not in wan["input"] and wan["input"]["audio_url"] == f"{CDN}/mia.wav"


def test_videoedit_sends_its_video_as_type_video_and_no_ratio(
        tmp_path: Path, make_media: Callable[..., Path]) -> None:
    body = native_body(series(tmp_path, make_media, "wan2.7-videoedit"))
    assert body["input"]["media"][-1] == {"type": "video", "url": f"{CDN}/sam.mp4"}
    assert "ratio" not in body["parameters"]


# (model, the shot's YAML, the error's text, the line it is on)
REFUSALS = [
    ("happyhorse-1.1-r2v", "      duration: 2\n      prompt: '@mia waves'\n",
     "a 2 s shot; expected 3 to 15 s on happyhorse-1.1-r2v", 16),
    ("happyhorse-1.1-r2v", "      prompt: '@sam waves'\n",
     "1 video references; happyhorse-1.1-r2v takes at most 0", 14),
    ("happyhorse-1.1-r2v", "      negative_prompt: blurry\n      prompt: '@mia waves'\n",
     "happyhorse-1.1-r2v takes no negative prompt", 16),
    ("happyhorse-1.1-r2v", "      first_frame: media/mia.png\n      prompt: '@mia waves'\n",
     "happyhorse-1.1-r2v takes no first_frame", 16),
    ("happyhorse-1.1-r2v", "      prompt: 'a quiet street'\n",
     "this shot has no reference", 14),
    ("happyhorse-1.1-r2v", "      resolution: 480P\n      prompt: '@mia waves'\n",
     "resolution 480P; happyhorse-1.1-r2v renders 720P, 1080P", 16),
    # A voiced character's line: the model takes no voice, so it would speak in one it invents.
    ("happyhorse-1.1-r2v", "      scenes:\n        - at: 0-5s\n          action: '@mia waves'\n"
                           "          say: {mia: 'Hello.'}\n",
     "happyhorse-1.1-r2v takes no voices: mia would speak in a voice the model invents", 14),
    ("happyhorse-1.1-i2v", "      prompt: 'a quiet street'\n",
     "happyhorse-1.1-i2v starts from a picture: give this shot a first_frame", 14),
    ("happyhorse-1.1-i2v", "      first_frame: media/mia.png\n      prompt: '@mia waves'\n",
     "happyhorse-1.1-i2v takes no character references (@mia): it is driven by first_frame;", 14),
    ("happyhorse-1.1-t2v", "      prompt: '@mia waves'\n",
     "happyhorse-1.1-t2v takes no character references (@mia): it renders from the prompt "
     "alone", 14),
    ("happyhorse-1.1-t2v", "      first_frame: media/mia.png\n      prompt: 'rain'\n",
     "happyhorse-1.1-t2v takes no first_frame", 16),
    ("wan2.7-r2v", "      ratio: '21:9'\n      prompt: '@mia waves'\n",
     "ratio 21:9; wan2.7-r2v takes 16:9, 9:16, 1:1, 4:3, 3:4", 16),
    ("wan2.7-t2v", "      duration: 16\n      prompt: 'rain'\n",
     "a 16 s shot; expected 2 to 15 s on wan2.7-t2v", 16),
    ("wan2.7-t2v", "      first_frame: media/mia.png\n      prompt: 'rain'\n",
     "wan2.7-t2v takes no first_frame", 16),
    ("wan2.7-videoedit", "      prompt: '@mia waves'\n",
     "wan2.7-videoedit edits a video: give this shot a source_video", 14),
    ("wan2.7-videoedit", "      duration: 11\n      source_video: media/sam.mp4\n"
                         "      prompt: 'rain'\n",
     "a 11 s shot; expected 2 to 10 s on wan2.7-videoedit", 16),
    ("wan2.7-videoedit", "      source_video: media/sam.mp4\n      prompt: '@sam waves'\n",
     "1 video references; wan2.7-videoedit takes at most 0", 14),
    ("wan2.7-r2v", "      source_video: media/sam.mp4\n      prompt: '@mia waves'\n",
     "wan2.7-r2v takes no source_video", 16),
    (H3, "      resolution: 768P\n      seed: 7\n      prompt: '@mia waves'\n",
     "MiniMax/MiniMax-H3 takes no seed (each render differs); remove seed", 17),
    (H3, "      prompt: '@mia waves'\n",  # the series' 720P: said at the default that sets it
     "resolution 720P; MiniMax/MiniMax-H3 renders 768P, 2K", 3),
    (H3, "      resolution: 768P\n      duration: 3\n      prompt: '@mia waves'\n",
     "a 3 s shot; expected 4 to 15 s on MiniMax/MiniMax-H3", 17),
    (H3, "      resolution: 768P\n      first_frame: media/mia.png\n      prompt: '@mia waves'\n",
     "MiniMax/MiniMax-H3 takes references or a first/last frame, not both", 17),
    (H3, "      resolution: 768P\n      negative_prompt: blurry\n      prompt: '@mia waves'\n",
     "MiniMax/MiniMax-H3 takes no negative prompt", 17),
]


@pytest.mark.parametrize(("model", "shot", "message", "line"), REFUSALS)
def test_check_refuses_what_the_model_cannot_take_at_its_line(
        tmp_path: Path, make_media: Callable[..., Path], model: str, shot: str, message: str,
        line: int) -> None:
    _, problems = compiled(series(tmp_path, make_media, model, shot))
    found = [p for p in problems if message in p.message]
    assert found, [p.message for p in problems]
    assert found[0].severity == "error" and found[0].span is not None
    assert found[0].span.line == line


def test_happyhorse_takes_its_own_ratios_and_nine_images(
        tmp_path: Path, make_media: Callable[..., Path]) -> None:
    shot = "      ratio: '21:9'\n      prompt: '@mia holds @guitar'\n"
    shots, problems = compiled(series(tmp_path, make_media, "happyhorse-1.1-r2v", shot))
    assert errors(problems) == []
    assert DIALECTS["dashscope"].body(shots[0].request, url_for)["parameters"]["ratio"] == "21:9"


def test_a_source_video_is_held_to_its_length(tmp_path: Path,
                                              make_media: Callable[..., Path]) -> None:
    root = series(tmp_path, make_media, "wan2.7-videoedit",
                  "      duration: 2\n      source_video: media/long.mp4\n      prompt: 'rain'\n")
    make_media("video", root / "media" / "long.mp4", width=320, height=240, seconds=11.0)
    found = [p for p in compiled(root)[1] if "long.mp4: lasts 11.00 s; expected 2 to 10 s"
             in p.message]
    assert found and found[0].span is not None and found[0].span.line == 17


def test_h3_sends_its_own_type_names_and_no_seed(tmp_path: Path,
                                                 make_media: Callable[..., Path]) -> None:
    shots, problems = compiled(series(tmp_path, make_media, H3))
    assert errors(problems) == []
    take2 = shots[0].others[0] if shots[0].others else None
    assert take2 is None  # one take: the series asks for none more
    body = DIALECTS["dashscope"].body(replace(shots[0].request, seed=42), url_for)
    assert [m["type"] for m in body["input"]["media"]] == [
        "feature", "image_url", "image_url", "driving_audio"]
    assert "seed" not in body["parameters"] and body["parameters"]["resolution"] == "768P"


@pytest.mark.parametrize(("model", "cost"), [
    (H3, (10 + 15) * 0.08),  # 10 s out, its reference video unmeasured here: the 15 s cap
    ("happyhorse-1.1-r2v", 10 * 0.14),  # output seconds only
    ("happyhorse-1.1-t2v", 6 * 0.14),
    ("wan2.7-t2v", 6 * 0.10),  # its audio is not input video
    ("wan2.7-videoedit", (10 + 2) * 0.10),  # the input video assumed at its 10 s cap, + 2 s out
])
def test_plan_prices_each_new_model_by_its_own_table(
        tmp_path: Path, make_media: Callable[..., Path], model: str, cost: float) -> None:
    root = series(tmp_path, make_media, model)
    shots, problems = compiled(root)
    assert errors(problems) == []
    result = plan(shots, provider="dashscope", prices=DASHSCOPE.protocol.prices["intl"],
                  series_dir=root)
    assert result.total_cost == pytest.approx(cost)


# --- a lost submit on a model with labels of its own ---------------------------------------------


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    yield from serve(monkeypatch)


def test_a_lost_happyhorse_submit_is_found_by_its_bracketed_prompt_and_paid_once(
        emu: EmulatorServer, tmp_path: Path, make_media: Callable[..., Path]) -> None:
    shot = a_shot(tmp_path, make_media, " gallops home")
    # HappyHorse takes a picture whose short side is at least 400 px (the shared one is 320)
    make_media("image", tmp_path / "media" / "mia.png", width=480, height=480)
    shot = replace(shot, request=replace(shot.request, model="happyhorse-1.1-r2v", duration=3,
                                         prompt_extend=None))
    emu.script("submit:lost")  # the task is made, its answer never arrives
    result = render_all(emu, tmp_path, [shot])
    # The service lists it under "[Image 1] gallops home": found, adopted, never paid twice.
    assert [s.state for s in result.shots] == ["done"], result.shots
    assert emu.stats()["submissions"]["total"] == 1 and result.submits == 1
    assert result.shots[0].cost == pytest.approx(3 * 0.14)


def test_a_prompt_is_held_to_its_limit_as_sent_with_its_own_labels(
        tmp_path: Path, make_media: Callable[..., Path]) -> None:
    # 4,998 characters natively ("Image 1 " + words); "[Image 1]" makes it 5,000 + 2 as sent,
    # which HappyHorse would cut in silence: check refuses it.
    words = "x" * (4998 - len("Image 1 "))
    shot = f"      prompt: '@mia {words}'\n"
    found = [p for p in compiled(series(tmp_path, make_media, "happyhorse-1.1-r2v", shot))[1]
             if "the compiled prompt has 5000 characters" in p.message]
    assert not found
    shot = f"      prompt: '@mia {words}xx'\n"
    said = [p.message for p in compiled(series(tmp_path / "b", make_media, "happyhorse-1.1-r2v",
                                               shot))[1] if p.severity == "error"]
    assert said == ["the compiled prompt has 5002 characters; expected at most 5000"]


def test_a_local_draft_of_an_edit_follows_the_video_it_edits(
        tmp_path: Path, make_media: Callable[..., Path]) -> None:
    from storyboard.animatic import render_shot
    from storyboard.animatic.draw import draft_size
    from storyboard.media.ffmpeg import probe

    shots, problems = compiled(series(tmp_path, make_media, "wan2.7-videoedit"))
    assert errors(problems) == []
    out = tmp_path / "draft.mp4"
    render_shot(shots[0].request, out, draft=True)
    facts = probe(out)  # sam.mp4 is 320x240: 4:3, as the service follows it
    assert facts.video is not None and (facts.video.width, facts.video.height) == \
        draft_size(1104, 832)
    assert facts.duration == pytest.approx(2, abs=0.1)


def test_the_schema_names_every_declared_model_and_no_other() -> None:
    import re

    schema = json.loads((Path(__file__).resolve().parents[2] / "schemas" /
                         "storyboard.schema.json").read_text(encoding="utf-8"))
    patterns = {schema["properties"]["models"]["propertyNames"]["pattern"],
                schema["properties"]["fallbacks"]["items"]["pattern"],
                schema["$defs"]["defaults"]["properties"]["model"]["pattern"]}
    assert len(patterns) == 1
    pattern = re.compile(patterns.pop())
    for model in MODELS.values():
        for name in (model.id, *model.snapshots, f"{model.id}-2027-01-01"):
            assert pattern.match(name), name
    for name in RETIRED:  # a retired id passes the schema: check refuses it with its successor
        assert pattern.match(name) and pattern.match(f"{name}-2025-10-06"), name
    for name in ("wan9", "happyhorse-1.1", "happyhorse-1.0-r2v", "MiniMax-Hailuo-02", "seedance"):
        assert not pattern.match(name), name


def test_an_edit_is_no_longer_than_the_video_it_edits(tmp_path: Path,
                                                       make_media: Callable[..., Path]) -> None:
    shot = "      duration: 3\n      source_video: media/sam.mp4\n      prompt: 'rain'\n"
    said = errors(compiled(series(tmp_path, make_media, "wan2.7-videoedit", shot))[1])
    assert said == ["a 3 s shot of a 2.00 s source_video: wan2.7-videoedit cuts its output from "
                    "the start of the video it edits; expected at most 2 s"]


@pytest.mark.parametrize(("provider_block", "warned"), [
    ('provider: {media_base_url: "https://media.example.com/models"}', True),
    ('provider: {name: dashscope, region: cn}', False),
    # a block naming no provider is local's: --provider dashscope renders in intl (and says so)
    ('provider: {region: cn}', True),
    ('provider: {name: dashscope, base_url: "http://127.0.0.1:9/api/v1"}', False),  # your host
])
def test_h3_outside_beijing_is_said_at_the_model_key(
        tmp_path: Path, make_media: Callable[..., Path], provider_block: str,
        warned: bool) -> None:
    from storyboard.language.compile import compile_lenient
    from storyboard.language.read.series import load_source

    root = series(tmp_path, make_media, H3)
    text = (root / "storyboard.yaml").read_text().replace(
        'provider: {media_base_url: "https://media.example.com/models"}', provider_block)
    (root / "storyboard.yaml").write_text(text)
    _, problems = compile_lenient(load_source(root), provider="dashscope")
    found = [p for p in problems if p.code == "model-region"]
    assert bool(found) == warned, [p.message for p in problems]
    if warned:
        assert found[0].severity == "warning" and found[0].span is not None
        assert found[0].span.line == 15  # the shot's model: key
        assert "set provider.region: cn" in found[0].message
    assert errors(problems) == []
