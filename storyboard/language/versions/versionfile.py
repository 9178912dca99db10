"""A version's words into its file and back: ``languages/<lang>/<episode>.yaml``, one an episode.

A version is the same approved cut in another language (docs/languages.md): the same shots, takes
and timing, new words. Its file lists each spoken line of the episode in order, with the source
line it translates and the version's text; a person edits ``text`` freely. ``made`` is a short
hash of the text the model wrote: absent, or different from the text's own hash, means the line
was fixed by hand, and no later run writes over it. An episode with a title of its own has a
``title:`` entry too (``source``, ``text``, ``made``: kept as a line is), what the version's
title card says; a delivered episode's card (``delivery:``) a ``label:`` entry, its
"Episode N" in the version's words (``source``, ``text``, ``made``, kept the same way). The
file is written as text (same version, same bytes) and read back through the language's YAML
loader, every problem at ``file:line:col``.
Nothing from a user's words becomes a key: speakers and words are values.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storyboard.errors import Diagnostic, ProblemsFound, Span
from storyboard.files import write_atomic
from storyboard.language.document import Document, display_path
from storyboard.language.read.load import load_file
from storyboard.language.request import CompiledEpisode

FOLDER = "languages"
KEYS = ("shot", "n", "speaker", "at", "route", "source", "text", "made")
REQUIRED = ("shot", "n", "speaker", "at", "route", "source", "text")
TOP = ("language", "source", "episode", "lines")
TITLE = "title"  # the episode's title, as its title card says it: ``title: {source, text, made}``
TITLE_KEYS = ("source", "text", "made")
TITLE_SPEAKER = "title card"  # who "says" the title, for the model asked to translate it
LABEL = "label"  # a delivered title card's "Episode N", as the version says it
LABEL_KEY = (LABEL, 0)  # its entry's key: line 0 of no shot's (a shot's lines count from 1)
AT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?)\s*s\s*$")
HEAD = ("# storyboard: the {language} version of episode {episode} (source: {source}). "
        "Edit `text` freely; a hand edit is kept.\n"
        "# `storyboard translate` writes it (`storyboard docs languages`); `made` is the hash of "
        "the text the model wrote.\n")
NEVER_LIPSYNCED = "none"  # a line heard only: voiceover, narration, an off-screen speaker


@dataclass(frozen=True)
class VersionLine:
    """One spoken line of a version: where it is (``shot``, its ``n``-th spoken line in document
    order, from 1), who says it, its window (seconds), its route in the original, the source
    words it translates, the version's words and the hash of the words the model wrote."""

    shot: str
    n: int
    speaker: str
    start: float
    end: float
    route: str
    source: str
    text: str
    made: str | None = None
    span: Span | None = field(default=None, compare=False)  # where the line is in its file

    @property
    def at(self) -> str:
        """The window as the language writes it: ``0-4s``, ``2.5-5s``."""
        return f"{seconds(self.start)}-{seconds(self.end)}s"

    @property
    def window(self) -> float:
        return round(self.end - self.start, 3)

    @property
    def key(self) -> tuple[str, int]:
        return (self.shot, self.n)


@dataclass(frozen=True)
class Version:
    """One language's version of one episode."""

    language: str
    source: str
    episode: str
    lines: tuple[VersionLine, ...]
    file_lines: tuple[str, ...] = field(default=(), compare=False)  # the file's text, as read
    title: VersionLine | None = None  # its title card's words (``title_line``), when it has one
    label: VersionLine | None = None  # its card's "Episode N" (``label_line``), when delivered

    def line(self, shot: str, n: int) -> VersionLine | None:
        for card in (self.title, self.label):
            if card is not None and card.key == (shot, n):
                return card
        return next((line for line in self.lines if line.key == (shot, n)), None)


def seconds(value: float) -> str:
    """A time as the language writes it: ``4``, ``2.5``."""
    return format(round(value, 3), "g")


def text_hash(text: str) -> str:
    """The short hash ``made`` records: the first 12 hex digits of the text's sha256."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def is_untranslated(line: VersionLine) -> bool:
    """No words yet (``--no-model`` writes the entries for a person to fill in)."""
    return not line.text.strip()


def is_hand_fixed(line: VersionLine) -> bool:
    """Words a person wrote or changed: not what the model wrote (``made`` absent or another)."""
    return not is_untranslated(line) and line.made != text_hash(line.text)


def is_stale(line: VersionLine, source_text: str) -> bool:
    """The original line changed since this one was translated from it."""
    return line.source != source_text


def needs_pass(line: VersionLine) -> bool:
    """A lip-sync pass in the version: route ``none`` (voiceover, narrator, off screen) is never
    lip-synced; any other route is a speaking face on screen, re-lipped to the version's line."""
    return line.route != NEVER_LIPSYNCED


def version_path(series_dir: Path, language: str, episode: str, home: str | None = None
                 ) -> Path:
    """``languages/<lang>/<episode>.yaml`` in the series folder; a matrix base's own
    (``home``, its variation's name): ``languages/<lang>/<home>/<episode>.yaml``."""
    folder = series_dir / FOLDER / language
    return (folder / home if home else folder) / f"{episode}.yaml"


