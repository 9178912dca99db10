"""The renderer's version into the animatic cache's folder names, and back.

A local animatic is cached under ``local-r<version>[-draft]``: a new renderer draws every shot
again instead of reusing the old pictures, and an episode can tell a drawn animatic (which shows
its own dialogue captions) from a generated shot by its folder alone.
"""

from __future__ import annotations

import re
from pathlib import Path

from storyboard.animatic.draw import RENDERER_VERSION

__all__ = ["RENDERER_VERSION", "cache_key", "draws_captions"]


def cache_key(draft: bool = False) -> str:
    """The local provider's cache key: its renderer version, so an improved animatic re-renders."""
    return f"local-r{RENDERER_VERSION}{'-draft' if draft else ''}"


_CACHE_KEY_RE = re.compile(r"local-r\d+(?:-draft)?")


def draws_captions(video: Path) -> bool:
    """Whether ``video`` is a local animatic from the cache (``.../local-r5/<hash>.mp4``): it
    draws its own dialogue captions, so an episode burning subtitles in leaves it alone."""
    return _CACHE_KEY_RE.fullmatch(video.parent.name) is not None
