"""Template strings into values, safely: Jinja2's immutable sandbox with every cost capped.

The sandbox (Jinja2 >= 3.1.6) stops a template from reaching Python's internals (``__class__``,
``str.format``, ``|attr('format')``), there is no loader a template could name, and nothing is
autoescaped. It does not stop a denial of service, so this module adds the caps: ``*`` and ``**``
(and ``%`` formatting) are intercepted and refused when the result would be too large, every
number passed to a call or a filter is bounded, every loop step and every call is counted against
a budget per value and a budget for the whole expansion, and rendered text is capped as it streams.
A template that hits a cap is an error that names the cap, never a hang.
"""

from __future__ import annotations

import functools
import re
import shlex
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import jinja2
from jinja2 import meta, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.visitor import NodeTransformer

from storyboard.errors import StoryboardError
from storyboard.language.expansion import caps
from storyboard.language.expansion.templatetext import MISSING, TemplateProblem, identity

MAX_VALUE_CHARS = 20_000  # one rendered value (a prompt may have at most 5,000 characters)
MAX_TOTAL_CHARS = 50_000_000  # everything one expansion renders
MAX_VALUE_STEPS = 100_000  # loop steps and calls while rendering one value
MAX_TOTAL_STEPS = 5_000_000  # loop steps and calls for the whole expansion
MAX_VALUE_MADE = 2_000_000  # characters (and items) the operations of one value make in all
MAX_INT_BITS = 4_096  # the largest integer a template may make (about 1,200 digits)
MAX_ARGUMENT = MAX_VALUE_CHARS  # the largest size a call or a filter may be given
# calls whose number arguments are sizes of what they make (filters: every argument but the value)
SIZED_CALLS = frozenset({"ljust", "rjust", "center", "zfill", "expandtabs", "range"})
TICK = "storyboard_loop_step"
CONCAT = "storyboard_concat"
# filters that do not turn their value into text (the others have its text measured first)
STRUCTURAL = frozenset({"length", "count", "first", "last", "random", "default", "d", "batch",
                        "slice", "select", "reject", "selectattr", "rejectattr", "map", "groupby",
                        "unique", "sort", "dictsort", "items", "list", "reverse", "min", "max",
                        "int", "float", "abs", "round", "attr", "join"})  # join: _growth
MIN_JINJA = (3, 1, 6)  # earlier releases let a template escape through str.format and |attr
_FORMAT_WIDTH = re.compile(r"%[-+ #0]*(\d*)(?:\.(\d+))?")


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


class CapExceeded(Exception):
    """A template reached one of the caps above (or printed a function); the message says which."""


@dataclass
class Meter:
    """Loop steps, calls and characters: for the value being rendered and for the whole run."""

    steps: int = 0
    total_steps: int = 0
    total_chars: int = 0
    made: int = 0  # characters and items made while rendering this value (memory held at once)

    def make(self, result: Any) -> Any:
        """``result`` (each one under the cap already) counted against the value's making cap, so
        many capped strings (``map('upper')`` over a long list) cannot add up to gigabytes."""
        self.made += _size(result) or 0
        if self.made > MAX_VALUE_MADE:
            raise CapExceeded(f"this value makes more than {MAX_VALUE_MADE:,} characters and items "
                              "in all (the cap on one value's memory)")
        return result

    def step(self) -> None:
        self.steps += 1
        self.total_steps += 1
        if self.steps > MAX_VALUE_STEPS:
            raise CapExceeded(f"this value takes more than {MAX_VALUE_STEPS:,} loop steps and "
                              "calls (the cap on one value's work)")
        if self.total_steps > MAX_TOTAL_STEPS:
            raise CapExceeded(f"the templates take more than {MAX_TOTAL_STEPS:,} loop steps and "
                              "calls in all (the cap on the total work)")


def _check_number(value: Any) -> None:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_ARGUMENT:
        raise CapExceeded(f"the number {_short(value)} is over the cap of {MAX_ARGUMENT:,} "
                          "for an argument")


def _short(value: int) -> str:
    text = str(value) if value.bit_length() < 200 else f"2**{value.bit_length() - 1}"
    return text if len(text) <= 20 else text[:17] + "..."


def _size(value: Any) -> int | None:
    return len(value) if isinstance(value, str | bytes | bytearray | list | tuple) else None


def _checked_multiply(left: Any, right: Any) -> Any:
    for seq, count in ((left, right), (right, left)):
        size = _size(seq)
        if size is not None and isinstance(count, int) and size * max(count, 0) > MAX_VALUE_CHARS:
            raise CapExceeded(f"repeating {size} item(s) {_short(count)} times is over the cap "
                              f"of {MAX_VALUE_CHARS:,}")
    if _both_ints(left, right) and left.bit_length() + right.bit_length() > MAX_INT_BITS:
        raise CapExceeded(f"this product has more than {MAX_INT_BITS} bits (the cap on numbers)")
    return left * right


