"""A drift asked for into ffmpeg filters: a figure's costume recoloured, a frame's grade shifted.

The emulator's takes draw the references a shot sends as *figures*, large (``FIGURE_SHARE`` of
the frame's height, where a face detector finds a portrait's face), and its ``task:`` faults make
the drift a person would see on purpose (``emulator.faults``): ``costume`` turns the hue of each
figure's lower part (``COSTUME_SHARE`` of it, where a portrait's clothes are; the face above stays
untouched) half way round, ``grade`` darkens the whole frame and warms it (red kept, blue cut).
The third, ``swap``, is a choice of pictures, made before the drawing (``emulator.render``).
"""

from __future__ import annotations

FIGURE_SHARE = 0.5  # a figure's height, as a share of the frame's
COSTUME_SHARE = 0.45  # the lower share of a figure's height recoloured by ``costume``
COSTUME_HUE = 180  # degrees the costume's hue turns
# ``grade``'s colour mix: each channel scaled (a darker, warmer frame; luma about 0.8 of before)
GRADE_MIX = {"rr": 0.95, "gg": 0.8, "bb": 0.6}
DRIFTS = ("costume", "grade")


def costume_filters() -> list[str]:
    """A scaled figure's lower ``COSTUME_SHARE`` (an even number of rows), its hue turned: two
    filters, written out (nothing in them needs escaping)."""
    rows = f"trunc(ih*{COSTUME_SHARE:g}/2)*2"
    return [f"crop=iw:{rows}:0:ih-{rows}", f"hue=h={COSTUME_HUE}"]


def grade_filters() -> list[str]:
    """The whole frame's grade shifted: ``GRADE_MIX``, on the frame as drawn."""
    return ["colorchannelmixer=" + ":".join(f"{k}={v:g}" for k, v in GRADE_MIX.items())]


def checked(drift: str) -> str:
    """``drift`` when it is one this module draws (or none), else a ValueError."""
    if drift and drift not in DRIFTS:
        raise ValueError(f"no such drift {drift!r} (one of {', '.join(DRIFTS)})")
    return drift


__all__ = ["COSTUME_HUE", "COSTUME_SHARE", "DRIFTS", "FIGURE_SHARE", "GRADE_MIX", "checked",
           "costume_filters", "grade_filters"]
