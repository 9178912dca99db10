"""Text into an ffmpeg filtergraph: lines wrapped to a width, filters escaped at both levels,
each text in a file drawtext reads, lines centred on fixed baselines (the animatic's and the
boards' drawing both build on it)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from storyboard.media import ffmpeg

LINE_HEIGHT = 1.17  # DejaVu Sans ascent + descent, in ems
ASCENT = 0.93  # DejaVu Sans ascent, in ems
GLYPH_WIDTH = 0.58  # average DejaVu Sans advance, in ems, for wrapping before drawtext


def wrap(text: str, width_px: int, font: int, max_lines: int) -> str:
    """Wrap to the pixel width (estimated), keep explicit newlines, cut to ``max_lines`` with an
    ellipsis. Control characters other than newline are dropped (drawtext shows them as boxes)."""
    clean = "".join(c for c in text.replace("\r\n", "\n") if c == "\n" or c >= " ")
    columns = max(8, int(width_px / (font * GLYPH_WIDTH)))
    lines: list[str] = []
    for paragraph in clean.split("\n"):
        lines.extend(textwrap.wrap(paragraph, columns) or [""])
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: max(0, columns - 1)].rstrip() + "…"
    return "\n".join(lines).strip("\n")


# --- the graph -------------------------------------------------------------------------------
# Built by hand rather than with ffmpeg-python: that library merges identical nodes (the same image
# as two references) and then demands a ``split``; here every element simply gets its own input.


_VALUE_SPECIALS = "\\':"  # escaped inside one option value
_GRAPH_SPECIALS = "\\'[],;"  # escaped again at the filtergraph level


def _escape(text: str, specials: str) -> str:
    return "".join("\\" + c if c in specials else c for c in text)


def filter_text(name: str, *args: object, **options: object) -> str:
    """One filter, escaped at both levels: the option value, then the filtergraph."""
    params = [_escape(str(a), _VALUE_SPECIALS) for a in args]
    params += [f"{k}={_escape(str(v), _VALUE_SPECIALS)}" for k, v in options.items()]
    text = f"{name}={':'.join(params)}" if params else name
    return _escape(text, _GRAPH_SPECIALS)


class Graph:
    """Inputs and a filter_complex, grown chain by chain; labels are numbered in order."""

    def __init__(self) -> None:
        self.inputs: list[str] = []
        self.chains: list[str] = []
        self.labels = 0

    def input(self, source: str, *options: str, kind: str = "v") -> str:
        self.inputs += [*options, "-i", source]
        return f"[{self.inputs.count('-i') - 1}:{kind}]"

    def chain(self, sources: list[str], *filters: str) -> str:
        """Feed ``sources`` through ``filters`` (at least one); return the output's label."""
        self.labels += 1
        label = f"[s{self.labels}]"
        self.chains.append("".join(sources) + ",".join(filters) + label)
        return label

    def args(self, *outputs: str) -> list[str]:
        maps = [arg for label in outputs for arg in ("-map", label)]
        graph = ffmpeg.GRAPH_PREFIX + ";".join(self.chains)
        return [*self.inputs, "-filter_complex", graph, *maps]


class TextFiles:
    """Writes each text to its own file in a temporary folder (drawtext reads them)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0

    def __call__(self, text: str) -> str:
        self.count += 1
        path = self.folder / f"text{self.count}.txt"
        path.write_text(text, encoding="utf-8")
        return str(path)


def drawtext_filter(textfile: str, **options: object) -> str:
    return filter_text("drawtext", fontfile=ffmpeg.font_path(), textfile=textfile, expansion="none",
                   **options)


def line_step(font: int, spacing: int) -> int:
    return round(font * LINE_HEIGHT) + spacing


def block_height(text: str, font: int, spacing: int) -> int:
    """The height of ``text`` drawn by ``centred_lines``: one step per line, no spacing after the last."""
    return len(text.split("\n")) * line_step(font, spacing) - spacing


def centred_lines(text: str, texts: TextFiles, top: int, font: int, spacing: int,
           **options: object) -> list[str]:
    """One drawtext per line, each centred, baselines a fixed step apart from ``top``.

    drawtext centres a multi-line text block only since ffmpeg 6.1 (``text_align``); one filter
    per line does it on every ffmpeg from 4.4 up. drawtext puts the text's highest glyph at ``y``,
    so ``y = baseline - max_glyph_a`` keeps every line on its baseline whatever letters it holds.
    """
    step = line_step(font, spacing)
    return [drawtext_filter(texts(line), fontsize=font, x="(w-text_w)/2",
                      y=f"{top + index * step + round(font * ASCENT)}-max_glyph_a", **options)
            for index, line in enumerate(text.split("\n")) if line.strip()]