def _checked_power(left: Any, right: Any) -> Any:
    if _both_ints(left, right) and right > 0 and abs(left) > 1 and \
            (abs(left).bit_length() - 1) * right > MAX_INT_BITS:
        raise CapExceeded(f"{_short(left)} ** {_short(right)} has more than {MAX_INT_BITS} bits "
                          "(the cap on numbers)")
    if isinstance(right, int | float) and abs(right) > MAX_ARGUMENT:
        raise CapExceeded(f"the exponent {right} is over the cap of {MAX_ARGUMENT:,}")
    return left**right


def _checked_modulo(left: Any, right: Any) -> Any:
    if isinstance(left, str):
        for width, precision in _FORMAT_WIDTH.findall(left):
            for number in (width, precision):
                if number and int(number) > MAX_VALUE_CHARS:
                    raise CapExceeded(f"a format width of {number} is over the cap of "
                                      f"{MAX_VALUE_CHARS:,}")
        _check_size(caps.printf(left, right, MAX_VALUE_CHARS))
    return left % right


def _checked_add(left: Any, right: Any) -> Any:
    return caps.add(left, right, MAX_VALUE_CHARS)


def _both_ints(left: Any, right: Any) -> bool:
    return all(isinstance(v, int) and not isinstance(v, bool) for v in (left, right))


def _format(value: Any, *args: Any, **kwargs: Any) -> str:
    """The ``format`` filter (printf style) with the same width check as ``%``."""
    return str(_checked_modulo(str(value), kwargs or args))


def _tojson(value: Any, indent: int | None = None) -> str:
    """The ``tojson`` filter, streamed under the cap (an indent repeats on every line)."""
    try:
        return caps.tojson(value, indent, MAX_VALUE_CHARS)
    except caps.TooBig as exc:
        raise CapExceeded(str(exc)) from exc


_BINOPS: dict[str, Callable[[Any, Any], Any]] = {
    "*": _checked_multiply, "**": _checked_power, "%": _checked_modulo, "+": _checked_add}


def passes_first(function: Callable[..., Any]) -> bool:
    """Whether jinja2 hands ``function`` its context, eval context or environment first (the
    ``jinja_pass_arg`` mark its ``pass_context`` decorators set)."""
    return getattr(function, "jinja_pass_arg", None) is not None


def _bounded_filter(meter: Meter, function: Callable[..., Any], *, numbers: bool = True,
                    name: str = "") -> Callable[..., Any]:
    """A filter that pays a step and refuses a size argument over the cap (``center(10**9)``);
    the value being filtered may be any number (``{{ 123456 | string }}``)."""
    skip = 2 if passes_first(function) else 1  # context/environment, value

    @functools.wraps(function)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        meter.step()
        for value in (*args[skip:], *kwargs.values()) if numbers else ():
            _check_number(value)
        value = args[skip - 1] if len(args) >= skip else None
        if name not in STRUCTURAL:  # its text is measured before it is made
            _check_size(caps.text_size(value, MAX_VALUE_CHARS))
        _check_size(_growth(function.__name__, value, args[skip:], kwargs, filtered=True))
        return meter.make(_checked_result(function(*args, **kwargs)))
    return bounded


def _growth(name: str, target: Any, args: tuple[Any, ...], kwargs: dict[str, Any], *,
            filtered: bool) -> int:
    """The size a call is about to make, for the calls that can multiply sizes (0: no estimate).

    ``replace`` and ``join`` of values that are each under the cap can still make a result of
    the cap squared; ``indent`` adds its width to every line."""
    base = name.removeprefix("do_")
    if base == "replace" and isinstance(target, str) and len(args) >= 2 and \
            isinstance(args[0], str) and isinstance(args[1], str):
        hits = target.count(args[0]) if args[0] else len(target) + 1
        return len(target) + hits * max(0, len(args[1]) - len(args[0]))
    if base == "join":
        items, sep = (target, args[0] if args else kwargs.get("d", "")) if filtered else \
            (args[0] if args else (), target)
        if isinstance(items, str | list | tuple) and isinstance(sep, str):
            return sum(caps.text_size(i, MAX_VALUE_CHARS) for i in items) + \
                len(sep) * max(0, len(items) - 1)
    if base == "indent" and isinstance(target, str):
        width = args[0] if args else kwargs.get("width", 4)
        size = len(width) if isinstance(width, str) else width if isinstance(width, int) else 0
        return len(target) + size * (target.count("\n") + 1)
    return _more_growth(base, target, args, kwargs)


