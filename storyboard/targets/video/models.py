"""Each Wan model into its declaration: references, voices, frames, durations, sizes and prices.

The models DashScope serves on the one video-synthesis endpoint (``../shared/spec/wan-models.md``).
A model is data: what kinds of media it takes and how many, how a character's voice travels
(``reference_voice`` on the character's item, a ``reference_audio`` item of its own, or none), which
frames it takes and whether they combine with references, its durations, resolutions, ratios and
switches, and its list prices by region. ``sources`` says which facts are official and which only
third-party, so the docs (and a user deciding whether to override) can tell them apart.

A snapshot id (``wan2.7-r2v-2026-06-12``) names one frozen version of a model: the same declaration.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from storyboard.targets.capabilities import (
    NATIVE_SIZES,
    SNAPSHOT,
    Capabilities,
    FileRule,
    ImageRule,
    PriceTable,
)
from storyboard.targets.video.kling4 import KLING_V4_MODELS
from storyboard.targets.video.modelrules import (
    CAPS_LIMITS,
    FRAME_ROLES,
    LINE_ROUTES,
    MODEL_LIMITS,
    BoardHandoff,
    FactSource,
    LineRoute,
    Model,
    VoiceStyle,
    with_limits,
)

# The rules (``Model`` and what reads it) live in ``modelrules``; importers keep this path.
__all__ = [
    "CAPS_LIMITS", "DASHSCOPE_MODELS", "DASHSCOPE_PASSES", "DEFAULT_MODEL", "FRAME_ROLES",
    "LINE_ROUTES", "MODELS", "MODEL_LIMITS", "BoardHandoff", "FactSource", "LineRoute", "Model",
    "VoiceStyle", "family", "model_of", "with_limits",
]

DEFAULT_MODEL = "wan2.7-r2v"

# 480P sizes follow the Wan family's 480P outputs (832x480 at 16:9); the pages give no table.
SIZES_480: dict[tuple[str, str], tuple[int, int]] = {
    ("480P", "16:9"): (832, 480), ("480P", "9:16"): (480, 832), ("480P", "1:1"): (624, 624),
    ("480P", "4:3"): (720, 544), ("480P", "3:4"): (544, 720)}

# HappyHorse publishes no size table: Wan's sizes, and for its four further ratios the short side
# of the resolution with the long one rounded to a multiple of 16 (storyboard's guess).
HH_SIZES: dict[tuple[str, str], tuple[int, int]] = {
    ("720P", "4:5"): (720, 896), ("720P", "5:4"): (896, 720),
    ("720P", "9:21"): (720, 1680), ("720P", "21:9"): (1680, 720),
    ("1080P", "4:5"): (1080, 1344), ("1080P", "5:4"): (1344, 1080),
    ("1080P", "9:21"): (1080, 2512), ("1080P", "21:9"): (2512, 1080)}

# MiniMax H3's sizes: 768P 16:9 is 1344x768 (official usage example); the rest keep its pixel
# count near that shape's, and 2K is 16:9 at 2560x1440 (storyboard's guesses, third-party).
H3_SIZES: dict[tuple[str, str], tuple[int, int]] = {
    ("768P", "16:9"): (1344, 768), ("768P", "9:16"): (768, 1344), ("768P", "1:1"): (1024, 1024),
    ("768P", "4:3"): (1184, 888), ("768P", "3:4"): (888, 1184), ("768P", "21:9"): (1568, 672),
    ("2K", "16:9"): (2560, 1440), ("2K", "9:16"): (1440, 2560), ("2K", "1:1"): (1920, 1920),
    ("2K", "4:3"): (2208, 1656), ("2K", "3:4"): (1656, 2208), ("2K", "21:9"): (2940, 1260)}


def _usd(rates: Mapping[str, float], cap: float = 5.0) -> PriceTable:
    return PriceTable(dict(rates), "USD", input_video_cap=cap)


def _cny(rates: Mapping[str, float], cap: float = 5.0) -> PriceTable:
    return PriceTable(dict(rates), "CNY", input_video_cap=cap)


# wan2.7-r2v: the model storyboard was first written for (wan27-r2v.md).
WAN27_R2V = Model(
    id="wan2.7-r2v", title="Wan 2.7 reference-to-video", caps=Capabilities(), frame_rule="4k+1",
    prices={"intl": _usd({"720P": 0.10, "1080P": 0.15}), "cn": _cny({"720P": 0.6, "1080P": 1.0})},
    # The 4:3 and 3:4 output sizes rest on copies in code, not on an Alibaba Cloud page.
    sources={"sizes:4:3, 3:4": "third-party"}, snapshots=("wan2.7-r2v-2026-06-12",))

# wan3.0-video: one model for references, frames and audio references, up to 30 s.
# ``adaptive`` (the output follows the first frame) is advised for the frame modes.
_WAN30_CAPS = Capabilities(min_duration=2, max_duration=30, max_duration_with_video=30,
                           max_references=15, resolutions=("480P", "720P", "1080P"),
                           ratios=("16:9", "9:16", "1:1", "4:3", "3:4", "adaptive"),
                           sizes={**NATIVE_SIZES, **SIZES_480}, prompt_limit=20000,
                           negative_prompt_limit=0)
# Reference video is reportedly billed in full (input + output): at most 15 s of it.
WAN30_VIDEO = Model(
    id="wan3.0-video", title="Wan 3.0 video", caps=_WAN30_CAPS, frame_rule="4k+1",
    prices={"intl": _usd({"480P": 0.05, "720P": 0.10, "1080P": 0.20}, cap=15.0),
            # No CNY list price published: the USD one at 7.3 CNY, rounded up (an estimate).
            "cn": _cny({"480P": 0.37, "720P": 0.73, "1080P": 1.46}, cap=15.0)},
    max_images=10, max_videos=5, min_references=0, voices="reference_audio", max_audios=5,
    frames=("first_frame", "last_frame"), frames_with_references=False, audio_switch=True,
    negative_prompt=False, prompt_extend=False, auto_duration=True, max_input_plus_output=30,
    max_reference_video_seconds=15.0, max_reference_audio_seconds=15.0,
    text_only=True,  # the official page lists text-to-video; storyboard asks for media anyway
    sources={"prices": "third-party", "sizes": "third-party", "billing": "third-party",
             "ratios:adaptive": "third-party"})

WAN30_VIDEO_PRIME = replace(
    WAN30_VIDEO, id="wan3.0-video-prime", title="Wan 3.0 video prime",
    prices={"intl": _usd({"480P": 0.10, "720P": 0.20, "1080P": 0.40}, cap=15.0),
            "cn": _cny({"480P": 0.73, "720P": 1.46, "1080P": 2.92}, cap=15.0)})

# wan2.7-i2v: a shot driven by its first frame (or a clip to continue); no character references.
_I2V_CAPS = Capabilities(min_duration=2, max_duration=15, max_duration_with_video=15,
                         max_references=0)
WAN27_I2V = Model(
    id="wan2.7-i2v", title="Wan 2.7 image-to-video", caps=_I2V_CAPS, frame_rule="4k+1",
    # As wan2.7 video (the official table); a first clip's seconds assumed billed (<= 10 s).
    prices={"intl": _usd({"720P": 0.10, "1080P": 0.15}, cap=10.0),
            "cn": _cny({"720P": 0.6, "1080P": 1.0}, cap=10.0)},
    max_images=0, max_videos=0, min_references=0, voices="none", ratio=False,
    line_route="driving_audio",  # "the portrait follows the mouth shapes ... of the audio"
    frames=("first_frame", "last_frame", "first_clip", "driving_audio"),
    needs=("first_frame", "first_clip"),
    # Replicate's and fal's schemas: a first frame or a clip to continue, never both. A clip
    # with a last frame (and no first) is "video continuation towards a frame" on Freepik's and
    # ComfyUI's pages: accepted.
    frames_apart=(("first_frame", "first_clip"),),
    file_rules={"first_clip": FileRule("video", 2, 10, 100),
                "driving_audio": FileRule("voice", 2, 30, 15)},
    sources={"limits": "third-party", "billing": "third-party", "frames": "third-party",
             "files": "third-party"})

# wan2.7-t2v: a prompt alone, with an optional audio track to follow (``input.audio_url``, not a
# media item); its timed shots are written in the prompt, as storyboard's scenes are.
WAN27_T2V = Model(
    id="wan2.7-t2v", title="Wan 2.7 text-to-video", caps=_I2V_CAPS, frame_rule="4k+1",
    prices={"intl": _usd({"720P": 0.10, "1080P": 0.15}, cap=0.0),
            "cn": _cny({"720P": 0.6, "1080P": 1.0}, cap=0.0)},
    max_images=0, max_videos=0, min_references=0, voices="none", frames=("driving_audio",),
    line_route="none", text_only=True, file_rules={"driving_audio": FileRule("voice", 2, 30, 15)},
    wire_fields={"driving_audio": "audio_url"}, snapshots=("wan2.7-t2v-2026-04-25",),
    # The official page prices wan2.7 video in CNY; the USD rates are wan2.7-r2v's list price.
    sources={"prices:intl": "third-party"})

# wan2.7-videoedit: a video to edit (2..10 s) plus up to 4 reference images; the input video's
# seconds are billed as well as the output's. The page does not say how a prompt names a
# reference image: storyboard writes DashScope's "Image 1" (a guess, marked third-party).
_EDIT_CAPS = Capabilities(min_duration=2, max_duration=10, max_duration_with_video=10,
                          max_references=4)
WAN27_VIDEOEDIT = Model(
    id="wan2.7-videoedit", title="Wan 2.7 video editing", caps=_EDIT_CAPS, frame_rule="4k+1",
    prices={"intl": _usd({"720P": 0.10, "1080P": 0.15}, cap=10.0),
            "cn": _cny({"720P": 0.6, "1080P": 1.0}, cap=10.0)},
    max_images=4, max_videos=0, min_references=0, voices="none", frames=("source_video",),
    line_route="none",
    needs=("source_video",), ratio=False, wire_types={"source_video": "video"}, keeps_length=True,
    board="none",  # an edit follows its source video: a still has no place in it
    file_rules={"source_video": FileRule("video", 2, 10, 100)},
    image_rule=ImageRule(min_side=240, max_side=8000, max_mb=20),
    sources={"labels": "third-party", "prices:intl": "third-party"})

# HappyHorse 1.1 (vendors.md 1a): the mode is the model id. References are named "[Image 1]" on
# DashScope; its watermark is on unless the body says ``watermark: false`` (storyboard always
# sends it). Official 1.1 prices were not found: a peer's CNY table and a gateway's USD rates.
_HH_CAPS = Capabilities(min_duration=3, max_duration=15, max_duration_with_video=15,
                        max_references=9, negative_prompt_limit=0,
                        ratios=("16:9", "9:16", "1:1", "4:3", "3:4", "4:5", "5:4", "9:21",
                                "21:9"), sizes={**NATIVE_SIZES, **HH_SIZES})
_HH_PRICES = {"intl": _usd({"720P": 0.14, "1080P": 0.18}, cap=0.0),
              "cn": _cny({"720P": 0.9, "1080P": 1.2}, cap=0.0)}
_HH_SOURCES: dict[str, FactSource] = {"prices": "third-party", "sizes": "third-party"}
HAPPYHORSE_R2V = Model(
    id="happyhorse-1.1-r2v", title="HappyHorse 1.1 reference-to-video", caps=_HH_CAPS,
    prices=_HH_PRICES, max_images=9, max_videos=0, voices="none", frames=(),
    negative_prompt=False, prompt_extend=False, labels={"dashscope": "[{Kind} {index}]"},
    watermark_default=True, truncates_prompt=True, sources=_HH_SOURCES,
    # A reference image's short side at least 400 px, 20 MB (A1, official).
    image_rule=ImageRule(min_side=400, max_mb=20))
HAPPYHORSE_I2V = replace(
    HAPPYHORSE_R2V, id="happyhorse-1.1-i2v", title="HappyHorse 1.1 image-to-video",
    caps=replace(_HH_CAPS, max_references=0), max_images=0, min_references=0,
    frames=("first_frame",), needs=("first_frame",), ratio=False, labels={},
    # Its first frame: 300 px each side at least, 1:2.5..2.5:1, 20 MB (A2, official).
    image_rule=ImageRule(min_side=300, max_aspect=2.5, max_mb=20))
HAPPYHORSE_T2V = replace(
    HAPPYHORSE_R2V, id="happyhorse-1.1-t2v", title="HappyHorse 1.1 text-to-video",
    caps=replace(_HH_CAPS, max_references=0), max_images=0, min_references=0, text_only=True,
    labels={}, image_rule=None)

# MiniMax H3 as DashScope serves it (Beijing only; vendors.md 1d): references or first/last
# frames, voices as audio items, 768P or 2K, 4..15 s, no seed. Its own media type names on the
# wire; labels in the prompt are not documented: "Image 1", "Video 1", "Audio 1" as a reseller's
# pages write them (third-party). Reference video seconds are billed with the output's.
_H3_CAPS = Capabilities(min_duration=4, max_duration=15, max_duration_with_video=15,
                        max_references=12, resolutions=("768P", "2K"),
                        ratios=("16:9", "9:16", "1:1", "4:3", "3:4", "21:9", "adaptive"),
                        sizes=H3_SIZES, prompt_limit=7000, negative_prompt_limit=0)
MINIMAX_H3 = Model(
    id="MiniMax/MiniMax-H3", title="MiniMax H3 (on DashScope)", caps=_H3_CAPS,
    # No DashScope price published: a gateway's USD 0.08/s (its lowest setting) and a peer's CNY
    # 0.50/0.80 per second; 2K in USD scaled as the CNY rates are (a guess).
    prices={"intl": _usd({"768P": 0.08, "2K": 0.128}, cap=15.0),
            "cn": _cny({"768P": 0.5, "2K": 0.8}, cap=15.0)},
    max_images=9, max_videos=3, max_audios=3, min_references=0, voices="reference_audio",
    frames=("first_frame", "last_frame"), frames_with_references=False, text_only=True,
    negative_prompt=False, prompt_extend=False, seed=False,
    max_reference_video_seconds=15.0, max_reference_audio_seconds=15.0,
    wire_types={"reference_image": "image_url", "reference_video": "feature",
                "reference_audio": "driving_audio"},
    usage_names=("input_seconds", "output_seconds"), regions=("cn",),
    # Each picture 256..5760 px, 0.4..2.5 in shape, 30 MB (A6, official).
    image_rule=ImageRule(min_side=256, max_side=5760, max_aspect=2.5, max_mb=30),
    sources={"prices": "third-party", "sizes": "third-party", "labels": "third-party"})

# Seedance 2.0 (ByteDance; vendors.md 2) on Volcengine Ark (``doubao-``) and BytePlus ModelArk
# (``dreamina-``): references (<= 9 images, 3 videos, 3 audios) or first/last frames, never both;
# voices as ``reference_audio`` items; 480p/720p (1080p is disputed: refused until probed); 4..15 s.
# Billed in tokens: (input video s + output s) x width x height x 24 / 1024 (a third-party quote of
# Volcengine's page), converted here into the price of one second at each resolution.
SEEDANCE_SIZES: dict[tuple[str, str], tuple[int, int]] = {
    **{k: v for k, v in {**NATIVE_SIZES, **SIZES_480}.items() if k[0] != "1080P"},
    ("480P", "21:9"): (992, 432), ("720P", "21:9"): (1470, 630)}
SEEDANCE_FPS = 24


def tokens_per_second(resolution: str, ratio: str = "16:9") -> int:
    """The tokens one second of Seedance output costs (720p 16:9: 21,600; 5 s = 108,000)."""
    width, height = SEEDANCE_SIZES[(resolution, ratio)]
    return width * height * SEEDANCE_FPS // 1024


def _per_token(currency: str, per_million: float) -> PriceTable:
    rates = {res: round(tokens_per_second(res) * per_million / 1e6, 4) for res in ("480P", "720P")}
    return PriceTable(rates, currency, input_video_cap=15.0)


_SEEDANCE_CAPS = Capabilities(min_duration=4, max_duration=15, max_duration_with_video=15,
                              max_references=15, resolutions=("480P", "720P"),
                              ratios=("16:9", "9:16", "1:1", "4:3", "3:4", "21:9", "adaptive"),
                              sizes=SEEDANCE_SIZES, prompt_limit=5000, negative_prompt_limit=0,
                              seed_max=4294967295)
SEEDANCE_20_ARK = Model(
    id="doubao-seedance-2-0-260128", title="Seedance 2.0 (Volcengine Ark)", caps=_SEEDANCE_CAPS,
    # CNY 46 per million tokens (ArcReel, ai-tokenhub quoting Volcengine); no USD list on Ark.
    prices={"cn": _per_token("CNY", 46.0)},
    max_images=9, max_videos=3, max_audios=3, min_references=0, voices="reference_audio",
    frames=("first_frame", "last_frame"), frames_with_references=False, text_only=True,
    negative_prompt=False, prompt_extend=False, audio_switch=True, auto_duration=True,
    max_reference_video_seconds=15.0, max_reference_audio_seconds=15.0,
    sources={"limits": "third-party", "prices": "third-party", "sizes": "third-party"})
SEEDANCE_20_MODELARK = replace(
    SEEDANCE_20_ARK, id="dreamina-seedance-2-0-260128", title="Seedance 2.0 (BytePlus ModelArk)",
    # No official USD rate for 2.0: USD 4.30 per million tokens (a reseller, before May 2026).
    prices={"intl": _per_token("USD", 4.30)})

# Seedance 2.5 (performance.md, third-party): the 2.0 request with another model id; 4..30 s, up
# to 30 images, 10 videos and 10 audios (audio-only references allowed), 480p/720p/1080p (1080p is
# H.265; no 4K), and the edit and extend task types (``omni_reference_task_type``, checked at
# submit). Prices: a reseller's measured USD per second (480p 5 s $0.40, 720p $0.90, 1080p $2.25);
# Ark's in CNY are those at 7.3, rounded up (an estimate).
SEEDANCE_25_SIZES: dict[tuple[str, str], tuple[int, int]] = {
    **SEEDANCE_SIZES, **{k: v for k, v in NATIVE_SIZES.items() if k[0] == "1080P"},
    ("1080P", "21:9"): (2206, 946)}
_SEEDANCE_25_CAPS = replace(_SEEDANCE_CAPS, max_duration=30, max_duration_with_video=30,
                            max_references=40, resolutions=("480P", "720P", "1080P"),
                            sizes=SEEDANCE_25_SIZES)
SEEDANCE_25_ARK = replace(
    SEEDANCE_20_ARK, id="doubao-seedance-2-5-260628", title="Seedance 2.5 (Volcengine Ark)",
    caps=_SEEDANCE_25_CAPS,
    prices={"cn": _cny({"480P": 0.59, "720P": 1.32, "1080P": 3.29}, cap=15.0)},
    max_images=30, max_videos=10, max_audios=10, audio_only_references=True,
    # The edit task (third-party, several implementations agree): the create-task body with the
    # video as a ``reference_video`` item, ``omni_reference_task_type: "edit"``, ratio
    # ``adaptive`` and duration -1 (the output keeps the input's length).
    task_types=("edit", "extend"),
    sources={"limits": "third-party", "prices": "third-party", "sizes": "third-party",
             "task_types": "third-party"})
SEEDANCE_25_MODELARK = replace(
    SEEDANCE_25_ARK, id="dreamina-seedance-2-5-260628", title="Seedance 2.5 (BytePlus ModelArk)",
    prices={"intl": _usd({"480P": 0.08, "720P": 0.18, "1080P": 0.45}, cap=15.0)})
SEEDANCE_MODELS = (SEEDANCE_20_ARK, SEEDANCE_20_MODELARK, SEEDANCE_25_ARK, SEEDANCE_25_MODELARK)

# videoretalk (performance.md, official): a lip-sync pass re-lipping a video (2..120 s, 300 MB) to
# an audio track (2..120 s, 30 MB), both fields of ``input``, no prompt; billed by the output's
# seconds (its usage: ``video_duration``); one task at a time per account (the others queue);
# Beijing only. ``video_extension: false``: the output keeps the video's length.
VIDEORETALK = Model(
    id="videoretalk", title="VideoRetalk lip-sync pass",
    caps=Capabilities(min_duration=2, max_duration=120, max_duration_with_video=120,
                      max_references=0),
    prices={"cn": _cny({"720P": 0.08, "1080P": 0.08}, cap=0.0),
            "intl": _usd({"720P": 0.011469, "1080P": 0.011469}, cap=0.0)},
    max_images=0, max_videos=0, min_references=0, voices="none",
    frames=("source_video", "driving_audio"), needs=("source_video",), ratio=False,
    keeps_length=True, negative_prompt=False, prompt_extend=False, seed=False,
    wire_fields={"source_video": "video_url", "driving_audio": "audio_url"},
    file_rules={"source_video": FileRule("video", 2, 120, 300),
                "driving_audio": FileRule("voice", 2, 120, 30)},
    usage_names=("", "video_duration"), regions=("cn",), takes_prompt=False, in_flight=1,
    submit_path="/services/aigc/image2video/video-synthesis",
    body_parameters={"video_extension": False}, keeps_framing=True)

DASHSCOPE_MODELS: dict[str, Model] = {m.id: m for m in (
    WAN27_R2V, WAN30_VIDEO, WAN30_VIDEO_PRIME, WAN27_I2V, WAN27_T2V, WAN27_VIDEOEDIT,
    HAPPYHORSE_R2V, HAPPYHORSE_I2V, HAPPYHORSE_T2V, MINIMAX_H3)}
# Passes over a rendered take that DashScope sells (a derived take's, never a shot's own model:
# the language does not offer them).
DASHSCOPE_PASSES: dict[str, Model] = {VIDEORETALK.id: VIDEORETALK}

# Kling 3.0 Omni on Kling's own API (vendors.md section 4; every fact third-party): up to 7
# references (images, and at most one video of 3..10 s), named ``<<<image_1>>>``; 3..15 s; std
# (720P) or pro (1080P); three ratios; no seed, negative prompt, voices. A first frame beside
# references is not confirmed: no frames until a probe says. Timed scenes go as its multi_prompt.
_KLING_CAPS = Capabilities(min_duration=3, max_duration=15, max_duration_with_video=10,
                           max_references=7, ratios=("16:9", "9:16", "1:1"), prompt_limit=2500,
                           negative_prompt_limit=0)
KLING_V3_OMNI = Model(
    id="kling-v3-omni", title="Kling 3.0 Omni", caps=_KLING_CAPS,
    # No official rate card: resellers' rates with sound on (storyboard asks for sound unless a
    # shot says ``audio: false``, so an estimate is never low): std 720P $0.112/s (one said to
    # match Kling's; $0.084 without sound), pro 1080P $0.20/s (another's; $0.15 without).
    prices={"intl": _usd({"720P": 0.112, "1080P": 0.20}, cap=0.0)},
    max_images=7, max_videos=1, min_references=0, voices="none", frames=(), text_only=True,
    negative_prompt=False, prompt_extend=False, seed=False, audio_switch=True,
    labels={"kling": "<<<{kind}_{index}>>>"},
    # Each image 300 px at least, 1:2.5..2.5:1, 10 MB; its one reference video 3..10 s, 200 MB
    # (K1, third-party).
    image_rule=ImageRule(min_side=300, max_aspect=2.5, max_mb=10),
    file_rules={"reference_video": FileRule("video", 3, 10, 200)},
    sources={"prices": "third-party", "limits": "third-party", "labels": "third-party"})

# MiniMax H3 on MiniMax's own v2 API (vendors.md 3): as DashScope serves it, but with the
# content items' own roles on the wire (first_frame, last_frame, reference_image,
# reference_video, reference_audio: Seedance's shape) and no region of DashScope's. Its 4 s
# shortest shot follows the official DashScope copy and Cloudflare's schema (Comfy Router and
# civitai say 5: a series can say ``models: {MiniMax-H3: {min_duration: 5}}``). The label
# spelling is not documented: "Image 1", "Video 1", "Audio 1", as on DashScope (a guess).
MINIMAX_H3_API = replace(
    MINIMAX_H3, id="MiniMax-H3", title="MiniMax H3 (MiniMax's API)", wire_types={},
    usage_names=("input_video_duration", "output_video_duration"), regions=(),
    sources={"prices": "third-party", "sizes": "third-party", "labels": "third-party",
             "limits": "third-party"})

# MiniMax Hailuo 2.3 on MiniMax's v1 API (vendors.md 3): a prompt alone or a first frame
# (``first_frame_image``); no references; 768P for 6 or 10 s, 1080P for 6 s only; no ratio
# field (a prompt alone renders 16:9, a frame its own shape); ``prompt_optimizer`` is its
# prompt_extend; prompts under 2,000 characters (a copy of MiniMax's older page). Prices: none
# in the gathered facts. Storyboard's guess, from MiniMax's per-video list as last seen (USD 0.28
# for 6 s at 768P, 0.49 for 6 s at 1080P; CNY 2.00 and 3.50), as a rate a second rounded up.
# Its sizes are not published: H3's 768P 16:9 (the drafts draw one size a resolution and ratio).
_HAILUO_SIZES: dict[tuple[str, str], tuple[int, int]] = {
    ("768P", "16:9"): H3_SIZES[("768P", "16:9")], ("1080P", "16:9"): (1920, 1080)}
HAILUO_23 = Model(
    id="MiniMax-Hailuo-2.3", title="MiniMax Hailuo 2.3 (MiniMax's API)",
    caps=Capabilities(min_duration=6, max_duration=10, max_duration_with_video=10,
                      max_references=0, resolutions=("768P", "1080P"), ratios=("16:9",),
                      sizes=_HAILUO_SIZES, prompt_limit=2000, negative_prompt_limit=0),
    prices={"intl": _usd({"768P": 0.0467, "1080P": 0.0817}, cap=0.0),
            "cn": _cny({"768P": 0.3334, "1080P": 0.5834}, cap=0.0)},
    max_images=0, max_videos=0, min_references=0, voices="none", frames=("first_frame",),
    line_route="none", text_only=True, negative_prompt=False, seed=False,
    durations={"768P": (6, 10), "1080P": (6,)},
    sources={"prices": "third-party", "sizes": "third-party", "prompt": "third-party"})
MINIMAX_MODELS = (MINIMAX_H3_API, HAILUO_23)

MODELS: dict[str, Model] = {**DASHSCOPE_MODELS, **{m.id: m for m in SEEDANCE_MODELS},
                             KLING_V3_OMNI.id: KLING_V3_OMNI,
                             **{m.id: m for m in KLING_V4_MODELS},
                             **{m.id: m for m in MINIMAX_MODELS}}


def family(model_id: str) -> str:
    """The model a snapshot id belongs to (``wan2.7-r2v-2026-06-12`` -> ``wan2.7-r2v``)."""
    match = SNAPSHOT.match(model_id)
    return match.group("family") if match and match.group("family") in MODELS else model_id


def model_of(model_id: str) -> Model | None:
    """The declaration of a model id or of one of its snapshots (or of a pass over a take:
    ``DASHSCOPE_PASSES``); None for an unknown id."""
    return MODELS.get(family(model_id)) or DASHSCOPE_PASSES.get(model_id)
