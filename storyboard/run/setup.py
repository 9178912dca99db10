"""A series and the render flags into one run's set-up: provider, store, ledger, folders, options.

Everything a plan or a run needs is decided here, once, from the manifest and the command's flags,
and handed to the stages as one ``RunSetup``: the stages never climb back to fetch a setting.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storyboard.dialects import DIALECTS, GATEWAYS
from storyboard.errors import StoryboardError
from storyboard.language.request import CompiledShot, Manifest
from storyboard.media import probe as media
from storyboard.providers.base import Provider
from storyboard.run.model import RunOptions
from storyboard.run.plan import apply_price_overrides
from storyboard.run.takes import with_retakes
from storyboard.run.team.ledger import Ledger
from storyboard.run.team.ledger_pg import PgLedger, ledger_settings
from storyboard.run.team.sharing import StoreLink
from storyboard.run.team.store import RenderStore, store_settings
from storyboard.stitch import OutputNotWritable
from storyboard.targets import PriceTable

PROVIDERS = ("local", "comfyui", *DIALECTS)
RUNNER_KEYS = ("poll", "max_wait", "concurrency", "submit_rate")
LOCAL_POLL = (0.01,)

Seconds = Callable[[CompiledShot], float | None]


@dataclass
class RunSetup:
    """What one plan and run need, decided once: the series, the provider that renders it, the
    selected shots, prices, runner options, and the shared store (None: none, or offline)."""

    manifest: Manifest
    provider: Provider
    shots: list[CompiledShot]
    seconds: Seconds  # reference video seconds a shot sends (billed up to a cap)
    prices: PriceTable
    options: RunOptions
    store: StoreLink | None
    episode: str | None = None
    draft: bool = False
    offline: bool = False
    preview: bool = False  # the studio's drafts: stitched without loudness passes
    chosen: set[str] | None = None  # ``--shot``: the shots named (``episode/shot``), else all

    @property
    def root(self) -> Path:
        return self.manifest.root


def prepare(manifest: Manifest, *, provider: str | None = None, episode: str | None = None,
            draft: bool = False, concurrency: int | None = None, offline: bool = False,
            shots: list[CompiledShot] | None = None, preview: bool = False) -> RunSetup:
    """The set-up of a plan or run of ``manifest`` with these flags (``shots``: a selection
    already made, else the ``episode``'s or every shot)."""
    chosen = make_provider(manifest, provider, draft=draft)
    setup = setup_for(manifest, chosen, episode, draft=draft, concurrency=concurrency,
                      offline=offline, shots=shots)
    setup.preview = preview
    return setup


def setup_for(manifest: Manifest, provider: Provider, episode: str | None = None, *,
              draft: bool = False, concurrency: int | None = None, offline: bool = False,
              shots: list[CompiledShot] | None = None) -> RunSetup:
    """``prepare`` with the provider already made (and each shot's extra takes, ``retake``)."""
    manifest = with_retakes(manifest)
    return RunSetup(
        manifest, provider, select(manifest, episode) if shots is None else shots,
        reference_seconds(manifest),
        apply_price_overrides(provider.prices, manifest.provider.get("prices")),
        run_options(manifest, concurrency, provider),
        open_store(manifest, provider, offline=offline), episode, draft, offline)


def provider_name(manifest: Manifest, override: str | None) -> str:
    name = override or str(manifest.provider.get("name") or "local")
    if name not in PROVIDERS:
        raise StoryboardError(f"unknown provider {name!r}; expected one of: {', '.join(PROVIDERS)}")
    return name


def make_provider(manifest: Manifest, name: str | None = None, *, draft: bool = False
                  ) -> Provider:
    """The provider to render with: ``--provider`` first, then the series' ``provider.name``."""
    chosen = provider_name(manifest, name)
    if chosen == "local":
        from storyboard.providers.local import LocalProvider
        return LocalProvider(manifest.root / ".storyboard" / "local", draft=draft)
    if draft:
        raise StoryboardError("--draft renders animatics: it works only with the local provider")
    if chosen == "comfyui":
        from storyboard.providers.comfyui import from_manifest_block
        return from_manifest_block(manifest.provider, manifest.root)
    from storyboard.providers import dashscope_settings as native
    from storyboard.providers import gateway_settings as gateway
    if chosen in GATEWAYS:
        from storyboard.providers.gateway import GatewayProvider
        block = _own(manifest.provider, set(native.SETTING_KEYS) - set(gateway.KNOWN))
        return GatewayProvider.from_settings(DIALECTS[chosen], block, manifest.root)
    from storyboard.providers.dashscope import DashScopeProvider
    settings = _own(manifest.provider, {*RUNNER_KEYS[:2], *gateway.KNOWN} -
                    set(native.SETTING_KEYS))
    settings["name"] = "dashscope"
    return DashScopeProvider.from_settings(settings)


def _own(block: dict[str, Any], others: set[str]) -> dict[str, Any]:
    """The series' block without the settings only another kind of provider reads (so one
    block can name a gateway while ``--provider dashscope`` renders natively)."""
    return {k: v for k, v in block.items() if k not in others and k != "name"}


def select(manifest: Manifest, episode: str | None) -> list[CompiledShot]:
    """Every take of the ``episode``'s shots, or of every shot (extra takes included)."""
    manifest = with_retakes(manifest)
    if episode is None:
        return manifest.takes()
    chosen = [e for e in manifest.episodes if e.id == episode]
    if not chosen:
        ids = ", ".join(e.id for e in manifest.episodes)
        raise StoryboardError(f"no episode {episode!r} in this series; expected one of: {ids}")
    return [take for shot in chosen[0].shots for take in shot.all_takes()]


def reference_seconds(manifest: Manifest) -> Seconds:
    """Seconds of reference video a shot sends (billed up to a cap), from the media fact cache."""
    cache = media.MediaCache(manifest.root / ".storyboard" / "media.json")

    def seconds(shot: CompiledShot) -> float | None:
        total = 0.0
        for item in shot.request.media:
            if item.role != "reference_video":
                continue
            if item.ref is None or item.ref.path is None:
                return None  # a URL: unknown length
            total += cache.facts(item.ref.path).seconds
        return total
    return seconds


def open_store(manifest: Manifest, provider: Provider, *, offline: bool = False
               ) -> StoreLink | None:
    """The run's link to the shared store (``STORYBOARD_STORE`` or ``store:``), if any."""
    settings = store_settings(manifest.store, manifest.root)
    if settings is None or offline:
        return None
    return StoreLink(RenderStore(settings), provider.cache_key)


def open_ledger(manifest: Manifest) -> Ledger | None:
    """The team ledger (``STORYBOARD_LEDGER`` or ``ledger:``), or None for the per-user one."""
    settings = ledger_settings(manifest.ledger)
    if settings is None:
        return None
    try:
        import psycopg  # noqa: F401
    except ImportError as exc:
        raise StoryboardError(f"{settings.origin} names a PostgreSQL ledger, which needs "
                              "psycopg: pip install 'storyboard[ledger-pg]'") from exc
    return PgLedger(settings)


def run_options(manifest: Manifest, concurrency: int | None, provider: Provider) -> RunOptions:
    settings = manifest.provider
    values: dict[str, Any] = {}
    if provider.name == "local":
        values["poll_schedule"] = LOCAL_POLL  # a local task is finished when its submit returns
    if hasattr(provider, "default_concurrency"):  # one task per instance (comfyui)
        values["concurrency"] = int(provider.default_concurrency)
    if concurrency is not None or "concurrency" in settings:
        values["concurrency"] = int(concurrency or settings["concurrency"])
    if "submit_rate" in settings:
        values["submit_rate"] = float(settings["submit_rate"])
    if "poll" in settings:
        values["poll_schedule"] = tuple(float(x) for x in settings["poll"])
    if "max_wait" in settings:
        values["max_wait"] = float(settings["max_wait"])
    return RunOptions(**values)


def ensure_writable(folder: Path) -> None:
    """Create the output folder and prove it takes files, or say why not."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".storyboard-probe-"):
            pass
    except OSError as exc:
        raise OutputNotWritable(f"cannot write episodes to {folder}: "
                                f"{exc.strerror or exc}") from exc
