"""Canonical forms into hashes: a shot's or asset's hash, and the seeds and hashes of its takes.

A hash is the sha256 of the canonical form's JSON (sorted keys, no spaces); a cast asset's hash ends
with the file type it addresses (``<sha256>.png``, ``<sha256>.wav``), so the cache and the store keep
it under its own kind of name.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from typing import Any

from storyboard.language.request import CompiledShot, take_id

SEED_MAX = 2147483647  # the largest seed any model or image service takes


# json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False), made once; no
# check for cycles (a canonical form is built anew as a tree; the same bytes, sooner)
_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                         check_circular=False)


def digest(value: Any) -> str:
    return hashlib.sha256(_JSON.encode(value).encode("utf-8")).hexdigest()


def hashed(shot: CompiledShot, form: dict[str, Any]) -> str:
    """The hash of ``form`` as ``shot``'s: an asset's with its file type."""
    return digest(form) + (shot.asset.suffix if shot.asset is not None else "")


def take_seed(first_hash: str, take: int, seed_max: int) -> int:
    """The seed of take ``take`` (> 1): a function of the shot's take-1 hash and the take number,
    within ``0..seed_max``, so the same file always asks for the same takes."""
    value = hashlib.sha256(f"{first_hash}#take{take}".encode()).hexdigest()
    return int(value, 16) % (seed_max + 1)


def take_of(first: CompiledShot, take: int, seed_max: int = SEED_MAX) -> CompiledShot:
    """Take ``take`` (> 1) of the shot whose take 1 is ``first``: the same request with its own
    seed, so its own hash (take 1's canonical form with that seed) and its own id. A designed
    voice has no seed: its take number is in its form instead (each take is a voice of its own)."""
    if first.asset is not None:
        return _asset_take(first, take, seed_max)
    request = replace(first.request, seed=take_seed(first.hash, take, seed_max))
    parameters = {**first.canonical.get("parameters", {}), "seed": request.seed}
    form = {**first.canonical, "parameters": parameters}
    return replace(first, id=take_id(first.id, take), request=request, hash=digest(form),
                   canonical=form, take=take, others=[])


def _asset_take(first: CompiledShot, take: int, seed_max: int) -> CompiledShot:
    assert first.asset is not None
    form, asset = dict(first.canonical), first.asset
    if asset.kind == "image":
        form["seed"] = take_seed(first.hash, take, seed_max)
        asset = replace(asset, seed=form["seed"])
    else:
        form["take"] = take
    return replace(first, id=take_id(first.id, take), request=replace(first.request, seed=asset.seed),
                   asset=asset, hash=hashed(first, form), canonical=form, take=take, others=[])
