"""One series compiled for every (model, dialect) pair: labels, media arrays and what ``check`` says.

The table below is the contract of issue 27: a model a target sells compiles to that target's labels
and media array with no error; a model it does not sell is a located error, never a silent body.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from storyboard.animatic import render_shot
from storyboard.animatic.draw import draft_size
from storyboard.dialects import DIALECTS
from storyboard.emulator.gateways.unwire import unbody
from storyboard.media.ffmpeg import probe
from storyboard.review.sheet import build_sheet
from storyboard.run.plans import plan
from storyboard.run.state.lock.lockfile import describe, lock_path, read_lock, update_lock
from storyboard.targets.video.models import DASHSCOPE_MODELS, MODELS, family
from storyboard.targets.wire.gateways import DASHSCOPE, TARGETS
from tests.fixtures.models import FRAME_SHOT, compiled, errors, series

# (model, dialect) -> (text the prompt holds, the native media types in order). Every pair that
# exists; a pair not here must be refused (see test_a_gateway_refuses_a_model_it_does_not_sell).
EXPECTED: dict[tuple[str, str], tuple[str, list[str]]] = {
    ("wan2.7-r2v", "dashscope"): ('Image 2 says: "That was lovely."',
                                  ["reference_video", "reference_image", "reference_image"]),
    ("wan2.7-r2v", "openai-video"): ("Video 1 holds Image 1",
                                     ["reference_video", "reference_image", "reference_image"]),
    ("wan2.7-r2v", "freepik"): ("Video 1 holds Image 1",
                                ["reference_image", "reference_image", "reference_video"]),
    ("wan2.7-r2v", "roles"): ("video 1 holds image 1",
                              ["reference_image", "reference_image", "reference_video"]),
    ("wan2.7-r2v", "arrays"): ("Image1 smiles",
                               ["reference_image", "reference_image", "reference_video"]),
    ("wan3.0-video", "dashscope"): (
        'Image 2 says with the voice of Audio 1: "That was lovely."',
        ["reference_video", "reference_image", "reference_image", "reference_audio"]),
    ("wan3.0-video-prime", "dashscope"): (
        'Image 2 says with the voice of Audio 1: "That was lovely."',
        ["reference_video", "reference_image", "reference_image", "reference_audio"]),
    ("wan2.7-i2v", "dashscope"): ("the barista smiles and hums",
                                  ["first_frame", "driving_audio"]),
    ("happyhorse-1.1-r2v", "dashscope"): ("Scene 1 [0-3s]: [Image 1] holds [Image 2] and plays",
                                          ["reference_image", "reference_image"]),
    ("happyhorse-1.1-i2v", "dashscope"): ("the barista smiles and hums", ["first_frame"]),
    ("happyhorse-1.1-t2v", "dashscope"): ("Scene 2 [3-6s]: a cafe door opens", []),
    ("wan2.7-t2v", "dashscope"): ("Scene 1 [0-3s]: a quiet street at dawn", []),
    ("wan2.7-videoedit", "dashscope"): ("Image 1 wears the hat of Image 2",
                                        ["reference_image", "reference_image", "video"]),
    ("MiniMax/MiniMax-H3", "dashscope"): (
        'Image 2 says with the voice of Audio 1: "That was lovely."',
        ["feature", "image_url", "image_url", "driving_audio"]),
    # Seedance names each kind in its own count, as the official example does.
    ("doubao-seedance-2-0-260128", "ark"): (
        'Image 2 says with the voice of Audio 1: "That was lovely."',
        ["reference_video", "reference_image", "reference_image", "reference_audio"]),
    ("dreamina-seedance-2-0-260128", "modelark"): (  # its own multi-shot wording (targets/video/wording.py)
        "Shot 1: Video 1 holds Image 1 and plays",
        ["reference_video", "reference_image", "reference_image", "reference_audio"]),
    # Seedance 2.5: the same request with another model id.
    ("doubao-seedance-2-5-260628", "ark"): (
        'Image 2 says with the voice of Audio 1: "That was lovely."',
        ["reference_video", "reference_image", "reference_image", "reference_audio"]),
    ("dreamina-seedance-2-5-260628", "modelark"): (  # its own multi-shot wording (targets/video/wording.py)
        "[0s-3s] Video 1 holds Image 1 and plays",
        ["reference_video", "reference_image", "reference_image", "reference_audio"]),
    ("kling-v3-omni", "kling"): ("Scene 1 [0-3s]: <<<image_1>>> holds <<<image_2>>> and plays",
                                 ["reference_image", "reference_image"]),
    # Kling 4.0 and its flash variant: the same label spelling (one declared value, unverified).
    **{(model, "kling"): ("Scene 1 [0-3s]: <<<image_1>>> holds <<<image_2>>> and plays",
                          ["reference_image", "reference_image"])
       for model in ("kling-v4-omni", "kling-v4-flash")},
    # MiniMax's own API: H3 as Seedance's content items (labels a guess), Hailuo a first frame.
    ("MiniMax-H3", "minimax"): (
        'Image 2 says with the voice of Audio 1: "That was lovely."',
        ["reference_video", "reference_image", "reference_image", "reference_audio"]),
    ("MiniMax-H3", "minimaxi"): (  # its own multi-shot wording (targets/video/wording.py)
        "1. [0-3s] Video 1 holds Image 1 and plays",
        ["reference_video", "reference_image", "reference_image", "reference_audio"]),
    ("MiniMax-Hailuo-2.3", "minimax-hailuo"): ("the barista smiles and hums", ["first_frame"]),
    ("MiniMax-Hailuo-2.3", "minimaxi-hailuo"): ("the barista smiles and hums", ["first_frame"]),
}


def test_the_table_covers_every_pair_a_target_sells() -> None:
    sold = {(model, name) for name, target in TARGETS.items() for model in MODELS
            if model in target.models}
    assert sold == set(EXPECTED)
    assert set(DASHSCOPE.models) == set(DASHSCOPE_MODELS)


@pytest.mark.parametrize(("model", "dialect"), sorted(EXPECTED))
def test_every_pair_compiles_to_its_labels_and_media(
        tmp_path: Path, make_media: Callable[..., Path], model: str, dialect: str) -> None:
    shots, problems = compiled(series(tmp_path, make_media, model), dialect)
    assert errors(problems) == []
    text, types = EXPECTED[(model, dialect)]
    body = DIALECTS[dialect].body(shots[0].request, lambda ref: f"https://media.example.com/"
                                                               f"{Path(str(ref)).name}")
    native: dict[str, Any] = unbody(DIALECTS[dialect], body)
    assert text in native["input"]["prompt"]
    assert [m["type"] for m in native["input"].get("media", [])] == types
    assert family(native["model"]) == model


def test_wan30_sends_voices_as_audio_items_and_no_switch_it_lacks(
        tmp_path: Path, make_media: Callable[..., Path]) -> None:
    shots, _ = compiled(series(tmp_path, make_media, "wan3.0-video"))
    body = DIALECTS["dashscope"].body(shots[0].request, str)
    assert all("reference_voice" not in m for m in body["input"]["media"])
    assert body["input"]["media"][-1]["url"].endswith("mia.wav")
    assert "negative_prompt" not in body["input"]
    assert "prompt_extend" not in body["parameters"] and body["parameters"]["audio"] is True


def test_i2v_sends_no_ratio_and_keeps_its_negative_prompt(
        tmp_path: Path, make_media: Callable[..., Path]) -> None:
    shot = FRAME_SHOT + "      negative_prompt: blurry\n"
    shots, problems = compiled(series(tmp_path, make_media, "wan2.7-i2v", shot))
    assert errors(problems) == []
    body = DIALECTS["dashscope"].body(shots[0].request, str)
    assert "ratio" not in body["parameters"] and body["input"]["negative_prompt"] == "blurry"


@pytest.mark.parametrize("dialect", [d for d in DIALECTS if d != "dashscope"])
@pytest.mark.parametrize("model", ["wan3.0-video", "wan2.7-i2v"])
def test_a_gateway_refuses_a_model_it_does_not_sell(
        tmp_path: Path, make_media: Callable[..., Path], model: str, dialect: str) -> None:
    _, problems = compiled(series(tmp_path, make_media, model), dialect)
    sold = ", ".join(DIALECTS[dialect].models)
    said = [p for p in problems if f"sells {sold}, not" in p.message]
    assert said and said[0].span is not None and said[0].span.line == 15


# (model, the shot's YAML, the error's text, the line it is on)
REFUSALS = [
    ("wan2.7-r2v", "      duration: 20\n      prompt: '@mia waves'\n",
     "a 20 s shot; expected 2 to 15 s", 16),
    ("wan3.0-video", "      duration: 31\n      prompt: '@mia waves'\n",
     "expected 2 to 30 s on wan3.0-video", 16),
    ("wan3.0-video", "      duration: -1\n      prompt: '@mia waves'\n",
     "a plan must know its cost", 16),
    ("wan2.7-r2v", "      resolution: 480P\n      prompt: '@mia waves'\n",
     "resolution 480P; wan2.7-r2v renders 720P, 1080P", 16),
    ("wan3.0-video", "      negative_prompt: blurry\n      prompt: '@mia waves'\n",
     "wan3.0-video takes no negative prompt; remove negative_prompt", 16),
    ("wan3.0-video", "      prompt_extend: true\n      prompt: '@mia waves'\n",
     "wan3.0-video has no prompt_extend switch", 16),
    ("wan2.7-r2v", "      audio: false\n      prompt: '@mia waves'\n",
     "wan2.7-r2v has no audio switch", 16),
    ("wan3.0-video", "      first_frame: media/mia.png\n      prompt: '@mia waves'\n",
     "drop first_frame to keep @mia as references", 16),
    ("wan2.7-i2v", "      first_frame: media/mia.png\n      prompt: '@mia waves'\n",
     "wan2.7-i2v takes no character references (@mia)", 14),
    ("wan2.7-i2v", "      prompt: 'a quiet street'\n",
     "wan2.7-i2v starts from a picture", 14),
    ("wan2.7-r2v", "      first_clip: media/sam.mp4\n      prompt: '@mia waves'\n",
     "wan2.7-r2v takes no first_clip", 16),
    ("wan3.0-video", "      prompt: 'a quiet street'\n",
     "expected at least one image or video or a first_frame", 14),
    ("wan3.0-video", "      prompt: '@mia @sam @guitar'\n      cast: [mia]\n      duration: 29\n",
     "come to more than 30 s", 14),
]


@pytest.mark.parametrize(("model", "shot", "message", "line"), REFUSALS)
def test_check_refuses_what_the_model_cannot_carry_at_its_line(
        tmp_path: Path, make_media: Callable[..., Path], model: str, shot: str, message: str,
        line: int) -> None:
    _, problems = compiled(series(tmp_path, make_media, model, shot))
    found = [p for p in problems if message in p.message]
    assert found, [p.message for p in problems]
    assert found[0].severity == "error" and found[0].span is not None
    assert found[0].span.line == line


def test_wan30_may_start_from_a_frame_alone(tmp_path: Path,
                                            make_media: Callable[..., Path]) -> None:
    shot = "      first_frame: media/mia.png\n      last_frame: media/guitar.png\n" \
           "      prompt: 'the cup turns into a guitar'\n"
    shots, problems = compiled(series(tmp_path, make_media, "wan3.0-video", shot))
    assert errors(problems) == []
    assert [m.role for m in shots[0].request.media] == ["first_frame", "last_frame"]


def test_a_default_for_other_models_is_not_sent_and_says_so(
        tmp_path: Path, make_media: Callable[..., Path]) -> None:
    root = series(tmp_path, make_media, "wan3.0-video")
    text = (root / "storyboard.yaml").read_text().replace(
        'ratio: "16:9"}', 'ratio: "16:9", negative_prompt: blurry}')
    (root / "storyboard.yaml").write_text(text)
    shots, problems = compiled(root)
    assert errors(problems) == []
    warned = [p for p in problems if "is not sent to the wan3.0-video shots" in p.message]
    assert warned and warned[0].span is not None and warned[0].span.line == 3
    assert shots[0].request.negative_prompt is None


def test_plan_prices_each_shot_by_its_model(tmp_path: Path,
                                            make_media: Callable[..., Path]) -> None:
    shot = "      duration: 20\n      resolution: 480P\n      prompt: '@mia waves'\n"
    shots, problems = compiled(series(tmp_path, make_media, "wan3.0-video", shot))
    assert errors(problems) == []
    prices = DASHSCOPE.protocol.prices["intl"]
    result = plan(shots, provider="dashscope", prices=prices, series_dir=tmp_path)
    assert result.total_cost == pytest.approx(20 * 0.05)
    assert "wan3.0-video: USD 0.05/s 480P" in result.price_model
    r2v = plan(compiled(series(tmp_path / "b", make_media, "wan2.7-r2v"))[0],
               provider="dashscope", prices=prices, series_dir=tmp_path / "b")
    # 10 s out, and the reference video assumed at the 5 s cap (unmeasured here)
    assert r2v.total_cost == pytest.approx((10 + 5) * 0.10) and ";" not in r2v.price_model


def test_the_lock_records_the_model_and_a_new_pin_shows_as_a_change(
        tmp_path: Path, make_media: Callable[..., Path]) -> None:
    root = series(tmp_path, make_media, "wan2.7-r2v")
    update_lock(lock_path(root), [describe(s, root) for s in compiled(root)[0]])
    assert read_lock(lock_path(root)).shots[f"{root.name}/ep01/one"]["parameters"]["model"] == \
        "wan2.7-r2v"
    text = (root / "storyboard.yaml").read_text().replace(
        "model: wan2.7-r2v", "model: wan2.7-r2v-2026-06-12")
    (root / "storyboard.yaml").write_text(text)
    shots, problems = compiled(root)
    assert errors(problems) == []
    [planned] = plan(shots, provider="dashscope", prices=DASHSCOPE.protocol.prices["intl"],
                     series_dir=root).shots
    assert planned.status == "changed"
    assert [str(c) for c in planned.changes] == ["model: wan2.7-r2v -> wan2.7-r2v-2026-06-12"]


def test_a_30_second_480p_wan30_shot_renders_as_a_local_draft(
        tmp_path: Path, make_media: Callable[..., Path]) -> None:
    shot = ("      duration: 30\n      resolution: 480P\n      audio: false\n"
            "      prompt: '@mia waves'\n")
    shots, problems = compiled(series(tmp_path, make_media, "wan3.0-video", shot))
    assert errors(problems) == []
    out = tmp_path / "draft.mp4"
    render_shot(shots[0].request, out, draft=True)
    facts = probe(out)
    assert facts.video is not None and facts.duration == pytest.approx(30, abs=0.1)
    assert (facts.video.width, facts.video.height) == draft_size(832, 480)


def test_a_series_overrides_a_models_limits(tmp_path: Path,
                                            make_media: Callable[..., Path]) -> None:
    shot = "      duration: 28\n      prompt: '@mia waves'\n"
    root = series(tmp_path, make_media, "wan3.0-video", shot)
    assert errors(compiled(root)[1]) == []
    text = (root / "storyboard.yaml").read_text().replace(
        "voices:\n", "models:\n  wan3.0-video-2026-08-24: {max_duration: 25}\nvoices:\n", 1)
    (root / "storyboard.yaml").write_text(text)
    said = errors(compiled(root)[1])
    assert said == ["a 28 s shot; expected 2 to 25 s on wan3.0-video"]


def test_the_sheet_shows_voices_as_audio_items_and_frames_by_role(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "long-take"
    series = shutil.copytree(example, tmp_path / "long-take",
                             ignore=shutil.ignore_patterns(".storyboard", "out"))
    page = build_sheet(series).html.read_text(encoding="utf-8")
    assert "Audio 1" in page and "Audio 2" in page and "driving audio" in page
    assert "media/voices/sam.wav" in page


def test_a_series_default_meant_for_wan30_warns_on_the_default_models_shots(
        tmp_path: Path, make_media: Callable[..., Path]) -> None:
    root = series(tmp_path, make_media, "wan2.7-r2v")
    text = (root / "storyboard.yaml").read_text()
    text = text.replace('ratio: "16:9"}', 'ratio: "16:9", audio: false}')
    text = "".join(line for line in text.splitlines(True) if "model: wan2.7-r2v" not in line)
    (root / "storyboard.yaml").write_text(text)
    shots, problems = compiled(root)
    assert errors(problems) == []
    assert any("audio is not sent to the wan2.7-r2v shots" in p.message for p in problems)
    assert shots[0].request.audio is None


# --- issue 35.1: the corrected facts, each as check sees it --------------------------------------

# Files each corrected case needs beside the usual ones: (kind, path, keyword arguments).
EXTRA_MEDIA = {
    "clip12": ("video", "media/clip12.mp4", {"width": 320, "height": 240, "seconds": 12.0}),
    "clip1": ("video", "media/clip1.mp4", {"width": 320, "height": 240, "seconds": 1.5}),
    "clip3": ("video", "media/clip3.mp4", {"width": 320, "height": 240, "seconds": 3.0}),
    "drive31": ("voice", "media/drive31.wav", {"seconds": 31.0}),
    "drive1": ("voice", "media/drive1.wav", {"seconds": 1.5}),
    "mia12": ("voice", "media/mia.wav", {"seconds": 12.0}),  # the voice mia-voice, 12 s
}

# (model, the shot's YAML, files it needs, the error's text (None: accepted), its line)
CORRECTED: list[tuple[str, str, tuple[str, ...], str | None, int]] = [
    # Public schemas (Replicate, fal): a first frame or a clip to continue, never both.
    ("wan2.7-i2v", "      first_frame: media/mia.png\n      first_clip: media/clip3.mp4\n"
                   "      prompt: 'go on'\n", ("clip3",),
     "takes a first_frame or a first_clip, not both: drop first_clip", 17),
    # A clip towards a last frame (Freepik's and ComfyUI's pages): accepted.
    ("wan2.7-i2v", "      first_clip: media/clip3.mp4\n      last_frame: media/guitar.png\n"
                   "      prompt: 'go on'\n", ("clip3",), None, 0),
    # A first clip lasts 2..10 s (not a reference video's 1..30 s).
    ("wan2.7-i2v", "      first_clip: media/clip12.mp4\n      prompt: 'go on'\n", ("clip12",),
     "clip12.mp4: lasts 12.00 s; expected 2 to 10 s", 16),
    ("wan2.7-i2v", "      first_clip: media/clip1.mp4\n      prompt: 'go on'\n", ("clip1",),
     "clip1.mp4: lasts 1.50 s; expected 2 to 10 s", 16),
    # A driving audio given as a path lasts 2..30 s.
    ("wan2.7-i2v", "      first_frame: media/mia.png\n      driving_audio: media/drive31.wav\n"
                   "      prompt: 'hum'\n", ("drive31",),
     "drive31.wav: lasts 31.00 s; expected 2 to 30 s", 17),
    ("wan2.7-i2v", "      first_frame: media/mia.png\n      driving_audio: media/drive1.wav\n"
                   "      prompt: 'hum'\n", ("drive1",),
     "drive1.wav: lasts 1.50 s; expected 2 to 30 s", 17),
    # ... and as {voice: NAME}: the driving rule (2..30 s), not a voice's 1..10 s.
    ("wan2.7-i2v", "      first_frame: media/mia.png\n      driving_audio: {voice: mia-voice}\n"
                   "      prompt: 'hum'\n", ("mia12",), None, 0),
    # wan3.0-video: ``adaptive`` is a ratio it takes; wan2.7-r2v refuses it at its line.
    ("wan3.0-video", "      first_frame: media/mia.png\n      ratio: adaptive\n"
                     "      prompt: 'the cup turns'\n", (), None, 0),
    ("wan2.7-r2v", "      ratio: adaptive\n      prompt: '@mia waves'\n", (),
     "ratio adaptive; wan2.7-r2v takes 16:9, 9:16, 1:1, 4:3, 3:4", 16),
    # A prompt alone: the service renders it, storyboard asks for a picture and says so.
    ("wan3.0-video", "      prompt: 'a quiet street'\n", (),
     "storyboard's own rule: wan3.0-video also renders from a prompt alone", 14),
]


@pytest.mark.parametrize(("model", "shot", "files", "message", "line"), CORRECTED)
def test_check_holds_each_corrected_fact(
        tmp_path: Path, make_media: Callable[..., Path], model: str, shot: str,
        files: tuple[str, ...], message: str | None, line: int) -> None:
    root = series(tmp_path, make_media, model, shot)
    for name in files:
        kind, path, kwargs = EXTRA_MEDIA[name]
        make_media(kind, root / path, **kwargs)
    _, problems = compiled(root)
    said = errors(problems)
    if message is None:
        assert said == []
        return
    found = [p for p in problems if message in p.message]
    assert found, said
    assert found[0].severity == "error" and found[0].span is not None
    assert found[0].span.line == line
