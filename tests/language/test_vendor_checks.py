"""Each vendor's limits on the files a shot sends (issue 49, vendors.md): checked at the line.

A picture's pixels, shape and size by its model's ``image_rule`` (HappyHorse's 400 px short side
for references and 300 px, 1:2.5..2.5:1 for its first frame; MiniMax H3's 256..5760 px and 0.4..2.5;
Kling's 300 px and 1:2.5..2.5:1), Kling's reference video of 3..10 s and its images of at most 10
MB: ``check`` refuses each at the shot's line (a frame at its key) naming the model and its limit,
and ``plan --compare`` lists the shot as one that model cannot render, with the reason.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from storyboard.cli.main import cli
from tests.fixtures.models import compiled, errors, series

MakeMedia = Callable[..., Path]
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "coffee-shop"
SHOT_LINE = 14  # "- id: one" in test_models' series
KEY_LINE = 16  # the shot's first key after its model

REFERENCES = "      duration: 5\n      prompt: '@mia waves'\n"
FRAME = "      duration: 5\n      first_frame: media/frame.png\n      prompt: 'she waves'\n"
H3_FRAME = "      resolution: 768P\n" + FRAME.replace("      duration: 5\n", "")


@pytest.mark.parametrize(("model", "shot", "size", "limit", "line"), [
    ("happyhorse-1.1-r2v", REFERENCES, (398, 600), "short side at least 400 px", SHOT_LINE),
    ("happyhorse-1.1-i2v", FRAME, (300, 760), "between 1:2.5 and 2.5:1", KEY_LINE + 1),
    ("happyhorse-1.1-i2v", FRAME, (298, 400), "short side at least 300 px", KEY_LINE + 1),
    ("MiniMax/MiniMax-H3", "      resolution: 768P\n" + REFERENCES, (250, 400),
     "short side at least 256 px and its long side at most 5760 px", SHOT_LINE),
    ("MiniMax/MiniMax-H3", H3_FRAME, (256, 660), "between 1:2.5 and 2.5:1", KEY_LINE + 1),
    ("kling-v3-omni", REFERENCES, (298, 400), "short side at least 300 px", SHOT_LINE),
    ("kling-v3-omni", REFERENCES, (1000, 300), "between 1:2.5 and 2.5:1", SHOT_LINE),
])
def test_a_picture_its_model_cannot_take_is_refused_at_its_line(
        tmp_path: Path, make_media: MakeMedia, model: str, shot: str, size: tuple[int, int],
        limit: str, line: int) -> None:
    root = series(tmp_path, make_media, model, shot)
    width, height = size
    for name in ("mia.png", "frame.png"):
        make_media("image", root / "media" / name, width=width, height=height)
    _, problems = compiled(root, "kling" if model == "kling-v3-omni" else "dashscope")
    found = [p for p in problems if limit in p.message and p.severity == "error"]
    assert len(found) == 1, [p.message for p in problems]
    assert found[0].message.startswith(f"{model} cannot take media/")
    assert f"{width}x{height} pixels" in found[0].message
    assert found[0].span is not None and found[0].span.line == line, found[0]


@pytest.mark.parametrize(("model", "shot", "size"), [
    ("happyhorse-1.1-r2v", REFERENCES, (400, 1000)),  # no shape limit on its references
    ("happyhorse-1.1-i2v", FRAME, (300, 750)),  # exactly 1:2.5
    ("MiniMax/MiniMax-H3", "      resolution: 768P\n" + REFERENCES, (256, 640)),
    ("kling-v3-omni", REFERENCES, (300, 750)),
    ("wan2.7-r2v", REFERENCES, (240, 240)),  # Wan: the file check's general limits only
    ("doubao-seedance-2-0-260128", REFERENCES, (240, 240)),  # Seedance states none
])
def test_a_picture_within_its_models_limits_is_taken(
        tmp_path: Path, make_media: MakeMedia, model: str, shot: str,
        size: tuple[int, int]) -> None:
    root = series(tmp_path, make_media, model, shot)
    for name in ("mia.png", "frame.png"):
        make_media("image", root / "media" / name, width=size[0], height=size[1])
    provider = {"kling-v3-omni": "kling", "doubao-seedance-2-0-260128": "ark"}.get(model)
    _, problems = compiled(root, provider or "dashscope")
    assert errors(problems) == []


VIDEO_SHOT = "      duration: 5\n      prompt: '@sam waves at @mia'\n"


@pytest.mark.parametrize(("seconds", "refused"), [(2.0, True), (3.0, False), (10.0, False),
                                                   (11.0, True)])
def test_klings_reference_video_lasts_3_to_10_seconds(
        tmp_path: Path, make_media: MakeMedia, seconds: float, refused: bool) -> None:
    root = series(tmp_path, make_media, "kling-v3-omni", VIDEO_SHOT)
    make_media("video", root / "media" / "sam.mp4", width=320, height=240, seconds=seconds)
    _, problems = compiled(root, "kling")
    found = [p for p in problems if "media/sam.mp4 (@sam)" in p.message]
    if not refused:
        assert errors(problems) == []
        return
    assert len(found) == 1 and found[0].severity == "error", [p.message for p in problems]
    assert f"lasts {seconds:.2f} s; expected 3 to 10 s" in found[0].message
    assert found[0].message.startswith("kling-v3-omni cannot take")
    assert "third-party" in found[0].message
    assert found[0].span is not None and found[0].span.line == SHOT_LINE


def test_klings_images_are_at_most_10_mb_said_once(tmp_path: Path, make_media: MakeMedia) -> None:
    root = series(tmp_path, make_media, "kling-v3-omni", REFERENCES)
    picture = make_media("image", root / "media" / "mia.png", width=400, height=400)
    with picture.open("ab") as fh:  # after IEND: a valid PNG of 10.5 MB
        fh.write(b"\0" * (10 * 1024 * 1024 + 512 * 1024))
    _, problems = compiled(root, "kling")
    found = [p for p in problems if "MB" in p.message and p.severity == "error"]
    assert [p.message for p in found] == [
        "mia.png is 10.5 MB; kling accepts an image of at most 10 MB"]
    assert found[0].span is not None and found[0].span.line == SHOT_LINE


def test_plan_compare_lists_the_shot_a_picture_keeps_from_a_model(tmp_path: Path) -> None:
    root = shutil.copytree(EXAMPLE, tmp_path / "coffee-shop",
                           ignore=shutil.ignore_patterns(".storyboard", "out"))
    result = CliRunner().invoke(cli, ["plan", str(root), "--provider", "dashscope", "--json",
                                      "--compare", "wan2.7-r2v,happyhorse-1.1-r2v"])
    assert result.exit_code == 0, result.output
    columns = {c["model"]: c for c in json.loads(result.stdout)}
    assert columns["wan2.7-r2v"]["refused"] == []  # 256x320 is within Wan's limits
    said = [r for r in columns["happyhorse-1.1-r2v"]["refused"] if "mia.png" in r["message"]]
    assert {r["shot"] for r in said} == {"ep01/ballad", "ep02/order", "ep02/serve"}
    assert all(r["message"] == "happyhorse-1.1-r2v cannot take media/cast/mia.png (@mia): "
               "256x320 pixels; expected its short side at least 400 px (its official limit)"
               for r in said)
    ballad = next(r for r in said if r["shot"] == "ep01/ballad")
    assert ballad["where"].endswith("episodes/01-first-meeting.yaml:6:5")


def test_the_capability_table_shows_each_models_picture_limits() -> None:
    from storyboard.targets.table import model_row, models_markdown
    from storyboard.targets.video.models import HAPPYHORSE_R2V, KLING_V3_OMNI, MINIMAX_H3, WAN27_R2V

    assert model_row(KLING_V3_OMNI)["image_rule"] == ">= 300 px short side, 1:2.5..2.5:1, <= 10 MB"
    assert model_row(MINIMAX_H3)["image_rule"] == "256-5760 px, 1:2.5..2.5:1, <= 30 MB"
    assert model_row(WAN27_R2V)["image_rule"] is None
    assert model_row(KLING_V3_OMNI)["files"]["reference_video"]["seconds"] == [3, 10]
    table = models_markdown()
    assert "file limits" in table and "images >= 400 px short side, <= 20 MB" in table
    assert HAPPYHORSE_R2V.source("limits") == "official"
    assert KLING_V3_OMNI.source("limits") == "third-party"
