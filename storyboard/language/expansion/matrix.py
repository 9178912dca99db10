"""A ``variations`` block into named combinations: matrix, exclude, include, name and the cap.

The rules are GitHub Actions' matrix rules: the combinations are the product of the axes in the
order written; an ``exclude`` entry removes every combination it matches (a partial match: each of
its keys equal); then each ``include`` entry extends every combination whose original axis values
it does not contradict, or, when it extends none, is added as a combination of its own. An axis
value is a scalar or a mapping; the axis' name becomes a template variable, a value's ``vars``
mapping adds variables, an axis (or a mapping key) named like a default (``ratio``,
``resolution``, ``duration``, ...) sets that default for the variation, and a ``provider`` axis
sets the provider (a name, or settings laid over the series' ``provider:``). A ``languages``
list in an axis' mapping value or an ``include`` entry narrows the series' ``languages`` for the
variations it is in (the original stays first), as an episode's does.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from storyboard.errors import Diagnostic
from storyboard.language.document import Document, PathKey
from storyboard.language.expansion.templatetext import TemplateProblem
from storyboard.language.read import schemacheck
from storyboard.language.read.schemacheck import did_you_mean
from storyboard.language.read.tags import suggestions

if TYPE_CHECKING:  # handed in by ``expand``, which makes it when a matrix is first expanded
    from storyboard.language.expansion.sandbox import Sandbox

DEFAULT_CAP = 1_000
DEFAULT_KEYS = ("model", "resolution", "ratio", "duration", "negative_prompt", "prompt_extend",
                "watermark", "seed")
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+=@-]{0,99}$")
ENUMERATION_FACTOR = 100  # combinations looked at before exclude, per allowed variation
MAX_VARIATIONS = 10_000  # the largest variations.max
LANGUAGE_AXIS = "language"  # a matrix axis whose values are the series' languages
LANGUAGES = "languages"  # a variation may narrow the series' languages (as an episode may)
DECLARED = "languages (declared)"  # a narrowed variation's series keeps the series' own list here
MAX_MATRIX_WORK = 2_000_000  # combinations times exclude (or include) entries to compare


@dataclass
class Combination:
    """One variation: its name, the values of its axes, its template variables and defaults."""

    name: str
    values: dict[str, Any]
    vars: dict[str, Any] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=dict)
    provider: dict[str, Any] = field(default_factory=dict)  # over the series' provider settings
    languages: tuple[str, ...] | None = None  # the series' languages this variation narrows to


@dataclass
class _Block:
    doc: Document
    problems: list[Diagnostic] = field(default_factory=list)

    def error(self, path: PathKey, message: str, *, key: bool = False) -> None:
        self.problems.append(self.doc.diagnostic(path, message, key=key))


def combinations(doc: Document, base_vars: dict[str, Any], sandbox: Sandbox
                 ) -> tuple[list[Combination], list[Diagnostic]]:
    """The series' variations, or every problem with its ``variations`` block."""
    block = doc.data.get("variations") if isinstance(doc.data, dict) else None
    if not isinstance(block, dict):
        return [], []
    state = _Block(doc)
    axes = _axes(state, block.get("matrix"))
    cap = _cap(state, block.get("max", DEFAULT_CAP))
    excludes = _entries(state, block, "exclude", axes)
    includes = _entries(state, block, "include", None)
    if not state.problems:
        _check_work(state, axes, cap, len(excludes), len(includes))
    if state.problems:
        return [], state.problems
    values = _enumerate(state, axes, excludes, cap)
    values = _include(values, includes, set(axes))
    if len(values) > cap:
        state.error(("variations",), f"more than {cap} variations; expected at most {cap} (the "
                    "cap: set variations.max to raise it, or exclude combinations)", key=True)
    elif not values and not state.problems:
        state.error(("variations",), "no variation is left (every combination is excluded); "
                    "expected at least one", key=True)
    if state.problems:
        return [], state.problems
    found = [_combination(state, block, v, base_vars, sandbox, list(axes)) for v in values]
    _check_defaults(state, found)
    state.problems += narrowing_problems(doc, block) + language_axis_problems(doc, block)
    _check_names(state, found)
    return found, state.problems


