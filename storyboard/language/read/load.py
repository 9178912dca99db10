"""YAML files into plain documents that remember where every value came from.

PyYAML's ``compose()`` gives nodes with marks; we turn them into plain Python values (dicts, lists,
strings, numbers) and keep a side table from each value's path (a tuple of keys and indices) to its
``Span``. Later stages work on plain data and ask the document where a path came from, so a problem
found anywhere is still reported at ``file:line:col``.

Loading is safe by construction: no tag outside YAML's core schema is accepted (``!!python/...`` is an
error, not an object), duplicate keys are errors, and aliases are followed with a budget so an alias
bomb is reported instead of expanded.
"""

from __future__ import annotations

import math
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from storyboard.errors import Diagnostic, Span
from storyboard.language.document import (
    COLLECTIONS,
    CONSTRUCTORS,
    FLOAT_TAG,
    INT_TAG,
    MAX_DEPTH,
    MAX_FILE_BYTES,
    MAX_NODES,
    MERGE,
    SCALAR_TAGS,
    SEP,
    STR_TAG,
    TIMESTAMP_TAG,
    Document,
)
from storyboard.language.read import plainyaml

try:  # libyaml is bundled with PyYAML's wheels; it is an order of magnitude faster
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

_TAGS: dict[tuple[str, tuple[bool, bool]], str] = {}  # a scalar's implicit tag, by its text


class _MemoLoader(_Loader):
    """The loader with each plain scalar's tag remembered by its text: PyYAML's resolver tries
    its regular expressions in Python for every scalar, and most keys and values repeat."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is not yaml.ScalarNode:
            return super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]
        key = (value, implicit)
        tag = _TAGS.get(key)
        if tag is None:
            tag = super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]
            if len(_TAGS) < 100_000 and len(value) < 64:
                _TAGS[key] = tag
        return tag

# libyaml's composer recurses in C: a bound on the depth under this is checked cheaply first, and
# only a text that could be deeper is scanned event by event (which does not recurse).
_SAFE_COMPOSE_DEPTH = 2000


class LoadError(Exception):
    """Raised inside the converter; carries diagnostics up to ``load_file``."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        super().__init__(diagnostics[0].message if diagnostics else "load error")


