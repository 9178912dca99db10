"""A matrix's language variations into the routes that make them as versions: a language
variation that differs from its base only by its language (``language.variations.language_versions``)
is made as its base's version when every shot of the base's versioned episodes is approved
(``cut.approved_cut``); each route names its variation, its base, its language and its base's own
folder of version files."""

from __future__ import annotations

from dataclasses import dataclass, replace

from storyboard.language.request import Manifest
from storyboard.language.variations import Variants, compile_variations, language_versions
from storyboard.run.setup import RenderFlags, make_provider
from storyboard.run.versions.cut import approved_cut


@dataclass(frozen=True)
class Route:
    """A language variation made as a version: its name, its base's manifest, its language,
    and its base's own folder of version files (None: ``languages/<lang>/``)."""

    variation: str
    base: Manifest
    language: str
    home: str | None = None

    @property
    def made_as(self) -> str:
        """The variation's series name (``SERIES/NAME``), its passes' and folder's."""
        return f"{self.base.name.partition('/')[0]}/{self.variation}"


def version_routes(variants: Variants) -> list[Route]:
    """The selected variations made as versions: each language variation whose base's shots
    are all approved (the rest are rendered, as any variation). Its base is found among every
    variation when only some were selected (``--variation``)."""
    if not variants.matrix:
        return []
    every = compile_variations(variants.root) if variants.partial else variants
    selected = {v.name for v in variants.variants if v.ok}
    found = []
    for name, made in language_versions(every).items():
        base = made.base.manifest
        if name in selected and base is not None and approved_cut(base, made.language):
            found.append(Route(name, base, made.language, made.home))
    return found


def routes_for(variants: Variants, flags: RenderFlags) -> list[Route]:
    """The variations a render with ``flags`` makes as versions: none for drafts (a version is
    made from an approved cut by paid passes; a draft render is free and renders every
    variation's proxies), else ``version_routes``."""
    return [] if flags.draft else version_routes(variants)


def without(variants: Variants, routes: list[Route]) -> Variants:
    """``variants`` less the variations made as versions (what is left to render)."""
    made = {route.variation for route in routes}
    return replace(variants, variants=[v for v in variants.variants if v.name not in made])



def region(manifest: Manifest, flags: RenderFlags) -> str | None:
    """The region the provider renders in, as ``version render`` gives it (a pass its
    region does not serve is refused before anything is asked); None: no such setting."""
    settings = getattr(make_provider(manifest, flags.provider), "settings", None)
    served = getattr(settings, "served_region", None)
    found = served() if callable(served) else None
    return found if isinstance(found, str) else None
