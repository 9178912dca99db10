"""A version line's measured seconds, its window and its room into the one fit rule: fits, runs
into the silence after it, or is cut; said at the line with the seconds over.

``check``, ``plan --language``, ``version render`` and the studio all say a line's fit from
here (docs/languages.md, "Fit, measured"). A line's length is its measurement, never a guess from
its letters: an unmeasured line says nothing. A line may run on past its window into the silence
after it, up to the start of the next line of its shot, else to the shot's end (its ``room``);
past that it is cut there, never stretched, never spilled into the next shot.
"""

from __future__ import annotations

from collections.abc import Sequence

from storyboard.errors import Diagnostic
from storyboard.language.versions.versionfile import VersionLine, seconds

FIT_TOLERANCE = 0.05  # seconds a made line may pass its window by unnoticed (a frame or two)
CODE = "version-fit"


def over(measured: float | None, window: float) -> float:
    """Seconds past its ``window`` a line lasts as made (0 when it fits or was never measured)."""
    if measured is None or measured <= window + FIT_TOLERANCE:
        return 0.0
    return round(measured - window, 2)


def room(line: VersionLine, lines: Sequence[VersionLine], shot_seconds: float) -> float:
    """How long ``line`` may last: to the start of the next line of its shot (the silence after
    its window), else to the shot's end. A dubbed shot's sound is its lines only, so a line may
    run into that silence; past it, it would talk over the next line or be cut at the cut."""
    later = [other.start for other in lines
             if other.shot == line.shot and other.start > line.start]
    end = min(later, default=shot_seconds)
    return round(max(end, line.end) - line.start, 3)


def fit_warning(line: VersionLine, measured: float | None, window: float,
                source_line: str | None = None, *, space: float | None = None
                ) -> Diagnostic | None:
    """A version's line that lasts longer, as made and measured, than its ``window`` (seconds):
    a warning at the line with the seconds over and, when its ``space`` (``room``) is known,
    what becomes of it: it runs into the silence after its window, or it is cut there. None
    when it fits or was never measured (nothing is guessed from its letters)."""
    if measured is None or not over(measured, window):
        return None
    message = (f"this line lasts {measured:.2f} s as made, {measured - window:.2f} s over its "
               f"{seconds(window)} s window ({line.at}): shorten its text by hand, ask again for "
               "a shorter one, or let it run over into silence where the shot allows; nothing "
               "is stretched")
    if space is not None:
        message += "; " + (f"it runs into the silence after it (room {space:g} s)"
                           if measured <= space + FIT_TOLERANCE else
                           f"as it is, it is cut at {space:g} s (the next line or the shot's end)")
    return Diagnostic(line.span, message, "warning", source_line, code=CODE)


def said(line: VersionLine, found: Diagnostic) -> str:
    """A fit warning as one line of a command's output: at its line of the version file (the
    shot and line number when it has no place)."""
    where = f"{found.span}" if found.span is not None else f"{line.shot} #{line.n}"
    return f"{where}: {found.message}"
