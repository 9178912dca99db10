"""Documents into one series per variation: Jinja values over ``vars``, the matrix, shot templates.

Each string scalar (and each key that holds a template) is rendered on its own, after parsing,
by the sandbox in ``sandbox``, so a problem is reported at the scalar's ``file:line:col`` (plus
the line inside it). Only the values
that hold a template are rebuilt; everything else is shared between variations, and a series with
no template at all passes through unchanged. ``vars`` and ``variations`` are not rendered: they are
what the rest is rendered with. A series without ``variations`` is one variation named ``None``.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from storyboard.errors import Diagnostic, ProblemsFound, Span, StoryboardError
from storyboard.language.document import SEP, Document, PathKey, path_key
from storyboard.language.expansion.matrix import DECLARED, Combination, combinations
from storyboard.language.expansion.templates import Library, expand_uses
from storyboard.language.expansion.templatetext import MISSING, TemplateProblem, identity, is_template
from storyboard.language.read.schemacheck import did_you_mean
from storyboard.language.read.series import EpisodeSource, Source
from storyboard.targets.kinds import named

if TYPE_CHECKING:  # Jinja2 is imported when a template is first rendered (``Renderer.sandbox``)
    from storyboard.language.expansion.sandbox import Sandbox

UNRENDERED = frozenset({"vars", "variations"})  # what values are rendered with, not rendered
BLOCK_INDICATORS = ("|", ">", "|-", ">-", "|+", ">+")


@dataclass
class Variation:
    name: str | None  # None: the series has no matrix
    vars: dict[str, Any]
    source: Source
    values: dict[str, Any] = field(default_factory=dict)  # the matrix axes' values


@dataclass
class Expansion:
    variations: list[Variation]
    problems: list[Diagnostic]  # problems that stop every variation (the matrix itself)
    matrix: bool = False
    names: list[str] = field(default_factory=list)  # every variation, selected or not


class _Hot:
    """Which paths of a document hold a template (computed once per document)."""

    def __init__(self) -> None:
        self.paths: dict[int, tuple[frozenset[str], dict[str, bool]]] = {}

    def of(self, doc: Document) -> tuple[frozenset[str], dict[str, bool]]:
        found = self.paths.get(id(doc)) or doc.__dict__.get("_hot")  # kept on a parsed document
        if found is None:
            hot: set[str] = set()
            if not (doc.digest and _no_template_in(doc.lines)):
                _collect(doc.data, "", hot, top=True)
            quoted = {k: v for k, v in doc.quoted.items() if k not in hot}
            found = self.paths[id(doc)] = (frozenset(hot), quoted)
            if doc.digest:  # its text decides it: the next check of the same text reuses it
                doc.__dict__["_hot"] = found
        return found


def _no_template_in(lines: list[str]) -> bool:
    """Whether no value or key parsed from ``lines`` can hold a template: their text has no
    ``{{``, ``{%`` or ``{#``, and no backslash (a double-quoted escape could spell one). Folding
    joins lines with a space or a line break, so none is made across lines."""
    text = "\n".join(lines)
    return "\\" not in text and not ("{{" in text or "{%" in text or "{#" in text)


def _collect(value: Any, where: str, hot: set[str], top: bool = False) -> bool:
    if isinstance(value, str):
        found = is_template(value)
    elif isinstance(value, dict):
        found = False
        for key, item in value.items():
            if not (top and key in UNRENDERED):
                found = _collect(item, f"{where}{SEP}{key}", hot) or is_template(key) or found
    elif isinstance(value, list):
        found = False
        for index, item in enumerate(value):
            found = _collect(item, f"{where}{SEP}{index}", hot) or found
    else:
        return False
    if found:
        hot.add(where)
    return found


class Renderer:
    """Renders the templated values of documents, collecting located problems."""

    def __init__(self, sandbox: Sandbox | None = None) -> None:
        self._sandbox = sandbox
        self.hot = _Hot()
        self.used: dict[tuple[int, PathKey], tuple[str, ...] | None] = {}
        self.subtrees: dict[tuple[Any, ...], Any] = {}

    @property
    def sandbox(self) -> Sandbox:
        """The sandbox that renders, made when first needed: a series with no template never
        imports Jinja2."""
        if self._sandbox is None:
            from storyboard.language.expansion.sandbox import Sandbox
            self._sandbox = Sandbox()
        return self._sandbox

    def document(self, doc: Document, scope: dict[str, Any], problems: list[Diagnostic],
                 note: str = "") -> Document:
        hot, quoted = self.hot.of(doc)
        if not hot:
            return doc
        data = self.tree(doc, doc.data, (), "", hot, scope, problems, note)
        rendered = Document(file=doc.file, data=data, lines=doc.lines, spans=doc.spans,
                            key_spans=doc.key_spans, quoted=quoted)
        rendered.__dict__["name"] = doc.name  # the cached display name
        return rendered

    def subtree(self, doc: Document, path: PathKey, scope: dict[str, Any],
                problems: list[Diagnostic], note: str = "") -> Any:
        """The value at ``path`` of ``doc``, rendered (shot templates render shot by shot).

        Remembered by the values of the names it uses: a template shot that names no product is
        rendered once for the whole matrix (and is then the very same object in each)."""
        hot, _ = self.hot.of(doc)
        value = doc.get(path)
        names = self.names(doc, path, value)
        key = None if names is None else (id(doc), path, *(
            identity(scope.get(name, MISSING)) for name in names))
        if key is not None and key in self.subtrees:
            return self.subtrees[key]
        count = len(problems)
        rendered = self.tree(doc, value, path, path_key(path), hot, scope, problems, note)
        if key is not None and len(problems) == count:
            self.subtrees[key] = rendered
        return rendered

    def names(self, doc: Document, path: PathKey, value: Any) -> tuple[str, ...] | None:
        """Every variable the templates under ``path`` use (None: one does not compile)."""
        where = (id(doc), path)
        if where not in self.used:
            try:
                found = {n for text in _templates(value) for n in self.sandbox.names_of(text)}
                self.used[where] = tuple(sorted(found))
            except TemplateProblem:
                self.used[where] = None
        return self.used[where]

    def tree(self, doc: Document, value: Any, path: PathKey, where: str, hot: frozenset[str],
             scope: dict[str, Any], problems: list[Diagnostic], note: str) -> Any:
        if where not in hot:
            return value
        if isinstance(value, str):
            return self.value(doc, value, path, scope, problems, note)
        if isinstance(value, dict):
            return {self.key(doc, k, path, scope, problems, note):
                    self.tree(doc, v, (*path, k), f"{where}{SEP}{k}", hot, scope, problems, note)
                    for k, v in value.items()}
        return [self.tree(doc, v, (*path, i), f"{where}{SEP}{i}", hot, scope, problems, note)
                for i, v in enumerate(value)]

    def key(self, doc: Document, key: str, path: PathKey, scope: dict[str, Any],
            problems: list[Diagnostic], note: str) -> str:
        """A templated key (a speaker under ``say``, say) is rendered like a value."""
        if not is_template(key):
            return key
        try:
            return self.sandbox.render(key, scope)
        except TemplateProblem as problem:
            problems.append(doc.diagnostic((*path, key), problem.message + note, key=True))
            return key

    def value(self, doc: Document, text: str, path: PathKey, scope: dict[str, Any],
              problems: list[Diagnostic], note: str) -> str:
        try:
            return self.sandbox.render(text, scope)
        except TemplateProblem as problem:
            problems.append(located(doc, path, text, problem, note))
            return text


def _templates(value: Any) -> Iterator[str]:
    """Every string (value or key) under ``value`` that holds a template."""
    if isinstance(value, str):
        if is_template(value):
            yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if is_template(key):
                yield key
            yield from _templates(item)
    elif isinstance(value, list):
        for item in value:
            yield from _templates(item)


def located(doc: Document, path: PathKey, text: str, problem: TemplateProblem,
            note: str = "") -> Diagnostic:
    """A template problem at its scalar, or at the very line inside a block scalar."""
    span = doc.span(path)
    message = problem.message
    if problem.line is not None and "\n" in text.rstrip("\n"):
        message += f" (line {problem.line} of the value)"
        head = (doc.line_text(span.line) or "").rstrip()
        if head.endswith(BLOCK_INDICATORS):
            line = span.line + problem.line
            body = doc.line_text(line) or ""
            span = Span(span.file, line, len(body) - len(body.lstrip()) + 1)
    return doc.diagnostic(path, message + note, span=span)


# --- variations ----------------------------------------------------------------------------------


def expand(source: Source, overrides: dict[str, Any] | None = None,
           select: Sequence[str] | None = None, renderer: Renderer | None = None) -> Expansion:
    """Every selected variation of ``source`` as a series of its own, with its problems."""
    renderer = renderer or Renderer()
    data = source.series.data if isinstance(source.series.data, dict) else {}
    base = {**_mapping(data.get("vars")), **(overrides or {})}
    if not isinstance(data.get("variations"), dict):
        combo = Combination("", {}, base)
        return Expansion([_variation(source, combo, None, renderer)], [])
    combos, problems = combinations(source.series, base, renderer.sandbox)
    names = [c.name for c in combos]
    if problems:
        return Expansion([], problems, matrix=True, names=names)
    chosen = _select(combos, select)
    library = Library(source)
    return Expansion([_variation(source, c, c.name, renderer, library) for c in chosen], [],
                     matrix=True, names=names)


def variation_names(source: Source) -> list[str] | None:
    """Every variation's name as the files write them (no ``--var``), without expanding any;
    None when the series has no matrix or its ``variations`` block has problems."""
    data = source.series.data if isinstance(source.series.data, dict) else {}
    if not isinstance(data.get("variations"), dict):
        return None
    combos, problems = combinations(source.series, _mapping(data.get("vars")), Renderer().sandbox)
    return None if problems else [c.name for c in combos]


def expand_one(source: Source, overrides: dict[str, Any] | None = None) -> Source:
    """The one series a source without a matrix stands for (a matrix is an error here)."""
    expansion = expand(source, overrides)
    if expansion.problems:
        raise ProblemsFound([*source.problems, *expansion.problems])
    if expansion.matrix:
        raise StoryboardError(
            f"{source.series.name} has {len(expansion.names)} variations; expected a series "
            "without a matrix here: use storyboard.compile_variations() (as the CLI does)")
    return expansion.variations[0].source


def _select(combos: list[Combination], select: Sequence[str] | None) -> list[Combination]:
    if not select:
        return combos
    chosen = [c for c in combos if any(fnmatch.fnmatchcase(c.name, p) for p in select)]
    for pattern in select:
        if not any(fnmatch.fnmatchcase(c.name, pattern) for c in combos):
            names = [c.name for c in combos]
            raise SelectionError(f"no variation matches {pattern!r}{did_you_mean(pattern, names)}"
                                 f"; expected one of: {', '.join(names[:20])}"
                                 + (", ..." if len(names) > 20 else ""))
    return chosen


class SelectionError(StoryboardError):
    """``--variation`` names nothing (a usage error, exit code 2)."""

    exit_code = 2


def _variation(source: Source, combo: Combination, name: str | None, renderer: Renderer,
               library: Library | None = None) -> Variation:
    library = library or Library(source)
    problems: list[Diagnostic] = []
    series = renderer.document(source.series, combo.vars, problems)
    if combo.defaults or combo.provider or combo.languages is not None:
        series = _with_defaults(series, combo.defaults, combo.provider, combo.languages)
    episodes = [_episode(source, series, ep, combo.vars, renderer, library, problems)
                for ep in source.episodes]
    expanded = replace(source, series=series, episodes=episodes, variation=name,
                       problems=[*source.problems, *problems])
    return Variation(name, combo.vars, expanded, combo.values)


def _episode(source: Source, series: Document, episode: EpisodeSource, scope: dict[str, Any],
             renderer: Renderer, library: Library, problems: list[Diagnostic]) -> EpisodeSource:
    inline = episode.doc is source.series  # an inline episode: rendered with the series
    rendered = series if inline else renderer.document(episode.doc, scope, problems)
    render: Callable[..., Any] = renderer.subtree
    composed = expand_uses(rendered, episode.path, scope, library, render, problems)
    return EpisodeSource(composed, episode.path, episode.default_id)


def _with_defaults(doc: Document, defaults: dict[str, Any], provider: dict[str, Any],
                   languages: tuple[str, ...] | None = None) -> Document:
    """The series document with a variation's defaults (``ratio: 9:16``) and provider settings
    laid over its own (over none when the variation names another provider: a block's settings
    belong to the provider it names), and its ``languages`` narrowed to those the variation
    keeps (the original first, always: the cut is made in it)."""
    data = dict(doc.data)
    declared = data.get("languages")
    if languages is not None and isinstance(declared, list) and declared:
        data["languages"] = [declared[0], *(t for t in declared[1:] if t in languages)]
        data[DECLARED] = declared  # what an episode's own narrowing is held to
    if defaults:
        data["defaults"] = {**_mapping(data.get("defaults")), **defaults}
    if provider:
        own = _mapping(data.get("provider"))
        if "name" in provider and provider["name"] != named(own):
            own = {}
        data["provider"] = {**own, **provider}
    shaped = Document(file=doc.file, data=data, lines=doc.lines, spans=doc.spans,
                      key_spans=doc.key_spans, quoted=doc.quoted)
    shaped.__dict__["name"] = doc.name
    return shaped


def _mapping(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}