class _Converter:
    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.visited = 0
        self.problems: list[Diagnostic] = []
        self.floats: list[tuple[str, float]] = []

    @staticmethod
    def position(node: yaml.Node) -> tuple[int, int]:
        mark = node.start_mark
        return mark.line + 1, mark.column + 1

    def problem(self, node: yaml.Node, message: str) -> None:
        span = Span(self.doc.name, *self.position(node))
        self.problems.append(Diagnostic(span, message, "error", self.doc.line_text(span.line),
                                        "yaml-structure"))

    def convert(self, node: yaml.Node, path: str, depth: int = 0) -> Any:
        """``path`` is the value's ``path_key``, grown as the walk goes down."""
        self.visited += 1
        if self.visited > MAX_NODES:
            self.problem(node, f"this document expands to more than {MAX_NODES} values "
                               "(an alias bomb?); expected a plain storyboard")
            raise LoadError(self.problems)
        if depth > MAX_DEPTH:
            self.problem(node, _too_deep())
            raise LoadError(self.problems)
        mark = node.start_mark
        self.doc.spans[path] = (mark.line + 1, mark.column + 1)
        kind = node.__class__
        if kind is yaml.ScalarNode:
            return self.scalar(node, path)  # type: ignore[arg-type]
        if node.tag not in COLLECTIONS:
            self.problem(node, f"unsupported YAML tag {node.tag!r}; expected plain YAML values "
                               "(no language-specific tags)")
            return None
        if kind is yaml.MappingNode:
            return self.mapping(node, path, depth)  # type: ignore[arg-type]
        return [self.convert(item, f"{path}{SEP}{i}", depth + 1)
                for i, item in enumerate(node.value)]

    def scalar(self, node: yaml.ScalarNode, path: str) -> Any:
        tag = node.tag
        if tag in (STR_TAG, TIMESTAMP_TAG):
            style = node.style
            if node.start_mark.line == node.end_mark.line:
                if style in ("'", '"'):
                    self.doc.quoted[path] = True
                elif not style:  # plain: None from PyYAML's parser, "" from libyaml's
                    self.doc.quoted[path] = False
            return str(node.value)
        if tag not in SCALAR_TAGS:
            self.problem(node, f"unsupported YAML tag {tag!r}; expected plain YAML values "
                               "(no language-specific tags)")
            return None
        if tag == INT_TAG and ":" in node.value:
            return str(node.value)  # YAML 1.1 base-60 (16:9 -> 969) is never what a user means
        value = CONSTRUCTORS[tag](node)
        if tag == FLOAT_TAG and isinstance(value, float) and (
                value.is_integer() or not math.isfinite(value)):
            self.floats.append((path, value))
        return value

    def mapping(self, node: yaml.MappingNode, path: str, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in self.merged_pairs(node):
            if not isinstance(key_node, yaml.ScalarNode):
                self.problem(key_node, "a mapping key must be a plain word; expected a string key")
                continue
            key = str(key_node.value)
            if key in result:
                first_line = self.doc.key_spans[f"{path}{SEP}{key}"][0]
                self.problem(key_node, f"duplicate key {key!r} (first defined at line "
                                       f"{first_line}); expected each key once")
                continue
            where = f"{path}{SEP}{key}"
            self.doc.key_spans[where] = self.position(key_node)
            result[key] = self.convert(value_node, where, depth + 1)
        return result

    def merged_pairs(self, node: yaml.MappingNode) -> Iterator[tuple[yaml.Node, yaml.Node]]:
        """Mapping pairs with YAML merge keys (``<<: *base``) folded in; explicit keys win."""
        if not any(k.tag == MERGE for k, _ in node.value):
            yield from node.value  # the common case: no merge keys
            return
        explicit = [(k, v) for k, v in node.value if k.tag != MERGE]
        names = {k.value for k, _ in explicit if isinstance(k, yaml.ScalarNode)}
        for key_node, value_node in node.value:
            if key_node.tag != MERGE:
                continue
            sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            for source in sources:
                if not isinstance(source, yaml.MappingNode):
                    self.problem(source, "a merge key (<<) needs a mapping; expected *anchor")
                    continue
                for k, v in source.value:
                    if isinstance(k, yaml.ScalarNode) and k.value not in names:
                        names.add(k.value)
                        yield k, v
        yield from explicit


def _yaml_problem(doc: Document, exc: yaml.YAMLError) -> Diagnostic:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    message = f"invalid YAML: {problem}" + (f" ({context})" if context else "")
    if "maximum nesting depth" in str(problem):  # PyYAML 6.0.4 and later stop deep nesting first
        message = _too_deep()
    if mark is None:
        return Diagnostic(Span(doc.name, 1, 1), message, code="yaml-syntax")
    span = Span(doc.name, mark.line + 1, mark.column + 1)
    line = doc.line_text(span.line) or ""
    tab = line.find("\t")
    if tab >= 0 and (tab <= mark.column or not line[:tab].strip()):
        # PyYAML says "cannot start any token" for most tabs: name the real cause.
        span = Span(doc.name, span.line, tab + 1)
        message = ("invalid YAML: a tab character; YAML indents with spaces only, "
                   "expected spaces instead of the tab")
    return Diagnostic(span, message, "error", line, "yaml-syntax")


def _too_deep() -> str:
    return f"nested more than {MAX_DEPTH} levels deep; expected a plain storyboard"


def _depth_problem(doc: Document, text: str) -> Diagnostic | None:
    """Where ``text`` nests deeper than MAX_DEPTH, if it might (see _SAFE_COMPOSE_DEPTH). A block
    level starts at a greater column than its parent's (a sequence under a key: the same column,
    then its items two further), and a flow level needs a bracket: that bounds the depth."""
    longest = max(map(len, doc.lines), default=0)
    if text.count("[") + text.count("{") + 2 * longest + 2 <= _SAFE_COMPOSE_DEPTH:
        return None
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    mark = event.start_mark
                    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
                    span = Span(doc.name, line, column)
                    return Diagnostic(span, _too_deep(), "error", doc.line_text(span.line))
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError as exc:
        return _yaml_problem(doc, exc)
    return None


def parse(text: str, file: Path) -> tuple[Document, list[Diagnostic]]:
    """Parse YAML ``text`` (from ``file``) into a Document and the problems found on the way."""
    plain = plainyaml.parse(text, file)
    return (plain, []) if plain is not None else parse_general(text, file)


def parse_general(text: str, file: Path) -> tuple[Document, list[Diagnostic]]:
    """``parse`` through libyaml: any YAML, every problem reported."""
    doc = Document(file=file, data=None, lines=text.splitlines())
    deep = _depth_problem(doc, text)
    if deep is not None:
        return doc, [deep]
    try:
        root = yaml.compose(text, Loader=_MemoLoader)
    except yaml.YAMLError as exc:
        return doc, [_yaml_problem(doc, exc)]
    if root is None:
        doc.spans[""] = (1, 1)
        return doc, []
    converter = _Converter(doc)
    try:
        doc.data = converter.convert(root, "")
    except LoadError as exc:
        return doc, exc.diagnostics
    doc.floats = converter.floats
    return doc, converter.problems


def read_yaml_text(file: Path) -> str:
    """A YAML file's text: a regular file of at most MAX_FILE_BYTES, in UTF-8 (ValueError with
    what is wrong otherwise; the content is never quoted, it may not be ours to show)."""
    try:
        fd = os.open(file, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise ValueError(f"cannot read this file: {exc.strerror or exc}") from exc
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise ValueError("not a regular file; expected a YAML file")
        data = handle.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise ValueError(f"the file is over {MAX_FILE_BYTES // (1 << 20)} MiB; expected a "
                         "smaller YAML file (split long episodes into several files)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text (byte {exc.start}); expected a YAML file") from exc


def load_file(file: Path) -> tuple[Document, list[Diagnostic]]:
    """Read and parse one YAML file; an unreadable file is a diagnostic, not an exception."""
    try:
        text = read_yaml_text(file)
    except ValueError as exc:
        doc = Document(file=file, data=None, lines=[])
        return doc, [Diagnostic(Span(doc.name, 1, 1), str(exc), code="file-unreadable")]
    return parse(text, file)
