"""A story file into chapters: plain text, Markdown or Fountain, each chapter with its line range.

A chapter is what one window of calls reads. Markdown and plain text are cut at headings, found
as CommonMark finds them (markdown-it-py): a ``#`` or ``##`` heading, or a setext one (a line
underlined with ``===`` or ``---``), never a ``#`` inside a code fence or an indented block; or a
line such as ``Chapter 3``, ``CHAPTER THREE`` or ``Part II`` that opens a paragraph, or a Roman
numeral alone in its paragraph (``II``, ``XIV.``) where the story has two or more. A
Fountain screenplay (``.fountain``) is read by ``scaffold.fountain`` (so bad input is refused at its
line, as ``init --from`` refuses it) and cut at its ``#`` sections, else at its act markers. A story
with no such line is one chapter. A heading with nothing under it (a story's ``#`` title above its
``##`` chapters) joins the chapter that follows. A chapter longer than ``WINDOW`` non-blank lines
is read in windows, cut at blank lines (a paragraph itself longer, as in a story written one
sentence a line, at lines that end a sentence): each window is asked its own calls, and the
windows of one chapter (``Chapter.part_of``) make one episode.
Every chapter keeps the file's own lines and their numbers, so an answer can be held to them and
every shot can say where it came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

from markdown_it import MarkdownIt

from storyboard.errors import Diagnostic, ProblemsFound, Span
from storyboard.scaffold.fountain import parse_text, read_capped

CHAPTER = re.compile(r"^\s*(chapter|part|book)\s+([0-9]+|[ivxlc]+|[a-z-]+)\b[.:]?\s*(.*)$", re.I)
NUMERAL = re.compile(r"^\s*(?=[IVXLC])C{0,3}(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})\.?\s*$")  # II, XIV.
MAX_CHAPTERS = 500
WINDOW = 60  # non-blank lines a window reads at most: its shots fit one answer's max_tokens
SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*\s*$")  # a line a too-long paragraph may be cut after


@dataclass(frozen=True)
class Chapter:
    """One window of the story: its title and its lines (``first`` is the first's number)."""

    file: str
    number: int
    title: str
    first: int
    lines: tuple[str, ...]
    part_of: int = 0  # the number of the chapter this window is part of (its episode)
    episode: int = 0  # a season's: the episode these lines are filmed for (``season.segments``)
    shots: int = 0  # a season's episode: the shots its call asks for, exactly (the skeleton's K)
    shot_seconds: int = 0  # a season's episode: each shot's seconds (the skeleton's d)
    shot: int = 0  # a season's shot call: its number in its episode (its lines, the shot's)
    unquoted: bool = False  # a season's shot call of a screenplay: its speeches are its quotes
    ends: tuple[str, ...] = ()  # a season's cut call: the units its episode may end at
    rules: int = 1  # a season's calls: the rules they are asked and judged by, as the series'
    # first were (``answerstore.AnswerCache.rules``): 2 offers quotes whole across a title's stop
    # (``quotable``) and reads a line's speaker around its shot (``speakers.misgiven``); 3 sends
    # back a scene telling what its shot's lines do not (``told``); 4 reads a speaker in more ways
    # and sends back a line given to the one it speaks to (``speakers``)

    @property
    def last(self) -> int:
        return self.first + len(self.lines) - 1

    def numbered(self) -> list[tuple[int, str]]:
        """Each line with its number in the file (blank lines left out)."""
        return [(self.first + i, line) for i, line in enumerate(self.lines) if line.strip()]


@dataclass(frozen=True)
class Story:
    file: str
    title: str
    chapters: tuple[Chapter, ...]


def _read(path: Path) -> str:
    text = read_capped(path, "story").replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise ProblemsFound([Diagnostic(Span(str(path), 1, 1),
                                        "expected a story, found an empty file")])
    return text


def _blocks(text: str) -> tuple[dict[int, str], set[int]]:
    """The Markdown headings of depth 1 or 2 at the top level (``#``, ``##``, and setext's
    ``===`` and ``---`` underlines), by the index of their first line, as CommonMark reads them
    (markdown-it-py); and the index of each top-level paragraph's first line (where a ``Chapter
    3`` line may open a chapter: never inside code, a quote or a list)."""
    headings: dict[int, str] = {}
    paragraphs: set[int] = set()
    tokens = MarkdownIt("commonmark").parse(text)
    for index, token in enumerate(tokens):
        if token.map is None or token.level != 0:
            continue
        if token.type == "heading_open" and token.tag in ("h1", "h2"):
            title = " ".join(tokens[index + 1].content.split())
            if title:
                headings[token.map[0]] = title
        elif token.type == "paragraph_open":
            paragraphs.add(token.map[0])
    return headings, paragraphs


def _prose_starts(text: str, lines: list[str]) -> list[tuple[int, str]]:
    """(index, title) of each line that opens a chapter: a heading, or a ``Chapter 3`` line
    that opens a paragraph."""
    headings, paragraphs = _blocks(text)
    starts = dict(headings)
    for index in sorted(paragraphs - set(headings)):
        line = lines[index]
        if CHAPTER.match(line) and len(line) <= 80:
            starts[index] = line.strip()
    numerals = [index for index in sorted(paragraphs - set(starts)) if NUMERAL.match(lines[index])
                and (index + 1 == len(lines) or not lines[index + 1].strip())]
    if len(numerals) >= 2:  # a bare numeral alone in its paragraph, more than once: its chapters
        starts.update((index, lines[index].strip()) for index in numerals)
    return sorted(starts.items())


def _fountain_starts(text: str, file: str) -> tuple[list[tuple[int, str]], int]:
    """The level-1 sections, and where the body starts (after the title page)."""
    play = parse_text(text, file)
    sections = [(e.line - 1, e.text) for e in play.elements if e.kind == "section" and e.level == 1]
    return sections, min([e.line - 1 for e in play.elements], default=0)


def _joined(lines: list[str], starts: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """The starts, each heading with nothing under it joined to the chapter that follows (which
    then starts at that heading, under its own title)."""
    out: list[tuple[int, str]] = []
    held: int | None = None
    for n, (index, title) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(lines)
        begin = index if held is None else held
        if n + 1 < len(starts) and not any(line.strip() for line in lines[index + 1:end]):
            held = begin
            continue
        out.append((begin, title))
        held = None
    return out


def _cut(file: str, lines: list[str], starts: list[tuple[int, str]], skip: int = 0
         ) -> list[Chapter]:
    """Chapters from each start to the next; what comes before the first (after the ``skip``
    lines of a title page) is a chapter of its own when it holds anything."""
    if not starts or (starts[0][0] > skip and any(s.strip() for s in lines[skip:starts[0][0]])):
        starts = [(skip, ""), *starts]
    starts = _joined(lines, starts)
    chapters: list[Chapter] = []
    for n, (index, title) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(lines)
        body = lines[index:end]
        while body and not body[-1].strip():
            body.pop()
        if any(line.strip() for line in body):
            chapters.append(Chapter(file, len(chapters) + 1, title or f"Part {len(chapters) + 1}",
                                    index + 1, tuple(body)))
    return chapters


def _paragraphs(lines: tuple[str, ...]) -> list[tuple[int, int]]:
    """(index of the first line, number of lines) of each run of non-blank lines, a run longer
    than ``WINDOW`` given as its sentences' runs (``_sentences``)."""
    runs: list[tuple[int, int]] = []
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        if runs and sum(runs[-1]) == index:
            runs[-1] = (runs[-1][0], runs[-1][1] + 1)
        else:
            runs.append((index, 1))
    return [piece for run in runs for piece in
            (_sentences(lines, *run) if run[1] > WINDOW else [run])]


def _sentences(lines: tuple[str, ...], start: int, length: int) -> list[tuple[int, int]]:
    """A paragraph's runs of lines, each ending at a line that ends a sentence (its last line
    ends the last run wherever it ends)."""
    runs, first = [], start
    for index in range(start, start + length):
        if SENTENCE_END.search(lines[index]) or index == start + length - 1:
            runs.append((first, index + 1 - first))
            first = index + 1
    return runs


def _windows(chapter: Chapter) -> list[Chapter]:
    """``chapter`` cut at blank lines into windows of at most ``WINDOW`` non-blank lines (a
    longer paragraph cut at its sentences' ends, a longer sentence kept whole), titled
    ``Title (2)``, ``Title (3)``..."""
    starts, size = [0], 0
    for index, length in _paragraphs(chapter.lines):
        if size and size + length > WINDOW:
            starts.append(index)
            size = 0
        size += length
    bounds = [*starts, len(chapter.lines)]
    windows = []
    for n in range(len(starts)):
        part = list(chapter.lines[bounds[n]:bounds[n + 1]])
        while part and not part[-1].strip():
            part.pop()
        title = chapter.title if n == 0 else f"{chapter.title} ({n + 1})"
        windows.append(Chapter(chapter.file, 0, title, chapter.first + bounds[n], tuple(part),
                               chapter.number))
    return windows


def _title(path: Path, lines: list[str], starts: list[tuple[int, str]],
           headings: set[int] | None = None) -> str:
    """The title page's ``Title:``, else a first heading with nothing under it, else the
    story's first heading where nothing stands before it, else its title line (``title_line``),
    else the file's name."""
    for line in lines:
        if line.lower().startswith("title:"):
            return line.partition(":")[2].strip() or path.stem
    lone = [title for index, title in starts[:1] if len(starts) > 1 and
            not any(line.strip() for line in lines[index + 1:starts[1][0]])]
    before = not starts or any(line.strip() for line in lines[:starts[0][0]])
    if lone and not before:
        return lone[0]
    if starts and not before and starts[0][0] in (headings or set()):
        return starts[0][1]
    words = re.split(r"[-_\s]+", path.stem)
    return title_line(lines) or " ".join(w.capitalize() for w in words if w) or "Story"


SMALL = {"a", "an", "and", "as", "at", "by", "for", "in", "of", "on", "or", "the", "to"}
TITLE_WORDS = 12  # the most words a story's title line holds


def title_line(lines: list[str]) -> str:
    """The story's title when its first lines are one (``THE GIFT OF THE MAGI``, or a title
    page set out over two lines: ``THE`` / ``Velveteen Rabbit``, or over paragraphs, a line that
    ends on ``OF``, ``THE``... going on in the next: ``THE TALE OF`` / ``PETER RABBIT``): at most
    three short lines before its first blank line, words after it, no sentence's end; capitals read as a title
    is written (``The Gift of the Magi``). "" when they are not."""
    first = next((n for n, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return ""
    end = next((n for n in range(first, len(lines)) if not lines[n].strip()), len(lines))
    block = [" ".join(line.split()) for line in lines[first:end]]
    while block and block[-1].split()[-1].lower() in SMALL:  # THE TALE OF / (blank) / PETER RABBIT
        more = next((n for n in range(end, len(lines)) if lines[n].strip()), None)
        if more is None:
            break
        end = next((n for n in range(more, len(lines)) if not lines[n].strip()), len(lines))
        block += [" ".join(line.split()) for line in lines[more:end]]
    words = " ".join(block).split()
    if not 1 <= len(block) <= 3 or not 1 <= len(words) <= TITLE_WORDS or \
            not any(line.strip() for line in lines[end:]) or \
            re.search(r"[.!?,;:\]]$", block[-1]) or CHAPTER.match(block[0]) or \
            NUMERAL.match(block[0]) or block[0].startswith(("[", "#", "\"", "“", "'", "‘")):
        return ""
    return " ".join(_cased(word, n) for n, word in enumerate(words))


def _cased(word: str, place: int) -> str:
    """A word of a title in capitals as a title writes it (``OF`` is ``of`` past the first)."""
    if not word.isupper() or (len(word) < 2 and word != "A"):
        return word
    low = word.lower()
    return low if place and low in SMALL else "-".join(p.capitalize() for p in low.split("-"))


def read_story(path: Path) -> Story:
    """The story at ``path`` cut into chapters (bad input: a located ``ProblemsFound``)."""
    text = _read(path)
    lines = text.split("\n")
    fountain = path.suffix.lower() == ".fountain"
    starts, skip = _fountain_starts(text, str(path)) if fountain else \
        (_prose_starts(text, lines), 0)
    chapters = [replace(window, number=n) for n, window in enumerate(
        (w for chapter in _cut(str(path), lines, starts, skip) for w in _windows(chapter)), 1)]
    if len(chapters) > MAX_CHAPTERS:
        raise ProblemsFound([Diagnostic(Span(str(path), chapters[MAX_CHAPTERS].first, 1),
                                        f"more than {MAX_CHAPTERS} chapters: expected a shorter "
                                        "story (split it into several files)")])
    headings = set() if fountain else set(_blocks(text)[0])
    return Story(str(path), _title(path, lines, starts, headings), tuple(chapters))
