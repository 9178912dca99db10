"""Identities registered once on Seedance (issue 69.2): a face sent as ``asset://ID``.

A character's ``identity: {ark: {asset: ID}, modelark: {asset: ID}, permission: ...}`` replaces
its picture's URL on that target's Seedance models, at the same place among the media and with the
same label (golden bodies in ``tests/golden/seedance-identity.json``; ``STORYBOARD_WRITE_GOLDEN=1``
rewrites it); ``check`` warns once, at the line, of the photoreal characters a target that refuses
faces by URL would get by URL; wrong shapes, and ``asset: make`` of a face named by a file, are
errors at their line.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from storyboard.dialects import DIALECTS, faces
from storyboard.errors import Diagnostic
from storyboard.language.request import MediaItem, MediaRef, ShotRequest
from storyboard.targets.video.models import (
    SEEDANCE_20_ARK,
    SEEDANCE_20_MODELARK,
    SEEDANCE_25_ARK,
    SEEDANCE_25_MODELARK,
)
from storyboard.targets.wire.gateways import TARGETS
from tests.fixtures.models import REFERENCE_SHOT, compiled, errors, series
from tests.fixtures.vendor_models import url_for

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "seedance-identity.json"
PAIRS = {SEEDANCE_20_ARK.id: "ark", SEEDANCE_20_MODELARK.id: "modelark",
         SEEDANCE_25_ARK.id: "ark", SEEDANCE_25_MODELARK.id: "modelark"}
MIA = "  mia: {image: media/mia.png, voice: mia-voice}\n"
IDENTITY = ("  mia:\n    image: media/mia.png\n    voice: mia-voice\n    identity:\n"
            "      ark: {asset: asset-20261101-mia}\n"
            "      modelark: {asset: asset-bp-7f3a-mia}\n"
            "      permission: \"Mia Lund, signed release 2026-10-01, kept in legal/mia.pdf\"\n")
WARNING = "identity-faces"


def sent_as(ref: MediaRef) -> str:
    """A provider's URL for ``ref``: a URL as it is (``asset://``), a file on the CDN."""
    return ref.url if ref.url is not None else url_for(ref)


def with_cast(root: Path, old: str, new: str) -> Path:
    path = root / "storyboard.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    return root


def seedance(tmp_path: Path, make_media: Callable[..., Path], model: str = SEEDANCE_20_ARK.id,
             cast: str = IDENTITY, shot: str | None = REFERENCE_SHOT) -> Path:
    return with_cast(series(tmp_path, make_media, model, shot), MIA, cast)


def warnings(problems: list[Diagnostic]) -> list[Diagnostic]:
    return [p for p in problems if p.code == WARNING]


