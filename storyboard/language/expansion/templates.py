"""Shot templates into shots: each ``- use: NAME`` entry becomes the template's shots.

A template is a YAML file ``templates/NAME.yaml`` in the series folder (or one of the templates
shipped with storyboard, in the project's top-level ``templates/``): ``params`` (each with an
optional ``default`` and ``description``) and ``shots``. Its string values are rendered over the
series' variables plus the parameters given under ``with:``. The shots keep their own source
positions: a problem in a template is reported at the template's line, with the ``use:`` line that
brought it in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from storyboard.errors import Diagnostic, Span
from storyboard.language.document import Document, PathKey, path_key
from storyboard.language.read import schemacheck
from storyboard.language.read.schemacheck import did_you_mean
from storyboard.language.read.series import Source, load_checked

USE_KEYS = ("id", "use", "with")
Render = Callable[[Document, PathKey, dict[str, Any], list[Diagnostic], str], Any]
Origin = tuple[Document, PathKey, str]


def builtin_dir() -> Path:
    """The shipped templates: inside the installed package, else the repository's ``templates/``."""
    packaged = Path(str(resources.files("storyboard"))) / "templates"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "templates"


class Template:
    def __init__(self, name: str, doc: Document, problems: list[Diagnostic]) -> None:
        self.name = name
        self.doc = doc
        self.problems = problems
        data = doc.data if isinstance(doc.data, dict) else {}
        params = data.get("params")
        self.params: dict[str, dict[str, Any]] = dict(params) if isinstance(params, dict) else {}
        shots = data.get("shots")
        self.shots = len(shots) if isinstance(shots, list) else 0


