"""Template values and operations into sizes, measured before anything is built.

The sandbox (``sandbox``) asks here how long a string an operation is about to make: the text of a
value (``str`` of a list of lists can be far longer than the list), a ``~`` or ``+``, a ``%`` or
``str.format`` with widths, a ``tojson`` with an indent; and how deeply a template nests before the
parser (which recurses) ever sees it. Each answer is an upper estimate computed without making the
string, so a refusal costs microseconds, not gigabytes. An undefined value met inside a value
(``[missing]``, ``map(attribute='nope')``) is the undefined error, never ``[Undefined]`` in text.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Iterable, Mapping
from typing import Any

import jinja2
import markupsafe
from jinja2.utils import Namespace

MAX_NESTING = 24  # brackets inside brackets, or blocks inside blocks, in one template
MAX_TAG_TOKENS = 256  # tokens in one {{ ... }} or {% ... %}: operator, filter and attribute chains
# stay under CPython's 200 nested parentheses in the code Jinja generates
OPEN = {"lparen": "rparen", "lbracket": "rbracket", "lbrace": "rbrace"}
BLOCKS = frozenset({"for", "if", "macro", "call", "filter", "with", "autoescape", "block"})
_PRINTF = re.compile(r"%(?:\((?P<key>[^)]*)\))?[-+ #0]*(?P<width>\*|\d*)"
                     r"(?:\.(?P<precision>\*|\d*))?[hlL]?(?P<kind>.)", re.S)


class TooBig(Exception):
    """An operation would make more than the cap; the message says what and how much."""


def text_size(value: Any, limit: int) -> int:
    """About ``len(str(value))`` (an upper estimate), stopping once it passes ``limit``.

    Walks containers without recursion; an undefined value anywhere inside raises its error."""
    total, stack = 0, [(value, False)]
    while stack and total <= limit:
        item, nested = stack.pop()
        total += _own_size(item, nested)
        stack.extend((part, True) for part in _parts(item))
    return total


def _own_size(item: Any, nested: bool) -> int:
    if isinstance(item, jinja2.Undefined):
        str(item)  # a StrictUndefined (the sandbox's) raises its own message here
        raise jinja2.UndefinedError("an undefined value")
    if isinstance(item, str):
        return len(item) + (2 if nested else 0)
    if isinstance(item, bytes | bytearray):
        return 4 * len(item) + 14
    if isinstance(item, bool) or item is None:
        return 5
    if isinstance(item, int):
        return item.bit_length() * 3 // 10 + 2
    if isinstance(item, float):
        return 24
    if isinstance(item, Mapping | Namespace):
        return 14 + 4 * len(_attrs(item))
    if isinstance(item, list | tuple | set | frozenset):
        return 2 + 2 * len(item)
    return 64


def _attrs(item: Mapping[Any, Any] | Namespace) -> Mapping[Any, Any]:
    if isinstance(item, Namespace):
        found: Mapping[Any, Any] = object.__getattribute__(item, "_Namespace__attrs")
        return found
    return item


def _parts(item: Any) -> Iterable[Any]:
    if isinstance(item, str | bytes | bytearray):
        return ()
    if isinstance(item, Mapping | Namespace):
        attrs = _attrs(item)
        return [part for key, value in attrs.items() for part in (key, value)]
    if isinstance(item, list | tuple | set | frozenset):
        return item
    return ()


def check(size: int, limit: int, what: str) -> None:
    if size > limit:
        raise TooBig(f"{what} would make about {size:,} characters, over the cap of {limit:,}")


def concat(values: Iterable[Any], limit: int) -> str:
    """``~`` (and captured blocks): the joined text, measured before it is joined."""
    items = list(values)
    size = 0
    for value in items:
        size += text_size(value, limit)
        check(size, limit, "joining these texts")
    return "".join(str(value) for value in items)


def add(left: Any, right: Any, limit: int) -> Any:
    """``+`` with sequences measured first (``{% set s = s + s %}`` doubles)."""
    sized = (str, bytes, bytearray, list, tuple)
    if isinstance(left, sized) and isinstance(right, sized):
        check(len(left) + len(right), limit, "this '+'")
    return left + right


def printf(template: str, values: Any, limit: int) -> int:
    """How long ``template % values`` can be, from its specs' widths and the values' texts."""
    positional = values if isinstance(values, tuple) else (values,)
    index, size = 0, len(template)
    for spec in _PRINTF.finditer(template):
        for part in ("width", "precision"):
            if spec[part] == "*":
                size += _number(positional[index] if index < len(positional) else 0)
                index += 1
            elif spec[part]:
                size += int(spec[part]) if len(spec[part]) < 12 else limit + 1
        if spec["kind"] == "%":
            continue
        if spec["key"] is not None and isinstance(values, Mapping):
            size += text_size(values.get(spec["key"], ""), limit)
        else:
            size += text_size(positional[index] if index < len(positional) else values, limit)
            index += 1
        if size > limit:
            break
    return size


def str_format(template: str, args: tuple[Any, ...], kwargs: Mapping[str, Any],
               limit: int) -> int:
    """How long ``template.format(*args, **kwargs)`` can be (nested widths count as the largest
    number given)."""
    size, auto = 0, 0
    for literal, name, spec, _ in string.Formatter().parse(template):
        size += len(literal)
        if name is None:
            continue
        key = re.split(r"[.\[]", name, maxsplit=1)[0]
        if key == "":
            key, auto = str(auto), auto + 1
        found = args[int(key)] if key.isdigit() and int(key) < len(args) else kwargs.get(key, "")
        size += text_size(found, limit) + _spec_width(spec or "", args, kwargs, limit)
        if size > limit:
            break
    return size


def _spec_width(spec: str, args: tuple[Any, ...], kwargs: Mapping[str, Any], limit: int) -> int:
    if "{" in spec:  # a nested field: as wide as the largest number given
        return max((_number(v) for v in (*args, *kwargs.values())), default=0) * 2
    return sum(int(n) if len(n) < 12 else limit + 1 for n in re.findall(r"\d+", spec))


def _number(value: Any) -> int:
    return abs(value) if isinstance(value, int) and not isinstance(value, bool) else 0


def tojson(value: Any, indent: Any, limit: int) -> markupsafe.Markup:
    """The ``tojson`` filter, streamed: it stops as soon as the text passes ``limit``."""
    text_size(value, limit)  # an undefined value inside is its own error
    encoder = json.JSONEncoder(indent=indent, sort_keys=True)
    pieces, size = [], 0
    for piece in encoder.iterencode(value):
        size += len(piece)
        check(size, limit, "tojson")
        pieces.append(piece)
    text = "".join(pieces)
    return markupsafe.Markup(text.replace("<", "\\u003c").replace(">", "\\u003e")
                             .replace("&", "\\u0026").replace("'", "\\u0027"))


def nesting(tokens: Iterable[tuple[int, str, str]]) -> tuple[int, str] | None:
    """The first place a template nests deeper than the caps (line, what), else None: checked
    on the lexer's tokens, before the parser (which recurses) sees them."""
    brackets: list[str] = []
    blocks, in_tag, previous = 0, 0, ""
    for line, kind, value in tokens:
        in_tag = 0 if kind in ("block_begin", "variable_begin") else in_tag + 1
        if in_tag > MAX_TAG_TOKENS:
            return line, f"more than {MAX_TAG_TOKENS} tokens in one tag"
        if kind in OPEN:
            brackets.append(OPEN[kind])
        elif brackets and kind == brackets[-1]:
            brackets.pop()
        if previous == "block_begin" and kind == "name":
            blocks += 1 if value in BLOCKS else -1 if value.startswith("end") else 0
        if len(brackets) > MAX_NESTING or blocks > MAX_NESTING:
            return line, f"nested more than {MAX_NESTING} levels deep"
        previous = kind
    return None
