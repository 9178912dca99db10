"""Plain block YAML into documents, without libyaml's node layer; anything else is left to it.

Most storyboard files are block mappings and sequences of one-line scalars and small one-line
flow collections (``say: {mia: "Hi."}``). PyYAML's ``compose`` spends its time making a Python
event, node and mark for every value, then ``load`` walks the nodes again; for those files this
module reads the lines once and builds the same ``Document`` directly: the same data, spans, key
spans, quoted flags and noted floats, value for value (``tests/language/test_plainyaml.py`` compares the two
on every YAML file of the project and on generated documents).

It knows only a strict subset and answers ``None`` for anything outside it: anchors, aliases,
tags, merge keys, block scalars, multi-line scalars, multi-line flow collections, document
markers, tabs, duplicate keys, a mapping key that is not a plain word, any error. ``load.parse``
then reads the text the general way, which reports every problem.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import yaml

from storyboard.language.document import (
    CONSTRUCTORS,
    FLOAT_TAG,
    INT_TAG,
    MAX_DEPTH,
    MAX_NODES,
    SEP,
    STR_TAG,
    TIMESTAMP_TAG,
    Document,
)


class _Unsupported(Exception):
    """Outside the subset: the general parser reads the text instead."""


_RESOLVER = yaml.resolver.Resolver()
_PLAIN = (True, False)
_TYPED: dict[str, tuple[str, Any]] = {}  # a plain scalar's tag and value, by its text
# a plain value alone on its row in block context (no noted float): its value, and whether text
_ROW_WORDS: dict[str, tuple[Any, bool]] = {}
# the first character of a plain key or word: no space, no indicator
_FIRST = r"[^\s\-?:,\[\]{}#&*!|>'\"%@`]"
# a block mapping key (a plain word, no indicator first, no ':' '#' or flow indicators in it),
# its colon, and the rest of the line
_KEY = re.compile("(" + _FIRST + r"[^:#,\[\]{}]*?|-[^\s:#,\[\]{}][^:#,\[\]{}]*?)"
                  r" *(:)(?: +|$)")
_FLOW_KEY = re.compile(" *(" + _FIRST + r"[^:#,\[\]{}]*?) *: +")
_PLAIN_START = frozenset("&*!|>%@`,[]{}#?:-'\"")
_NOT_AFTER_DASH = frozenset(("", " ", ",", "[", "]", "{", "}"))  # "-x" is plain; "-", "- " not
_WORD = _FIRST + r"[^:#,\[\]{}'\"]*?"  # a plain key or word, no quote in it
# one pair of a simple flow mapping: a plain key, a quoted text with no escape or a plain word,
# and the comma or the closing brace after it
_PAIR = re.compile(rf' *({_WORD}) *: +(?:"([^"\\]*)"|({_WORD})) *([,}}])')
_FLOW_STOP = re.compile(r"[,\]}:#\[{]")
_SPACES = re.compile(r" *")
_DOUBLE = re.compile(r'"((?:[^"\\]|\\.)*)"')
_ESCAPE = re.compile(r"\\(?:x([0-9A-Fa-f]{2})|u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))")
_ESCAPES = {"0": "\0", "a": "\a", "b": "\b", "t": "\t", "n": "\n", "v": "\v", "f": "\f",
            "r": "\r", "e": "\x1b", " ": " ", '"': '"', "/": "/", "\\": "\\", "N": "\x85",
            "_": "\xa0", "L": "\u2028", "P": "\u2029"}  # YAML's escapes in double quotes
# what YAML does not print (tabs and carriage returns too: the general way reports them)
_UNPRINTED = re.compile("[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd"
                        "\U00010000-\U0010ffff]")
_MARKERS = ("---", "...", "%")  # document markers and directives, at a line's start
_MARKER = re.compile(r"\n(?:---|\.\.\.|%)")


def _plain_text(text: str) -> bool:
    """Whether ``text`` has only characters YAML prints and no document marker or directive."""
    # in ASCII, what Python does not print is what YAML does not: controls, tab, CR
    printed = (text.replace("\n", "").isprintable() if text.isascii()
               else _UNPRINTED.search(text) is None)
    return printed and not text.startswith(_MARKERS) and _MARKER.search(text) is None


def parse(text: str, file: Path) -> Document | None:
    """``text`` as a Document, or None when it is not plain block YAML (see the module's doc)."""
    if not _plain_text(text):
        return None
    doc = Document(file=file, data=None, lines=text.splitlines(), floats=[])
    try:
        _Reader(doc).document()
    except (_Unsupported, RecursionError):
        return None
    return doc


def _unescape(found: re.Match[str]) -> str:
    hexa = found.group(1) or found.group(2) or found.group(3)
    if hexa is None:
        char = _ESCAPES.get(found.group(4))
        if char is None:
            raise _Unsupported  # not an escape YAML knows: libyaml says so
        return char
    code = int(hexa, 16)
    if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
        raise _Unsupported
    return chr(code)


def _noted(value: float) -> bool:
    """Whether a float is one the schema check looks at: whole (``3.0``) or not finite."""
    return value.is_integer() or not math.isfinite(value)


class _Reader:
    def __init__(self, doc: Document) -> None:
        self.doc = doc
        # the significant lines: (line number from 0, indent, text after the indent)
        self.rows = [(n, len(line) - len(body), body) for n, line in enumerate(doc.lines)
                     if (body := line.lstrip(" ")) and body[0] != "#"]
        self.at = 0
        self.spans, self.quoted = doc.spans, doc.quoted
        assert doc.floats is not None
        self.floats = doc.floats

    def document(self) -> None:
        if not self.rows:
            raise _Unsupported  # empty: the general way gives None and its span
        indent = self.rows[0][1]
        self.doc.data = self.block("", indent, 0)
        if self.at != len(self.rows) or len(self.doc.spans) > MAX_NODES:
            raise _Unsupported  # less indented text after the root (an error), or too many

    def block(self, path: str, indent: int, depth: int) -> Any:
        """The block collection whose first row is the current one, at ``indent``."""
        if depth > MAX_DEPTH // 2:
            raise _Unsupported  # near the limit: counted exactly the general way
        n, _, body = self.rows[self.at]
        self.mark(path, n, indent)
        if body == "-" or body.startswith("- "):
            return self.sequence(path, indent, depth)
        return self.mapping(path, indent, depth)

    def mapping(self, path: str, indent: int, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        rows, key_spans, match = self.rows, self.doc.key_spans, _KEY.match
        while self.at < len(rows):
            n, col, body = rows[self.at]
            if col != indent:
                if col > indent:
                    raise _Unsupported  # continuation or bad indentation
                break
            found = match(body)
            if found is None:
                if body == "-" or body.startswith("- "):
                    break  # a sequence at the parent key's indent ends here
                raise _Unsupported
            key = found.group(1)
            if key in result or key == "<<":
                raise _Unsupported  # a duplicate, or a merge key: the general way
            where = f"{path}{SEP}{key}"
            key_spans[where] = (n + 1, col + 1)
            start = found.end()
            self.at += 1
            if start < len(body) and body[start] != "#":
                result[key] = self.inline(where, n, col + start, body[start:], depth)
            else:
                result[key] = self.below(where, n, col, col + found.end(2), depth, nested=True)
        return result

    def sequence(self, path: str, indent: int, depth: int) -> list[Any]:
        result: list[Any] = []
        while self.at < len(self.rows):
            n, col, body = self.rows[self.at]
            if col != indent:
                if col > indent:
                    raise _Unsupported
                break
            if not (body == "-" or body.startswith("- ")):
                break
            where = f"{path}{SEP}{len(result)}"
            rest = body[1:].lstrip(" ")
            start = col + len(body) - len(rest)
            if rest and rest[0] != "#" and (rest == "-" or rest.startswith("- ")
                                            or _KEY.match(rest)):
                self.rows[self.at] = (n, start, rest)  # a compact collection: it starts here
                result.append(self.block(where, start, depth + 1))
                continue
            self.at += 1
            result.append(self.inline(where, n, start, rest, depth) if rest and rest[0] != "#"
                          else self.below(where, n, col, col + 1, depth, nested=False))
        return result

    def below(self, path: str, n: int, col: int, null_at: int, depth: int, *,
              nested: bool) -> Any:
        """The value of a key or dash (at ``col`` of row ``n``) with nothing after it on its row:
        the block below, else null (at ``null_at``, where libyaml puts it). A mapping's value may
        be a sequence at its key's column (``nested``)."""
        below = self.rows[self.at] if self.at < len(self.rows) else None
        if below is not None and (below[1] > col or (nested and below[1] == col and (
                below[2] == "-" or below[2].startswith("- ")))):
            return self.block(path, below[1], depth + 1)
        self.mark(path, n, null_at)
        return None

    def inline(self, path: str, n: int, col: int, text: str, depth: int) -> Any:
        """The value that starts a row's ``text`` (at ``col``); only a comment may follow it."""
        first = text[0]
        if first == '"' and text[-1] == '"' and text.count('"') == 2 and "\\" not in text:
            self.spans[path] = (n + 1, col + 1)  # the common case, quickly: "text" alone
            self.quoted[path] = True
            return text[1:-1]
        known = _ROW_WORDS.get(text)
        if known is not None:  # a plain value met before, alone on its row
            self.spans[path] = (n + 1, col + 1)
            if known[1]:
                self.quoted[path] = False
            return known[0]
        if first in "[{":
            value, end = _Flow(self, n, text).collection(path, 0, col, depth + 1)
        else:
            value, end = self.scalar(path, n, col, text, block=True)
        if end < len(text):
            tail = text[end:]
            if tail.strip(" ") and not (tail[0] == " " and tail.lstrip(" ")[0] == "#"):
                raise _Unsupported  # more after the value, or a comment with no space before it
        return value

    def scalar(self, path: str, n: int, col: int, text: str, *, block: bool) -> tuple[Any, int]:
        """The scalar at the start of ``text`` and where it ends in ``text``."""
        self.spans[path] = (n + 1, col + 1)
        first = text[0]
        if first == '"':
            found = _DOUBLE.match(text)
            if found is None:
                raise _Unsupported
            self.quoted[path] = True
            body = found.group(1)
            return (_ESCAPE.sub(_unescape, body) if "\\" in body else body), found.end()
        if first == "'":
            return self.single(path, text)
        if first in _PLAIN_START and not (first == "-" and text[1:2] not in _NOT_AFTER_DASH):
            raise _Unsupported
        return self.plain(path, text, block)

    def single(self, path: str, text: str) -> tuple[str, int]:
        parts, at = [], 1
        while True:
            end = text.find("'", at)
            if end < 0:
                raise _Unsupported
            parts.append(text[at:end])
            if text[end + 1:end + 2] != "'":
                break
            parts.append("'")
            at = end + 2
        self.quoted[path] = True
        return "".join(parts), end + 1

    def plain(self, path: str, text: str, block: bool) -> tuple[Any, int]:
        if block:
            cut = text.find(" #")
            end = len(text) if cut < 0 else cut
            word = text[:end].rstrip(" ")
            if ": " in word or word.endswith(":"):
                raise _Unsupported
        else:
            stop = _FLOW_STOP.search(text)
            end = len(text) if stop is None else stop.start()
            if stop is not None and stop.group() in ":#[{":
                raise _Unsupported
            word = text[:end].rstrip(" ")
            if not word:
                raise _Unsupported
        tag, value = self.typed(word)
        text_like = tag in (STR_TAG, TIMESTAMP_TAG)
        if text_like:
            self.quoted[path] = False
        elif tag == FLOAT_TAG and _noted(value):
            self.floats.append((path, value))
            return value, len(word)
        if block and word == text and len(_ROW_WORDS) < 100_000 and len(word) < 64:
            _ROW_WORDS[word] = (value, text_like)
        return value, len(word)

    @staticmethod
    def typed(word: str) -> tuple[str, Any]:
        found = _TYPED.get(word)
        if found is None:
            tag = _RESOLVER.resolve(yaml.ScalarNode, word, _PLAIN)  # type: ignore[no-untyped-call]
            if tag in (STR_TAG, TIMESTAMP_TAG) or (tag == INT_TAG and ":" in word):
                value: Any = word  # base-60 (16:9) is never what a user means: load.py's rule
            elif tag in CONSTRUCTORS:
                value = CONSTRUCTORS[tag](yaml.ScalarNode(tag, word))
            else:
                raise _Unsupported
            found = (tag, value)
            if len(_TYPED) < 100_000 and len(word) < 64:
                _TYPED[word] = found
        return found

    def mark(self, path: str, n: int, col: int) -> None:
        self.spans[path] = (n + 1, col + 1)


class _Flow:
    """One-line flow collections (``{a: 1, b: [x, "y"]}``) inside row ``n``'s ``text``."""

    def __init__(self, reader: _Reader, n: int, text: str) -> None:
        self.reader, self.n, self.text = reader, n, text

    def collection(self, path: str, at: int, col: int, depth: int) -> tuple[Any, int]:
        """The collection opening at ``text[at]`` (column ``col``) and the index after it."""
        if depth > MAX_DEPTH // 2:
            raise _Unsupported
        self.reader.mark(path, self.n, col)
        closer = "}" if self.text[at] == "{" else "]"
        if closer == "}" and (flat := self.pairs(path, at, col - at)) is not None:
            return flat
        result: Any = {} if closer == "}" else []
        i = self.skip(at + 1)
        if self.text[i:i + 1] == closer:
            return result, i + 1
        while True:
            i = self.entry(result, path, i, col - at, depth)
            i = self.skip(i)
            if self.text[i:i + 1] == closer:
                return result, i + 1
            if self.text[i:i + 1] != ",":
                raise _Unsupported
            i = self.skip(i + 1)

    def pairs(self, path: str, at: int, base: int) -> tuple[dict[str, Any], int] | None:
        """The mapping opening at ``text[at]`` when it maps plain keys to quoted texts with no
        escape or to plain words (``{mia: "Hi.", from: s1}``), quickly; None for any other,
        with nothing noted (the general walk reads it)."""
        text, i, n = self.text, at + 1, self.n + 1
        found: dict[str, Any] = {}
        notes: list[tuple[str, tuple[int, int], tuple[int, int], bool | None]] = []
        floats: list[tuple[str, float]] = []
        while True:
            pair = _PAIR.match(text, i)
            if pair is None or pair.group(1) in found or pair.group(1) == "<<":
                return None
            key, where = pair.group(1), f"{path}{SEP}{pair.group(1)}"
            quoted: bool | None = True
            if pair.group(2) is not None:
                found[key], start = pair.group(2), pair.start(2) - 1
            else:
                tag, found[key] = _Reader.typed(pair.group(3))
                start, quoted = pair.start(3), (False if tag in (STR_TAG, TIMESTAMP_TAG) else None)
                if tag == FLOAT_TAG and _noted(found[key]):
                    floats.append((where, found[key]))
            notes.append((where, (n, base + pair.start(1) + 1), (n, base + start + 1), quoted))
            i = pair.end()
            if pair.group(4) == "}":
                break
        self.note(notes, floats)
        return found, i

    def note(self, notes: list[tuple[str, tuple[int, int], tuple[int, int], bool | None]],
             floats: list[tuple[str, float]]) -> None:
        reader = self.reader
        for where, key_at, value_at, quoted in notes:
            reader.doc.key_spans[where] = key_at
            reader.spans[where] = value_at
            if quoted is not None:
                reader.quoted[where] = quoted
        reader.floats += floats

    def entry(self, into: Any, path: str, i: int, base: int, depth: int) -> int:
        if isinstance(into, dict):
            found = _FLOW_KEY.match(self.text, i)
            if found is None or found.start(1) != i:
                raise _Unsupported
            key = found.group(1)
            where = f"{path}{SEP}{key}"
            if key in into or key == "<<":
                raise _Unsupported
            self.reader.doc.key_spans[where] = (self.n + 1, base + i + 1)
            into[key], end = self.node(where, found.end(), base, depth)
            return end
        value, end = self.node(f"{path}{SEP}{len(into)}", i, base, depth)
        into.append(value)
        return end

    def node(self, path: str, i: int, base: int, depth: int) -> tuple[Any, int]:
        if i >= len(self.text):
            raise _Unsupported
        if self.text[i] in "[{":
            return self.collection(path, i, base + i, depth + 1)
        value, length = self.reader.scalar(path, self.n, base + i, self.text[i:], block=False)
        return value, i + length

    def skip(self, i: int) -> int:
        found = _SPACES.match(self.text, i)
        return found.end() if found else i