def source_lines(episode: CompiledEpisode) -> list[VersionLine]:
    """Each spoken line of the compiled ``episode`` in order, as a version's entry with no words
    yet: ``n`` counts a shot's lines in document order from 1, every route alike."""
    found: list[VersionLine] = []
    for shot in episode.shots:
        n = 0
        for scene in shot.request.scenes:
            for line in scene.lines:
                n += 1
                found.append(VersionLine(shot.id, n, line.speaker, line.start, line.end,
                                         line.route, line.text, ""))
    return found


def title_line(episode: CompiledEpisode) -> VersionLine | None:
    """The episode's title (what its delivered title card says under its number) as an entry
    of its version: ``n`` 0 of no shot, so it is never one of a shot's lines (they count from
    1); None when the episode has no title of its own."""
    title = episode.title if episode.title != episode.id else ""
    if not title.strip():
        return None
    return VersionLine("", 0, TITLE_SPEAKER, 0.0, 3.0, NEVER_LIPSYNCED, title, "")


def label_line(episode: CompiledEpisode, number: int) -> VersionLine | None:
    """The "Episode N" its delivered title card says above its title (``number``: its place
    in the series, from 1) as an entry of its version (``LABEL_KEY``); None when the episode has
    no delivered title card (no ``delivery:``, or ``title_card: false``)."""
    block = episode.settings.get("delivery")
    if not isinstance(block, dict) or block.get("title_card") is False or number < 1:
        return None
    return VersionLine(*LABEL_KEY, TITLE_SPEAKER, 0.0, 3.0, NEVER_LIPSYNCED, f"Episode {number}",
                       "")


def card_lines(version: Version) -> list[tuple[str, VersionLine]]:
    """The version's title card entries, by key in the file (``label``, ``title``)."""
    return [(key, line) for key, line in ((LABEL, version.label), (TITLE, version.title))
            if line is not None]


# --- writing ---------------------------------------------------------------------------------


def _escape(char: str) -> str:
    if char.isprintable() or char == " ":
        return char
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 \
        else f"\\U{code:08x}"


def quote(text: str) -> str:
    """A double-quoted YAML scalar on one line that loads back as ``text``."""
    return "".join(_escape(c) for c in json.dumps(text, ensure_ascii=False))


def _bare(word: str) -> str:
    """A route as written (``lipsync``), quoted when it is not a plain word."""
    return word if re.fullmatch(r"[a-z][a-z_]*", word) else quote(word)


def version_text(version: Version) -> str:
    """The file's text: same version, same bytes."""
    said = {key: "".join(_escape(c) for c in getattr(version, key))  # one line each
            for key in ("language", "episode", "source")}
    out = [HEAD.format(**said).rstrip("\n"),
           f"language: {quote(version.language)}", f"source: {quote(version.source)}",
           f"episode: {quote(version.episode)}"]
    for key, card in card_lines(version):
        out += [f"{key}:", f"  source: {quote(card.source)}", f"  text: {quote(card.text)}"]
        out += [f"  made: {quote(card.made)}"] if card.made is not None else []
    if not version.lines:
        out.append("lines: []")
    else:
        out.append("lines:")
    for line in version.lines:
        out += [f"  - shot: {quote(line.shot)}", f"    n: {line.n}",
                f"    speaker: {quote(line.speaker)}", f"    at: {line.at}",
                f"    route: {_bare(line.route)}", f"    source: {quote(line.source)}",
                f"    text: {quote(line.text)}"]
        if line.made is not None:
            out.append(f"    made: {quote(line.made)}")
    return "\n".join(out) + "\n"