def _more_growth(base: str, target: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
    """``wordwrap`` adds its wrap string at every break; ``sum`` of sequences joins them."""
    if base == "wordwrap" and isinstance(target, str):
        width = args[0] if args else kwargs.get("width", 79)
        wrap = args[3] if len(args) > 3 else kwargs.get("wrapstring") or "\n"
        breaks = len(target) // max(width, 1) + 1 if isinstance(width, int) else 0
        return len(target) + breaks * (len(wrap) if isinstance(wrap, str) else 0)
    if base == "sum" and isinstance(target, list | tuple):
        return sum(_size(item) or 0 for item in target)
    return 0


def _check_size(size: int) -> None:
    if size > MAX_VALUE_CHARS:
        raise CapExceeded(f"this would make {size:,} characters or items, over the cap of "
                          f"{MAX_VALUE_CHARS:,}")


def _checked_result(result: Any) -> Any:
    """A last check on what a call made (a string or a list over the cap stops here)."""
    size = _size(result)
    if size is not None:
        _check_size(size)
    return result


class Sandbox(ImmutableSandboxedEnvironment):
    """The one Jinja environment: immutable sandbox, strict undefined, no loader, no autoescape."""

    intercepted_binops = frozenset(_BINOPS)

    def __init__(self) -> None:
        if _version(jinja2.__version__) < MIN_JINJA:
            raise StoryboardError(f"jinja2 {jinja2.__version__} has known sandbox escapes; "
                                  "expected jinja2 >= 3.1.6 (into this environment: "
                                  f"{shlex.quote(sys.executable)} -m pip install -U "
                                  "'jinja2>=3.1.6')")
        super().__init__(undefined=jinja2.StrictUndefined, autoescape=False, loader=None,
                         keep_trailing_newline=True, cache_size=0, finalize=_printable)
        self.meter = Meter()
        self.globals = {"range": self.globals["range"], "dict": dict,
                        "namespace": self.globals["namespace"], TICK: self._loop}
        self.filters = {name: _bounded_filter(self.meter, f, name=name)
                        for name, f in self.filters.items()
                        if name != "attr"}  # attribute access goes through the sandbox's checks
        self.filters["format"] = _bounded_filter(self.meter, _format, numbers=False)
        self.filters["tojson"] = _bounded_filter(self.meter, _tojson, numbers=True,
                                                 name="tojson")
        self.globals[CONCAT] = self._concat
        self.concat = self._concat  # type: ignore[method-assign]  # what captured blocks join
        self.compiled: dict[str, jinja2.Template] = {}
        self.names: dict[str, tuple[str, ...]] = {}  # the variables each text uses
        self.rendered: dict[tuple[Any, ...], str] = {}

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        self.meter.step()
        return self.meter.make(_BINOPS[operator](left, right))

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        __self.meter.step()
        name = getattr(__obj, "__name__", "")
        if name in SIZED_CALLS:
            for value in (*args, *kwargs.values()):
                _check_number(value)
        _check_size(_growth(name, getattr(__obj, "__self__", None), args, kwargs,
                            filtered=False))
        return __self.meter.make(_checked_result(super().call(__context, __obj, *args, **kwargs)))

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """``str.format`` and ``format_map``, measured (widths, values) before they format."""
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        template, is_map = value.__self__, value.__name__ == "format_map"

        @functools.wraps(wrapped)
        def measured(*args: Any, **kwargs: Any) -> str:
            if is_map:
                mapping = args[0] if len(args) == 1 and isinstance(args[0], dict) else {}
                _check_size(caps.str_format(template, (), mapping, MAX_VALUE_CHARS))
            else:
                _check_size(caps.str_format(template, args, kwargs, MAX_VALUE_CHARS))
            return wrapped(*args, **kwargs)
        return measured

    def _concat(self, values: Iterable[Any]) -> str:
        try:
            joined = caps.concat(values, MAX_VALUE_CHARS)
        except caps.TooBig as exc:
            raise CapExceeded(str(exc)) from exc
        self.meter.make(joined)
        return joined

    def _loop(self, iterable: Iterable[Any]) -> Iterator[Any]:
        for item in iterable:
            self.meter.step()
            yield item

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        """Every ``{% for %}`` iterates through a counter, so loops pay into the budget too, and
        every ``~`` joins through ``_concat``; the nesting is checked before the parser runs."""
        deep = caps.nesting((t.lineno, t.type, t.value)
                            for t in self._tokenize(source, name, filename))
        if deep is not None:
            raise TemplateProblem(f"the template is {deep[1]} (the cap on nesting)", deep[0])
        tree: nodes.Template = _Concats(self).visit(super()._parse(source, name, filename))
        for loop in tree.find_all(nodes.For):
            counted = nodes.Call(nodes.Name(TICK, "load"), [loop.iter], [], None, None)
            loop.iter = counted.set_lineno(loop.lineno).set_environment(self)
        return tree

    def template(self, text: str) -> jinja2.Template:
        found = self.compiled.get(text)
        if found is None:
            try:
                found = self.from_string(text)
                names = meta.find_undeclared_variables(self.parse(text))
            except jinja2.TemplateSyntaxError as exc:
                raise TemplateProblem(f"template syntax error: {exc.message}", exc.lineno) from exc
            except (RecursionError, MemoryError, SyntaxError) as exc:  # behind caps.nesting
                raise TemplateProblem("the template is nested too deeply to read (the cap on "
                                      "nesting)") from exc
            self.compiled[text] = found
            self.names[text] = tuple(sorted(names))
        return found

    def names_of(self, text: str) -> tuple[str, ...]:
        """The variables ``text`` uses (a TemplateProblem if it does not compile)."""
        self.template(text)
        return self.names[text]

    def render(self, text: str, scope: dict[str, Any]) -> str:
        """``text`` rendered over ``scope``; a TemplateProblem says why not (and where inside).

        Remembered by the values of the names the text uses: the variations of a matrix render
        the same text over the same values again and again (a hook that names no product)."""
        template = self.template(text)
        key = (text, *(identity(scope.get(name, MISSING)) for name in self.names[text]))
        found = self.rendered.get(key)
        if found is None:
            found = self.rendered[key] = self._render(template, scope)
        return found

    def _render(self, template: jinja2.Template, scope: dict[str, Any]) -> str:
        self.meter.steps = self.meter.made = 0
        pieces: list[str] = []
        length = 0
        try:
            for piece in template.generate(scope):
                length += len(piece)
                if length > MAX_VALUE_CHARS:
                    raise CapExceeded(f"the rendered value is longer than {MAX_VALUE_CHARS:,} "
                                      "characters (the cap on one value)")
                pieces.append(piece)
        except (CapExceeded, caps.TooBig) as exc:
            raise TemplateProblem(str(exc), _template_line(exc)) from exc
        except jinja2.UndefinedError as exc:
            raise TemplateProblem(_undefined(exc, scope), _template_line(exc)) from exc
        except jinja2.exceptions.SecurityError as exc:
            raise TemplateProblem(f"not allowed in a template: {exc}",
                                  _template_line(exc)) from exc
        except jinja2.TemplateError as exc:
            raise TemplateProblem(f"template error: {exc}", _template_line(exc)) from exc
        except (ArithmeticError, TypeError, ValueError, LookupError, RecursionError) as exc:
            raise TemplateProblem(f"template error: {type(exc).__name__}: {exc}",
                                  _template_line(exc)) from exc
        self.meter.total_chars += length
        if self.meter.total_chars > MAX_TOTAL_CHARS:
            raise TemplateProblem(f"the templates render more than {MAX_TOTAL_CHARS:,} "
                                  "characters in all (the cap on the total work)")
        return "".join(pieces)


class _Concats(NodeTransformer):
    """``a ~ b`` into ``storyboard_concat([a, b])``: measured before the text is joined."""

    def __init__(self, environment: Sandbox) -> None:
        self.environment = environment

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        parts = [self.visit(part) for part in node.nodes]
        call = nodes.Call(nodes.Name(CONCAT, "load"), [nodes.List(parts)], [], None, None)
        return call.set_lineno(node.lineno).set_environment(self.environment)


def _printable(value: Any) -> Any:
    if callable(value) and not isinstance(value, jinja2.Undefined):
        raise CapExceeded("a template may print text and numbers, not a function or a method")
    _check_size(caps.text_size(value, MAX_VALUE_CHARS))  # and nothing inside is undefined
    return value


def _undefined(exc: jinja2.UndefinedError, scope: dict[str, Any]) -> str:
    text = str(exc.message or exc)
    if not text.endswith("is undefined"):  # 'dict object' has no attribute 'x'
        return f"{text}; expected a key or attribute the value has"
    return (f"{text.replace('is undefined', 'is not defined')}; expected a name defined in "
            f"'vars', a matrix axis or a template parameter ({_names(scope)})")


def _names(scope: dict[str, Any]) -> str:
    shown = sorted(k for k in scope if not k.startswith("_"))
    return "defined: " + (", ".join(shown[:12]) + (", ..." if len(shown) > 12 else "")
                          if shown else "none")


def _template_line(exc: BaseException) -> int | None:
    """The line inside the template where ``exc`` happened (Jinja maps frames to '<template>')."""
    line = None
    trace = exc.__traceback__
    while trace is not None:
        if trace.tb_frame.f_code.co_filename == "<template>":
            line = trace.tb_lineno
        trace = trace.tb_next
    return line
