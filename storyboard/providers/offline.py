"""A compiled series into what its provider can find wrong before any server is asked.

``check`` and ``plan`` ask it: with ComfyUI, every workflow a shot would use is read and held
against the shot (``providers.comfyui.check``); other providers have nothing to check offline. The
nodes on each server are checked by ``render``, which reaches them.
"""

from __future__ import annotations

from storyboard.errors import Diagnostic
from storyboard.language.request import ASSET_EPISODES, Manifest
from storyboard.targets.kinds import has, named


def offline_problems(manifest: Manifest, provider: str | None) -> list[Diagnostic]:
    """The problems ``provider`` (else the series' own) finds in ``manifest`` with no server.
    Light: ``check`` imports it, and nothing of a run."""
    chosen = named(manifest.provider, provider)
    if not has(chosen, "workflows"):
        return []
    from storyboard.providers.comfyui.check import offline_problems as comfyui
    shots = [take for take in manifest.takes() if take.episode not in ASSET_EPISODES]
    return comfyui(manifest.settings_for(chosen), manifest.root, shots)  # its block only
