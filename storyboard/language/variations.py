"""A series' variations into compiled manifests: every selected variation, one media cache.

``compile_variations`` expands the series (``expand``) and compiles each selected variation; a
variation's problems stay with it, and ``Variants.diagnostics`` says each problem once, naming the
variations it is found in when not all.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storyboard.errors import Diagnostic, ProblemsFound
from storyboard.language.cache.checkcache import no_gc_pauses
from storyboard.language.compile import Compiler
from storyboard.language.expansion.expand import Variation, expand, variation_names
from storyboard.language.expansion.matrix import LANGUAGE_AXIS
from storyboard.language.read.series import Source, load_source
from storyboard.language.request import CompiledShot, Manifest
from storyboard.language.versions.languages import series_languages
from storyboard.language.versions.versioncheck import version_problems
from storyboard.media.probes import probe as media
from storyboard.targets import NATIVE_SIZES

UNUSED = "is never used"


@dataclass
class Variant:
    """One compiled variation (``manifest`` is None when it has errors)."""

    name: str | None
    vars: dict[str, Any]
    manifest: Manifest | None
    problems: list[Diagnostic] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)  # its matrix axes' values
    languages: tuple[str, ...] = ()  # its series' languages (as a variation narrows them)

    @property
    def ok(self) -> bool:
        return self.manifest is not None

    @property
    def language(self) -> str | None:
        """The language it is in, on the matrix's ``language`` axis (None: no such axis)."""
        value = self.values.get(LANGUAGE_AXIS)
        value = value.get("name") if isinstance(value, dict) else value
        return value if isinstance(value, str) else None

    @property
    def version_home(self) -> str | None:
        """Where its versions' files are, as a base: None (``languages/<lang>/``) when the
        matrix has no axis but ``language``, else its own folder (``languages/<lang>/<name>/``):
        each base of a matrix with other axes has versions of its own words."""
        return self.name if _others(self.values) and self.name else None


@dataclass
class Variants:
    """Every selected variation of a series, compiled."""

    root: Path
    name: str
    matrix: bool
    variants: list[Variant]
    every: int = 0  # how many variations the matrix has, selected or not
    # every variation's name as the files write them (``--var`` and ``--variation`` aside), read
    # with the series: what a render keeps in the lock (None: no matrix, or a broken one)
    names: tuple[str, ...] | None = None

    @property
    def partial(self) -> bool:
        """Whether only some of the matrix's variations were selected (``--variation``)."""
        return len(self.variants) < self.every

    @property
    def manifests(self) -> list[Manifest]:
        return [v.manifest for v in self.variants if v.manifest is not None]

    @property
    def ok(self) -> bool:
        return all(v.ok for v in self.variants)

    def diagnostics(self) -> list[Diagnostic]:
        """Every variation's problems once; one found in only some says which."""
        return merge_problems([(v.name or "", v.problems) for v in self.variants],
                              partial=self.partial)

    def shots(self) -> list[CompiledShot]:
        return [shot for manifest in self.manifests for shot in manifest.shots()]

    def combined(self) -> Manifest:
        """All variations as one manifest: one run, one lock file update (pruned per variation).
        A plain series (no matrix) is its one manifest as it is."""
        first = self.manifests[0]
        if not self.matrix and len(self.manifests) == 1:
            return first
        episodes = [episode for manifest in self.manifests for episode in manifest.episodes]
        return Manifest(title=first.title, name=self.name, root=self.root, source=first.source,
                        episodes=episodes, provider=first.provider, store=first.store,
                        ledger=first.ledger, checks=first.checks,
                        warnings=[w for m in self.manifests for w in m.warnings],
                        output_problem=first.output_problem,
                        cast=[asset for manifest in self.manifests for asset in manifest.cast],
                        providers=first.providers)


@dataclass(frozen=True)
class LanguageVersion:
    """A language variation made as a version of its base's cut: its base, its language, and
    where the base's version files are (``home``: None for ``languages/<lang>/``, else the
    base's own folder ``languages/<lang>/<base>/``, ``Variant.version_home``)."""

    base: Variant
    language: str

    @property
    def home(self) -> str | None:
        return self.base.version_home


def language_versions(variants: Variants) -> dict[str, LanguageVersion]:
    """Each variation that differs from its base only by its language, and may be made as a
    version of the base's cut (docs/variations.md): by its name. A base is a variation in the
    original language (the first of its ``languages``); each language variation is paired with
    the base whose values on every other axis are its own (product, ratio, ...), in one of that
    base's versions. A matrix has one base per combination of its other axes; a variation with
    no such base (or, were two bases alike on every other axis, with two) has none, and renders
    its shots as any variation."""
    if not variants.matrix:
        return {}
    bases: dict[str, list[Variant]] = {}
    for v in variants.variants:
        if v.ok and v.languages and v.language == v.languages[0]:
            bases.setdefault(_key(v.values), []).append(v)
    found = {}
    for variant in variants.variants:
        language = variant.language
        paired = bases.get(_key(variant.values), [])
        if len(paired) != 1 or not (variant.ok and variant.name and language):
            continue
        base = paired[0]
        if variant is not base and language in base.languages[1:]:
            found[variant.name] = LanguageVersion(base, language)
    return found


def _key(values: dict[str, Any]) -> str:
    """A variation's values on every axis but ``language``, as one comparable key."""
    return json.dumps(_others(values), sort_keys=True, default=str)


