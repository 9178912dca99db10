"""Each wire target into its declaration: name, limits, status words, prices and label style.

The capability table of every target storyboard speaks: DashScope's native protocol and the
gateways of ``gateways.md`` that resell the same model. The compiler checks shots against these
declarations, each dialect writes bodies that obey them, each provider bills by them; this module
imports none of those. Status words are compared in upper case.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Protocol

from storyboard.targets.capabilities import Capabilities, Limits, PriceTable
from storyboard.targets.cast.assets import price_tables
from storyboard.targets.taskapi import FileHop, TaskProtocol, TaskStatus
from storyboard.targets.video.kling4 import KLING_V4_MODELS
from storyboard.targets.video.models import (
    DASHSCOPE_MODELS,
    DASHSCOPE_PASSES,
    DEFAULT_MODEL,
    HAILUO_23,
    KLING_V3_OMNI,
    MINIMAX_H3_API,
    SEEDANCE_20_ARK,
    SEEDANCE_20_MODELARK,
    SEEDANCE_25_ARK,
    SEEDANCE_25_MODELARK,
    SEEDANCE_25_SIZES,
    WAN27_R2V,
    FactSource,
    Model,
    family,
)
from storyboard.targets.wire.failures import (
    DASHSCOPE_FAILURES,
    GATEWAY_FAILURES,
    OUT_VIDEO,
    PROMPT,
    FailureWords,
    Word,
)


class Labelled(Protocol):
    """What a label style needs of a mention: its kind (``image``, ``video``) and number."""

    @property
    def kind(self) -> str: ...

    @property
    def index(self) -> int: ...


@dataclass(frozen=True)
class Target:
    """One wire target: what it accepts and how it names things, as data."""

    name: str
    title: str  # for tables: "Freepik-style tasks"
    limits: Limits
    protocol: TaskProtocol
    label_format: str = "{Kind} {index}"  # "Image 1"; "{kind} {index}" is "image 1"
    words: Mapping[str, TaskStatus] = field(default_factory=dict)  # as it spells them, if not upper
    models: tuple[str, ...] = (DEFAULT_MODEL,)  # the models it sells (snapshots go by family)
    # Facts resting on no page of the gateway's own (``aspect_ratio``): third-party, overridable.
    sources: Mapping[str, FactSource] = field(default_factory=dict)
    failures: FailureWords = GATEWAY_FAILURES  # its failure words and what a failure costs
    # Its task list shows each task's prompt, so a lost submit is matched by it. False (Ark): the
    # list shows the model, times and settings alone, and a lost submit is matched by those.
    list_prompt: bool = True
    # Faces (models-2026-11.md, "Faces"): False where a reference picture of a person sent by URL
    # is refused ("may contain real person": Seedance on Ark and ModelArk), so a face goes as a
    # portrait registered once in the vendor's library: the key of a character's ``identity:``
    # this target reads (``ark``) and how a request names such an asset (``asset://{asset}``).
    faces_by_url: bool = True
    identity_key: str = ""
    identity_url: str = ""

    def identity_ref(self, asset: str) -> str:
        """How a request names the portrait asset ``asset`` ("asset://ID")."""
        return self.identity_url.format(asset=asset)

    def names_identity(self, url: str) -> bool:
        """Whether ``url`` names one of this target's registered portraits (``asset://...``)."""
        scheme = self.identity_url.partition("{")[0]
        return bool(scheme) and url.startswith(scheme)

    def label(self, mention: Labelled) -> str:
        return self.label_format.format(Kind=mention.kind.capitalize(), kind=mention.kind,
                                        index=mention.index)


def upper(words: Mapping[str, TaskStatus]) -> dict[str, TaskStatus]:
    """A gateway's status words, keyed as they are compared (upper case)."""
    return {word.upper(): status for word, status in words.items()}


