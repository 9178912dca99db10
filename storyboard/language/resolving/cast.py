"""Declared cast assets into asset requests: generated images, designed voices, lines, elements.

A character's ``image: {generate: ...}`` becomes an image request whose prompt is one of three
recipes (a character's turnaround sheet, a place's establishing view, a prop's three views) with the
user's words and the series' ``style`` in it; a voice's ``{design: ..., sample: ...}`` becomes a
voice-design request; a shot's ``driving_audio: {say: ..., voice: ...}`` becomes a line spoken in
that voice; a character's ``identity: {kling: {element: make}}`` becomes an element made on Kling
from its sheet, its ``identity: {kling: {voice: make}}`` a voice made on Kling from its voice's
audio, and its ``identity: {ark: {asset: make}}`` a portrait made in Ark's asset library from its
generated sheet. Each compiles into a ``CompiledShot`` of episode ``cast``, ``voices``, ``lines``,
``elements``, ``kvoices`` or ``portraits`` with an ``AssetRequest``, hashed over what makes it
(words, refs' content, style, model, seed, take), so the runner plans, journals, caches and
shares it as it does a shot.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from storyboard.errors import Span
from storyboard.language.hashing import SEED_MAX, digest, hashed, take_of
from storyboard.language.request import (
    ELEMENTS,
    KVOICES,
    PORTRAITS,
    AssetRequest,
    CompiledEpisode,
    CompiledShot,
    MediaItem,
    MediaRef,
    ShotRequest,
    speaker_name,
)
from storyboard.media.probes.probe import LIMITS
from storyboard.targets.cast.arkassets import library
from storyboard.targets.cast.assets import QWEN3_TTS_VD, spoken_seconds
from storyboard.targets.video.kling4 import ELEMENT_MODEL, VOICE_MODEL

DEFAULT_IMAGE_MODEL = "wan2.7-image"
SHEET_SIZE = "2048*1152"  # 16:9, the largest both image models draw with references too
UNSETTLED = "init could not settle:"  # a comment `init --from` leaves where its words fall short
SAMPLE_CHARACTERS = 140  # about 10 s spoken: the longest reference voice wan2.7-r2v takes
SAMPLE_SECONDS = LIMITS["voice"].min_seconds  # the shortest reference voice a model takes (1 s)
SAMPLE_AIM = 1.5 * SAMPLE_SECONDS  # what a picked sample aims at: the estimate is a guess

def voice_sample(lines: Iterable[str]) -> str:
    """A designed voice's sample from a character's lines in order: the first that will likely
    last ``SAMPLE_AIM`` spoken (``spoken_seconds``) within ``SAMPLE_CHARACTERS``, else the first
    that lasts it however long (the caller cuts it), else the lines joined until they do (all of
    them when even that falls short: ``check`` then warns). "" for no words at all."""
    said = [text for text in (" ".join(line.split()) for line in lines) if text]
    long_enough = [text for text in said if spoken_seconds(text) >= SAMPLE_AIM]
    alone = next((text for text in long_enough if len(text) <= SAMPLE_CHARACTERS),
                 long_enough[0] if long_enough else None)
    if alone is not None:
        return alone
    joined = ""
    for text in said:
        joined = f"{joined} {text}".strip()
        if spoken_seconds(joined) >= SAMPLE_AIM:
            break
    return joined


RECIPES = {
    "character": (
        "Character design sheet of {name}: {words}. One 16:9 image on a plain white background: "
        "on the left a close-up of the face; beside it front, three-quarter and back full-body "
        "views in a relaxed A-pose. The same face, hair and outfit in every view. {style}"
        "No text, no labels, no watermark."),
    "place": (
        "Establishing view of {name}: {words}. A wide 16:9 shot with no people in it, even light "
        "that shows the whole space. {style}No text, no labels, no watermark."),
    "prop": (
        "Prop sheet of {name}: {words}. Three views of the same object (front, side and "
        "three-quarter) on a light grey background. {style}No text, no labels, no watermark."),
}


@dataclass(frozen=True)
class GeneratedImage:
    """A character's (or place's or prop's) ``image: {generate: ...}`` as resolved."""

    name: str
    words: str
    subject: str
    refs: tuple[MediaRef, ...]
    takes: int
    seed: int | None
    span: Span | None


