"""Fountain screenplays into elements: a small parser of the fountain.io syntax, each element located.

It reads the syntax of the Fountain 1.1 spec: a title page (``Key: value`` lines up to the first blank
line, indented lines continuing a value), scene headings (``INT.``, ``EXT.``, ``EST.``, ``INT./EXT.``,
``INT/EXT``, ``I/E``, or forced with a leading ``.``; a trailing ``#1A#`` scene number), action (forced
with ``!``), character cues (an ALL CAPS line before dialogue, forced with ``@``, extensions such as
``(V.O.)`` and ``(CONT'D)``, dual dialogue with a trailing ``^``), parentheticals, dialogue (a line of
two spaces keeps it going), transitions (ALL CAPS ending in ``TO:``, forced with ``>``), centered text
``>...<``, sections ``#``, synopses ``=``, notes ``[[...]]``, boneyard ``/* ... */``, page breaks
``===``, lyrics ``~`` and emphasis ``*italic*``, ``**bold**``, ``_underline_`` (``\\*`` is a star).
A heading whose prefix is in capitals is read as one even with action right under it (many files
have it so), with a notice for the caller to report.

Every element keeps the line it starts on. Notes and boneyard are taken out of the text first (line
numbers unchanged) and kept as elements of their own, so the caller can say what it left out. Bad
input (not UTF-8, empty, a ``/*`` or ``[[`` never closed, over ``MAX_BYTES`` or ``MAX_ELEMENTS``)
raises ``ProblemsFound`` with the file, line and column and what was expected. Every step is linear
in the text's length: no regex that can backtrack over a line, no string re-joined line by line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from storyboard.errors import Diagnostic, ProblemsFound, Span

Kind = Literal["scene", "action", "character", "parenthetical", "dialogue", "transition", "centered",
               "section", "synopsis", "note", "boneyard", "page_break", "lyrics"]

SCENE = re.compile(r"^(INT\.?/EXT|INT/EXT|I/E|INT|EXT|EST)[. ]", re.I)
NUMBER = re.compile(r"[\w.-]+")  # a scene number: #1A#
PREFIX = re.compile(r"^(INT\./EXT\.|INT/EXT\.|I/E[. ]|INT\.|EXT\.|EST\.)")  # a heading without blanks
TITLE_KEY = re.compile(r"^([A-Za-z][A-Za-z0-9 ]*):(.*)$")
MARKER = re.compile(r"\*{1,3}|_")  # emphasis: *italic*, **bold**, ***both***, _underline_
TITLE_KEYS = {"title", "credit", "author", "authors", "source", "draft date", "date", "contact",
              "copyright", "notes", "revision", "format", "font"}  # a title page starts with one
ENDINGS = {"FADE OUT.", "FADE OUT", "FADE TO BLACK.", "CUT TO BLACK.", "THE END."}  # unforced too
PAGE_BREAK = re.compile(r"^={3,}\s*$")
PAIRS: dict[str, tuple[str, Kind, str]] = {"/*": ("*/", "boneyard", "a boneyard comment"),
                                            "[[": ("]]", "note", "a note")}
OPENERS = re.compile(r"/\*|\[\[")
MAX_BYTES = 2 << 20  # a feature film is about 250 KB of Fountain
MAX_ELEMENTS = 20_000  # a feature film has a few thousand
LONGEST_CUE = 80  # characters: a longer line is not a character cue


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
    notices: list[tuple[int, str]] = field(default_factory=list)  # (line, warning) on the syntax

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


def _marks(hidden: str) -> str:
    """``hidden`` as NUL marks, newlines kept (so every line keeps its number and every later column
    its place, and a line that held only hidden text is not blank)."""
    return "\n".join("\x00" * max(1, len(part)) for part in hidden.split("\n"))


def strip_hidden(text: str, file: str) -> tuple[str, list[Element]]:
    """Take notes and boneyard out of ``text``; return the rest and them as elements (one pass).

    What was taken out leaves a NUL mark, so a line that held only hidden text can be dropped
    (not turned into a blank line that would split a paragraph, nor a line that joins two)."""
    hidden: list[Element] = []
    pieces: list[str] = []
    line = 1
    at, line_start, counted = 0, 0, 0
    while (match := OPENERS.search(text, at)) is not None:
        closer, kind, what = PAIRS[match.group()]
        line += text.count("\n", counted, match.start())
        line_start = max(line_start, text.rfind("\n", counted, match.start()) + 1)
        counted = match.start()
        col = match.start() - line_start + 1
        end = text.find(closer, match.end())
        if end < 0:
            raise located(file, text.split("\n"), line, col,
                          f"{what} opened with {match.group()} is never closed: expected {closer}")
        if len(hidden) == MAX_ELEMENTS:
            raise located(file, text.split("\n"), line, col, f"more than {MAX_ELEMENTS:,} "
                          "notes and boneyard comments: expected a shorter screenplay")
        body = text[match.end():end]
        hidden.append(Element(kind, " ".join(body.split()), line, col=col))
        pieces += [text[at:match.start()], _marks(text[match.start():end + len(closer)])]
        at = end + len(closer)
    return "".join([*pieces, text[at:]]), hidden


def _solid(char: str) -> bool:
    return bool(char) and not char.isspace()


def _wordy(char: str) -> bool:
    return bool(char) and (char.isalnum() or char == "_")


def _roles(text: str, start: int, end: int) -> tuple[bool, bool]:
    """Whether the marker at ``[start, end)`` may open, and whether it may close, an emphasis."""
    before, after = text[start - 1:start] if start else "", text[end:end + 1]
    if before == "\\":
        return False, False
    if text[start] == "_":
        return not _wordy(before) and _solid(after), _solid(before) and not _wordy(after)
    return _solid(after), _solid(before)


def _emphasis_marks(text: str) -> list[tuple[int, int]]:
    """The ``(start, end)`` of each emphasis marker that has its pair, in one pass: a run of up to
    three stars (or an underscore at a word's edge) opens before a non-space and closes after one;
    a closer pairs with the nearest open marker of the same kind."""
    waiting: dict[str, list[tuple[int, int]]] = {}
    found: list[tuple[int, int]] = []
    for match in MARKER.finditer(text):
        opens, closes = _roles(text, match.start(), match.end())
        stack = waiting.setdefault(match.group(), [])
        if closes and stack:
            found += [stack.pop(), match.span()]
        elif opens:
            stack.append(match.span())
    return sorted(found)


def unemphasize(text: str) -> tuple[str, bool]:
    """``text`` without emphasis markers (escaped ``\\*`` and ``\\_`` become plain), and whether
    there were any. Linear in the text's length, however the markers nest."""
    marks = _emphasis_marks(text)
    pieces, at = [], 0
    for start, end in marks:
        pieces.append(text[at:start])
        at = end
    plain = "".join([*pieces, text[at:]])
    return plain.replace("\\*", "*").replace("\\_", "_"), bool(marks)


def title_page(lines: list[str]) -> tuple[list[tuple[str, str, int]], int]:
    """The title page's ``(key, value, line)``s and the index of the first body line."""
    index = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    first = lines[index].strip() if index < len(lines) else ""
    key = TITLE_KEY.match(first)
    if not key or key.group(1).strip().lower() not in TITLE_KEYS:
        return [], 0
    entries: list[tuple[str, list[str], int]] = []
    while index < len(lines) and lines[index].strip():
        _title_line(entries, lines[index], index + 1)
        index += 1
    return [(k, " ".join(parts).strip(), at) for k, parts, at in entries], index


def _title_line(entries: list[tuple[str, list[str], int]], raw: str, line: int) -> None:
    match = TITLE_KEY.match(raw)
    if match and not raw[:1].isspace():
        entries.append((match.group(1).strip(), [match.group(2).strip()], line))
    elif entries:
        entries[-1][1].append(raw.strip())


def is_transition(text: str) -> bool:
    """ALL CAPS ending in ``TO:`` (the spec), or a common ending such as ``FADE OUT.``."""
    return text.isupper() and (text.endswith("TO:") or text in ENDINGS)


def cue_parts(text: str) -> tuple[str, tuple[str, ...], bool] | None:
    """A character cue's name, extensions and dual mark; None when ``text`` is not a cue (a cue is
    a short line: one longer than ``LONGEST_CUE`` characters is action)."""
    if len(text) > LONGEST_CUE:
        return None
    name, extensions, dual = _forced_cue(text)
    if "(" in name or ")" in name or "^" in name:
        return None
    if not name or name != name.upper() or not any(c.isalpha() for c in name):
        return None
    return name, extensions, dual


def _forced_cue(text: str) -> tuple[str, tuple[str, ...], bool]:
    """A cue's name, its trailing ``(...)`` extensions and its ``^``; a forced (``@``) cue may be
    in any case: ``@McCLANE (V.O.)``."""
    body = text.strip()
    dual = body.endswith("^")
    body = body[:-1].rstrip() if dual else body
    extensions: list[str] = []
    while body.endswith(")") and (start := body.rfind("(")) >= 0 and len(extensions) < 8:
        extensions.insert(0, body[start + 1:-1].strip())
        body = body[:start].rstrip()
    return body, tuple(extensions), dual


def scene_number(text: str) -> tuple[str, str]:
    """A heading without its trailing ``#1A#``, and the number (``""`` when it has none)."""
    body = text.rstrip()
    start = body.rfind("#", 0, len(body) - 1) if body.endswith("#") else -1
    number = body[start + 1:-1] if start >= 0 else ""
    if not number or NUMBER.fullmatch(number) is None:
        return text, ""
    return body[:start].rstrip(), number


class Reader:
    """The body, line by line: each line classified by itself and the blank lines around it.

    A paragraph's later lines are gathered and joined once at the end (never re-joined line by
    line), so the work is linear in the screenplay's length."""

    def __init__(self, lines: list[str], start: int) -> None:
        kept = [(n, line.replace("\x00", "")) for n, line in enumerate(lines[start:], start + 1)
                if "\x00" not in line or line.replace("\x00", "").strip()]
        self.numbers = [n for n, _ in kept]  # each kept line's number in the file
        self.lines = [line for _, line in kept]
        self.index = 0
        self.elements: list[Element] = []
        self.more: dict[int, list[str]] = {}  # an element's later lines, joined at the end
        self.notices: list[tuple[int, str]] = []  # (line, warning) about the syntax
        self.in_dialogue = False

    def blank(self, index: int) -> bool:
        return index < 0 or index >= len(self.lines) or not self.lines[index].strip()

    def add(self, kind: Kind, text: str, *, level: int = 0, extensions: tuple[str, ...] = (),
            dual: bool = False, forced: bool = False, number: str = "") -> None:
        plain, emphasis = unemphasize(" ".join(text.split()))
        self.elements.append(Element(kind, plain, self.numbers[self.index], level, extensions,
                                     dual, forced, emphasis, number))

    def extend(self, text: str) -> None:
        """Add a line to the last element (a paragraph of action, a block of dialogue)."""
        plain, emphasis = unemphasize(" ".join(text.split()))
        self.more.setdefault(len(self.elements) - 1, []).append(plain)
        if emphasis and not self.elements[-1].emphasis:
            self.elements[-1] = replace(self.elements[-1], emphasis=True)

    def run(self) -> list[Element]:
        while self.index < len(self.lines):
            self.step(self.lines[self.index])
            self.index += 1
        for at, parts in self.more.items():
            element = self.elements[at]
            self.elements[at] = replace(element, text=" ".join([element.text, *parts]).strip())
        return self.elements

    def step(self, raw: str) -> None:
        if self.in_dialogue and (raw.strip() or raw.startswith("  ")):
            return self.dialogue_line(raw)
        self.in_dialogue = False
        if raw.strip():
            self.body_line(raw.strip())
        return None

    def dialogue_line(self, raw: str) -> None:
        text = raw.strip()
        if not text:
            return None  # two spaces: the dialogue goes on past an empty line
        if text.startswith("(") and text.endswith(")"):
            return self.add("parenthetical", text)
        if self.elements[-1].kind == "dialogue":
            return self.extend(text)
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
        """A heading needs a blank line before it; one whose prefix is in capitals (``INT.``,
        ``EXT.``, ``EST.``, ``INT./EXT.``, ``I/E``) is one even with action right under it (as
        many files have it), with a warning."""
        forced = text.startswith(".") and not text.startswith("..")
        if not self.blank(self.index - 1) or not (forced or SCENE.match(text)):
            return False
        if not forced and not self.blank(self.index + 1):
            if PREFIX.match(text) is None:
                return False
            self.notices.append((self.numbers[self.index], "a scene heading with no blank line "
                                 "after it: read as a heading (Fountain wants a blank line)"))
        body, number = scene_number(text[1:] if forced else text)
        self.add("scene", body, forced=forced, number=number)
        return True

    def transition(self, text: str) -> bool:
        if not (is_transition(text) and self.blank(self.index - 1) and self.blank(self.index + 1)):
            return False
        self.add("transition", text)
        return True

    def cue(self, text: str) -> bool:
        forced = text.startswith("@")
        parts = cue_parts(text[1:] if forced else text)
        if forced and parts is None and len(text) <= LONGEST_CUE:
            parts = _forced_cue(text[1:])
        if parts is None or not parts[0] or not self.blank(self.index - 1) \
                or self.blank(self.index + 1):
            return False
        name, extensions, dual = parts
        self.add("character", name, extensions=extensions, dual=dual, forced=forced)
        self.in_dialogue = True
        return True

    def action(self, text: str, *, forced: bool = False) -> None:
        last = self.elements[-1] if self.elements else None
        if last and last.kind == "action" and not self.blank(self.index - 1):
            return self.extend(text)
        return self.add("action", text, forced=forced)


def parse_text(text: str, file: str = "<screenplay>") -> Screenplay:
    """Parse Fountain ``text``; ``file`` names it in errors."""
    lines = text.split("\n")
    if not text.strip():
        raise located(file, lines, 1, 1, "expected a Fountain screenplay, found an empty file")
    visible, hidden = strip_hidden(text, file)
    body = visible.split("\n")
    page, start = title_page(body)
    reader = Reader(body, start)
    elements = reader.run()
    merged = sorted([*elements, *hidden], key=lambda e: e.line)
    if len(merged) > MAX_ELEMENTS:
        raise located(file, lines, merged[MAX_ELEMENTS].line, 1, f"more than {MAX_ELEMENTS:,} "
                      "elements (paragraphs, cues, lines of dialogue, notes...): expected a "
                      "shorter screenplay (split it into several files)")
    return Screenplay(file, page, merged, lines, reader.notices)


def parse(path: Path) -> Screenplay:
    """Read and parse the screenplay at ``path`` (bad input: a located ``ProblemsFound``)."""
    return parse_text(read_capped(path, "screenplay"), str(path))


def read_capped(path: Path, what: str) -> str:
    """The text of ``path``, at most ``MAX_BYTES`` of UTF-8 (bad input: a located
    ``ProblemsFound`` naming ``what`` the file was meant to be)."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ProblemsFound([Diagnostic(Span(str(path), 1, 1),
                                        f"cannot read the {what}: {exc.strerror}")]) from exc
    if len(data) > MAX_BYTES:
        raise ProblemsFound([Diagnostic(Span(str(path), 1, 1), f"the {what} is over "
                                        f"{MAX_BYTES // (1 << 20)} MiB: expected a shorter one "
                                        "(split it into several files)")])
    return decode(data, str(path))