# The words gateways of this kind use for the five states a task can be in (queued, running,
# succeeded, failed, cancelled). Every target accepts them besides its own, so a gateway that
# says ``completed`` where its seed says ``succeeded`` still finishes its task. ``unknown`` is NOT
# a synonym of anything: like any word not here, it stays UNKNOWN, which never ends a task nor
# allows a new submit (the runner polls it on, then stops the shot as ``AmbiguousTask``).
SYNONYMS: Mapping[str, TaskStatus] = {
    "pending": TaskStatus.PENDING, "queued": TaskStatus.PENDING,
    "preparing": TaskStatus.PENDING, "queueing": TaskStatus.PENDING, "fail": TaskStatus.FAILED,
    "created": TaskStatus.PENDING, "submitted": TaskStatus.PENDING,
    "running": TaskStatus.RUNNING, "processing": TaskStatus.RUNNING,
    "in_progress": TaskStatus.RUNNING, "suspended": TaskStatus.SUSPENDED,
    "succeeded": TaskStatus.SUCCEEDED, "success": TaskStatus.SUCCEEDED,
    "completed": TaskStatus.SUCCEEDED, "succeed": TaskStatus.SUCCEEDED,
    "failed": TaskStatus.FAILED, "failure": TaskStatus.FAILED,
    "canceled": TaskStatus.CANCELED, "cancelled": TaskStatus.CANCELED,
    "expired": TaskStatus.FAILED,  # never started before its deadline (Ark): ended, unpaid
}


def with_synonyms(own: Mapping[str, TaskStatus]) -> dict[str, TaskStatus]:
    """A target's words (its own first: the emulator answers with those) plus ``SYNONYMS``."""
    return upper({**own, **{w: s for w, s in SYNONYMS.items() if w.upper() not in upper(own)}})


# DashScope's own protocol (spec section 1): the native words are ours.
DASHSCOPE_NAME = "dashscope"
DASHSCOPE_KEY_ENV = "DASHSCOPE_API_KEY"
DASHSCOPE_REGIONS = {"intl": "https://dashscope-intl.aliyuncs.com/api/v1",
                     "cn": "https://dashscope.aliyuncs.com/api/v1"}
DASHSCOPE_PROTOCOL = TaskProtocol(
    name=DASHSCOPE_NAME,
    submit_path="/services/aigc/video-generation/video-synthesis",
    task_path="/tasks/{task_id}",
    cancel_path="/tasks/{task_id}/cancel",
    list_path="/tasks",
    statuses=with_synonyms({status.value: status for status in TaskStatus}),
    submit_headers={"X-DashScope-Async": "enable"},  # without it the submit is refused
    key_headers=("Authorization", "X-DashScope-*"),
    capabilities=Capabilities(),  # 2..10 s with a reference video, 2..15 s without
    prices={region: replace(table, by_model={
        **{m.id: m.price(region) for m in DASHSCOPE_MODELS.values() if m is not WAN27_R2V},
        **{m.id: m.price(region) for m in DASHSCOPE_PASSES.values()},
        **price_tables(region, table.currency, DASHSCOPE_NAME)})  # the cast's services
            for region, table in WAN27_R2V.prices.items()},
)
DASHSCOPE = Target(DASHSCOPE_NAME, "DashScope (native)", Limits(min_references=0),
                   DASHSCOPE_PROTOCOL, models=tuple(DASHSCOPE_MODELS),
                   failures=DASHSCOPE_FAILURES)

# OpenAI-style unified video tasks (seed 003): ``media[]``, string seconds.
_OPENAI_LIMITS = Limits(public_urls=True, voice_roles=(), max_voices=0)
_OPENAI_WORDS = {"queued": TaskStatus.PENDING, "in_progress": TaskStatus.RUNNING,
                 "completed": TaskStatus.SUCCEEDED, "failed": TaskStatus.FAILED,
                 "unknown": TaskStatus.UNKNOWN}
OPENAI_VIDEO = Target("openai-video", "OpenAI-style video tasks", _OPENAI_LIMITS, TaskProtocol(
    name="openai-video", submit_path="/videos", task_path="/videos/{task_id}", cancel_path=None,
    list_path="/videos",
    statuses=with_synonyms(_OPENAI_WORDS), submit_headers={}, capabilities=_OPENAI_LIMITS,
    prices={"default": PriceTable({"720P": 0.10, "1080P": 0.15}, "USD")}), words=_OPENAI_WORDS)