@dataclass(frozen=True)
class DesignedVoice:
    """A voice's ``{design: ..., sample: ...}`` as resolved."""

    name: str
    design: str
    sample: str
    language: str
    takes: int
    span: Span | None


@dataclass(frozen=True)
class MadeElement:
    """A character's ``identity: {kling: {element: make}}``: its sheet (a file, a URL, or the
    generated ``cast/NAME``) and the words it is described by."""

    name: str
    words: str
    sheet: MediaRef
    span: Span | None


@dataclass(frozen=True)
class MadeVoice:
    """A character's ``identity: {kling: {voice: make}}``: the audio it is made from (a recorded
    clip, or the designed ``voices/NAME``)."""

    name: str
    audio: MediaRef
    span: Span | None


@dataclass(frozen=True)
class MadePortrait:
    """A character's ``identity: {ark: {asset: make}}`` (or ``modelark``): the keys it is made
    for and the generated sheet (``cast/NAME``) it is made from."""

    name: str
    keys: tuple[str, ...]
    sheet: MediaRef
    span: Span | None


@dataclass(frozen=True)
class SpokenLine:
    """A shot's ``driving_audio: {say: ..., voice: ...}``: its id is ``EPISODE/SHOT``."""

    id: str
    text: str
    voice: str
    span: Span | None


def recipe(image: GeneratedImage, style: str) -> str:
    """The prompt that draws ``image``: its recipe with the words and the series' style."""
    words = image.words.strip().rstrip(".")
    look = f"Style: {style.strip().rstrip('.')}. " if style.strip() else ""
    character, _, worn = image.name.partition(".")  # a look's sheet: ``ada.wedding``
    name = speaker_name(character) + (f" ({worn.replace('_', ' ')})" if worn else "")
    return RECIPES[image.subject].format(name=name, words=words, style=look)


def asset_id(kind: str, name: str) -> str:
    """How commands and shots name an asset: ``cast/mia``, ``voices/mia-voice``."""
    return f"{kind}/{name}"


def asset_hashes(assets: list[CompiledShot]) -> dict[str, str]:
    """Each compiled cast asset's hash (its take 1), by asset id."""
    return {asset_id(a.episode, a.id): a.hash for a in assets}


# --- hashing ---------------------------------------------------------------------------------


Digests = Mapping[Path, str]


def _ref(ref: MediaRef, digests: Digests, hashes: Mapping[str, str] | None = None
         ) -> dict[str, str]:
    if ref.asset is not None:
        return {"asset": (hashes or {}).get(ref.asset, "?")}
    if ref.path is not None:
        return {"sha256": digests.get(ref.path, f"missing:{ref.path.name}")}
    return {"url": str(ref.url)}


def image_shot(series: str, image: GeneratedImage, style: str, model: str,
               digests: Digests) -> CompiledShot:
    """Take 1 of a generated image, with its other takes (each its own seed)."""
    request = AssetRequest("image", model, recipe(image, style), image.name, refs=image.refs,
                           size=SHEET_SIZE, subject=image.subject, seed=image.seed)
    form = {"asset": "image", "model": model, "prompt": request.prompt, "size": SHEET_SIZE,
            "n": 1, "refs": [_ref(r, digests) for r in image.refs], "seed": image.seed}
    first = asset_shot(series, "cast", image.name, request, form, image.span, digests)
    first.others = [take_of(first, k) for k in range(2, image.takes + 1)]
    return first


def voice_shot(series: str, voice: DesignedVoice, speech_model: str) -> CompiledShot:
    """Take 1 of a designed voice, with its other takes (each a voice of its own)."""
    request = AssetRequest("voice", "qwen-voice-design", voice.design, voice.name,
                           sample=voice.sample, language=voice.language,
                           target_model=speech_model)
    form = {"asset": "voice", "model": request.model, "prompt": voice.design,
            "sample": voice.sample, "language": voice.language, "target_model": speech_model,
            "take": 1}
    first = asset_shot(series, "voices", voice.name, request, form, voice.span, {})
    first.others = [take_of(first, k) for k in range(2, voice.takes + 1)]
    return first


