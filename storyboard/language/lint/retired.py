"""Retired model ids named by a series into located errors that name the successor.

A shot's ``model:`` (where it was set), a ``fallbacks:`` item and a ``models:`` key naming a model its
vendor has withdrawn (``storyboard.targets.video.retired``) is refused at its line, once per place, with
the model to write instead: the successor where one is declared, else the models still sold on the
provider the series renders on.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

from storyboard.errors import Diagnostic
from storyboard.language.document import Document, PathKey
from storyboard.language.resolving.modelcheck import Origin
from storyboard.targets.video.models import MODELS
from storyboard.targets.video.retired import retirement
from storyboard.targets.wire.gateways import TARGETS

CODE = "model-retired"


class Shot(Protocol):
    """What the check reads of a resolved shot."""

    doc: Document
    path: PathKey
    params: dict[str, Any]
    origins: dict[str, Origin]


def alternatives(provider: str) -> tuple[str, ...]:
    """The models to choose from instead: the provider's, else every declared one."""
    target = TARGETS.get(provider)
    return target.models if target is not None else tuple(MODELS)


def refusal(doc: Document, where: PathKey, model: str, provider: str, *,
            key: bool = False) -> Diagnostic | None:
    """The error at ``where`` when ``model`` is retired; None while it is served."""
    retired = retirement(model)
    if retired is None:
        return None
    return doc.diagnostic(where, (
        f"{retired.sentence()}: {retired.instead(alternatives(provider))} (storyboard would send "
        "it to a service that refuses it)"), key=key, code=CODE)


def shot_refusal(shot: Shot, provider: str, said: set[str]) -> Diagnostic | None:
    """A shot's retired model, refused where it was chosen (once per place)."""
    model = str(shot.params.get("model") or "")
    if not model or retirement(model) is None:
        return None  # served (nearly every shot): no place to name
    origin = shot.origins.get("model")
    doc, where = (origin.doc, origin.path) if origin else (shot.doc, shot.path)
    place = f"retired:{doc.file}:{where}"
    if not model or place in said:
        return None
    found = refusal(doc, where, model, provider)
    if found is not None:
        said.add(place)
    return found


def series_refusals(doc: Document, provider: str) -> Iterator[Diagnostic]:
    """Retired models among the series' ``fallbacks:`` items and ``models:`` keys."""
    data = doc.data if isinstance(doc.data, dict) else {}
    fallbacks, models = data.get("fallbacks"), data.get("models")
    for index, name in enumerate(fallbacks if isinstance(fallbacks, list) else []):
        if (found := refusal(doc, ("fallbacks", index), str(name), provider)) is not None:
            yield found
    for name in models if isinstance(models, dict) else {}:
        if (found := refusal(doc, ("models", name), str(name), provider, key=True)) is not None:
            yield found