# Freepik-style tasks (seed 000): URL item arrays, 2..10 s.
_FREEPIK_PATH = "/v1/ai/reference-to-video/wan-2-7"
_FREEPIK_LIMITS = Limits(max_duration=10, max_duration_with_video=10, public_urls=True)
FREEPIK = Target("freepik", "Freepik-style tasks", _FREEPIK_LIMITS, TaskProtocol(
    name="freepik", submit_path=_FREEPIK_PATH, task_path=_FREEPIK_PATH + "/{task_id}",
    cancel_path=None, list_path=_FREEPIK_PATH,
    statuses=with_synonyms({"created": TaskStatus.PENDING, "in_progress": TaskStatus.RUNNING,
                            "completed": TaskStatus.SUCCEEDED, "failed": TaskStatus.FAILED}),
    submit_headers={}, capabilities=_FREEPIK_LIMITS,
    # No published per-task price (a subscription): the native list price as an estimate.
    prices={"default": PriceTable({"720P": 0.10, "1080P": 0.15}, "USD")}))

# Gateways with ``image_with_roles`` (seed 001): lower-case labels, 2..15 s whatever the media (the
# seed has no rule for reference videos). The seed names no paths: the usual unified-gateway
# convention, settable in ``provider:``.
_ROLES_PATH = "/v1/video/generations"
_ROLES_LIMITS = Limits(public_urls=True, voice_roles=("reference_image",),
                       max_duration_with_video=15)
ROLES = Target("roles", "Gateway with image_with_roles", _ROLES_LIMITS, TaskProtocol(
    name="roles", submit_path=_ROLES_PATH, task_path=_ROLES_PATH + "/{task_id}", cancel_path=None,
    list_path=None,
    statuses=with_synonyms({"queued": TaskStatus.PENDING, "submitted": TaskStatus.PENDING,
                            "processing": TaskStatus.RUNNING, "in_progress": TaskStatus.RUNNING,
                            "succeeded": TaskStatus.SUCCEEDED, "success": TaskStatus.SUCCEEDED,
                            "failed": TaskStatus.FAILED, "failure": TaskStatus.FAILED}),
    submit_headers={}, capabilities=_ROLES_LIMITS,
    prices={"default": PriceTable({"720P": 0.10, "1080P": 0.15}, "USD")}), "{kind} {index}")

# A marketplace with image and video URL arrays (seed 002): ``Image1``, priced per generation. Its
# one ``reference_voice`` is bound to nothing: the service gives it to Image1. HTTPS URLs only;
# 2..15 s whatever the media (the seed has no rule for reference videos).
_ARRAYS_LIMITS = Limits(public_urls=True, first_frame=False, max_voices=1, https_only=True,
                        voice_roles=("reference_image",), voice_to_first_image=True,
                        max_duration_with_video=15)
_ARRAYS_WORDS = {"created": TaskStatus.PENDING, "processing": TaskStatus.RUNNING,
                 "completed": TaskStatus.SUCCEEDED, "failed": TaskStatus.FAILED}
ARRAYS = Target("arrays", "Marketplace with image and video arrays", _ARRAYS_LIMITS, TaskProtocol(
    name="arrays", submit_path="/api/v3/alibaba/wan-2.7/reference-to-video",
    task_path="/api/v3/predictions/{task_id}/result", cancel_path=None, list_path=None,
    statuses=with_synonyms(_ARRAYS_WORDS), submit_headers={}, capabilities=_ARRAYS_LIMITS,
    prices={"default": PriceTable({"720P": 0.625, "1080P": 0.938}, "USD", per="generation")}),
    # The seed names no ratio field: ``aspect_ratio`` is the family's usual name, unconfirmed.
    "{Kind}{index}", _ARRAYS_WORDS, sources={"aspect_ratio": "third-party"})