def element_shot(series: str, element: MadeElement, digests: Digests,
                 image_hashes: Mapping[str, str]) -> CompiledShot:
    """A character's element made on Kling from its sheet: waits for the sheet's take it uses
    (``needs``) when the sheet is drawn from words."""
    request = AssetRequest("element", ELEMENT_MODEL, element.words, element.name,
                           refs=(element.sheet,))
    form = {"asset": "element", "model": ELEMENT_MODEL, "name": element.name,
            "words": element.words, "sheet": _ref(element.sheet, digests, image_hashes)}
    shot = asset_shot(series, ELEMENTS, element.name, request, form, element.span, digests)
    if element.sheet.asset is not None:
        shot.needs = {element.sheet.asset: image_hashes.get(element.sheet.asset, "?")}
    return shot


def kvoice_shot(series: str, voice: MadeVoice, digests: Digests,
                voice_hashes: Mapping[str, str]) -> CompiledShot:
    """A character's voice made on Kling from its voice's audio: waits for the designed voice's
    take it uses (``needs``) when the voice is designed from words."""
    request = AssetRequest("kvoice", VOICE_MODEL, "", voice.name, refs=(voice.audio,))
    form = {"asset": "kvoice", "model": VOICE_MODEL, "name": voice.name,
            "audio": _ref(voice.audio, digests, voice_hashes)}
    shot = asset_shot(series, KVOICES, voice.name, request, form, voice.span, digests)
    if voice.audio.asset is not None:
        shot.needs = {voice.audio.asset: voice_hashes.get(voice.audio.asset, "?")}
    return shot


def portrait_shot(series: str, portrait: MadePortrait, model: str, digests: Digests,
                  image_hashes: Mapping[str, str]) -> CompiledShot:
    """A character's portrait made in a vendor's asset library (``model``: its library's) from
    its sheet: waits for the sheet's take it uses (``needs``)."""
    request = AssetRequest("portrait", model, "", portrait.name, refs=(portrait.sheet,))
    form = {"asset": "portrait", "model": model, "name": portrait.name,
            "sheet": _ref(portrait.sheet, digests, image_hashes)}
    shot = asset_shot(series, PORTRAITS, portrait.name, request, form, portrait.span, digests)
    if portrait.sheet.asset is not None:
        shot.needs = {portrait.sheet.asset: image_hashes.get(portrait.sheet.asset, "?")}
    return shot


def line_shot(series: str, line: SpokenLine, speech_model: str,
              voice_hashes: Mapping[str, str], language: str = "") -> CompiledShot:
    """A line spoken in a designed voice: it uses that voice's take (``needs``), in the voice's
    declared ``language`` (already in the voice's hash, so not hashed again here)."""
    voice = asset_id("voices", line.voice)
    request = AssetRequest("speech", speech_model, line.text, line.id, voice=voice,
                           language=language)
    form = {"asset": "speech", "model": speech_model, "text": line.text,
            "voice": {"asset": voice_hashes.get(voice, "?")}}
    shot = asset_shot(series, "lines", line.id, request, form, line.span, {})
    shot.needs = {voice: voice_hashes.get(voice, "?")}
    return shot


def asset_shots(series: str, settings: Mapping[str, Any], style: str,
                images: Iterable[GeneratedImage], voices: Iterable[DesignedVoice],
                lines: Iterable[SpokenLine], digests: Digests,
                elements: Iterable[MadeElement] = (), kvoices: Iterable[MadeVoice] = (),
                portraits: Iterable[MadePortrait] = (), vendor: str = "") -> list[CompiledShot]:
    """A series' cast (``settings``: its file's data): the generated images and designed voices,
    then the lines spoken in those voices, then the elements made from the sheets, the
    voices made on Kling from the characters' voices, and the portraits made in the asset
    library of ``vendor`` (the ``identity:`` key the series' target reads)."""
    speech = speech_model(settings)
    drawn = [image_shot(series, image, style, image_model(settings), digests) for image in images]
    made = [element_shot(series, element, digests, asset_hashes(drawn)) for element in elements]
    designed = [voice_shot(series, voice, speech) for voice in voices]
    voice_hashes = {asset_id("voices", v.id): v.hash for v in designed}
    languages = {asset_id("voices", v.id): v.asset.language for v in designed if v.asset}
    spoken = [line_shot(series, line, speech, voice_hashes,
                        languages.get(asset_id("voices", line.voice), "")) for line in lines]
    kling = [kvoice_shot(series, voice, digests, voice_hashes) for voice in kvoices]
    own = library(vendor)
    library_made = [portrait_shot(series, p, own.model, digests, asset_hashes(drawn))
                    for p in portraits if own is not None and vendor in p.keys]
    return [*drawn, *designed, *spoken, *made, *kling, *library_made]