def _cap(state: _Block, cap: Any) -> int:
    if not isinstance(cap, int) or isinstance(cap, bool) or cap <= 0:
        return DEFAULT_CAP
    if cap > MAX_VARIATIONS:
        state.error(("variations", "max"), f"variations.max {cap:,} is over the cap of "
                    f"{MAX_VARIATIONS:,}; expected at most {MAX_VARIATIONS:,}")
    return cap


def _check_work(state: _Block, axes: dict[str, list[Any]], cap: int, excludes: int,
                includes: int) -> None:
    """The matrix size from its axes, before a combination is made: too many combinations, or
    too many to compare with the exclude and include entries, is an error at once."""
    size = math.prod(len(values) for values in axes.values()) if axes else 0
    if size > cap * ENUMERATION_FACTOR:
        state.error(("variations", "matrix"), f"the matrix has more than "
                    f"{cap * ENUMERATION_FACTOR:,} combinations; expected at most {cap} "
                    f"variations (it has {size:,}; the cap: set variations.max to raise it)")
    elif size * (1 + excludes) + (min(size, cap) + includes) * includes > MAX_MATRIX_WORK:
        state.error(("variations",), f"the matrix ({size:,} combinations) with {excludes:,} "
                    f"exclude and {includes:,} include entries takes more than "
                    f"{MAX_MATRIX_WORK:,} comparisons; expected fewer combinations or entries",
                    key=True)


def _axes(state: _Block, matrix: Any) -> dict[str, list[Any]]:
    if matrix is None:
        return {}
    if not isinstance(matrix, dict):
        state.error(("variations", "matrix"), "expected a mapping of axes to lists of values")
        return {}
    axes: dict[str, list[Any]] = {}
    for name, values in matrix.items():
        where = ("variations", "matrix", name)
        if not isinstance(values, list):
            state.error(where, f"matrix axis {name!r}: expected a list of values")
        elif not values:
            state.error(where, f"matrix axis {name!r} has no values; expected a list of at "
                               "least one value")
        else:
            axes[name] = values
    return axes


def _entries(state: _Block, block: dict[str, Any], key: str, axes: dict[str, list[Any]] | None
             ) -> list[dict[str, Any]]:
    entries = block.get(key) or []
    if not isinstance(entries, list):
        state.error(("variations", key), f"'{key}': expected a list of mappings")
        return []
    found = []
    for index, entry in enumerate(entries):
        where = ("variations", key, index)
        if not isinstance(entry, dict) or not entry:
            state.error(where, f"'{key}' entry: expected a mapping of axis names to values")
            continue
        for name in entry if axes is not None else ():
            if axes is not None and name not in axes:
                state.error((*where, name), f"exclude names an unknown axis {name!r}"
                            f"{did_you_mean(name, axes)}; expected one of the matrix axes: "
                            f"{', '.join(axes) or '(none)'}", key=True)
        found.append(entry)
    return found


def _enumerate(state: _Block, axes: dict[str, list[Any]], excludes: list[dict[str, Any]],
               cap: int) -> list[dict[str, Any]]:
    if not axes:
        return []
    kept = []
    names = list(axes)
    for looked, values in enumerate(itertools.product(*axes.values()), start=1):
        if looked > cap * ENUMERATION_FACTOR:
            state.error(("variations", "matrix"), f"the matrix has more than "
                        f"{cap * ENUMERATION_FACTOR:,} combinations; expected at most {cap} "
                        "variations (the cap: set variations.max to raise it)")
            return []
        combo = dict(zip(names, values, strict=True))
        if not any(_matches(combo, entry) for entry in excludes):
            kept.append(combo)
        if len(kept) > cap:
            break  # already over the cap; the caller says so
    return kept


def _matches(combo: dict[str, Any], entry: dict[str, Any]) -> bool:
    return all(k in combo and _same(combo[k], v) for k, v in entry.items())


def _same(value: Any, wanted: Any) -> bool:
    if value == wanted:
        return True
    return isinstance(value, dict) and not isinstance(wanted, dict) and value.get("name") == wanted


def _include(combos: list[dict[str, Any]], includes: list[dict[str, Any]],
             axes: set[str]) -> list[dict[str, Any]]:
    """GitHub Actions' include: extend each combination it fits, else add it on its own."""
    result = [dict(c) for c in combos]
    for entry in includes:
        fitted = False
        for combo, original in zip(result, combos, strict=False):
            if all(_same(original[k], v) for k, v in entry.items() if k in axes and k in original):
                combo.update(entry)
                fitted = True
        if not fitted:
            result.append(dict(entry))
    return result