# Seedance on Volcengine Ark (CN) and BytePlus ModelArk (intl), vendors.md 2: one wire, two hosts
# and keys. Its words are lower case; ``expired`` (never started before its deadline) is a free
# failure. Its list (``filter.model``, pages of tasks) shows no prompt: a lost submit is matched by
# what it does show, the model, the creation time, duration, resolution, ratio and seed, and adopted
# only when exactly one task matches (else the shot stops as ambiguous, nothing paid twice). Its
# DELETE's semantics (cancel or forget) are not verified: no cancel.
_ARK_PATH = "/contents/generations/tasks"
# A portrait in Volcengine's asset library, as a content item's URL names it (models-2026-11.md,
# "Faces": third-party copies of the vendor's guidance); the prompt names it "Image N".
ARK_ASSET = "asset://{asset}"
# Where the docs say how to register a face and declare it (said with the refusal and the warning).
IDENTITY_DOCS = "docs/cast.md#identities-registered-once"
# The target's limits are the widest of the models it sells (Seedance 2.5's); each model's own
# (``models.py``) hold its shots.
_ARK_LIMITS = Limits(min_duration=4, max_duration=30, max_duration_with_video=30,
                     max_references=40, resolutions=("480P", "720P", "1080P"),
                     ratios=SEEDANCE_20_ARK.caps.ratios, sizes=SEEDANCE_25_SIZES,
                     negative_prompt_limit=0, seed_max=4294967295, min_references=0,
                     voice_roles=(), max_voices=10, public_urls=True, image_max_mb=30.0,
                     video_max_mb=50.0)
_ARK_WORDS = {"queued": TaskStatus.PENDING, "running": TaskStatus.RUNNING,
              "succeeded": TaskStatus.SUCCEEDED, "failed": TaskStatus.FAILED,
              "cancelled": TaskStatus.CANCELED, "expired": TaskStatus.FAILED}


# Ark bills succeeded tasks only: a refusal, at submit or after the render, is free (field notes
# and a Volcengine billing page as quoted by a reseller: third-party).
ARK_FAILURES = FailureWords(codes=dict(GATEWAY_FAILURES.codes), render_billed=False,
                            content_billed=False, billing_basis="third-party")


def _ark(name: str, title: str, region: str, models: tuple[Model, ...]) -> Target:
    """A Seedance host: priced by its first model's table, each other model by its own."""
    first, *others = models
    price = replace(first.price(region), by_model={m.id: m.price(region) for m in others})
    return Target(name, title, _ARK_LIMITS, TaskProtocol(
        name=name, submit_path=_ARK_PATH, task_path=_ARK_PATH + "/{task_id}", cancel_path=None,
        list_path=_ARK_PATH, statuses=with_synonyms(_ARK_WORDS), submit_headers={},
        capabilities=_ARK_LIMITS, prices={"default": price}), words=_ARK_WORDS,
        models=tuple(m.id for m in models),
        sources={"limits": "third-party", "prices": "third-party"}, failures=ARK_FAILURES,
        list_prompt=False, faces_by_url=False, identity_key=name, identity_url=ARK_ASSET)


ARK = _ark("ark", "Volcengine Ark (Seedance)", "cn", (SEEDANCE_20_ARK, SEEDANCE_25_ARK))
MODELARK = _ark("modelark", "BytePlus ModelArk (Seedance)", "intl",
                (SEEDANCE_20_MODELARK, SEEDANCE_25_MODELARK))

# Kling 3.0 Omni and Kling 4.0 (``targets.video.kling4``), Kling's own API (vendors.md section 4, all
# third-party copies of its schema): references named ``<<<image_1>>>``, ``mode`` std (720P) or
# pro (1080P), no seed, no negative prompt, no voice files. The target's limits are the widest of
# the models it sells (4.0's: 3..30 s, four ratios, 26,000 characters, 15 references, frames);
# each model's own (3.0 Omni: 3..15 s, 7 references, no frames) hold its shots at their lines.
# Tasks are listed on the create path (a guess from its classic endpoints); 4.0 is taken to
# share 3.0 Omni's path (a guess: its reference pages name no path).
_KLING_PATH = "/v1/videos/omni-video"
_KLING_LIMITS = Limits(min_duration=3, max_duration=30, max_duration_with_video=30,
                       max_references=15, min_references=0,
                       ratios=("16:9", "9:16", "1:1", "21:9"), prompt_limit=26000,
                       negative_prompt_limit=0, public_urls=True, first_frame=True,
                       voice_roles=(), max_voices=0, image_max_mb=10.0, video_max_mb=200.0,
                       max_scene_shots=6, scene_prompt_limit=512)