class Library:
    """The templates a series can use: its own ``templates/`` first, then the shipped ones."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.folders = [source.root / "templates", builtin_dir()]
        self.loaded: dict[str, Template | None] = {}
        self.outside: dict[str, str] = {}  # names whose file leads outside the series: its path

    def names(self) -> list[str]:
        found = {f.stem for folder in self.folders if folder.is_dir()
                 for f in folder.iterdir() if f.suffix in (".yaml", ".yml")}
        return sorted(found)

    def get(self, name: str) -> Template | None:
        if name not in self.loaded:
            self.loaded[name] = self._load(name)
        return self.loaded[name]

    def _load(self, name: str) -> Template | None:
        if "/" in name or "\\" in name or name.startswith("."):
            return None
        for folder in self.folders:
            for suffix in (".yaml", ".yml"):
                file = folder / f"{name}{suffix}"
                if file.is_file() and not self._confined(folder, file):
                    self.outside[name] = file.relative_to(self.source.root).as_posix()
                    return None
                if file.is_file():
                    doc, problems = load_checked(file.resolve(), schemacheck.TEMPLATE_SCHEMA,
                                                 self.source.cache)
                    return Template(name, doc, problems)
        return None


    def _confined(self, folder: Path, file: Path) -> bool:
        """The series' own templates get the confinement media and episode files get: a link
        that leads outside the series folder is refused, and its target is never read."""
        return folder != self.folders[0] or file.resolve().is_relative_to(self.source.root)


class ComposedDocument(Document):
    """An episode whose shots come from several files: each shot path maps to where it was written."""

    origins: dict[str, Origin]
    depth: int

    def origin(self, path: PathKey) -> tuple[Document, PathKey, str] | None:
        if len(path) < self.depth:
            return None
        found = self.origins.get(path_key(path[:self.depth]))
        if found is None:
            return None
        doc, where, note = found
        return doc, (*where, *path[self.depth:]), note

    def span(self, path: PathKey, *, key: bool = False) -> Span:
        found = self.origin(path)
        return found[0].span(found[1], key=key) if found else super().span(path, key=key)

    def text_span(self, path: PathKey, offset: int) -> Span:
        found = self.origin(path)
        if found is None:
            return super().text_span(path, offset)
        doc, where, note = found
        return doc.span(where) if note else doc.text_span(where, offset)

    def diagnostic(self, path: PathKey, message: str, *, key: bool = False,
                   severity: str = "error", span: Span | None = None,
                   code: str = "") -> Diagnostic:
        found = self.origin(path)
        if found is None:
            return super().diagnostic(path, message, key=key, severity=severity, span=span,
                                      code=code)
        doc, where, note = found
        return doc.diagnostic(where, message + note, key=key, severity=severity, span=span,
                              code=code)


def expand_uses(doc: Document, episode_path: PathKey, scope: dict[str, Any], library: Library,
                render: Render, problems: list[Diagnostic]) -> Document:
    """``doc`` with the ``use:`` entries of the episode at ``episode_path`` replaced by shots."""
    episode = doc.get(episode_path)
    shots = episode.get("shots") if isinstance(episode, dict) else None
    if not isinstance(shots, list) or not any(_is_use(s) for s in shots):
        return doc
    expanded: list[Any] = []
    origins: dict[str, Origin] = {}
    for index, raw in enumerate(shots):
        where = (*episode_path, "shots", index)
        made = _use(doc, where, raw, scope, library, render, problems) if _is_use(raw) \
            else iter([(raw, (doc, where, ""))])
        for shot, origin in made:
            origins[path_key((*episode_path, "shots", len(expanded)))] = origin
            expanded.append(shot)
    composed = ComposedDocument(file=doc.file, data=_replaced(doc.data, episode_path, expanded),
                                lines=doc.lines, spans=doc.spans, key_spans=doc.key_spans,
                                quoted=doc.quoted)
    composed.origins, composed.depth = origins, len(episode_path) + 2
    composed.__dict__["name"] = doc.name
    return composed


def _is_use(raw: Any) -> bool:
    return isinstance(raw, dict) and "use" in raw


def _replaced(data: Any, episode_path: PathKey, shots: list[Any]) -> Any:
    if not episode_path:
        return {**data, "shots": shots}
    head, *rest = episode_path
    copy: Any = dict(data) if isinstance(data, dict) else list(data)
    copy[head] = _replaced(data[head], tuple(rest), shots)
    return copy


def _use(doc: Document, where: PathKey, raw: dict[str, Any], scope: dict[str, Any],
         library: Library, render: Render, problems: list[Diagnostic]
         ) -> Iterator[tuple[Any, Origin]]:
    name = str(raw["use"])
    count = len(problems)
    for key in raw:
        if key not in USE_KEYS:
            problems.append(doc.diagnostic((*where, key), f"a 'use:' entry takes only "
                            f"{', '.join(USE_KEYS)}; got {key!r} (put shot settings in the "
                            "template, or make them parameters)", key=True))
    template = library.get(name)
    if name in library.outside:
        problems.append(doc.diagnostic((*where, "use"), f"template {name!r} "
                        f"({library.outside[name]}) leads outside the series folder (a link?); "
                        f"expected a file inside {library.source.root.name}/"))
        return
    if template is None:
        names = library.names()
        problems.append(doc.diagnostic((*where, "use"), f"unknown template {name!r}"
                        f"{did_you_mean(name, names)}; expected one of: "
                        f"{', '.join(names) or '(none)'} (files in templates/)"))
        return
    if template.problems:  # the template file itself is broken: its own lines say how
        problems.extend(template.problems)
        return
    params = _params(doc, where, raw.get("with"), template, problems)
    if len(problems) > count:
        return
    note = f" (in template {name!r}, used at {doc.span((*where, 'use'))})"
    local = {**scope, **params}
    renamed: dict[str, str] = {}
    for index in range(template.shots):
        if _is_use(template.doc.get(("shots", index))):
            problems.append(template.doc.diagnostic(("shots", index, "use"), (
                "a template cannot use another template; expected a shot with 'prompt' or "
                f"'scenes'{note}")))
            continue
        shot = render(template.doc, ("shots", index), local, problems, note)
        named = _named(shot, raw.get("id"), index, template)
        if isinstance(shot, dict) and isinstance(named, dict):
            renamed[str(shot.get("id"))] = str(named.get("id"))
            named = _follow(named, renamed)
        yield named, (template.doc, ("shots", index), note)


def _params(doc: Document, where: PathKey, given: Any, template: Template,
            problems: list[Diagnostic]) -> dict[str, Any]:
    given = given if isinstance(given, dict) else {}
    params: dict[str, Any] = {}
    for key, value in given.items():
        if key not in template.params:
            choices = ", ".join(template.params) or "(none)"
            problems.append(doc.diagnostic((*where, "with", key), (
                f"template {template.name!r} has no parameter {key!r}"
                f"{did_you_mean(key, template.params)}; expected one of: {choices}"), key=True))
        else:
            params[key] = value
    for key, declared in template.params.items():
        if key in params:
            continue
        if isinstance(declared, dict) and "default" in declared:
            params[key] = declared["default"]
            continue
        at = template.doc.span(("params", key), key=True)
        problems.append(doc.diagnostic((*where, "use"), (
            f"template {template.name!r} needs parameter {key!r} (declared at {at}); expected "
            f"it under 'with:'")))
    return params


def _follow(shot: dict[str, Any], renamed: dict[str, str]) -> dict[str, Any]:
    """A ``first_frame: {from: X}`` naming an earlier shot of the same template follows its new id."""
    first = shot.get("first_frame")
    if isinstance(first, dict) and first.get("from") in renamed:
        return {**shot, "first_frame": {**first, "from": renamed[first["from"]]}}
    return shot


def _named(shot: Any, given: Any, index: int, template: Template) -> Any:
    if not isinstance(shot, dict):
        return shot
    if isinstance(given, str):
        own = shot.get("id") or f"{index + 1}"
        return {**shot, "id": given if template.shots == 1 else f"{given}-{own}"}
    if "id" not in shot:
        return {**shot, "id": template.name if template.shots == 1 else
                f"{template.name}-{index + 1}"}
    return shot