def test_a_declared_face_is_sent_as_its_asset_in_its_pictures_place(
        tmp_path: Path, make_media: Callable[..., Path]) -> None:
    bodies: dict[str, Any] = {}
    for model, dialect in sorted(PAIRS.items()):
        shots, problems = compiled(seedance(tmp_path / model, make_media, model), dialect)
        assert errors(problems) == []
        bodies[f"{dialect} {model}"] = DIALECTS[dialect].body(shots[0].request, sent_as)
    text = json.dumps(bodies, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if os.environ.get("STORYBOARD_WRITE_GOLDEN"):
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")
    ark = bodies[f"ark {SEEDANCE_20_ARK.id}"]["content"]
    modelark = bodies[f"modelark {SEEDANCE_20_MODELARK.id}"]["content"]
    # The guitar is Image 1, mia Image 2, in the prompt and in the array: only the URL changed.
    assert "Image 2 smiles" in ark[0]["text"]
    assert [i["image_url"]["url"] for i in ark if i["type"] == "image_url"] == [
        "https://media.example.com/guitar.png", "asset://asset-20261101-mia"]
    assert modelark[3] == {"type": "image_url", "role": "reference_image",
                           "image_url": {"url": "asset://asset-bp-7f3a-mia"}}
    assert ark[4]["audio_url"]["url"].endswith("/mia.wav")  # her voice still goes


def test_an_identity_changes_the_hash_and_no_other_target_reads_it(
        tmp_path: Path, make_media: Callable[..., Path]) -> None:
    plain, _ = compiled(series(tmp_path / "plain", make_media, SEEDANCE_20_ARK.id), "ark")
    declared, _ = compiled(seedance(tmp_path / "declared", make_media), "ark")
    assert plain[0].hash != declared[0].hash
    assert {"url": "asset://asset-20261101-mia"} in [m["file"] for m in
                                                    declared[0].canonical["media"]]
    only_modelark = IDENTITY.replace("      ark: {asset: asset-20261101-mia}\n", "")
    shots, _ = compiled(seedance(tmp_path / "other", make_media, cast=only_modelark), "ark")
    assert [(m.role, m.ref) for m in shots[0].request.media if m.character == "mia"] == [
        ("reference_image", MediaRef(path=tmp_path / "other" / "media" / "mia.png")),
        ("reference_audio", MediaRef(path=tmp_path / "other" / "media" / "mia.wav"))]
    native, _ = compiled(seedance(tmp_path / "native", make_media, "wan2.7-r2v"))
    assert all(m.ref is None or m.ref.url is None for m in native[0].request.media)


def test_check_says_once_which_photoreal_faces_go_by_url(
        tmp_path: Path, make_media: Callable[..., Path]) -> None:
    _, problems = compiled(series(tmp_path / "both", make_media, SEEDANCE_20_ARK.id), "ark")
    (said,) = warnings(problems)
    assert said.severity == "warning" and said.span is not None
    assert (Path(said.span.file).name, said.span.line) == ("storyboard.yaml", 8)  # mia's line
    assert said.message.startswith("mia, guitar: photoreal pictures go by URL to ark ")
    assert "refuses faces sent by URL" in said.message
    assert "identity: {ark: {asset: ID}}" in said.message
    assert "identity: {ark: {asset: make}}" in said.message  # a sheet storyboard drew
    assert "docs/cast.md#identities-registered-once" in said.message
    _, problems = compiled(seedance(tmp_path / "one", make_media), "ark")
    (said,) = warnings(problems)
    assert said.message.startswith("guitar: a photoreal picture goes by URL to ark ")
    assert said.span is not None and said.span.line == 16  # the guitar's, after mia's identity
    _, problems = compiled(seedance(tmp_path / "modelark", make_media,
                                    SEEDANCE_20_MODELARK.id), "modelark")
    assert [p.message.split(":")[0] for p in warnings(problems)] == ["guitar"]


def test_a_drawn_style_and_targets_that_take_faces_by_url_say_nothing(
        tmp_path: Path, make_media: Callable[..., Path]) -> None:
    drawn = with_cast(series(tmp_path / "drawn", make_media, SEEDANCE_20_ARK.id),
                      "title: Models\n", "title: Models\nstyle: \"hand-drawn anime, soft light\"\n")
    _, problems = compiled(drawn, "ark")
    assert warnings(problems) == []
    _, problems = compiled(series(tmp_path / "kling", make_media, "kling-v3-omni"), "kling")
    assert warnings(problems) == []
    assert [t.name for t in TARGETS.values() if not t.faces_by_url] == ["ark", "modelark"]


BAD = [
    ("      ark: {asset: make}\n", 12,
     "identity.ark.asset: make sends mia's picture to the vendor's asset library, which makes a "
     "portrait by API only of an AI-made face"),
    ("      modelark: {asset: make}\n      permission: \"Mia Lund, release in legal/mia.pdf\"\n",
     12, "a real person's face goes through the vendor's own liveness verification, which "
     "storyboard cannot perform; expected a sheet drawn from words (image: {generate: ...}), or "
     "the face registered in the vendor's console and its id declared: identity: {modelark: "
     "{asset: ID}}"),
    ("      ark: {asset: \"asset://asset-1\"}\n", 12, "'asset://asset-1' does not have the "
     "expected form (The asset's id as the vendor's library shows it"),
    ("      ark: asset-1\n", 12, "expected a mapping, got 'asset-1'"),
    ("      ark: {id: asset-1}\n", 12, "missing required key 'asset'"),
    ("      veo: {asset: asset-1}\n", 12, "ark, kling, modelark, permission"),
    ("      permission: \"\"\n", 12, "'' should be non-empty"),
]


@pytest.mark.parametrize(("identity", "line", "message"), BAD)
def test_a_wrong_identity_is_an_error_at_its_line(
        tmp_path: Path, make_media: Callable[..., Path], identity: str, line: int,
        message: str) -> None:
    cast = "  mia:\n    image: media/mia.png\n    voice: mia-voice\n    identity:\n" + identity
    _, problems = compiled(seedance(tmp_path, make_media, cast=cast), "ark")
    found = [p for p in problems if p.severity == "error" and message in p.message]
    assert found, [p.message for p in problems]
    assert found[0].span is not None and found[0].span.line == line


def test_a_character_shown_by_a_video_has_no_face_to_register(
        tmp_path: Path, make_media: Callable[..., Path]) -> None:
    root = with_cast(series(tmp_path, make_media, SEEDANCE_20_ARK.id),
                     "  sam: {video: media/sam.mp4}\n",
                     "  sam: {video: media/sam.mp4, identity: {ark: {asset: asset-sam}}}\n")
    _, problems = compiled(root, "ark")
    (said,) = [p for p in problems if "shown by a video" in p.message]
    assert said.severity == "error" and said.span is not None and said.span.line == 9
    assert said.message.startswith("sam is shown by a video: a registered face replaces a "
                                   "character's picture")


def a_request(*items: MediaItem) -> ShotRequest:
    return ShotRequest(model=SEEDANCE_20_ARK.id, prompt="Image 1 and Image 2", media=items,
                       resolution="720P", ratio="16:9", duration=4, prompt_extend=None,
                       watermark=False)


SAM = MediaItem("reference_image", MediaRef(url="https://cdn.example.com/sam.png"), "Image 1",
                "sam")
MIA_FACE = MediaItem("reference_image", MediaRef(url="https://cdn.example.com/mia.png"),
                     "Image 2", "mia")
MIA_ASSET = MediaItem("reference_image", MediaRef(url="asset://asset-mia"), "Image 2", "mia")
FRAME = MediaItem("first_frame", MediaRef(url="https://cdn.example.com/frame.png"))


@pytest.mark.parametrize(("items", "message", "said"), [
    ((SAM, MIA_FACE), "the input image (content[2]) may contain real person",
     "the picture refused is mia's picture (Image 2); register the face of mia in the vendor's "
     "portrait library and declare it: characters.mia.identity: {ark: {asset: ID}}"),
    ((SAM, MIA_FACE), "Image 1 may contain real person",
     "the picture refused is sam's picture (Image 1); register the face of sam"),
    ((SAM, MIA_FACE), "The request failed because the input image may contain real person.",
     "the answer names no picture; those sent by URL: sam's picture (Image 1), mia's picture "
     "(Image 2); register the faces of mia and sam in the vendor's portrait library and declare "
     "it: characters.NAME.identity: {ark: {asset: ID}}"),
    ((SAM, MIA_ASSET), "may contain real person",
     "the answer names no picture; those sent by URL: sam's picture (Image 1); register the "
     "face of sam"),
    ((FRAME,), "the input image (content[1]) may contain real person",
     "the picture refused is the first frame (Image 1); a frame is not a character: send a "
     "picture without a real person's face"),
])
def test_a_real_person_refusal_names_the_picture_and_the_fix(
        items: tuple[MediaItem, ...], message: str, said: str) -> None:
    text = faces.attributed(a_request(*items), TARGETS["ark"], message)
    assert text.startswith(said), text
    assert text.endswith("(docs/cast.md#identities-registered-once); sent again by URL it "
                         "would be refused again")


def test_a_refusal_with_every_face_registered_says_so() -> None:
    text = faces.attributed(a_request(MIA_ASSET), TARGETS["ark"], "may contain real person")
    assert text == ("the answer names no picture, and every picture went as a registered "
                    "portrait: each must be Active in the vendor's portrait library "
                    "(docs/cast.md#identities-registered-once)")


def test_the_refusal_code_is_read_by_its_longest_prefix() -> None:
    ark = DIALECTS["ark"]
    face = ark.refusal_of("InputImageSensitiveContentDetected.PrivacyInformation")
    other = ark.refusal_of("InputImageSensitiveContentDetected")
    assert face is not None and face.face and not face.billed
    assert other is not None and not other.face
    assert ark.refusal_of("InvalidParameter") is None


GENERATED = """\
storyboard: 1
title: Made
defaults: {resolution: 720P, ratio: "16:9", duration: 5, model: doubao-seedance-2-0-260128}
provider: {name: ark, media_base_url: "https://media.example.com/made"}
characters:
  mia:
    image: {generate: "barista in her thirties, short dark hair, green apron"}
MIA_IDENTITY
  cafe: {image: {generate: "a small corner cafe", kind: place}}
  cup: {image: {generate: "a paper cup", kind: prop}}
  ren: {image: {generate: "a watercolour fox with a scarf"}}
episodes:
  - id: ep01
    shots:
      - {id: one, prompt: "@mia hands @ren @cup in @cafe"}
"""


def made_series(root: Path, identity: str = "") -> Path:
    root.mkdir(parents=True)
    (root / "storyboard.yaml").write_text(GENERATED.replace("MIA_IDENTITY\n", identity),
                                          encoding="utf-8")
    return root


def test_a_sheet_made_from_words_is_a_face_until_registered(tmp_path: Path) -> None:
    """Only a character sheet is a face: a place, a prop and a drawn look are not; a
    registered face leaves the sheet out of the shot (nothing waits for it on Ark)."""
    shots, problems = compiled(made_series(tmp_path / "plain"), "ark")
    (said,) = warnings(problems)
    assert said.message.startswith("mia: a photoreal picture goes by URL to ark")
    assert said.span is not None and (said.span.line, said.span.col) == (6, 3)  # at "mia"
    (one,) = [s for s in shots if s.id == "one"]
    assert set(one.needs) == {"cast/mia", "cast/cafe", "cast/cup", "cast/ren"}
    identity = "    identity: {ark: {asset: asset-mia}}\n"
    shots, problems = compiled(made_series(tmp_path / "declared", identity), "ark")
    assert errors(problems) == [] and warnings(problems) == []
    (one,) = [s for s in shots if s.id == "one"]
    assert set(one.needs) == {"cast/cafe", "cast/cup", "cast/ren"}
    assert MediaRef(url="asset://asset-mia") in [m.ref for m in one.request.media]
