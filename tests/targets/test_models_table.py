"""`storyboard models`: the capability table, read from the declarations and nothing else."""

from __future__ import annotations

import json
from dataclasses import replace

from click.testing import CliRunner

from storyboard.cli import cli
from storyboard.targets.capabilities import Capabilities, PriceTable
from storyboard.targets.table import (
    capability_table,
    markdown,
    model_row,
    sources_markdown,
    target_row,
)
from storyboard.targets.video.models import DASHSCOPE_MODELS, MODELS, WAN30_VIDEO
from storyboard.targets.wire.gateways import ARRAYS, FREEPIK, TARGETS


def invoke(*args: str) -> str:
    result = CliRunner(env={"COLUMNS": "240"}).invoke(cli, ["models", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_every_model_and_target_appears() -> None:
    table = capability_table()
    assert [row["id"] for row in table["models"]] == list(MODELS)
    assert [row["name"] for row in table["targets"]] == list(TARGETS)
    text = invoke()
    page = markdown()
    for name in (*MODELS, *TARGETS):
        assert name in text and f"| {name} |" in page


def test_json_parses_and_carries_the_declared_values() -> None:
    data = json.loads(invoke("--json"))
    models = {row["id"]: row for row in data["models"]}
    wan30 = models["wan3.0-video"]
    assert (wan30["images"], wan30["videos"], wan30["audios"]) == (10, 5, 5)
    assert wan30["voices"] == "reference_audio" and wan30["frames_with_references"] is False
    assert wan30["duration"] == [2, 30] and wan30["resolutions"] == ["480P", "720P", "1080P"]
    assert wan30["prices"]["intl"]["rates"] == {"480P": 0.05, "720P": 0.10, "1080P": 0.20}
    assert wan30["prices"]["intl"]["input_video_cap"] == 15.0
    assert wan30["sources"]["prices"] == "third-party" and wan30["sources"]["limits"] == "official"
    assert models["wan2.7-r2v"]["snapshots"] == ["wan2.7-r2v-2026-06-12"]
    assert models["wan2.7-i2v"]["ratios"] == []
    # Each corrected fact says where it comes from (issue 35.1).
    assert models["wan2.7-r2v"]["sources"]["sizes"] == "third-party"
    assert models["wan2.7-r2v"]["third_party"] == ["sizes:4:3, 3:4"]
    assert models["wan2.7-r2v"]["sources"]["limits"] == "official"
    assert {"frames", "files"} <= set(models["wan2.7-i2v"]["third_party"])
    assert wan30["sources"]["ratios"] == "third-party" and "adaptive" in wan30["ratios"]
    targets = {row["name"]: row for row in data["targets"]}
    assert targets["dashscope"]["models"] == list(DASHSCOPE_MODELS)
    assert targets["kling"]["models"] == ["kling-v3-omni", "kling-v4-omni", "kling-v4-flash"]
    assert targets["freepik"]["models"] == ["wan2.7-r2v"] and targets["freepik"]["duration"] == [2, 10]
    assert [t["labels"][0] for t in data["targets"]] == [
        "Image 1", "Image 1", "Image 1", "image 1", "Image1", "Image 1", "Image 1",
        "<<<image_1>>>", "Image 1", "Image 1", "Image 1", "Image 1"]
    # MiniMax's own API: H3 on v2 (two hosts), Hailuo 2.3 on v1 with its lengths by resolution.
    assert targets["minimax"]["models"] == targets["minimaxi"]["models"] == ["MiniMax-H3"]
    assert targets["minimax-hailuo"]["models"] == ["MiniMax-Hailuo-2.3"]
    assert targets["minimax"]["statuses"]["SUCCEEDED"] == "succeeded"
    assert targets["minimax-hailuo"]["statuses"]["SUCCEEDED"] == "Success"
    assert models["MiniMax-Hailuo-2.3"]["lengths"] == {"768P": [6, 10], "1080P": [6]}
    assert models["MiniMax-H3"]["prices"]["intl"]["rates"] == {"768P": 0.08, "2K": 0.128}
    assert models["MiniMax-H3"]["prices"]["cn"]["rates"] == {"768P": 0.5, "2K": 0.8}
    # Seedance's hosts: each sells its own ids (2.0 and 2.5), 4..30 s at the widest (2.5's),
    # lower-case words of its own.
    assert targets["ark"]["models"] == ["doubao-seedance-2-0-260128", "doubao-seedance-2-5-260628"]
    assert targets["modelark"]["models"] == ["dreamina-seedance-2-0-260128",
                                             "dreamina-seedance-2-5-260628"]
    assert targets["ark"]["duration"] == [4, 30] and targets["ark"]["statuses"]["FAILED"] == "failed"
    seedance = models["dreamina-seedance-2-5-260628"]
    assert (seedance["images"], seedance["videos"], seedance["audios"]) == (30, 10, 10)
    assert seedance["duration"] == [4, 30] and seedance["resolutions"] == ["480P", "720P", "1080P"]
    assert seedance["task_types"] == ["edit", "extend"] and seedance["audio_only_references"]
    assert seedance["prices"]["intl"]["rates"] == {"480P": 0.08, "720P": 0.18, "1080P": 0.45}
    assert models["doubao-seedance-2-0-260128"]["task_types"] == []
    assert targets["kling"]["models"] == ["kling-v3-omni", "kling-v4-omni", "kling-v4-flash"]
    assert targets["arrays"]["first_frame"] is False
    assert targets["arrays"]["prices"]["default"]["per"] == "generation"
    assert targets["openai-video"]["statuses"]["SUCCEEDED"] == "completed"
    assert targets["openai-video"]["voices"] == "none"
    assert targets["arrays"]["third_party"] == ["aspect_ratio"]
    assert targets["roles"]["duration_with_video"] == 15
    assert targets["openai-video"]["duration_with_video"] == 10


def test_markdown_flag_prints_the_docs_tables() -> None:
    assert invoke("--markdown") == markdown()
    assert markdown().count("\n|---|") == 2
    page = markdown()  # where each corrected fact comes from, in words (issue 35.1)
    assert "third-party: sizes (4:3, 3:4) |" in page and "ratios (adaptive)" in page
    assert "| third-party: aspect_ratio |" in page
    assert "first_clip 2-10 s, <= 100 MB; driving_audio 2-30 s, <= 15 MB" in page
    assert "first_frame or first_clip, not both" in page
    assert "third-party (4:3, 3:4)" in sources_markdown()


def test_a_changed_model_declaration_changes_its_row() -> None:
    caps = replace(WAN30_VIDEO.caps, max_duration=45, prompt_limit=123)
    changed = replace(WAN30_VIDEO, caps=caps, max_images=7, voices="none",
                      prices={"intl": PriceTable({"720P": 0.99}, "USD", input_video_cap=2.0)},
                      sources={"limits": "third-party"}, snapshots=("wan3.0-video-2027-01-01",))
    row = model_row(changed)
    assert row["duration"] == [2, 45] and row["prompt_limit"] == 123 and row["images"] == 7
    assert row["voices"] == "none" and row["snapshots"] == ["wan3.0-video-2027-01-01"]
    assert row["sources"] == {"limits": "third-party", "ratios": "official", "sizes": "official",
                              "frames": "official", "files": "official", "labels": "official",
                              "prices": "official", "billing": "official"}
    page = markdown(capability_table([changed], []))
    for text in ("2-45 s", "| 7 / 5 / 5 |", "USD 0.99/s 720P", "input video billed up to 2 s",
                 "third-party: limits", "wan3.0-video-2027-01-01", "| 123 |"):
        assert text in page
    assert "third-party: sizes" not in page


def test_a_changed_target_declaration_changes_its_row() -> None:
    limits = replace(FREEPIK.limits, max_duration=12, public_urls=False, first_frame=False)
    changed = replace(FREEPIK, limits=limits, label_format="[{kind}{index}]",
                      models=("wan2.7-r2v", "wan3.0-video"))
    row = target_row(changed)
    assert row["duration"] == [2, 12] and row["labels"] == ["[image1]", "[video1]"]
    assert row["models"] == ["wan2.7-r2v", "wan3.0-video"] and row["first_frame"] is False
    assert row["files"] == "uploads, URLs or data: URIs"
    page = markdown(capability_table([], [changed, ARRAYS]))
    assert '"[image1]"' in page and "2-12 s" in page and "wan2.7-r2v, wan3.0-video" in page
    assert "public URLs (https only)" in page and "1, unbound: spoken by the first image" in page


def test_a_model_without_references_says_so() -> None:
    row = model_row(replace(MODELS["wan2.7-i2v"], caps=Capabilities(max_references=0)))
    assert row["references"] == [0, 0] and row["voices"] == "none"
    assert "the first frame's" in markdown(capability_table([MODELS["wan2.7-i2v"]], []))
