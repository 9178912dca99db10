"""The gateways' model catalogues into emulator routes: each target's declared models, listed.

A target with a catalogue (``targets.wire.catalogues``) answers ``GET /gw/{name}{path}`` with its key
(Kling's: a token signed with the secret), OpenAI-style: ``{"object": "list", "data": [{"id",
"object": "model", "owned_by"}]}`` (Kling's in its envelope, items by ``model_name``), its
declared models and a model of another family (a gateway lists more than video models). The
configured difference (``catalogue_add``, ``catalogue_drop``, ``catalogue_prices``) lets tests
see what ``storyboard models check`` reports when a vendor's list moves on.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from storyboard.dialects import DIALECTS
from storyboard.emulator.config import EmulatorConfig
from storyboard.emulator.gateways.routes import PREFIX, check_dialect_auth
from storyboard.emulator.service import Service
from storyboard.emulator.validate import ApiError
from storyboard.targets.wire.catalogues import CATALOGUES, Catalogue
from storyboard.targets.wire.gateways import TARGETS

OTHER_FAMILY = "text-embedding-3-small"  # listed by every catalogue, never a video model


async def catalogue(request: Request) -> Response:
    name = request.path_params["gateway"]
    found = CATALOGUES.get(name)
    if found is None or request.url.path != f"{PREFIX}/{name}{found.path}":
        raise ApiError(404, "NotFound", f"No route GET {request.url.path}.")
    check_dialect_auth(request, DIALECTS[name])
    service: Service = request.app.state.service
    return JSONResponse({**found.envelope, found.items: items(name, found, service.config)})


def items(name: str, found: Catalogue, config: EmulatorConfig) -> list[dict[str, Any]]:
    """The target's models as the configured catalogue lists them."""
    ids = [m for m in TARGETS[name].models if m not in config.catalogue_drop]
    ids += [m for m in config.catalogue_add if m not in ids] + [OTHER_FAMILY]
    return [_item(model, found, config) for model in ids]


def _item(model: str, found: Catalogue, config: EmulatorConfig) -> dict[str, Any]:
    item: dict[str, Any] = {found.id_key: model, "object": "model", "owned_by": "emulator"}
    prices = config.catalogue_prices.get(model)
    if found.prices_key and prices is not None:
        item[found.prices_key] = dict(prices)
    return item


def routes() -> list[Route]:
    """One route a catalogue path (targets sharing a path share it)."""
    paths = sorted({found.path for found in CATALOGUES.values()})
    return [Route(f"{PREFIX}/{{gateway}}{path}", catalogue, methods=["GET"]) for path in paths]