_KLING_WORDS = {"submitted": TaskStatus.PENDING, "processing": TaskStatus.RUNNING,
                "succeed": TaskStatus.SUCCEEDED, "failed": TaskStatus.FAILED}
# Kling's failure words (vendors.md section 4, a reseller's code list: third-party): 1301 is its
# content-safety refusal, which names no input. Decided (a guess): a task that fails, its output
# refused included, is free, as Kling deducts units for a finished video (``final_unit_deduction``).
KLING_FAILURES = FailureWords(
    codes={"1301": Word(True, "", "third-party"), "DataInspectionFailed": Word(True)},
    render_billed=False, content_billed=False, billing_basis="guess")
KLING = Target("kling", "Kling 3.0 Omni and 4.0 (Kling's API)", _KLING_LIMITS, TaskProtocol(
    name="kling", submit_path=_KLING_PATH, task_path=_KLING_PATH + "/{task_id}",
    cancel_path=None, list_path=_KLING_PATH, statuses=with_synonyms(_KLING_WORDS),
    submit_headers={}, capabilities=_KLING_LIMITS,
    # The models' rates (third-party, sound on): 3.0 Omni bills no reference video seconds (not
    # known to), 4.0 bills them all (up to 30 s) beside the output's.
    prices={"default": replace(KLING_V3_OMNI.price("intl"), by_model={
        m.id: m.price("intl") for m in KLING_V4_MODELS})}),
    "<<<{kind}_{index}>>>", _KLING_WORDS,
    models=(KLING_V3_OMNI.id, *(m.id for m in KLING_V4_MODELS)), failures=KLING_FAILURES,
    sources={"prices": "third-party", "limits": "third-party", "labels": "third-party",
             "list_path": "third-party"})

# MiniMax's own API (vendors.md 3): intl ``api.minimax.io`` (``minimax``) and CN
# ``api.minimaxi.com`` (``minimaxi``), one key variable for both hosts. Its failure codes (a
# reseller's list and MiniMax's error examples): 1026, a sensitive prompt (refused at submit),
# 1027, a sensitive output (the task fails after the render). Decided (a guess): a failed task,
# its output refused included, is free, as MiniMax bills the videos it delivers.
MINIMAX_FAILURES = FailureWords(
    codes={"1026": Word(True, PROMPT, "third-party"), "1027": Word(True, OUT_VIDEO, "third-party"),
           "DataInspectionFailed": Word(True)},
    render_billed=False, content_billed=False, billing_basis="guess")
# Only tasks of the last 7 days can be queried (v2's page, official); v1's the same (a guess).
MINIMAX_QUERY_WINDOW = 7 * 86400.0
_MINIMAX_SOURCES: dict[str, FactSource] = {"prices": "third-party", "limits": "third-party",
                                           "labels": "third-party"}

# H3 on the v2 API: content items with roles (Seedance's shape), ``task_id`` answered, a query
# ``{task: {id, status, content: {url}, error}}`` at its own path, lower-case words. The task list
# (``GET /v2/query/video_generation``) is documented by its path alone: no prompt or settings known
# to match a lost submit by (model and time alone could adopt a console task), so no list path:
# the runner stops such a shot as ambiguous rather than pay twice.
_H3 = MINIMAX_H3_API.caps
_H3_LIMITS = Limits(min_duration=_H3.min_duration, max_duration=15, max_duration_with_video=15,
                    max_references=12, resolutions=_H3.resolutions, ratios=_H3.ratios,
                    sizes=_H3.sizes, prompt_limit=_H3.prompt_limit, negative_prompt_limit=0,
                    min_references=0, voice_roles=(), max_voices=3, public_urls=True,
                    image_max_mb=30.0, video_max_mb=50.0)