def needed_elements(assets: list[CompiledShot], episodes: Iterable[CompiledEpisode]
                    ) -> list[CompiledShot]:
    """``assets`` without the elements, Kling voices and portraits no shot sends (a character on
    no Kling 4.0 shot, or a series rendered elsewhere): each is paid, and made only for a shot
    that uses it."""
    used = {asset for episode in episodes for shot in episode.shots for asset in shot.needs}
    return [a for a in assets if a.episode not in (ELEMENTS, KVOICES, PORTRAITS)
            or asset_id(a.episode, a.id) in used]


def asset_shot(series: str, episode: str, name: str, asset: AssetRequest,
               form: dict[str, Any], span: Span | None, digests: Digests) -> CompiledShot:
    items = tuple(MediaItem("reference_image", r) for r in asset.refs)
    request = ShotRequest(model=asset.model, prompt=asset.prompt, media=items, resolution="",
                          ratio="16:9" if asset.kind == "image" else "", duration=0,
                          prompt_extend=None, watermark=False, seed=asset.seed)
    inputs = {str(r.path): digests[r.path] for r in asset.refs
              if r.path is not None and r.path in digests}
    return CompiledShot(series=series, episode=episode, id=name, request=request,
                        hash=digest(form) + asset.suffix, span=span, inputs=inputs,
                        canonical=form, asset=asset)


def rehashed(shot: CompiledShot, hashes: Mapping[str, str], seed_max: int = SEED_MAX
             ) -> CompiledShot:
    """``shot`` (take 1, with its takes) using other takes of the assets it needs: ``hashes``
    maps an asset id to the hash of the take to use instead (a pick changes what a shot uses,
    so its hash and its takes')."""
    changed = _changed(shot.needs, hashes)
    if not changed:
        return shot
    form = _swap(shot.canonical, changed)
    needs = {a: changed.get(h, h) for a, h in shot.needs.items()}
    first = replace(shot, hash=hashed(shot, form), canonical=form, needs=needs, others=[])
    return replace(first, others=[take_of(first, t.take, seed_max) for t in shot.others])


def _changed(needs: Mapping[str, str], hashes: Mapping[str, str]) -> dict[str, str]:
    """Each hash ``needs`` names that ``hashes`` replaces, and its replacement: read from the
    shot's few needs, not the season's every asset (a season's thousands of boards made this
    quadratic). Two needs of one hash replaced differently are taken in ``hashes``' order, as
    always."""
    found = {old: hashes[a] for a, old in needs.items() if a in hashes and hashes[a] != old}
    if len(found) < sum(1 for a, old in needs.items() if a in hashes and hashes[a] != old):
        return {needs[a]: h for a, h in hashes.items() if a in needs and needs[a] != h}
    return found


def _swap(value: Any, changed: Mapping[str, str]) -> Any:
    if isinstance(value, dict):
        if set(value) == {"asset"} and value["asset"] in changed:
            return {"asset": changed[value["asset"]]}
        return {k: _swap(v, changed) for k, v in value.items()}
    if isinstance(value, list):
        return [_swap(v, changed) for v in value]
    return value


def speech_model(series: Mapping[str, Any]) -> str:
    settings = series.get("assets")
    chosen = settings.get("speech_model") if isinstance(settings, dict) else None
    return chosen if isinstance(chosen, str) and chosen != "qwen3-tts-vd" else QWEN3_TTS_VD.id


def image_model(series: Mapping[str, Any]) -> str:
    settings = series.get("assets")
    chosen = settings.get("image_model") if isinstance(settings, dict) else None
    return chosen if isinstance(chosen, str) else DEFAULT_IMAGE_MODEL
