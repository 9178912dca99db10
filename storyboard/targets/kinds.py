"""Provider names into their kinds: each kind of provider declared once, with its traits, as data.

As a SQL library declares its dialects, every provider a series may name is declared here: its
name, its family (the animatic, your own GPUs, DashScope's native protocol, a gateway) and the
traits the language, the plan and the runner ask about (paid or free, draws drafts, polled at once,
one job per instance, regions, workflows, status callbacks, the passes over a rendered take it
makes: an edit by words, a lip-sync). Nothing outside this module compares a
provider's name; ``providers/registry.py`` attaches each family's settings and constructor (the
language may read this module, never that one).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from storyboard.targets.video.models import model_of
from storyboard.targets.wire.failures import (
    FREE_FAILURES,
    GATEWAY_FAILURES,
    Failure,
    FailureWords,
    Stage,
    classify,
)
from storyboard.targets.wire.gateways import DASHSCOPE_NAME, GATEWAYS, TARGETS

ANIMATIC, GPUS, NATIVE, GATEWAY = "animatic", "gpus", "native", "gateway"  # the families
OWN_EDIT = "own"  # an edit by the take's own model's edit task (its ``task_types``)
EDIT_MODEL = "wan2.7-videoedit"  # DashScope's edit by words of any take
LIPSYNC_MODEL = "videoretalk"  # DashScope's lip-sync pass


@dataclass(frozen=True)
class Kind:
    """One kind of provider: its name as a series and ``--provider`` write it, and its traits."""

    name: str
    family: str  # which constructor makes it (``providers/registry.py``)
    paid: bool = True  # a render costs money (consent first)
    drafts: bool = False  # draws ``--draft`` animatics and the studio's quick previews
    instant: bool = False  # a task is finished when its submit returns: polled at once
    per_instance: bool = False  # runs one job per configured instance (its concurrency)
    regions: bool = False  # DashScope's regions, workspaces and the models it sells itself
    workflows: bool = False  # reads workflow files from the series folder (checked offline)
    callbacks: bool = False  # may send status callbacks (``--webhook-listen``)
    settings: bool = True  # reads a ``provider:`` block's settings (hosts, keys, limits)
    agents: bool = True  # offered to coding agents (the MCP server)
    edits: str = ""  # how ``retake --edit`` edits: a model's id, ``OWN_EDIT`` or "" (it does not)
    lipsyncs: str = ""  # the model of its ``retake --lipsync`` pass ("": it makes none)

    @property
    def gateway(self) -> bool:
        """Whether it is a gateway: one transport driven by its dialect."""
        return self.family == GATEWAY

    @property
    def account(self) -> bool:
        """Whether a team shares its account's limits (a paid service's)."""
        return self.paid


LOCAL = Kind("local", ANIMATIC, paid=False, drafts=True, instant=True, settings=False)
COMFYUI = Kind("comfyui", GPUS, paid=False, per_instance=True, workflows=True, agents=False)
DASHSCOPE = Kind(DASHSCOPE_NAME, NATIVE, regions=True, edits=EDIT_MODEL, lipsyncs=LIPSYNC_MODEL)


def own_edits(name: str) -> str:
    """``OWN_EDIT`` for a gateway selling a model with the edit task (Seedance 2.5 on its
    hosts), else "": its models declare it, never a list of names."""
    sold = (model_of(model) for model in TARGETS[name].models)
    return OWN_EDIT if any("edit" in getattr(m, "task_types", ()) for m in sold) else ""


KINDS: dict[str, Kind] = {kind.name: kind for kind in (
    LOCAL, COMFYUI, DASHSCOPE,
    *(Kind(name, GATEWAY, callbacks=True, edits=own_edits(name)) for name in GATEWAYS))}
NAMES = tuple(KINDS)  # every name a series or ``--provider`` may give
DEFAULT = LOCAL.name  # a series that names no provider renders its animatic
FREE = tuple(kind.name for kind in KINDS.values() if not kind.paid)
CAST_MAKER = DASHSCOPE.name  # the provider whose cast assets a video-only provider uses


def named(block: Any, override: str | None = None) -> str:
    """The provider a ``provider:`` block (or ``--provider``, first) names; ``DEFAULT`` if none."""
    name = block.get("name") if isinstance(block, Mapping) else None
    return str(override or name or DEFAULT)


def has(name: object, trait: str) -> bool:
    """Whether the provider ``name`` is of a kind with ``trait`` (an unknown one has none)."""
    kind = KINDS.get(name) if isinstance(name, str) else None
    return kind is not None and bool(getattr(kind, trait))


def passes(name: object) -> Kind:
    """The kind ``name`` names, for its passes (an unknown name's kind makes none)."""
    kind = KINDS.get(name) if isinstance(name, str) else None
    return kind if kind is not None else Kind(str(name), GATEWAY)


def is_paid(provider: str) -> bool:
    """Whether a render by ``provider`` (a name) costs money: every name but the free ones (an
    unknown one too: the question fails closed). The providers' ``traits.paid`` agree."""
    return provider not in FREE


def failure_words(provider: str) -> FailureWords:
    """What ``provider``'s failures mean: its target's declaration, the free providers' (nothing
    billed), or, for a name not known, a gateway's (paid: the question fails closed)."""
    if provider in FREE:
        return FREE_FAILURES
    target = TARGETS.get(provider)
    return target.failures if target is not None else GATEWAY_FAILURES


def classify_failure(provider: str, code: str, message: str, *, stage: Stage) -> Failure:
    """One failure of ``provider`` (refused at submit or failed after the render), classified."""
    return classify(failure_words(provider), code, message, stage=stage)