_H3_WORDS = {"queued": TaskStatus.PENDING, "running": TaskStatus.RUNNING,
             "succeeded": TaskStatus.SUCCEEDED, "failed": TaskStatus.FAILED,
             "cancelled": TaskStatus.CANCELED}
_V2_PATH = "/v2/video_generation"


def _minimax_v2(name: str, title: str, region: str) -> Target:
    return Target(name, title, _H3_LIMITS, TaskProtocol(
        name=name, submit_path=_V2_PATH, task_path="/v2/query/video_generation/{task_id}",
        cancel_path=None, list_path=None, statuses=with_synonyms(_H3_WORDS), submit_headers={},
        capabilities=_H3_LIMITS, prices={"default": MINIMAX_H3_API.price(region)},
        task_lifetime=MINIMAX_QUERY_WINDOW),
        "{Kind} {index}", _H3_WORDS, models=(MINIMAX_H3_API.id,), sources=_MINIMAX_SOURCES,
        failures=MINIMAX_FAILURES)


# Hailuo on the v1 API: a flat body, HTTP 200 answers whose ``base_resp.status_code`` says an
# error, the query at ``?task_id=``, and a third request: the finished task names a file, and
# ``files/retrieve`` gives its download URL. No task list, no cancel.
_HAILUO = HAILUO_23.caps
_HAILUO_LIMITS = Limits(min_duration=6, max_duration=10, max_duration_with_video=10,
                        max_references=0, min_references=0, resolutions=_HAILUO.resolutions,
                        ratios=_HAILUO.ratios, sizes=_HAILUO.sizes,
                        prompt_limit=_HAILUO.prompt_limit, negative_prompt_limit=0,
                        voice_roles=(), max_voices=0, public_urls=True)
_HAILUO_WORDS = {"Preparing": TaskStatus.PENDING, "Queueing": TaskStatus.PENDING,
                 "Processing": TaskStatus.RUNNING, "Success": TaskStatus.SUCCEEDED,
                 "Fail": TaskStatus.FAILED}
FILE_HOP = FileHop(path="/v1/files/retrieve?file_id={file_id}", file_id="file_id",
                   url="file.download_url")


def _minimax_v1(name: str, title: str, region: str) -> Target:
    return Target(name, title, _HAILUO_LIMITS, TaskProtocol(
        name=name, submit_path="/v1/video_generation",
        task_path="/v1/query/video_generation?task_id={task_id}", cancel_path=None,
        list_path=None, statuses=with_synonyms(_HAILUO_WORDS), submit_headers={},
        capabilities=_HAILUO_LIMITS, prices={"default": HAILUO_23.price(region)},
        file_hop=FILE_HOP, task_lifetime=MINIMAX_QUERY_WINDOW), "{Kind} {index}",
        _HAILUO_WORDS, models=(HAILUO_23.id,), sources=_MINIMAX_SOURCES,
        failures=MINIMAX_FAILURES)


MINIMAX = _minimax_v2("minimax", "MiniMax H3 (MiniMax's API, intl)", "intl")
MINIMAXI = _minimax_v2("minimaxi", "MiniMax H3 (MiniMax's API, CN)", "cn")
MINIMAX_HAILUO = _minimax_v1("minimax-hailuo", "MiniMax Hailuo (MiniMax's v1 API, intl)", "intl")
MINIMAXI_HAILUO = _minimax_v1("minimaxi-hailuo", "MiniMax Hailuo (MiniMax's v1 API, CN)", "cn")

TARGETS: dict[str, Target] = {t.name: t for t in (DASHSCOPE, OPENAI_VIDEO, FREEPIK, ROLES, ARRAYS,
                                                  ARK, MODELARK, KLING, MINIMAX, MINIMAXI,
                                                  MINIMAX_HAILUO, MINIMAXI_HAILUO)}
GATEWAYS = tuple(name for name in TARGETS if name != DASHSCOPE_NAME)


def listed_without_prompt(model: str) -> bool:
    """Whether a target that sells ``model`` (a snapshot by its family) lists its tasks without
    their prompts (Ark): a lost submit of it is then matched by its settings, not its prompt."""
    return any(not target.list_prompt for target in TARGETS.values()
               if family(model) in target.models)

