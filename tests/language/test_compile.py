"""The compiler's contract: labels, media order, prompts, parameters, hashes, the manifest."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

import storyboard
from storyboard.dialects.manifest import to_dict, to_json
from storyboard.language.compile import compile_path
from tests.fixtures.compiler import BALLAD, SERIES_HEAD, write_series

MakeMedia = Callable[..., Path]


@pytest.fixture()
def ballad_series(tmp_path: Path, make_media: MakeMedia) -> Path:
    return write_series(tmp_path / "s", make_media, BALLAD)


def native(series: Path, shot: str) -> dict:
    data = to_dict(compile_path(series))
    shots = {s["id"]: s for ep in data["episodes"] for s in ep["shots"]}
    return shots[shot]


def test_ballad_compiles_to_the_contract(ballad_series: Path) -> None:
    entry = native(ballad_series, "ballad")
    prompt = entry["request"]["input"]["prompt"]
    scene1, scene2 = prompt.split("\n")
    assert scene1 == "Scene 1 [0-3s]: Video 1 holds Image 1 and plays a soothing country ballad"
    assert scene2.startswith("Scene 2 [3-10s]: Image 2 smiles, watches Video 1 and slowly walks "
                             "towards him")
    assert scene2.endswith('Image 2 says: "That was lovely."')
    assert entry["request"]["input"]["media"] == [
        {"type": "reference_video", "url": "media/sam.mp4"},
        {"type": "reference_image", "url": "media/guitar.png"},
        {"type": "reference_image", "url": "media/mia.png", "reference_voice": "media/mia.wav"},
    ]


def test_first_frame_from_comes_last_and_depends(ballad_series: Path) -> None:
    entry = native(ballad_series, "reply")
    assert entry["request"]["input"]["media"][-1]["type"] == "first_frame"
    assert entry["depends_on"] == "ballad"
    assert entry["request"]["input"]["prompt"] == "Video 1 looks up from Image 1 and grins"
    assert entry["transition"] == {"type": "crossfade", "duration": 0.5}


def test_parameters_are_explicit_with_service_defaults(ballad_series: Path) -> None:
    params = native(ballad_series, "reply")["request"]["parameters"]
    assert params == {"resolution": "720P", "ratio": "16:9", "duration": 5,
                      "prompt_extend": True, "watermark": False}


def test_per_shot_overrides_every_default(tmp_path: Path, make_media: MakeMedia) -> None:
    series = write_series(tmp_path / "s", make_media, """\
        - id: e
          defaults: {ratio: "9:16", seed: 7}
          shots:
            - id: a
              prompt: "@mia"
              resolution: 1080P
              ratio: 1:1
              duration: 3
              negative_prompt: no hats
              prompt_extend: false
              watermark: true
              seed: 9
            - id: b
              prompt: "@mia"
        """)
    a = native(series, "a")["request"]
    assert a["parameters"] == {"resolution": "1080P", "ratio": "1:1", "duration": 3,
                               "prompt_extend": False, "watermark": True, "seed": 9}
    assert a["input"]["negative_prompt"] == "no hats"
    b = native(series, "b")["request"]["parameters"]
    assert (b["ratio"], b["seed"], b["resolution"]) == ("9:16", 7, "720P")


def test_cast_adds_unmentioned_characters_after_mentions(tmp_path: Path,
                                                         make_media: MakeMedia) -> None:
    series = write_series(tmp_path / "s", make_media, """\
        - id: e
          shots:
            - id: a
              prompt: "@guitar on a table"
              cast: [mia, guitar]
        """)
    media = native(series, "a")["request"]["input"]["media"]
    assert [m["url"] for m in media] == ["media/guitar.png", "media/mia.png"]


def test_shorthand_scene_literal_at_and_duration_from_scenes(tmp_path: Path,
                                                             make_media: MakeMedia) -> None:
    series = write_series(tmp_path / "s", make_media, """\
        - id: e
          shots:
            - id: a
              scenes:
                - "[0-1.5s] @mia emails sam@@example.com"
                - "[1.5-6.5s] @sam waves"
        """)
    request = native(series, "a")["request"]
    assert request["input"]["prompt"] == ("Scene 1 [0-1.5s]: Image 1 emails sam@example.com\n"
                                          "Scene 2 [1.5-6.5s]: Video 1 waves")
    assert request["parameters"]["duration"] == 7


def test_several_speakers_keep_their_order(tmp_path: Path, make_media: MakeMedia) -> None:
    series = write_series(tmp_path / "s", make_media, """\
        - id: e
          shots:
            - id: a
              scenes:
                - at: 0-4s
                  action: "@guitar sits on a stool"
                  say: {sam: "Hi!", mia: "Hello, @sam."}
        """)
    request = native(series, "a")["request"]
    assert request["input"]["prompt"] == ('Scene 1 [0-4s]: Image 1 sits on a stool. '
                                          'Video 1 says: "Hi!" Image 2 says: "Hello, Video 1."')
    assert [m["url"] for m in request["input"]["media"]] == [
        "media/guitar.png", "media/sam.mp4", "media/mia.png"]


def test_a_scene_with_only_dialogue_keeps_the_space_after_its_colon(
        tmp_path: Path, make_media: MakeMedia) -> None:
    series = write_series(tmp_path / "s", make_media, """\
        - id: e
          shots:
            - id: a
              scenes:
                - at: 0-3s
                  action: "@mia pours coffee"
                - at: 3-5.5s
                  say: {mia: "Here you go."}
                - at: 5.5-7s
                  say: {sam: "Thanks!", mia: "Enjoy."}
        """)
    prompt = native(series, "a")["request"]["input"]["prompt"]
    assert 'Scene 2 [3-5.5s]: Image 1 says: "Here you go."' in prompt
    assert 'Scene 3 [5.5-7s]: Video 1 says: "Thanks!" Image 1 says: "Enjoy."' in prompt
    assert "]:I" not in prompt and "]:V" not in prompt


def test_shot_voice_override(tmp_path: Path, make_media: MakeMedia) -> None:
    head = ("storyboard: 1\nvoices:\n  a: {audio: media/mia.wav}\n  b: {audio: media/b.wav}\n"
            "characters:\n  mia: {image: media/mia.png, voice: a}\n  sam: {video: media/sam.mp4}\n"
            "  guitar: {image: media/guitar.png}\n")
    make_media("voice", tmp_path / "s" / "media" / "b.wav", seconds=1.5)
    series = write_series(tmp_path / "s", make_media, """\
        - id: e
          shots:
            - id: a
              prompt: "@mia sings"
              voices: {mia: b}
        """, head=head)
    media = native(series, "a")["request"]["input"]["media"]
    assert media[0]["reference_voice"] == "media/b.wav"


def test_single_file_series_with_urls(tmp_path: Path) -> None:
    file = tmp_path / "one.yaml"
    file.write_text("storyboard: 1\ncharacters:\n  a: {image: 'https://example.com/a.png'}\n"
                    "episodes:\n  - shots:\n      - prompt: '@a walks'\n", encoding="utf-8")
    manifest = storyboard.compile(file)
    shot = manifest.shots()[0]
    assert (shot.episode, shot.id) == ("ep01", "shot01")
    assert to_dict(manifest)["episodes"][0]["shots"][0]["request"]["input"]["media"] == [
        {"type": "reference_image", "url": "https://example.com/a.png"}]


def test_episode_files_and_globs_sorted(tmp_path: Path, make_media: MakeMedia) -> None:
    series = write_series(tmp_path / "s", make_media, "- eps/*.yaml\n")
    (series / "eps").mkdir()
    for name in ("02-b", "01-a"):
        (series / "eps" / f"{name}.yaml").write_text("shots:\n  - prompt: '@mia'\n",
                                                     encoding="utf-8")
    assert [e.id for e in storyboard.compile(series).episodes] == ["01-a", "02-b"]


# --- hashes -------------------------------------------------------------------------------------


def hashes(series: Path) -> dict[str, str]:
    return {s.id: s.hash for s in compile_path(series).shots()}


def test_hash_ignores_file_renames(ballad_series: Path) -> None:
    before = hashes(ballad_series)
    (ballad_series / "media" / "mia.png").rename(ballad_series / "media" / "mia-renamed.png")
    yaml_file = ballad_series / "storyboard.yaml"
    yaml_file.write_text(yaml_file.read_text().replace("mia.png", "mia-renamed.png"))
    assert hashes(ballad_series) == before


def test_hash_follows_file_bytes(ballad_series: Path, make_media: MakeMedia) -> None:
    before = hashes(ballad_series)
    make_media("image", ballad_series / "media" / "guitar.png", width=256, height=256,
               color="blue")
    after = hashes(ballad_series)
    assert after["ballad"] != before["ballad"]
    # reply uses guitar too, and its first frame comes from ballad
    assert after["reply"] != before["reply"]


def test_hash_ignores_yaml_key_order(ballad_series: Path, tmp_path: Path,
                                     make_media: MakeMedia) -> None:
    reordered = BALLAD.replace(
        "    - id: reply\n      first_frame: {from: ballad}\n"
        "      transition: {type: crossfade, duration: 0.5}\n"
        '      prompt: "@sam looks up from @guitar and grins"\n',
        '    - prompt: "@sam looks up from @guitar and grins"\n'
        "      transition: {duration: 0.5, type: crossfade}\n"
        "      first_frame: {from: ballad}\n      id: reply\n")
    assert reordered != BALLAD
    head = SERIES_HEAD.replace("defaults: {resolution: 720P, duration: 5}",
                               "defaults: {duration: 5, resolution: 720P}")
    other = write_series(tmp_path / "other", make_media, reordered, head=head)
    assert hashes(other) == hashes(ballad_series)


def test_hash_changes_with_prompt_and_parameters(ballad_series: Path) -> None:
    before = hashes(ballad_series)
    yaml_file = ballad_series / "storyboard.yaml"
    yaml_file.write_text(yaml_file.read_text().replace("and grins", "and laughs"))
    middle = hashes(ballad_series)
    assert middle["reply"] != before["reply"] and middle["ballad"] == before["ballad"]
    yaml_file.write_text(yaml_file.read_text().replace("resolution: 720P", "resolution: 1080P"))
    assert hashes(ballad_series)["ballad"] != before["ballad"]


def test_media_facts_are_cached(ballad_series: Path) -> None:
    compile_path(ballad_series)
    cache = json.loads((ballad_series / ".storyboard" / "media.json").read_text())
    assert len(cache["files"]) == 4
    mtime = (ballad_series / ".storyboard" / "media.json").stat().st_mtime_ns
    compile_path(ballad_series)  # nothing changed: the cache is not rewritten
    assert (ballad_series / ".storyboard" / "media.json").stat().st_mtime_ns == mtime


def test_manifest_json_is_stable_and_machine_independent(ballad_series: Path,
                                                         tmp_path: Path) -> None:
    first = to_json(compile_path(ballad_series))
    moved = shutil.copytree(ballad_series, tmp_path / "elsewhere" / "s",
                            ignore=shutil.ignore_patterns(".storyboard"))
    assert to_json(compile_path(moved)) == first
    assert str(tmp_path) not in first
    data = json.loads(first)
    assert json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n" == first


def test_example_series_checks_clean() -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "coffee-shop"
    assert storyboard.check(example) == []
    manifest = storyboard.compile(example)
    assert [e.id for e in manifest.episodes] == ["ep01", "ep02"]


def test_yaml_anchors_and_merge_keys(tmp_path: Path, make_media: MakeMedia) -> None:
    series = write_series(tmp_path / "s", make_media, """\
        - id: e
          shots:
            - &base {id: a, prompt: "@mia waves", duration: 3, seed: 5}
            - {<<: *base, id: b, seed: 6}
        """)
    b = native(series, "b")["request"]
    assert b["input"]["prompt"] == "Image 1 waves"
    assert (b["parameters"]["duration"], b["parameters"]["seed"]) == (3, 6)
