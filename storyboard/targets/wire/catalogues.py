"""Each wire target into where its model catalogue is read, if it has one, and what it shows.

``storyboard models check`` reads these catalogues (a free GET each, with the target's own key, to
its own host) and compares the ids (and prices, where a catalogue shows them) with what the targets
declare. A target with no catalogue here is said to have none; a catalogue no source confirms is
marked ``unverified`` (its path is the usual OpenAI-style one, ``GET .../models``, items ``data[].id``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Source = Literal["official", "third-party", "unverified"]


@dataclass(frozen=True)
class Catalogue:
    """Where a target lists its models (a path under its base URL) and how an item reads."""

    path: str
    source: Source
    items: str = "data"  # the answer's key holding the list
    id_key: str = "id"
    # The key of an item's prices by resolution (per second, the target's currency); "": the
    # catalogue shows no prices (none of the declared ones is known to).
    prices_key: str = ""
    # What the answer holds beside the list (the emulator answers with it): OpenAI's
    # ``object: list``, Kling's envelope.
    envelope: Mapping[str, Any] = field(default_factory=lambda: {"object": "list"})


# Kling's model list: no page shows one (vendors.md 4 names none; the spec's Kling facts are all
# third-party). Storyboard's guess, ONE value: ``GET /v1/models`` under the account's host, read
# with the signed token like every Kling call, items ``data[].model_name`` (the field a Kling
# body names its model by) in Kling's envelope. A probe that finds the real path changes it here.
KLING_CATALOGUE = Catalogue("/v1/models", "unverified", id_key="model_name",
                            envelope={"code": 0, "message": "SUCCEED"})


# Ark and ModelArk: ``GET /api/v3/models`` (performance.md cites a Seedance id checked against it;
# vendors.md says ModelArk's lists models not yet activated): third-party. The OpenAI-style
# gateways' ``/models`` and the roles gateways' ``/v1/models``: the family's usual path, no
# source. Kling's: ``KLING_CATALOGUE``, unverified. DashScope, Freepik, the arrays marketplace and
# MiniMax: no catalogue known.
CATALOGUES: Mapping[str, Catalogue] = {
    "ark": Catalogue("/models", "third-party"),
    "kling": KLING_CATALOGUE,
    "modelark": Catalogue("/models", "third-party"),
    "openai-video": Catalogue("/models", "unverified"),
    "roles": Catalogue("/v1/models", "unverified"),
}

_STEM = re.compile(r"^[^\d]+")


def stem(model_id: str) -> str:
    """A model id up to its first digit (``doubao-seedance-``, ``wan``): a catalogue's id with
    the stem of a declared one is a model of that family storyboard may not know yet."""
    found = _STEM.match(model_id)
    return found.group(0) if found else model_id


def catalogue_of(target: str) -> Catalogue | None:
    return CATALOGUES.get(target)
