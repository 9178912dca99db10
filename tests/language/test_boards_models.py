"""Boards on every model (issue 56 items 1, 3, 4), table-driven: one series compiled to each image
model (its golden asset request), each video model's hand-off of the board (beside the references,
alone, exclusive with ``as:``, as a reference), the located errors, and continuity."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from storyboard.dialects.manifest import asset_entry
from storyboard.errors import Diagnostic
from storyboard.language.cache import incremental
from storyboard.language.compile import compile_lenient
from storyboard.language.read.series import load_source
from storyboard.language.request import BOARDS, CompiledShot, Manifest
from storyboard.targets.cast.assets import BOARD_MODELS, price_tables
from storyboard.targets.prices import known_models
from storyboard.targets.table import model_row, models_markdown
from storyboard.targets.video.models import MODELS

HEAD = """\
storyboard: 1
defaults: {resolution: 720P, duration: 6}
characters:
  mia: {image: media/mia.png}
  sam: {image: {generate: "a tall man"}}
"""


def compiled(root: Path, make_media: Callable[..., Path], body: str
             ) -> tuple[Manifest, list[Diagnostic]]:
    make_media("image", root / "media" / "mia.png", width=320, height=320)
    (root / "storyboard.yaml").write_text(HEAD + textwrap.dedent(body), encoding="utf-8")
    incremental.forget()
    return compile_lenient(load_source(root))


def one_shot(boards: str, model: str = "wan2.7-r2v", resolution: str = "720P") -> str:
    return f"""\
    boards: {{{boards}}}
    episodes:
      - id: ep
        shots:
          - id: a
            model: {model}
            resolution: {resolution}
            scenes: ["[0-6s] Wide shot: @mia hands @sam a cup"]
    """


def board(manifest: Manifest, name: str = "ep/a") -> CompiledShot:
    return next(s for s in manifest.cast if s.episode == BOARDS and s.id == name)


def video(manifest: Manifest, name: str = "a") -> CompiledShot:
    return next(s for s in manifest.episode_shots() if s.id == name)


def media(shot: CompiledShot) -> list[tuple[str, str]]:
    return [(m.role, str(m.ref).rsplit("/", 1)[-1] if m.ref and m.ref.path else str(m.ref))
            for m in shot.request.media]


# --- one series on each image model: its golden asset request ------------------------------

PROMPT = ("Storyboard frame: Wide shot: {1} hands {2} a cup. Camera: wide shot. In frame: "
          "Mia ({1}), Sam ({2}). One single frame: no panels, no split screen, no text, "
          "no watermark.")
IMAGE_MODELS: dict[str, dict[str, Any]] = {
    "wan2.7-image": {"size": "1920*1080", "labels": ("image 1", "image 2")},
    "wan2.7-image-pro": {"size": "1920*1080", "labels": ("image 1", "image 2")},
    "doubao-seedream-4-5-251128": {"size": "2560*1440", "labels": ("image 1", "image 2")},
    "seedream-4-5-251128": {"size": "2560*1440", "labels": ("image 1", "image 2")},
    "kling-image-o1": {"size": "1920*1080", "labels": ("<<<image_1>>>", "<<<image_2>>>")},
    "kling-v3-omni-image": {"size": "1920*1080", "labels": ("<<<image_1>>>", "<<<image_2>>>")},
    "comfyui-image": {"size": "1920*1080", "labels": ("image 1", "image 2")},
}


def test_every_board_model_is_in_the_table() -> None:
    assert set(IMAGE_MODELS) == set(BOARD_MODELS)


@pytest.mark.parametrize("model", sorted(IMAGE_MODELS))
def test_a_series_compiles_to_each_image_model(tmp_path: Path, make_media: Callable[..., Path],
                                               model: str) -> None:
    manifest, problems = compiled(tmp_path, make_media, one_shot(f"model: {model}"))
    assert not [p for p in problems if p.severity == "error"], problems
    made = board(manifest)
    entry = asset_entry(made, tmp_path)
    expected = IMAGE_MODELS[model]
    sam = next(s for s in manifest.cast if s.episode == "cast" and s.id == "sam")
    assert entry == {
        "id": "boards/ep/a", "hash": made.hash, "kind": "image", "model": model,
        "prompt": PROMPT.replace("{1}", expected["labels"][0]).replace(
            "{2}", expected["labels"][1]),
        "size": expected["size"], "refs": ["media/mia.png", "{asset: cast/sam}"],
        "needs": {"cast/sam": sam.hash}}
    assert made.asset is not None and made.asset.subject == "board"
    assert made.request.ratio == "16:9"


def test_the_board_follows_the_shots_shape(tmp_path: Path,
                                           make_media: Callable[..., Path]) -> None:
    body = one_shot("model: doubao-seedream-4-5-251128").replace(
        "resolution: 720P", 'resolution: 720P\n            ratio: "9:16"')
    manifest, _ = compiled(tmp_path, make_media, body)
    made = board(manifest)
    assert made.asset is not None and made.asset.size == "1440*2560"
    assert made.request.ratio == "9:16"


# --- each video model's hand-off ---------------------------------------------------------

HANDOFFS: list[tuple[str, str, str, list[tuple[str, str]], str]] = [
    # model, resolution, boards: keys, the video's media, a warning's words ("" for none)
    ("wan2.7-r2v", "720P", "", [("reference_image", "mia.png"), ("reference_image", "cast/sam"),
                                ("first_frame", "boards/ep/a")], ""),
    ("wan2.7-r2v", "720P", "as: reference",
     [("reference_image", "mia.png"), ("reference_image", "cast/sam"),
      ("reference_image", "boards/ep/a")], ""),
    ("wan2.7-i2v", "720P", "", [("first_frame", "boards/ep/a")], ""),
    ("happyhorse-1.1-i2v", "720P", "", [("first_frame", "boards/ep/a")], ""),
    ("MiniMax-Hailuo-2.3", "768P", "", [("first_frame", "boards/ep/a")], ""),
    ("wan3.0-video", "720P", "", [("first_frame", "boards/ep/a")], "replaces @mia, @sam"),
    ("wan3.0-video", "720P", "as: first_frame", [("first_frame", "boards/ep/a")], ""),
    ("wan3.0-video", "720P", "as: reference",
     [("reference_image", "mia.png"), ("reference_image", "cast/sam"),
      ("reference_image", "boards/ep/a")], ""),
    ("wan3.0-video", "720P", "as: none",
     [("reference_image", "mia.png"), ("reference_image", "cast/sam")], ""),
    ("doubao-seedance-2-0-260128", "720P", "", [("first_frame", "boards/ep/a")],
     "replaces @mia, @sam"),
    ("MiniMax-H3", "768P", "", [("first_frame", "boards/ep/a")], "replaces @mia, @sam"),
    ("kling-v3-omni", "720P", "",
     [("reference_image", "mia.png"), ("reference_image", "cast/sam"),
      ("reference_image", "boards/ep/a")], ""),
]


@pytest.mark.parametrize(("model", "resolution", "keys", "expected", "warning"), HANDOFFS)
def test_each_video_model_takes_the_board_as_declared(
        tmp_path: Path, make_media: Callable[..., Path], model: str, resolution: str, keys: str,
        expected: list[tuple[str, str]], warning: str) -> None:
    manifest, problems = compiled(tmp_path, make_media, one_shot(keys, model, resolution))
    assert not [p for p in problems if p.severity == "error"], problems
    shot = video(manifest)
    assert media(shot) == expected
    if any(ref == "boards/ep/a" for _, ref in expected):
        assert shot.needs["boards/ep/a"] == board(manifest).hash
    else:  # as: none: the board is a look only, its video never waits for it
        assert "boards/ep/a" not in shot.needs
    said = [p for p in problems if p.code == "board-replaces"]
    if warning:
        [problem] = said
        assert warning in problem.message and problem.source_line.strip() == "- id: a"
        assert "boards: {as: first_frame | reference | none}" in problem.message
    else:
        assert not said


def test_a_replaced_reference_is_written_as_words(tmp_path: Path,
                                                  make_media: Callable[..., Path]) -> None:
    manifest, _ = compiled(tmp_path, make_media, one_shot("", "wan2.7-i2v"))
    assert video(manifest).request.prompt == "Scene 1 [0-6s]: Wide shot: Mia hands Sam a cup"
    body = one_shot("", "wan3.0-video").replace(
        'scenes: ["[0-6s] Wide shot: @mia hands @sam a cup"]',
        'scenes: [{at: 0-6s, action: "@mia waves", say: {mia: "Hello!"}}]')
    manifest, _ = compiled(tmp_path, make_media, body)
    shot = video(manifest)
    assert shot.request.prompt == 'Scene 1 [0-6s]: Mia waves. Mia says: "Hello!"'
    [line] = shot.request.scenes[0].lines  # still a line: subtitles and captions keep it
    assert (line.speaker, line.label, line.text) == ("mia", "Mia", "Hello!")


# --- located errors ------------------------------------------------------------------------

ERRORS: list[tuple[str, str, str, str]] = [
    # body, the error's words, the line it is at (stripped)
    (one_shot("", "wan2.7-t2v"), "a board cannot become a picture of a wan2.7-t2v shot: it "
     "takes no picture", "- id: a"),
    (one_shot("as: reference", "wan2.7-i2v"), "a board cannot become a reference image of a "
     "wan2.7-i2v shot: it takes no references", "boards: {as: reference}"),
    (one_shot("as: first_frame", "kling-v3-omni"), "a board cannot become its first frame of a "
     "kling-v3-omni shot: it takes no first frame", "boards: {as: first_frame}"),
    (one_shot("size: 5000*5000"), "board size 5000*5000: wan2.7-image does not make it; "
     "expected each side 256 to 2048 px", "boards: {size: 5000*5000}"),
    (one_shot("model: seedream-4-5-251128, size: 1920*1080"), "board size 1920*1080: "
     "seedream-4-5-251128 does not make it; expected 3,686,400 to 16,777,216 pixels in all",
     "boards: {model: seedream-4-5-251128, size: 1920*1080}"),
    (one_shot("model: kling-image-o1, size: 2048*512"), "expected a shape within", "boards: "
     "{model: kling-image-o1, size: 2048*512}"),
    (one_shot("model: seedream-45"), "unknown board model 'seedream-45' (did you mean "
     "'seedream-4-5-251128'?)", "boards: {model: seedream-45}"),
]


@pytest.mark.parametrize(("body", "words", "line"), ERRORS)
def test_bad_boards_are_located_errors(tmp_path: Path, make_media: Callable[..., Path],
                                       body: str, words: str, line: str) -> None:
    _, problems = compiled(tmp_path, make_media, body)
    found = [p for p in problems if words in p.message]
    assert len(found) == 1, problems
    assert found[0].severity == "error" and found[0].source_line.strip() == line
    assert found[0].span is not None and found[0].span.file.endswith("storyboard.yaml")


def test_too_many_references_for_the_image_model(tmp_path: Path,
                                                 make_media: Callable[..., Path]) -> None:
    cast = "".join(f"  c{i}: {{image: media/mia.png}}\n" for i in range(10))
    names = " ".join(f"@c{i}" for i in range(10))
    body = f"""\
    boards: {{model: kling-image-o1}}
    episodes:
      - id: ep
        shots:
          - id: crowd
            model: wan3.0-video
            boards: {{as: reference}}
            scenes: ["[0-6s] {names} and @sam"]
    """
    make_media("image", tmp_path / "media" / "mia.png", width=320, height=320)
    (tmp_path / "storyboard.yaml").write_text(HEAD + cast + textwrap.dedent(body), "utf-8")
    incremental.forget()
    _, problems = compile_lenient(load_source(tmp_path))
    [problem] = [p for p in problems if "this shot's board has" in p.message]
    assert "this shot's board has 11 references" in problem.message
    assert "kling-image-o1 takes at most 10" in problem.message
    assert problem.source_line.strip() == "- id: crowd"


# --- continuity ----------------------------------------------------------------------------

CONTINUITY = """\
boards: {chain: true, places: true, last_frame: next}
episodes:
  - id: ep
    shots:
      - id: a
        model: wan3.0-video
        boards: {as: first_frame}
        scenes: ["[0-6s] @mia enters the @cafe"]
      - id: b
        model: wan3.0-video
        boards: {as: first_frame}
        scenes: ["[0-6s] @mia sits down"]
      - id: c
        scenes: ["[0-6s] @mia walks in the @park"]
      - id: d
        model: wan2.7-i2v
        scenes: ["[0-6s] Low angle, @mia looks up"]