def _others(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k != LANGUAGE_AXIS}


def merge_problems(found: Sequence[tuple[str, list[Diagnostic]]], *, partial: bool = False
                   ) -> list[Diagnostic]:
    """Each problem once, naming the variations it is found in when not all. "Is never used" is
    said only when no variation uses it: not when some do, nor when only some variations were
    selected (the others may use it)."""
    where: dict[tuple[Any, ...], tuple[Diagnostic, list[str]]] = {}
    for name, problems in found:
        for problem in problems:
            key = (problem.span, problem.message, problem.severity)
            where.setdefault(key, (problem, []))[1].append(name)
    merged = []
    for problem, names in where.values():
        if (partial or len(names) < len(found)) and UNUSED in problem.message:
            continue  # a product used by some variations only is the point of a matrix
        if len(names) < len(found) and any(names):
            shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
            problem = Diagnostic(problem.span, f"{problem.message} [in variation(s) {shown}]",
                                 problem.severity, problem.source_line, problem.stable_code)
        merged.append(problem)
    return sorted(merged, key=Diagnostic.sort_key)


def compile_variations(path: str | Path, *, vars: dict[str, Any] | None = None,
                       select: Sequence[str] | None = None,
                       provider: str | None = None) -> Variants:
    """Load, expand and compile every (selected) variation; problems stay with their variation.
    ``provider`` (a gateway's name) adds that gateway's limits to every variation.

    Raises ProblemsFound when the series or its ``variations`` block itself is broken."""
    with no_gc_pauses():
        source = load_source(Path(path))
        expansion = expand(source, vars, select)
        if expansion.problems:
            raise ProblemsFound([*source.problems, *expansion.problems])
        variants = _compile_each(source, expansion.variations, provider)
        names = expansion.names if not vars else variation_names(source)
    return Variants(source.root, source.root.name, expansion.matrix, variants,
                    every=len(expansion.names),
                    names=tuple(names) if expansion.matrix and names is not None else None)


def _compile_each(source: Source, variations: list[Variation], provider: str | None
                  ) -> list[Variant]:
    cache = SharedMediaCache(source.root / ".storyboard" / "media.json")
    variants = []
    for variation in variations:
        try:
            manifest = Compiler(variation.source, media_cache=cache, provider=provider).run()
            languages = series_languages(variation.source.series.data)
            manifest.warnings += card_warnings(variation.source, manifest)
            if _original(variation.values, languages):  # a language variation's own words
                home = Variant(variation.name, {}, None,  # are not its base's; a base's
                               values=variation.values).version_home  # files: in its home
                manifest.warnings += version_problems(variation.source, manifest, home)
            broken = any(d.severity == "error" for d in manifest.warnings)
            variants.append(Variant(variation.name, variation.vars, None if broken else manifest,
                                    manifest.warnings, variation.values, languages))
        except ProblemsFound as found:
            variants.append(Variant(variation.name, variation.vars, None, found.diagnostics,
                                    variation.values))
    cache.save()
    return variants


def _original(values: dict[str, Any], languages: tuple[str, ...]) -> bool:
    """Whether a variation is in the original language (or on no ``language`` axis)."""
    said = Variant(None, {}, None, values=values).language
    return said is None or not languages or said == languages[0]


def card_warnings(source: Source, manifest: Manifest) -> list[Diagnostic]:
    """A warning for each title or end card whose text cannot fit even at the smallest size."""
    from storyboard.media.cardtext import CARD_TEXT_FLOOR
    where = {str(ep.doc.get(ep.path, {}).get("id") or ep.default_id): ep
             for ep in source.episodes if isinstance(ep.doc.get(ep.path), dict)}
    found = []
    for episode in manifest.episodes:
        origin = where.get(episode.id)
        if origin is None or not episode.shots:
            continue
        first = episode.shots[0].request
        width, height = NATIVE_SIZES.get((first.resolution, first.ratio), (1280, 720))
        for kind in ("title_card", "end_card"):
            card = episode.settings.get(kind)
            text = card.get("text") if isinstance(card, dict) else None
            if isinstance(text, str) and not _fits(text, width, height):
                found.append(origin.doc.diagnostic((*origin.path, kind, "text"), (
                    f"the {kind.replace('_', ' ')} text ({len(text)} characters) does not fit a "
                    f"{width}x{height} card even at the smallest size ({CARD_TEXT_FLOOR:g} of "
                    "its short side) and will be cut; expected a shorter text"),
                    severity="warning"))
    return found


@functools.lru_cache(maxsize=4096)
def _fits(text: str, width: int, height: int) -> bool:
    """Whether card text fits (remembered: most variations share their cards' sizes and texts)."""
    from storyboard.media.cardtext import fit_card_text
    return fit_card_text(text, width, height)[1]


class SharedMediaCache(media.MediaCache):
    """The media fact cache, each file looked at once for all the variations of one compile."""

    def __init__(self, file: Path | None) -> None:
        super().__init__(file)
        self.seen: dict[Path, media.Facts] = {}

    def facts(self, path: Path) -> media.Facts:
        found = self.seen.get(path)
        if found is None:
            found = self.seen[path] = super().facts(path)
        return found


def strict(variants: Variants) -> Variants:
    """``variants`` when every variation compiled, else ProblemsFound with all their problems."""
    if not variants.ok:
        raise ProblemsFound(variants.diagnostics())
    return variants
