"""A compiled series into what its provider can find wrong before any server is asked.

``check`` and ``plan`` ask it: with ComfyUI, every workflow a shot would use is read and held
against the shot (``providers.comfyui_check``); other providers have nothing to check offline. The
nodes on each server are checked by ``render``, which reaches them.
"""

from __future__ import annotations

from storyboard.errors import Diagnostic
from storyboard.language.request import ASSET_EPISODES, Manifest


def offline_problems(manifest: Manifest, provider: str | None) -> list[Diagnostic]:
    """The problems ``provider`` (else the series' own) finds in ``manifest`` with no server.
    Light: ``check`` imports it, and nothing of a run."""
    if (provider or manifest.provider.get("name") or "local") != "comfyui":
        return []
    from storyboard.providers.comfyui_check import offline_problems as comfyui
    shots = [take for take in manifest.takes() if take.episode not in ASSET_EPISODES]
    return comfyui(manifest.settings_for("comfyui"), manifest.root, shots)  # its block only
