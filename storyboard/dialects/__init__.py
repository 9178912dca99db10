"""Dialects: the neutral ShotRequest into the body one provider wants.

A dialect is mostly declarations (its limits, its label style, its field names, its task protocol
and prices, its auth header and key variable) plus a small ``media`` function; see
``base``. ``native`` is DashScope's own protocol; the gateways of ``docs/providers.md``
sit beside it, one module each.
"""

from __future__ import annotations

from storyboard.dialects import ark, arrays, freepik, kling, minimax, native, openai_video, roles
from storyboard.dialects.base import Dialect
from storyboard.targets.wire.gateways import GATEWAYS

__all__ = ["DIALECTS", "GATEWAYS", "Dialect", "dialect"]

DIALECTS: dict[str, Dialect] = {d.name: d for d in (
    native.DIALECT, openai_video.DIALECT, freepik.DIALECT, roles.DIALECT, arrays.DIALECT,
    ark.DIALECT, ark.MODELARK_DIALECT, kling.DIALECT, *minimax.DIALECTS)}


def dialect(name: str) -> Dialect:
    """The dialect called ``name``; a clear error names the known ones."""
    from storyboard.errors import StoryboardError
    found = DIALECTS.get(name)
    if found is None:
        raise StoryboardError(f"unknown provider {name!r}; expected one of: local, "
                              f"{', '.join(DIALECTS)}")
    return found
