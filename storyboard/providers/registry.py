"""A declared provider kind and a series' settings into the provider that renders.

``targets/kinds.py`` declares every kind (name and traits) where the language may read it; this
module attaches each family's settings and constructor, so ``run/setup.make_provider`` asks one
table and never a provider's name. The constructors import their packages when called: a run
imports only the provider it uses.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from storyboard.errors import StoryboardError
from storyboard.providers.base import Provider
from storyboard.targets.kinds import ANIMATIC, GATEWAY, GPUS, KINDS, NATIVE, Kind

if TYPE_CHECKING:
    from storyboard.providers.gateway.provider import GatewayProvider

Maker = Callable[[Kind, Mapping[str, Any], Path, bool], Provider]
# the runner (or the queue: ``tags``) reads them, never DashScope
RUN_ONLY = ("poll", "max_wait", "max_download_mb", "tags")


def make(name: str, block: Mapping[str, Any], root: Path, *, draft: bool = False) -> Provider:
    """The provider of kind ``name`` with the series' own settings for it (``block``), its state
    under ``root/.storyboard``; ``draft`` only for a kind that draws drafts."""
    kind = KINDS.get(name)
    if kind is None:
        raise StoryboardError(f"unknown provider {name!r}; expected one of: {', '.join(KINDS)}")
    if draft and not kind.drafts:
        raise StoryboardError("--draft renders animatics: it works only with the local provider")
    return MAKERS[kind.family](kind, block, root, draft)


def calling_back(provider: Provider) -> GatewayProvider | None:
    """``provider`` as the kind whose status callbacks a run listens for (its dialect signs them,
    its settings name the secret); None when it sends none."""
    from storyboard.providers.gateway.provider import GatewayProvider
    kind = KINDS.get(provider.name)
    if kind is None or not kind.callbacks or not provider.traits.webhooks:
        return None
    return provider if isinstance(provider, GatewayProvider) else None


def own(block: Mapping[str, Any], others: set[str]) -> dict[str, Any]:
    """The provider's own block without the settings only another kind of provider reads."""
    return {k: v for k, v in block.items() if k not in others and k != "name"}


def _animatic(kind: Kind, block: Mapping[str, Any], root: Path, draft: bool) -> Provider:
    from storyboard.providers.local import LocalProvider
    return LocalProvider(root / ".storyboard" / kind.name, draft=draft)


def _gpus(kind: Kind, block: Mapping[str, Any], root: Path, draft: bool) -> Provider:
    from storyboard.providers.comfyui.provider import from_manifest_block
    return from_manifest_block(block, root)


def _gateway(kind: Kind, block: Mapping[str, Any], root: Path, draft: bool) -> Provider:
    from storyboard.dialects import DIALECTS
    from storyboard.providers.dashscope import settings as native
    from storyboard.providers.gateway import settings as gateway
    from storyboard.providers.gateway.provider import GatewayProvider
    settings = own(block, set(native.SETTING_KEYS) - set(gateway.KNOWN))
    return GatewayProvider.from_settings(DIALECTS[kind.name], settings, root)


def _native(kind: Kind, block: Mapping[str, Any], root: Path, draft: bool) -> Provider:
    from storyboard.providers.dashscope import settings as native
    from storyboard.providers.dashscope.provider import DashScopeProvider
    from storyboard.providers.gateway import settings as gateway
    settings = own(block, {*RUN_ONLY, *gateway.KNOWN} - set(native.SETTING_KEYS))
    settings["name"] = kind.name
    # voice previews and spoken lines' URLs outlive the process here (the cast's answers)
    return DashScopeProvider.from_settings(settings, work_dir=root / ".storyboard" / kind.name)


MAKERS: dict[str, Maker] = {ANIMATIC: _animatic, GPUS: _gpus, GATEWAY: _gateway,
                            NATIVE: _native}
