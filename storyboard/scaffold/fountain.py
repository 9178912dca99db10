"""Fountain screenplays into elements: a small parser of the fountain.io syntax, each element located.

It reads the syntax of the Fountain 1.1 spec: a title page (``Key: value`` lines up to the first blank
line, indented lines continuing a value), scene headings (``INT.``, ``EXT.``, ``EST.``, ``INT./EXT.``,
``INT/EXT``, ``I/E``, or forced with a leading ``.``; a trailing ``#1A#`` scene number), action (forced
with ``!``), character cues (an ALL CAPS line before dialogue, forced with ``@``, extensions such as
``(V.O.)`` and ``(CONT'D)``, dual dialogue with a trailing ``^``), parentheticals, dialogue (a line of
two spaces keeps it going), transitions (ALL CAPS ending in ``TO:``, forced with ``>``), centered text
``>...<``, sections ``#``, synopses ``=``, notes ``[[...]]``, boneyard ``/* ... */``, page breaks
``===``, lyrics ``~`` and emphasis ``*italic*``, ``**bold**``, ``_underline_`` (``\\*`` is a star).

Every element keeps the line it starts on. Notes and boneyard are taken out of the text first (line
numbers unchanged) and kept as elements of their own, so the caller can say what it left out. Bad
input (not UTF-8, empty, a ``/*`` or ``[[`` never closed) raises ``ProblemsFound`` with the file,
line and column and what was expected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from storyboard.errors import Diagnostic, ProblemsFound, Span

Kind = Literal["scene", "action", "character", "parenthetical", "dialogue", "transition", "centered",
               "section", "synopsis", "note", "boneyard", "page_break", "lyrics"]

SCENE = re.compile(r"^(INT\.?/EXT|INT/EXT|I/E|INT|EXT|EST)[. ]", re.I)
SCENE_NUMBER = re.compile(r"\s*#([\w.-]+)#\s*$")
TITLE_KEY = re.compile(r"^([A-Za-z][A-Za-z0-9 ]*):(.*)$")
CUE = re.compile(r"^(?P<name>[^(^]*?)\s*(?P<ext>(?:\([^)]*\)\s*)*)(?P<dual>\^?)\s*$")
EXTENSION = re.compile(r"\(([^)]*)\)")
EMPHASIS = re.compile(r"(?<!\\)(\*{1,3})(?=\S)(.+?)(?<=[^\s\\])\1|(?<![\w\\])_(?=\S)(.+?)(?<=[^\s\\])_(?!\w)")
TITLE_KEYS = {"title", "credit", "author", "authors", "source", "draft date", "date", "contact",
              "copyright", "notes", "revision", "format", "font"}  # a title page starts with one
ENDINGS = {"FADE OUT.", "FADE OUT", "FADE TO BLACK.", "CUT TO BLACK.", "THE END."}  # unforced too
PAGE_BREAK = re.compile(r"^={3,}\s*$")
PAIRS: dict[str, tuple[str, Kind, str]] = {"/*": ("*/", "boneyard", "a boneyard comment"),
                                            "[[": ("]]", "note", "a note")}
OPENERS = re.compile(r"/\*|\[\[")


@dataclass(frozen=True)
class Element:
    """One piece of the screenplay, at the line it starts on."""

    kind: Kind
    text: str
    line: int
    level: int = 0  # a section's depth (the number of #)
    extensions: tuple[str, ...] = ()  # a character cue's (V.O.), (CONT'D), ...
    dual: bool = False  # a character cue ending in ^
    forced: bool = False
    emphasis: bool = False  # emphasis markers were taken out of the text
    number: str = ""  # a scene heading's #1A#
    col: int = 1  # where a note or boneyard starts on its line


@dataclass
class Screenplay:
    """A parsed screenplay: its title page, its elements in order, and where it was read from."""

    file: str
    title_page: list[tuple[str, str, int]] = field(default_factory=list)  # key, value, line
    elements: list[Element] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)  # the source, for quoting

    def scenes(self) -> list[Element]:
        return [e for e in self.elements if e.kind == "scene"]


def located(file: str, lines: list[str], line: int, col: int, message: str) -> ProblemsFound:
    """A ``ProblemsFound`` with one error at ``file:line:col``, the source line quoted."""
    source = lines[line - 1] if 0 < line <= len(lines) else None
    return ProblemsFound([Diagnostic(Span(file, line, col), message, source_line=source)])


def decode(data: bytes, file: str) -> str:
    """The text of ``data`` (UTF-8, a BOM allowed), newlines made ``\\n``; else a located error."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        lines = data.decode("utf-8", "replace").splitlines()
        raise located(file, lines, line, col, f"expected UTF-8 text, found the byte "
                      f"0x{data[exc.start]:02x} (save the screenplay as UTF-8)") from exc
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _position(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of ``offset`` in ``text``."""
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _blank_out(text: str, start: int, end: int) -> str:
    """``text`` with ``[start, end)`` made NUL marks, newlines kept (so every line keeps its number
    and every later column its place, and a line that held only hidden text is not blank)."""
    marks = "\n".join("\x00" * max(1, len(part)) for part in text[start:end].split("\n"))
    return text[:start] + marks + text[end:]


def strip_hidden(text: str, file: str) -> tuple[str, list[Element]]:
    """Take notes and boneyard out of ``text``; return the rest and them as elements.

    What was taken out leaves a NUL mark, so a line that held only hidden text can be dropped
    (not turned into a blank line that would split a paragraph, nor a line that joins two)."""
    hidden: list[Element] = []
    at = 0
    while (match := OPENERS.search(text, at)) is not None:
        closer, kind, what = PAIRS[match.group()]
        end = text.find(closer, match.end())
        line, col = _position(text, match.start())
        if end < 0:
            raise located(file, text.split("\n"), line, col,
                          f"{what} opened with {match.group()} is never closed: expected {closer}")
        body = text[match.end():end].strip()
        hidden.append(Element(kind, " ".join(body.split()), line, col=col))
        text = _blank_out(text, match.start(), end + len(closer))
        at = match.start() + 1
    return text, hidden


def unemphasize(text: str) -> tuple[str, bool]:
    """``text`` without emphasis markers (escaped ``\\*`` and ``\\_`` become plain), and whether
    there were any."""
    plain, count = EMPHASIS.subn(lambda m: m.group(2) or m.group(3) or "", text)
    while count and (again := EMPHASIS.subn(lambda m: m.group(2) or m.group(3) or "", plain))[1]:
        plain = again[0]
    return plain.replace("\\*", "*").replace("\\_", "_"), count > 0


def title_page(lines: list[str]) -> tuple[list[tuple[str, str, int]], int]:
    """The title page's ``(key, value, line)``s and the index of the first body line."""
    index = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    first = lines[index].strip() if index < len(lines) else ""
    key = TITLE_KEY.match(first)
    if not key or key.group(1).strip().lower() not in TITLE_KEYS:
        return [], 0
    entries: list[tuple[str, str, int]] = []
    while index < len(lines) and lines[index].strip():
        entries = _title_line(entries, lines[index], index + 1)
        index += 1
    return entries, index


def _title_line(entries: list[tuple[str, str, int]], raw: str, line: int
                ) -> list[tuple[str, str, int]]:
    match = TITLE_KEY.match(raw)
    if match and not raw[:1].isspace():
        return [*entries, (match.group(1).strip(), match.group(2).strip(), line)]
    if not entries:
        return entries
    key, value, at = entries[-1]
    return [*entries[:-1], (key, f"{value} {raw.strip()}".strip(), at)]


def is_transition(text: str) -> bool:
    """ALL CAPS ending in ``TO:`` (the spec), or a common ending such as ``FADE OUT.``."""
    return text.isupper() and (text.endswith("TO:") or text in ENDINGS)


def cue_parts(text: str) -> tuple[str, tuple[str, ...], bool] | None:
    """A character cue's name, extensions and dual mark; None when ``text`` is not a cue."""
    match = CUE.match(text)
    if match is None:
        return None
    name = match.group("name").strip()
    if not name or name != name.upper() or not any(c.isalpha() for c in name):
        return None
    extensions = tuple(e.strip() for e in EXTENSION.findall(match.group("ext")))
    return name, extensions, bool(match.group("dual"))


class Reader:
    """The body, line by line: each line classified by itself and the blank lines around it."""

    def __init__(self, lines: list[str], start: int) -> None:
        kept = [(n, line.replace("\x00", "")) for n, line in enumerate(lines[start:], start + 1)
                if "\x00" not in line or line.replace("\x00", "").strip()]
        self.numbers = [n for n, _ in kept]  # each kept line's number in the file
        self.lines = [line for _, line in kept]
        self.index = 0
        self.elements: list[Element] = []
        self.in_dialogue = False

    def blank(self, index: int) -> bool:
        return index < 0 or index >= len(self.lines) or not self.lines[index].strip()

    def add(self, kind: Kind, text: str, *, level: int = 0, extensions: tuple[str, ...] = (),
            dual: bool = False, forced: bool = False, number: str = "") -> None:
        plain, emphasis = unemphasize(" ".join(text.split()))
        self.elements.append(Element(kind, plain, self.numbers[self.index], level, extensions,
                                     dual, forced, emphasis, number))

    def run(self) -> list[Element]:
        while self.index < len(self.lines):
            self.step(self.lines[self.index])
            self.index += 1
        return self.elements

    def step(self, raw: str) -> None:
        if self.in_dialogue and (raw.strip() or raw.startswith("  ")):
            return self.dialogue_line(raw)
        self.in_dialogue = False
        if raw.strip():
            self.body_line(raw.strip())

    def dialogue_line(self, raw: str) -> None:
        text = raw.strip()
        if not text:
            return None  # two spaces: the dialogue goes on past an empty line
        if text.startswith("(") and text.endswith(")"):
            return self.add("parenthetical", text)
        last = self.elements[-1]
        if last.kind == "dialogue":
            plain, emphasis = unemphasize(" ".join(text.split()))
            joined = f"{last.text} {plain}".strip()
            self.elements[-1] = Element("dialogue", joined, last.line,
                                        emphasis=last.emphasis or emphasis)
            return None
        return self.add("dialogue", text)

    def body_line(self, text: str) -> None:
        for test in (self.marked, self.heading, self.transition, self.cue):
            if test(text):
                return
        self.action(text)

    def marked(self, text: str) -> bool:
        """The lines a leading (or enclosing) mark decides."""
        if PAGE_BREAK.match(text):
            self.add("page_break", text)
        elif text.startswith("#"):
            level = len(text) - len(text.lstrip("#"))
            self.add("section", text[level:], level=level)
        elif text.startswith("="):
            self.add("synopsis", text[1:])
        elif text.startswith("~"):
            self.add("lyrics", text[1:])
        elif text.startswith(">") and text.endswith("<"):
            self.add("centered", text[1:-1])
        elif text.startswith(">"):
            self.add("transition", text[1:], forced=True)
        elif text.startswith("!"):
            self.action(text[1:], forced=True)
        else:
            return False
        return True

    def heading(self, text: str) -> bool:
        forced = text.startswith(".") and not text.startswith("..")
        if not self.blank(self.index - 1) or not (forced or SCENE.match(text)):
            return False
        if not forced and not self.blank(self.index + 1):
            return False
        number = SCENE_NUMBER.search(text)
        body = text[1:] if forced else text
        body = SCENE_NUMBER.sub("", body) if number else body
        self.add("scene", body, forced=forced, number=number.group(1) if number else "")
        return True

    def transition(self, text: str) -> bool:
        if not (is_transition(text) and self.blank(self.index - 1) and self.blank(self.index + 1)):
            return False
        self.add("transition", text)
        return True

    def cue(self, text: str) -> bool:
        forced = text.startswith("@")
        parts = cue_parts(text[1:] if forced else text)
        if forced and parts is None:
            parts = _forced_cue(text[1:])
        if parts is None or not self.blank(self.index - 1) or self.blank(self.index + 1):
            return False
        name, extensions, dual = parts
        self.add("character", name, extensions=extensions, dual=dual, forced=forced)
        self.in_dialogue = True
        return True

    def action(self, text: str, *, forced: bool = False) -> None:
        last = self.elements[-1] if self.elements else None
        if last and last.kind == "action" and not self.blank(self.index - 1):
            plain, emphasis = unemphasize(" ".join(text.split()))
            self.elements[-1] = Element("action", f"{last.text} {plain}".strip(), last.line,
                                        forced=last.forced, emphasis=last.emphasis or emphasis)
            return
        self.add("action", text, forced=forced)


def _forced_cue(text: str) -> tuple[str, tuple[str, ...], bool]:
    """A forced (``@``) cue may be in any case: ``@McCLANE (V.O.)``."""
    dual = text.rstrip().endswith("^")
    body = text.rstrip().rstrip("^")
    extensions = tuple(e.strip() for e in EXTENSION.findall(body))
    return EXTENSION.sub("", body).strip(), extensions, dual


def parse_text(text: str, file: str = "<screenplay>") -> Screenplay:
    """Parse Fountain ``text``; ``file`` names it in errors."""
    lines = text.split("\n")
    if not text.strip():
        raise located(file, lines, 1, 1, "expected a Fountain screenplay, found an empty file")
    visible, hidden = strip_hidden(text, file)
    body = visible.split("\n")
    page, start = title_page(body)
    elements = Reader(body, start).run()
    merged = sorted([*elements, *hidden], key=lambda e: e.line)
    return Screenplay(file, page, merged, lines)


def parse(path: Path) -> Screenplay:
    """Read and parse the screenplay at ``path`` (bad input: a located ``ProblemsFound``)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ProblemsFound([Diagnostic(Span(str(path), 1, 1),
                                        f"cannot read the screenplay: {exc.strerror}")]) from exc
    return parse_text(decode(data, str(path)), str(path))