def _combination(state: _Block, block: dict[str, Any], values: dict[str, Any],
                 base_vars: dict[str, Any], sandbox: Sandbox, axes: list[str]) -> Combination:
    scope = dict(base_vars)
    defaults: dict[str, Any] = {}
    for axis, value in values.items():
        scope[axis] = value
        if axis in DEFAULT_KEYS:
            defaults[axis] = value
        if isinstance(value, dict):
            extra = value.get("vars")
            scope.update(extra if isinstance(extra, dict) else {})
            defaults.update({k: v for k, v in value.items() if k in DEFAULT_KEYS})
    name = _name(state, block, values, scope, sandbox, axes)
    scope.setdefault("variation", name)
    return Combination(name, values, scope, defaults, provider=_provider(values),
                       languages=_languages(values))


def _languages(values: dict[str, Any]) -> tuple[str, ...] | None:
    """The languages a variation narrows the series' to: a ``languages`` list in an axis'
    mapping value or an ``include`` entry (the last said wins); None when none narrows."""
    found = None
    for key, value in values.items():
        said = value if key == LANGUAGES else \
            value.get(LANGUAGES) if isinstance(value, dict) else None
        if isinstance(said, list):
            found = tuple(tag for tag in said if isinstance(tag, str))
    return found


def narrowing_problems(doc: Document, block: dict[str, Any]) -> list[Diagnostic]:
    """Each ``languages`` a variation narrows to (in an axis' mapping value, or an ``include``
    entry) held to the series' ``languages``: a list of its tags, each at its line."""
    declared = _declared(doc)
    found = []
    for where, said in _narrowings(block):
        if not declared:
            found.append(doc.diagnostic((*where, LANGUAGES), "this variation narrows the "
                         "series' languages, and the series declares none; expected languages: "
                         "[ORIGINAL, ...] in storyboard.yaml first", key=True,
                         code="language-unknown"))
        elif not isinstance(said, list) or not said:
            found.append(doc.diagnostic((*where, LANGUAGES), "expected languages: a list of "
                                        f"the series' languages ({', '.join(declared)})"))
        else:
            found += [doc.diagnostic((*where, LANGUAGES, i), (
                f"{tag!r} is not one of the series' languages ({', '.join(declared)}); expected "
                "a subset of them (add it to the series' languages: to version into it)"),
                code="language-unknown") for i, tag in enumerate(said) if tag not in declared]
    return found


def language_axis_problems(doc: Document, block: dict[str, Any]) -> list[Diagnostic]:
    """Each value of the ``language`` axis (and each ``include`` entry's ``language``) held to
    the series' ``languages``, at its line: a value the series does not declare would make its
    variations plain ones, every shot rendered again, where a version was meant."""
    declared = _declared(doc)
    if not declared:
        return []  # no languages: ``language`` is an axis like any other
    found = []
    for where, value in _language_values(block):
        tag = value.get("name") if isinstance(value, dict) else value
        if isinstance(tag, str) and tag in declared:
            continue
        meant = [m for m in suggestions(tag) if m != tag] if isinstance(tag, str) else []
        hint = f" (did you mean {' / '.join(f'`{m}`' for m in meant)}?)" if meant else ""
        found.append(doc.diagnostic(where, (
            f"the matrix's language axis: {tag!r} is not one of the series' languages "
            f"({', '.join(declared)}){hint}; expected one of them, or add it to languages: "
            "to version into it"), code="language-unknown"))
    return found


def _declared(doc: Document) -> list[str]:
    """The series' own ``languages`` list (its tags), empty when it declares none."""
    series = doc.data.get(LANGUAGES) if isinstance(doc.data, dict) else None
    return [t for t in series if isinstance(t, str)] if isinstance(series, list) else []