def write_version(path: Path, version: Version) -> Path:
    """Write ``version`` to ``path`` (atomically; its folder made)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_atomic(path, version_text(version), durable=True)


# --- reading ---------------------------------------------------------------------------------


def read_version(path: Path, root: Path) -> Version:
    """The version a file says; ``ProblemsFound`` with every problem at its line. ``root``: the
    series folder; a file that leads outside it (a link out) is refused, never read."""
    outside(path, root)
    doc, found = load_file(path)
    if any(d.severity == "error" for d in found):
        raise ProblemsFound(found)
    data = doc.data
    if not isinstance(data, dict):
        raise ProblemsFound([doc.diagnostic((), "expected a version: language, source, "
                                                "episode and lines")])
    problems = [doc.diagnostic((k,), f"unknown key {k!r}: expected one of "
                               f"{', '.join((*TOP, TITLE, LABEL))}", key=True)
                for k in data if k not in (*TOP, TITLE, LABEL)]
    problems += [doc.diagnostic((), f"expected {k}: this version has none")
                 for k in TOP if k not in data]
    for key in ("language", "source", "episode"):
        if key in data and not _word(data[key]):
            problems.append(doc.diagnostic((key,), f"expected {key} as a word (es, ep01)"))
    items = data.get("lines")
    if "lines" in data and not isinstance(items, list):
        problems.append(doc.diagnostic(("lines",), "expected lines: a list of lines, each with "
                                                   + ", ".join(REQUIRED)))
        items = []
    lines = [_line(doc, i, item, problems) for i, item in enumerate(items or [])]
    _unique(doc, [line for line in lines if line is not None], problems)
    title = _card(doc, TITLE, data.get(TITLE), problems) if TITLE in data else None
    label = _card(doc, LABEL, data.get(LABEL), problems) if LABEL in data else None
    if problems:
        raise ProblemsFound(problems)
    return Version(data["language"], data["source"], data["episode"],
                   tuple(line for line in lines if line is not None), tuple(doc.lines), title,
                   label)


def outside(path: Path, root: Path) -> None:
    """``ProblemsFound`` naming ``path`` when it leads outside the series folder ``root`` (a
    link, or a folder on its way that is one): not a byte of it is read."""
    if not path.resolve().is_relative_to(root.resolve()):
        raise ProblemsFound([Diagnostic(
            Span(display_path(path), 1, 1), "this version file leads outside the series folder "
            f"(a link?); expected a file inside {root.resolve().name}/", code="version-outside")])


def _card(doc: Document, key: str, item: Any, problems: list[Diagnostic]
          ) -> VersionLine | None:
    """The ``title:`` or ``label:`` entry: ``{source, text, made}``, kept by hand edit as a line
    is."""
    if not isinstance(item, dict) or not all(isinstance(item.get(k), str)
                                             for k in ("source", "text")):
        problems.append(doc.diagnostic((key,), f"expected {key}: {{source: ..., text: ...}} "
                                                 "(made: the model's hash, when it wrote it)"))
        return None
    before = len(problems)
    problems += [doc.diagnostic((key, k), f"unknown key {k!r}: expected one of "
                                f"{', '.join(TITLE_KEYS)}", key=True)
                 for k in item if k not in TITLE_KEYS]
    made = item.get("made")
    if made is not None and not isinstance(made, str):
        problems.append(doc.diagnostic((key, "made"), "expected made as the hash in quotes"))
    if len(problems) > before:
        return None
    shot, n = LABEL_KEY if key == LABEL else ("", 0)
    line = VersionLine(shot, n, TITLE_SPEAKER, 0.0, 3.0, NEVER_LIPSYNCED, item["source"],
                       item["text"], made, doc.span((key,)))
    return line


def _word(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip()) and value.strip() == value


def _line(doc: Document, index: int, item: Any, problems: list[Diagnostic]) -> VersionLine | None:
    where: tuple[str | int, ...] = ("lines", index)
    if not isinstance(item, dict):
        problems.append(doc.diagnostic(where, "expected a line: {" + ", ".join(REQUIRED) + "}"))
        return None
    before = len(problems)
    problems += [doc.diagnostic((*where, k), f"unknown key {k!r}: expected one of "
                                f"{', '.join(KEYS)}", key=True) for k in item if k not in KEYS]
    problems += [doc.diagnostic(where, f"expected {k}: this line has none")
                 for k in REQUIRED if k not in item]
    if len(problems) > before:
        return None
    n = item["n"]
    if type(n) is not int or n < 1:
        problems.append(doc.diagnostic((*where, "n"), "expected n: the shot's line number, "
                                                      "a whole number from 1"))
    for key in ("shot", "speaker", "route"):
        if not _word(item[key]):
            problems.append(doc.diagnostic((*where, key), f"expected {key} as a word"))
    for key in ("source", "text"):
        if not isinstance(item[key], str):
            problems.append(doc.diagnostic((*where, key), f"expected {key} as words in quotes"))
    made = item.get("made")
    if made is not None and not isinstance(made, str):
        problems.append(doc.diagnostic((*where, "made"), "expected made as the hash in quotes "
                                                         "(or no made: fixed by hand)"))
    window = _window(doc, (*where, "at"), item["at"], problems)
    if len(problems) > before or window is None:
        return None
    return VersionLine(item["shot"], n, item["speaker"], window[0], window[1], item["route"],
                       item["source"], item["text"], made, doc.span(where))


def _window(doc: Document, where: tuple[str | int, ...], value: Any,
            problems: list[Diagnostic]) -> tuple[float, float] | None:
    said = AT.match(value) if isinstance(value, str) else None
    start, end = (float(said.group(1)), float(said.group(2))) if said else (0.0, 0.0)
    if said is None or end <= start:
        problems.append(doc.diagnostic(where, f"expected at as A-Bs with A < B (0-4s), found "
                                              f"{value!r}"))
        return None
    return start, end


def _unique(doc: Document, lines: list[VersionLine], problems: list[Diagnostic]) -> None:
    seen: set[tuple[str, int]] = set()
    for line in lines:
        if line.key in seen:
            problems.append(Diagnostic(line.span, f"line {line.shot} {line.n} is listed twice; "
                                       "expected each of the shot's lines once",
                                       source_line=doc.line_text(line.span.line)
                                       if line.span else None))
        seen.add(line.key)
