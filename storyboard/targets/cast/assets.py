"""The cast's services into declarations: image models, voice design and speech, with prices.

What DashScope serves for a cast (``../shared/spec/assets.md`` sections 1 and 2): reference images
from ``wan2.7-image`` and ``wan2.7-image-pro`` on the asynchronous image-generation endpoint, voices
designed by ``qwen-voice-design`` for a ``qwen3-tts-vd`` snapshot, and lines spoken by that
snapshot. One place for every limit and list price; ``sources`` marks which facts are official and
which only third-party (as ``Model.sources`` does for video). Prices move: ``with_price`` gives a
declaration with a price replaced, so settings can override any of them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

from storyboard.targets.capabilities import PriceTable
from storyboard.targets.cast.arkassets import PORTRAIT_MAKERS, PORTRAIT_TABLES
from storyboard.targets.video.kling4 import ELEMENT_MODEL, ELEMENT_PRICES, VOICE_MODEL, VOICE_PRICES
from storyboard.targets.video.models import FactSource

Unit = Literal["image", "voice", "10k-characters"]
NAME_LIMIT = 16
NAME_PATTERN = re.compile(r"^[A-Za-z0-9_]{1,16}$")
# A Chinese (CJK) character counts as two toward the speech limit and the bill [OFF].
_WIDE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")


@dataclass(frozen=True)
class AssetPrice:
    """A list price: ``amount`` of ``currency`` per ``unit``."""

    amount: float
    currency: str
    unit: Unit


@dataclass(frozen=True)
class ImageModel:
    """An image model on the image-generation endpoint: references, counts, sizes, prompt."""

    id: str
    title: str
    prices: Mapping[str, AssetPrice]  # by region: ``cn``, ``intl``
    modes: tuple[str, ...] = ("text-to-image", "edit", "image-set")
    max_references: int = 9  # input images (0: text-to-image)
    max_images: int = 4  # ``n`` per request
    max_images_sequential: int = 12  # ``n`` with ``enable_sequential`` (an image set)
    max_side: int = 2048  # width and height, each (``W*H``)
    max_side_text: int = 2048  # text-to-image alone (4K on the pro model)
    min_side: int = 256
    prompt_limit: int = 5000
    thinking_mode: bool = False
    seed_max: int = 2147483647
    # Input images: formats, size, sides and shape (the same for both models).
    image_formats: tuple[str, ...] = ("jpeg", "png", "bmp", "webp")
    image_max_bytes: int = 20 * 1024 * 1024
    image_sides: tuple[int, int] = (240, 8000)
    image_max_ratio: float = 8.0
    regions: tuple[str, ...] = ("cn", "intl")  # Beijing and Singapore only
    sources: Mapping[str, FactSource] = field(default_factory=dict)
    # Boards (``boards: {model: ...}``): the provider kinds that make it, the id sent on the wire
    # where not ``id``, the pixels an output may have (0: no bound beyond its sides), the widest
    # output shape, whether the call answers at once (a lost answer may have been billed), and
    # the price of an output over 2K as a multiple of the list price.
    makers: tuple[str, ...] = ("dashscope",)
    wire_id: str = ""
    min_pixels: int = 0
    max_pixels: int = 0
    max_output_ratio: float = 8.0
    synchronous: bool = False
    over_2k_factor: float = 1.0
    label: str = "image {index}"  # how its prompt names the n-th input image, by order

    def source(self, fact: str) -> FactSource:
        return self.sources.get(fact, "official")

    def price(self, region: str) -> AssetPrice:
        return self.prices.get(region) or next(iter(self.prices.values()))

    def size_problem(self, width: int, height: int, references: int) -> str | None:
        """Why ``width*height`` is a size this model does not make (with ``references``
        input images), or None."""
        longest = self.side_limit(references, False)
        if min(width, height) < self.min_side or max(width, height) > longest:
            return f"each side {self.min_side} to {longest} px"
        if max(width, height) / min(width, height) > self.max_output_ratio:
            return f"a shape within 1:{self.max_output_ratio:g} to {self.max_output_ratio:g}:1"
        pixels = width * height
        if pixels < self.min_pixels or (self.max_pixels and pixels > self.max_pixels):
            return f"{self.min_pixels:,} to {self.max_pixels:,} pixels in all"
        return None

    def side_limit(self, references: int, sequential: bool) -> int:
        """The largest side a request may ask for: 4K only for pro text-to-image, never a set."""
        return self.max_side_text if references == 0 and not sequential else self.max_side

    def most_images(self, sequential: bool) -> int:
        return self.max_images_sequential if sequential else self.max_images


_IMAGE_SOURCES: Mapping[str, FactSource] = {
    "input_images": "third-party", "prompt_limit": "third-party", "size_rules": "third-party",
    "min_side": "third-party", "seed_max": "third-party"}

WAN27_IMAGE = ImageModel(
    id="wan2.7-image", title="Wan 2.7 image",
    prices={"cn": AssetPrice(0.20, "CNY", "image"), "intl": AssetPrice(0.220177, "CNY", "image")},
    sources=_IMAGE_SOURCES)
WAN27_IMAGE_PRO = replace(
    WAN27_IMAGE, id="wan2.7-image-pro", title="Wan 2.7 image pro", max_side_text=4096,
    thinking_mode=True,
    prices={"cn": AssetPrice(0.50, "CNY", "image"), "intl": AssetPrice(0.562065, "CNY", "image")})

IMAGE_MODELS: dict[str, ImageModel] = {m.id: m for m in (WAN27_IMAGE, WAN27_IMAGE_PRO)}

# The image models a board may be made with (spec/boards.md), besides DashScope's two. Seedream
# 4.5 on Volcengine Ark (``doubao-``) and BytePlus ModelArk: synchronous, up to 14 references,
# 3,686,400 to 16,777,216 pixels (no 1K); prices a reseller's (about USD 0.03; the CNY one that
# at 7.3, rounded: an estimate). Kling's image models on Kling's own API: asynchronous, up to 10
# references (each 300 px, 1:2.5..2.5:1), 1K/2K (O1) or up to 4K (3.0 Omni, 4K billed double);
# every fact third-party. A ComfyUI image workflow: what the workflow takes, on the user's GPUs.
_SEEDREAM_SOURCES: Mapping[str, FactSource] = {
    "input_images": "third-party", "size_rules": "third-party", "prices": "third-party",
    "prompt_limit": "third-party", "seed_max": "third-party"}
SEEDREAM_45_ARK = ImageModel(
    id="doubao-seedream-4-5-251128", title="Seedream 4.5 (Volcengine Ark)",
    prices={"cn": AssetPrice(0.22, "CNY", "image")}, modes=("text-to-image", "edit", "image-set"),
    max_references=14, max_images=1, max_images_sequential=15, max_side=4096,
    max_side_text=4096, min_side=1024, prompt_limit=4000, image_sides=(14, 6000),
    image_max_bytes=10 * 1024 * 1024, image_max_ratio=16.0, regions=("cn",), makers=("ark",),
    min_pixels=3_686_400, max_pixels=16_777_216, max_output_ratio=16.0, synchronous=True,
    sources=_SEEDREAM_SOURCES)
SEEDREAM_45_MODELARK = replace(
    SEEDREAM_45_ARK, id="seedream-4-5-251128", title="Seedream 4.5 (BytePlus ModelArk)",
    prices={"intl": AssetPrice(0.03, "USD", "image")}, regions=("intl",), makers=("modelark",))
_KLING_IMAGE_SOURCES: Mapping[str, FactSource] = {
    "input_images": "third-party", "size_rules": "third-party", "prices": "third-party",
    "prompt_limit": "third-party", "min_side": "third-party", "seed_max": "third-party"}
KLING_IMAGE_O1 = ImageModel(
    id="kling-image-o1", title="Kling image O1 (Kling's API)",
    prices={"intl": AssetPrice(0.028, "USD", "image")}, modes=("text-to-image", "edit"),
    max_references=10, max_images=1, max_images_sequential=1, max_side=2048,
    max_side_text=2048, min_side=512, prompt_limit=2500, image_sides=(300, 8000),
    image_max_bytes=10 * 1024 * 1024, image_max_ratio=2.5, regions=("intl",), makers=("kling",),
    max_output_ratio=21 / 9, label="<<<image_{index}>>>", sources=_KLING_IMAGE_SOURCES)
# The same id as Kling's video model on the wire: declared apart, so a price table by model id
# never confuses the two.
KLING_IMAGE_V3_OMNI = replace(
    KLING_IMAGE_O1, id="kling-v3-omni-image", wire_id="kling-v3-omni",
    title="Kling image 3.0 Omni (Kling's API)", max_side=4096, max_side_text=4096,
    max_images_sequential=9, modes=("text-to-image", "edit", "image-set"), over_2k_factor=2.0)
COMFYUI_IMAGE = ImageModel(
    id="comfyui-image", title="A ComfyUI image workflow (your GPUs)",
    prices={"intl": AssetPrice(0.0, "USD", "image")}, modes=("text-to-image", "edit"),
    max_references=16, max_images=1, max_images_sequential=1, max_side=8192, max_side_text=8192,
    min_side=64, prompt_limit=20000, regions=("cn", "intl"), makers=("comfyui",))
BOARD_MODELS: dict[str, ImageModel] = {**IMAGE_MODELS, **{m.id: m for m in (
    SEEDREAM_45_ARK, SEEDREAM_45_MODELARK, KLING_IMAGE_O1, KLING_IMAGE_V3_OMNI, COMFYUI_IMAGE)}}


@dataclass(frozen=True)
class VoiceDesign:
    """``qwen-voice-design``: a voice from a description, for one ``qwen3-tts-vd`` snapshot."""

    id: str
    prices: Mapping[str, AssetPrice]
    target_models: tuple[str, ...]
    prompt_limit: int = 2048  # voice_prompt, Chinese or English
    preview_limit: int = 1024  # preview_text
    name_limit: int = NAME_LIMIT  # preferred_name, [A-Za-z0-9_]
    max_voices: int = 1000  # per account
    languages: tuple[str, ...] = ("zh", "en", "de", "it", "pt", "es", "ja", "ko", "fr", "ru")
    sample_rates: tuple[int, ...] = (8000, 16000, 24000, 48000)
    formats: tuple[str, ...] = ("wav", "mp3", "pcm", "opus")
    actions: tuple[str, ...] = ("create", "list", "query", "delete")
    max_page_size: int = 100
    sources: Mapping[str, FactSource] = field(default_factory=dict)

    def source(self, fact: str) -> FactSource:
        return self.sources.get(fact, "official")

    def price(self, region: str) -> AssetPrice:
        return self.prices.get(region) or next(iter(self.prices.values()))


@dataclass(frozen=True)
class SpeechModel:
    """A ``qwen3-tts-vd`` snapshot speaking a line in a designed voice (HTTP, one call a line)."""

    id: str
    prices: Mapping[str, AssetPrice]
    text_limit: int = 600  # characters, a Chinese one counting as two
    sample_rate: int = 24000
    language_types: tuple[str, ...] = ("Auto", "Chinese", "English", "German", "Italian",
                                       "Portuguese", "Spanish", "Japanese", "Korean", "French",
                                       "Russian")
    sources: Mapping[str, FactSource] = field(default_factory=dict)

    def source(self, fact: str) -> FactSource:
        return self.sources.get(fact, "official")

    def price(self, region: str) -> AssetPrice:
        return self.prices.get(region) or next(iter(self.prices.values()))


QWEN3_TTS_VD = SpeechModel(
    id="qwen3-tts-vd-2026-01-26",
    prices={"cn": AssetPrice(0.8, "CNY", "10k-characters"),
            "intl": AssetPrice(0.10, "USD", "10k-characters")},
    sources={"language_types": "third-party"})
SPEECH_MODELS: dict[str, SpeechModel] = {m.id: m for m in (QWEN3_TTS_VD,)}
# The realtime snapshots speak over a WebSocket only: a voice designed for one is a voice the HTTP
# speech call (``SPEECH_MODELS``) refuses, as the service does (the target must be the model).
REALTIME_TARGETS = ("qwen3-tts-vd-realtime-2026-01-15", "qwen3-tts-vd-realtime-2025-12-16")

QWEN_VOICE_DESIGN = VoiceDesign(
    id="qwen-voice-design", target_models=(*SPEECH_MODELS, *REALTIME_TARGETS),
    # The CN list says 0.2 CNY, the international model page 0.2 USD: both official, disagreeing.
    prices={"cn": AssetPrice(0.2, "CNY", "voice"), "intl": AssetPrice(0.2, "USD", "voice")},
    sources={"languages": "third-party", "sample_rates": "third-party",
             "formats": "third-party", "max_page_size": "third-party",
             "list_shape": "third-party"})


def with_price(declaration: ImageModel | VoiceDesign | SpeechModel, region: str,
               amount: float) -> ImageModel | VoiceDesign | SpeechModel:
    """``declaration`` with its ``region`` price replaced (a settings override); the currency and
    unit stay. Refuses a price that is negative or not a finite number."""
    if not amount == amount or amount in (float("inf"), float("-inf")) or amount < 0:
        raise ValueError(f"a price must be a finite number of at least 0, not {amount!r}")
    old = declaration.price(region)
    prices = {**declaration.prices, region: AssetPrice(amount, old.currency, old.unit)}
    return replace(declaration, prices=prices)


def image_model_of(model_id: str) -> ImageModel | None:
    return IMAGE_MODELS.get(model_id)


def board_model_of(model_id: str) -> ImageModel | None:
    """An image model a board may be made with (DashScope's, Seedream's, Kling's, ComfyUI's)."""
    return BOARD_MODELS.get(model_id)


def speech_model_of(model_id: str) -> SpeechModel | None:
    return SPEECH_MODELS.get(model_id)


def speech_characters(text: str) -> int:
    """Characters as the speech limit and the bill count them: a Chinese one as two."""
    return len(text) + len(_WIDE.findall(text))


# How long a spoken line lasts, estimated before it is made (``check`` warns by it) and used by
# the local stand-in and the emulator alike: 0.05 s a character (spaces and punctuation too,
# about 20 a second, as qwen3-tts-vd spoke "Now, where did I put that spanner?" in 1.70 s) and
# 0.2 s a Chinese character (about 5 syllables a second).
SPOKEN_SECONDS_PER_CHARACTER = 0.05
SPOKEN_SECONDS_PER_WIDE_CHARACTER = 0.2


def character_seconds(char: str) -> float:
    """How long one character of a line lasts spoken (``spoken_seconds``)."""
    return SPOKEN_SECONDS_PER_WIDE_CHARACTER if _WIDE.fullmatch(char) else \
        SPOKEN_SECONDS_PER_CHARACTER


def spoken_seconds(text: str) -> float:
    """About how long ``text`` lasts spoken, to the millisecond (its ends' spaces left out)."""
    return round(sum(character_seconds(c) for c in text.strip()), 3)


def preferred_name(content_hash: str, label: str = "") -> str:
    """A voice's ``preferred_name``, derived from the hash of what designs it: at most 16
    characters of ``[A-Za-z0-9_]``, the same for the same hash and label (``mia_3f2a9c0b1d4e``).

    A lost create answer is then found again by listing the account's voices for this name.
    """
    digest = content_hash.lower()
    if not re.fullmatch(r"[0-9a-f]{12,}", digest):
        digest = hashlib.sha256(content_hash.encode()).hexdigest()
    slug = re.sub(r"[^a-z0-9]", "", label.lower())[:6] or "v"
    name = f"{slug}_{digest[:NAME_LIMIT - len(slug) - 1]}"
    assert NAME_PATTERN.match(name)
    return name


# --- price tables ----------------------------------------------------------------------------

# The international list prices are in CNY for the image models [OFF]; a provider's table has one
# currency (USD there), so they are converted at the figures the spec gives (about USD 0.030 and
# 0.077 an image): approximate, overridable as every price is.
EACH = "each"  # an asset table's one rate: per image, per voice, or per character (``prices:``)
USD_IMAGE = {"wan2.7-image": 0.030, "wan2.7-image-pro": 0.077,
             "doubao-seedream-4-5-251128": 0.030}  # Ark's CNY list price: a reseller's USD


def _table(price: AssetPrice, currency: str, amount: float | None = None) -> PriceTable:
    """An asset's price as a provider's table prices a unit: an image or a voice a generation,
    speech per character (the ``per_second`` rate, for ``billed`` characters)."""
    value = price.amount if amount is None else amount
    if price.unit == "10k-characters":
        return PriceTable({EACH: value / 10000}, currency, input_video_cap=0.0, per="character")
    return PriceTable({EACH: value}, currency, input_video_cap=0.0, per="generation")


def price_tables(region: str, currency: str, maker: str = "") -> dict[str, PriceTable]:
    """Each cast service's list price in ``region`` as a table in ``currency`` (by model id),
    for a provider's ``PriceTable.by_model``: every image model's, or those ``maker`` makes."""
    tables: dict[str, PriceTable] = {}
    for image in BOARD_MODELS.values():  # the cast's two, and every board's
        if maker and maker not in image.makers:
            continue
        price = image.price(region)
        if price.currency != currency and not (currency == "USD" and image.id in USD_IMAGE):
            tables[image.id] = _table(price, price.currency)  # no conversion: its own currency
            continue
        usd = USD_IMAGE[image.id] if price.currency != currency else None
        tables[image.id] = _table(price, currency, usd)
    tables[QWEN_VOICE_DESIGN.id] = _table(QWEN_VOICE_DESIGN.price(region), currency)
    for speech in SPEECH_MODELS.values():
        tables[speech.id] = _table(speech.price(region), currency)
    return tables


# The provider kinds that make a character's element (``identity: {kling: {element: make}}``),
# by the element asset's model, and what each is priced at (``targets.video.kling4``: unverified).
# A character's voice made on Kling (``identity: {kling: {voice: make}}``) the same way.
# A character's portrait made in Ark's or ModelArk's asset library (``identity: {ark: {asset:
# make}}``) by the kind whose library it is (``targets.cast.arkassets``: unverified, priced 0.00).
ELEMENT_MAKERS: Mapping[str, tuple[str, ...]] = {ELEMENT_MODEL: ("kling",),
                                                 VOICE_MODEL: ("kling",), **PORTRAIT_MAKERS}
ELEMENT_TABLES: Mapping[str, PriceTable] = {ELEMENT_MODEL: ELEMENT_PRICES,
                                            VOICE_MODEL: VOICE_PRICES, **PORTRAIT_TABLES}


def maker_tables(kind: str, region: str, currency: str) -> dict[str, PriceTable]:
    """The list prices of the image models provider kind ``kind`` makes (a gateway's own
    boards: Seedream on Ark) and of the elements it makes, in ``currency``, for its
    ``PriceTable.by_model``."""
    tables = price_tables(region, currency, kind)
    return {**{m.id: tables[m.id] for m in BOARD_MODELS.values() if kind in m.makers},
            **{model: ELEMENT_TABLES[model] for model, makers in ELEMENT_MAKERS.items()
               if kind in makers and ELEMENT_TABLES[model].currency == currency}}


def asset_models() -> tuple[str, ...]:
    """Every cast service's and board model's id (a ``prices:`` key may name each)."""
    return (*BOARD_MODELS, QWEN_VOICE_DESIGN.id, *SPEECH_MODELS)


def units(kind: str, text: str) -> float:
    """What an asset is billed by: one image, one voice, or the characters a line speaks."""
    return float(speech_characters(text)) if kind == "speech" else 1.0


# --- the docs' table -------------------------------------------------------------------------


def _money(price: AssetPrice) -> str:
    unit = {"image": "image", "voice": "voice", "10k-characters": "10,000 characters"}[price.unit]
    return f"{price.amount:g} {price.currency} per {unit}"


def _marked(text: str, source: FactSource) -> str:
    return text if source == "official" else f"{text} (third-party)"


def assets_markdown() -> str:
    """The cast's facts as a Markdown table (the docs' ``capability-table:assets`` marker)."""
    rows = ["| service | limits | price (cn / intl) |", "|---|---|---|"]
    for image in IMAGE_MODELS.values():
        limits = (f"{image.max_references} reference images at most; n 1–{image.max_images} "
                  f"(1–{image.max_images_sequential} as a set); size W*H, sides "
                  f"{image.min_side}–{image.max_side} ({image.max_side_text} for text-to-image); "
                  f"prompt ≤ {image.prompt_limit}")
        rows.append(f"| `{image.id}` | {_marked(limits, image.source('size_rules'))} | "
                    f"{_money(image.price('cn'))} / {_money(image.price('intl'))} |")
    design = QWEN_VOICE_DESIGN
    limits = (f"voice_prompt ≤ {design.prompt_limit}; preview_text ≤ {design.preview_limit}; "
              f"preferred_name ≤ {design.name_limit} of A-Z a-z 0-9 _; "
              f"{design.max_voices} voices an account; for {', '.join(design.target_models)}")
    rows.append(f"| `{design.id}` | {limits} | {_money(design.price('cn'))} / "
                f"{_money(design.price('intl'))} |")
    for speech in SPEECH_MODELS.values():
        rows.append(f"| `{speech.id}` (speaking) | text ≤ {speech.text_limit} characters, a "
                    f"Chinese one counting two; WAV {speech.sample_rate} Hz | "
                    f"{_money(speech.price('cn'))} / {_money(speech.price('intl'))} |")
    return "\n".join(rows) + "\n"