def _language_values(block: dict[str, Any]) -> list[tuple[PathKey, Any]]:
    """Where a variation says its language (the ``language`` axis, an ``include`` entry's
    ``language``), and what it says."""
    matrix = block.get("matrix")
    values = matrix.get(LANGUAGE_AXIS) if isinstance(matrix, dict) else None
    found: list[tuple[PathKey, Any]] = [
        (("variations", "matrix", LANGUAGE_AXIS, i), v)
        for i, v in enumerate(values if isinstance(values, list) else [])]
    include = block.get("include")
    found += [(("variations", "include", i, LANGUAGE_AXIS), entry[LANGUAGE_AXIS])
              for i, entry in enumerate(include if isinstance(include, list) else [])
              if isinstance(entry, dict) and LANGUAGE_AXIS in entry]
    return found


def _narrowings(block: dict[str, Any]) -> list[tuple[PathKey, Any]]:
    """Where a variation narrows ``languages``, and what it says."""
    found: list[tuple[PathKey, Any]] = []
    matrix = block.get("matrix")
    for axis, values in matrix.items() if isinstance(matrix, dict) else ():
        found += [(("variations", "matrix", axis, i), v[LANGUAGES])
                  for i, v in enumerate(values if isinstance(values, list) else [])
                  if isinstance(v, dict) and LANGUAGES in v]
    include = block.get("include")
    found += [(("variations", "include", i), entry[LANGUAGES])
              for i, entry in enumerate(include if isinstance(include, list) else [])
              if isinstance(entry, dict) and LANGUAGES in entry]
    return found


def _provider(values: dict[str, Any]) -> dict[str, Any]:
    """What a ``provider`` axis (a name, or a mapping like the series' ``provider:``) sets."""
    value = values.get("provider")
    if isinstance(value, str):
        return {"name": value}
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k != "vars"}
    return {}


def _check_defaults(state: _Block, found: list[Combination]) -> None:
    """A default set by an axis (``ratio: "2:1"``) is checked like one written in ``defaults``."""
    seen: set[tuple[str, str]] = set()
    for combo in found:
        given = {**combo.defaults, **({"provider": combo.provider} if combo.provider else {})}
        for key, value in given.items():
            problem = schemacheck.check_default(key, value)
            if problem and (key, repr(value)) not in seen:
                seen.add((key, repr(value)))
                where = ("variations", "matrix", key) if key in state.doc.get(
                    ("variations", "matrix"), {}) else ("variations",)
                shown = value.get("name") if key == "provider" and len(value) == 1 else value
                state.error(where, f"matrix value {shown!r} for {key!r}: {problem}")


def _name(state: _Block, block: dict[str, Any], values: dict[str, Any], scope: dict[str, Any],
          sandbox: Sandbox, axes: list[str]) -> str:
    template = block.get("name")
    if not isinstance(template, str):
        ordered = [values[a] for a in axes if a in values] + \
                  [v for k, v in values.items() if k not in axes]
        return "-".join(_word(v) for v in ordered)
    try:
        return sandbox.render(template, scope).strip()
    except TemplateProblem as problem:
        state.problems.append(_located(state.doc, ("variations", "name"), problem))
        return "-".join(_word(v) for v in values.values())


def _word(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("name", "x")
    return re.sub(r"[^A-Za-z0-9._-]+", "-", str(value).replace(":", "x")).strip("-") or "x"


def _check_names(state: _Block, found: list[Combination]) -> None:
    seen: dict[str, Combination] = {}
    where = ("variations", "name") if "name" in state.doc.data["variations"] else ("variations",)
    for combo in found:
        if not SAFE_NAME.match(combo.name) or ".." in combo.name:
            state.error(where, f"variation name {combo.name!r} (from {_show(combo.values)}) is "
                        "not safe as a folder name; expected letters, digits, '.', '_', '-', "
                        "at most 100 characters, no '/' and no '..'", key=where[-1] == "variations")
        elif combo.name in seen:
            state.error(where, f"two variations are named {combo.name!r}: "
                        f"{_show(seen[combo.name].values)} and {_show(combo.values)}; expected "
                        "a unique name for each (use every axis in the name template)",
                        key=where[-1] == "variations")
        seen.setdefault(combo.name, combo)


def _show(values: dict[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: {_word(v)}" for k, v in values.items()) + "}"


def _located(doc: Document, path: PathKey, problem: TemplateProblem) -> Diagnostic:
    inside = f" (line {problem.line} of the value)" if problem.line and problem.line > 1 else ""
    return doc.diagnostic(path, problem.message + inside)
