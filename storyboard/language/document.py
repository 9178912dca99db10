"""Parsed YAML into documents: plain data plus where every value came from.

A ``Document`` is what ``load.parse`` (through ``plainyaml`` or libyaml) makes of one file and what
every later stage reads; its paths, span tables and YAML's core scalar tags live here, below both
parsers.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from storyboard.errors import Diagnostic, Span

PathKey = tuple[str | int, ...]
SEP = "\x1f"  # joins a path into one string key: cheap to build, to store as JSON and to load


def path_key(path: PathKey) -> str:
    """The span tables' key for ``path``: ``("shots", 0)`` is ``"\x1fshots\x1f0"``."""
    return "".join(f"{SEP}{part}" for part in path)

MAX_NODES = 200_000  # more than any real series; an alias bomb hits it quickly
MAX_DEPTH = 64  # a storyboard nests about 8 deep
MAX_FILE_BYTES = 1 << 20  # 1 MiB of YAML holds thousands of shots; split bigger episodes
CORE = "tag:yaml.org,2002:"
SCALAR_TAGS = {f"{CORE}{t}" for t in ("str", "int", "float", "bool", "null", "timestamp")}

MERGE = f"{CORE}merge"
STR_TAG, TIMESTAMP_TAG, INT_TAG, FLOAT_TAG = (f"{CORE}{t}" for t in ("str", "timestamp", "int", "float"))
COLLECTIONS = {f"{CORE}map", f"{CORE}seq"}
_constructor = yaml.constructor.SafeConstructor()
CONSTRUCTORS = {  # a core tag's value from its text (str and timestamp stay text)
    f"{CORE}int": _constructor.construct_yaml_int,
    f"{CORE}float": _constructor.construct_yaml_float,
    f"{CORE}bool": _constructor.construct_yaml_bool,
    f"{CORE}null": _constructor.construct_yaml_null,
}


def display_path(path: Path) -> str:
    """A path as users typed it: relative to the working directory when it is below it."""
    try:
        return str(Path(path).relative_to(Path.cwd()))
    except ValueError:  # outside the working directory: the full path is clearer than ../../
        return str(path)


@dataclass
class Document:
    """One YAML file as plain data plus where each value and key came from."""

    file: Path
    data: Any
    lines: list[str]
    # (line, col) pairs by path_key, made into Spans only when asked: most values are never
    # reported on
    spans: dict[str, Sequence[int]] = field(default_factory=dict)
    key_spans: dict[str, Sequence[int]] = field(default_factory=dict)
    quoted: dict[str, bool] = field(default_factory=dict)  # single-line quoted strings
    # each float that is not finite or has no fraction (what the schema check looks at), by
    # path_key, noted while parsing; None: not known (walk the data)
    floats: list[tuple[str, float]] | None = None
    # the parse cache's key of the text this came from, as parsed ("": made by a later stage,
    # such as a rendered template; ``incremental`` reuses only what a document's text decides)
    digest: str = ""

    @functools.cached_property
    def name(self) -> str:
        return display_path(self.file)

    def span(self, path: PathKey, *, key: bool = False) -> Span:
        """The nearest known span for ``path`` (walking up to a parent if needed)."""
        table = self.key_spans if key else self.spans
        probe = tuple(path)
        while probe:
            where = path_key(probe)
            found = table.get(where) or self.spans.get(where)
            if found:
                return Span(self.name, found[0], found[1])
            probe = probe[:-1]
        line, col = self.spans.get("", (1, 1))
        return Span(self.name, line, col)

    def text_span(self, path: PathKey, offset: int) -> Span:
        """The span of character ``offset`` inside the string at ``path`` (one-line scalars)."""
        base = self.span(path)
        where = path_key(path)
        shift = 1 if self.quoted.get(where) else 0
        if where in self.quoted:
            return Span(base.file, base.line, base.col + shift + offset)
        return base

    def diagnostic(self, path: PathKey, message: str, *, key: bool = False,
                   severity: str = "error", span: Span | None = None,
                   code: str = "") -> Diagnostic:
        where = span or self.span(path, key=key)
        return Diagnostic(where, message, severity, self.line_text(where.line),  # type: ignore[arg-type]
                          code)

    def line_text(self, line: int) -> str | None:
        return self.lines[line - 1] if 0 < line <= len(self.lines) else None

    def get(self, path: PathKey, default: Any = None) -> Any:
        value = self.data
        for part in path:
            try:
                value = value[part]
            except (KeyError, IndexError, TypeError):
                return default
        return value