"""
PLACES = """\
  cafe: {image: {generate: "a small cafe", kind: place}}
  park: {image: {generate: "a green park", kind: place}}
"""


def test_continuity_is_declared_and_visible(tmp_path: Path,
                                            make_media: Callable[..., Path]) -> None:
    manifest, problems = compiled(tmp_path, make_media, PLACES + CONTINUITY)
    assert not [p for p in problems if p.severity == "error"], problems
    refs = {s.id: [str(r).rsplit("/", 1)[-1] if r.path else str(r) for r in s.asset.refs]
            for s in manifest.cast if s.episode == BOARDS and s.asset is not None}
    assert refs == {"ep/a": ["mia.png", "cast/cafe"],
                    "ep/b": ["mia.png", "cast/cafe", "boards/ep/a"],  # the place carried
                    "ep/c": ["mia.png", "cast/park"],  # another place: no chain across
                    "ep/d": ["mia.png", "cast/park", "boards/ep/c"]}
    b = board(manifest, "ep/b")
    assert b.needs == {"cast/cafe": board_hash(manifest, "cast", "cafe"),
                       "boards/ep/a": board(manifest, "ep/a").hash}
    assert b.asset is not None and "Place: Cafe (image 2)." in b.asset.prompt
    assert "Keep the look of the previous frame (image 3)." in b.asset.prompt
    # the next shot's board as the last frame, where the model takes one
    assert media(video(manifest, "a")) == [("first_frame", "boards/ep/a"),
                                           ("last_frame", "boards/ep/b")]
    assert video(manifest, "a").needs["boards/ep/b"] == b.hash
    assert ("last_frame", "boards/ep/d") not in media(video(manifest, "c"))  # r2v takes none
    assert media(video(manifest, "d")) == [("first_frame", "boards/ep/d")]  # the last shot


def board_hash(manifest: Manifest, episode: str, name: str) -> str:
    return next(s.hash for s in manifest.cast if s.episode == episode and s.id == name)


def test_continuity_is_opt_in(tmp_path: Path, make_media: Callable[..., Path]) -> None:
    body = CONTINUITY.replace("chain: true, places: true, last_frame: next", "")
    manifest, _ = compiled(tmp_path, make_media, PLACES + body)
    b = board(manifest, "ep/b")
    assert b.asset is not None and [str(r).rsplit("/", 1)[-1] for r in b.asset.refs] == \
        ["mia.png"]
    assert media(video(manifest, "a")) == [("first_frame", "boards/ep/a")]


def test_an_edited_episode_block_recompiles_its_shots_in_a_warm_process(
        tmp_path: Path, make_media: Callable[..., Path]) -> None:
    body = """\
    episodes:
      - id: ep
        boards: {}
        shots:
          - id: a
            scenes: ["[0-6s] Wide shot: @mia hands @sam a cup"]
          - id: b
            scenes: ["[0-6s] @mia smiles"]
    """
    manifest, _ = compiled(tmp_path, make_media, body)  # cold, then kept by this process
    assert media(video(manifest))[-1] == ("first_frame", "boards/ep/a")
    edited = body.replace("boards: {}", "boards: {as: none}").replace(
        "- id: a", "- id: a  # edited")
    (tmp_path / "storyboard.yaml").write_text(HEAD + textwrap.dedent(edited), "utf-8")
    warm, _ = compile_lenient(load_source(tmp_path))
    assert ("first_frame", "boards/ep/a") not in media(video(warm))
    assert ("first_frame", "boards/ep/b") not in media(video(warm, "b"))


def test_a_new_next_shot_gives_a_kept_shot_its_last_frame(
        tmp_path: Path, make_media: Callable[..., Path]) -> None:
    body = """\
    boards: {last_frame: next}
    episodes:
      - id: ep
        shots:
          - id: a
            model: wan3.0-video
            boards: {as: first_frame}
            scenes: ["[0-6s] @mia waits"]
    """
    manifest, _ = compiled(tmp_path, make_media, body)  # cold, then kept by this process
    assert media(video(manifest)) == [("first_frame", "boards/ep/a")]
    more = body.rstrip(" ") + '          - id: b\n            scenes: ["[0-6s] @mia leaves"]\n'
    (tmp_path / "storyboard.yaml").write_text(HEAD + textwrap.dedent(more), "utf-8")
    warm, _ = compile_lenient(load_source(tmp_path))
    assert media(video(warm)) == [("first_frame", "boards/ep/a"), ("last_frame", "boards/ep/b")]
    assert video(warm).needs["boards/ep/b"] == board(warm, "ep/b").hash


def test_every_board_model_has_a_price_and_makers() -> None:
    tables = price_tables("intl", "USD")
    prices = {model: tables[model].describe() for model in BOARD_MODELS}
    assert prices == {
        "wan2.7-image": "USD 0.03 a generation", "wan2.7-image-pro": "USD 0.077 a generation",
        "doubao-seedream-4-5-251128": "USD 0.03 a generation",
        "seedream-4-5-251128": "USD 0.03 a generation",
        "kling-image-o1": "USD 0.028 a generation",
        "kling-v3-omni-image": "USD 0.028 a generation", "comfyui-image": "free"}
    assert set(BOARD_MODELS) <= set(known_models())  # a ``prices:`` key may name each
    makers = {model: image.makers for model, image in BOARD_MODELS.items()}
    assert makers == {"wan2.7-image": ("dashscope",), "wan2.7-image-pro": ("dashscope",),
                      "doubao-seedream-4-5-251128": ("ark",),
                      "seedream-4-5-251128": ("modelark",), "kling-image-o1": ("kling",),
                      "kling-v3-omni-image": ("kling",), "comfyui-image": ("comfyui",)}
    assert {m for m, image in BOARD_MODELS.items() if image.synchronous} == {
        "doubao-seedream-4-5-251128", "seedream-4-5-251128"}
    assert BOARD_MODELS["kling-v3-omni-image"].wire_id == "kling-v3-omni"


def test_a_board_as_one_reference_too_many(tmp_path: Path,
                                           make_media: Callable[..., Path]) -> None:
    cast = "".join(f"  c{i}: {{image: media/mia.png}}\n" for i in range(7))
    names = " ".join(f"@c{i}" for i in range(7))
    body = f"""\
    boards: {{}}
    episodes:
      - id: ep
        shots:
          - id: crowd
            model: kling-v3-omni
            scenes: ["[0-6s] {names} wait"]
    """
    make_media("image", tmp_path / "media" / "mia.png", width=320, height=320)
    (tmp_path / "storyboard.yaml").write_text(HEAD + cast + textwrap.dedent(body), "utf-8")
    incremental.forget()
    _, problems = compile_lenient(load_source(tmp_path))
    [problem] = [p for p in problems if p.severity == "error"]
    assert "with its board as a reference this shot has 8 image references" in problem.message
    assert "kling-v3-omni takes at most 7" in problem.message
    assert problem.source_line.strip() == "- id: crowd"


def test_a_board_prompt_over_the_image_models_limit(tmp_path: Path,
                                                    make_media: Callable[..., Path]) -> None:
    long = "a very long action " * 140  # about 2,700 characters: Kling image takes 2,500
    body = one_shot("model: kling-image-o1").replace("Wide shot: @mia hands @sam a cup",
                                                     f"@mia {long}")
    _, problems = compiled(tmp_path, make_media, body)
    [problem] = [p for p in problems if "board prompt" in p.message]
    assert problem.severity == "error" and problem.source_line.strip() == "- id: a"
    assert "kling-image-o1 takes at most 2500" in problem.message


def test_a_video_seed_wider_than_the_image_models_is_folded_into_its_range(
        tmp_path: Path, make_media: Callable[..., Path]) -> None:
    body = one_shot("", "doubao-seedance-2-0-260128").replace(
        "resolution: 720P", "resolution: 720P\n            seed: 4000000000")
    manifest, _ = compiled(tmp_path, make_media, body)
    made = board(manifest)
    assert made.asset is not None and made.asset.seed == 4000000000 % 2147483648


def test_each_models_hand_off_is_declared_and_shown() -> None:
    handoffs = {model.id: model.handoff for model in MODELS.values()}
    assert {k: v for k, v in handoffs.items() if k in {
        "wan2.7-r2v", "wan2.7-i2v", "happyhorse-1.1-i2v", "MiniMax-Hailuo-2.3", "wan3.0-video",
        "doubao-seedance-2-0-260128", "MiniMax/MiniMax-H3", "MiniMax-H3", "kling-v3-omni",
        "happyhorse-1.1-r2v", "wan2.7-t2v", "wan2.7-videoedit"}} == {
        "wan2.7-r2v": "beside", "wan2.7-i2v": "alone", "happyhorse-1.1-i2v": "alone",
        "MiniMax-Hailuo-2.3": "alone", "wan3.0-video": "exclusive",
        "doubao-seedance-2-0-260128": "exclusive", "MiniMax/MiniMax-H3": "exclusive",
        "MiniMax-H3": "exclusive", "kling-v3-omni": "reference",
        "happyhorse-1.1-r2v": "reference", "wan2.7-t2v": "none", "wan2.7-videoedit": "none"}
    assert model_row(MODELS["wan3.0-video"])["board"] == "exclusive"
    assert "first frame or references (boards: {as: ...})" in models_markdown()


def test_a_chain_follows_the_place_a_shot_is_set_in(tmp_path: Path,
                                                    make_media: Callable[..., Path]) -> None:
    body = CONTINUITY.replace("chain: true, places: true, last_frame: next", "chain: true")
    manifest, _ = compiled(tmp_path, make_media, PLACES + body)
    refs = {s.id: [str(r).rsplit("/", 1)[-1] if r.path else str(r) for r in s.asset.refs]
            for s in manifest.cast if s.episode == BOARDS and s.asset is not None}
    assert refs == {"ep/a": ["mia.png", "cast/cafe"],
                    "ep/b": ["mia.png", "boards/ep/a"],  # still in the cafe: no picture of it
                    "ep/c": ["mia.png", "cast/park"],
                    "ep/d": ["mia.png", "boards/ep/c"]}


def test_a_kept_shots_board_error_is_located_in_the_file_as_it_is_now(
        tmp_path: Path, make_media: Callable[..., Path]) -> None:
    episode = """\
    id: ep
    boards: {size: 5000*5000}
    shots:
      - id: a
        scenes: ["[0-6s] @mia waits"]
    """
    (tmp_path / "episodes").mkdir()
    (tmp_path / "episodes" / "ep.yaml").write_text(textwrap.dedent(episode), "utf-8")
    _, problems = compiled(tmp_path, make_media, "episodes: [episodes/ep.yaml]\n")
    [before] = [p for p in problems if "board size" in p.message]
    assert before.span is not None and before.span.line == 2
    moved = "# a note a person added\n" + textwrap.dedent(episode)
    (tmp_path / "episodes" / "ep.yaml").write_text(moved, "utf-8")
    _, problems = compile_lenient(load_source(tmp_path))  # warm: the shot is kept
    [after] = [p for p in problems if "board size" in p.message]
    assert after.span is not None and after.span.line == 3
    assert after.source_line.strip() == "boards: {size: 5000*5000}"


def test_a_gateway_that_takes_no_first_frame_says_so_of_the_board(
        tmp_path: Path, make_media: Callable[..., Path]) -> None:
    head = """\
    storyboard: 1
    defaults: {resolution: 720P, duration: 6}
    providers: {media_base_url: "https://media.example.org/series"}
    characters:
      mia: {image: media/mia.png}
    boards: {}
    episodes:
      - id: ep
        shots:
          - id: a
            scenes: ["[0-6s] @mia waits"]
    """
    make_media("image", tmp_path / "media" / "mia.png", width=320, height=320)
    (tmp_path / "storyboard.yaml").write_text(textwrap.dedent(head), "utf-8")
    incremental.forget()
    _, problems = compile_lenient(load_source(tmp_path), provider="arrays")
    [problem] = [p for p in problems if p.code == "gateway-first_frame"]
    assert problem.message.startswith("arrays takes no first frame: this shot's board is not "
                                      "sent, and its video would wait for a board it never uses")
    assert problem.source_line.strip() == "- id: a"
