"""A model's near-miss answer into the schema's shape, where what it meant is unambiguous; each
reading said.

Small models slip in ways whose intent is plain: a prop or a place given a character's fields
(``appearance`` for its look, a ``voice`` it cannot have, beside its look or not), a key in the
singular where the schema has the plural or the other way round (``character`` for
``characters``), a list of one where one item is expected (``"title": ["The Storm"]``), an entry
of a list of named things named as there being none (``{"name": "none", "look": "none"}``: the
chapter has no props; Qwen2.5-Coder-1.5B wrote it and kept it through two send-backs), a shot
naming more than its bound (``cast``: nine names where five may be; the same model kept them
through two send-backs): the names its speakers and its words name first, then in the order
given, up to the bound. Each is
read as meant, and said once (``Mended``), rather than sent back to a model that, at temperature
0, tends to answer the same again. Anything ambiguous (two lists for one item, a slip whose right
key is already there, a thing with neither ``look`` nor ``appearance``, or with both) is left as
it is for the schema to refuse with its located problem.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

CHARACTER_FIELDS = ("appearance", "voice")
NONE_NAMES = re.compile(r"(?:none|nothing|nobody|no one|n/a|null|nil|not applicable)"
                        r"(?: (?:mentioned|given|named|listed|present|seen))?"
                        r"|no (?:characters?|places?|props?)(?: mentioned)?")


@dataclass
class Mended:
    """What was read as meant in one answer, in the order met."""

    notes: list[str] = field(default_factory=list)

    def say(self, note: str) -> None:
        if note not in self.notes:
            self.notes.append(note)


def mended(schema: dict[str, Any], data: Any, found: Mended, path: str = "") -> Any:
    """``data`` with its unambiguous slips against ``schema`` read as meant (``data`` itself is
    not changed)."""
    kind = schema.get("type")
    if kind in ("object", "string", "number", "integer") and isinstance(data, list) \
            and len(data) == 1 and not isinstance(data[0], list):
        found.say(f"{_where(path)}: a list of one item where one item is expected: read as the "
                  "item")
        data = data[0]
    if kind == "object" and isinstance(data, dict):
        return _object(schema, data, found, path)
    if kind == "array" and isinstance(data, list):
        return [mended(schema["items"], item, found, f"{path}[{n}]")
                for n, item in enumerate(_somethings(schema, data, found, path))]
    return data


def _crowded(data: dict[str, Any], properties: dict[str, Any], found: Mended, path: str
             ) -> dict[str, Any]:
    """A shot whose ``cast`` names more than its bound: the names its scenes (speakers and
    words) name first, then in the order given, up to the bound."""
    bound, cast = properties.get("cast", {}).get("maxItems"), data.get("cast")
    if bound is None or "scenes" not in properties or not isinstance(cast, list) or \
            len(cast) <= bound or not all(isinstance(name, str) for name in cast):
        return data
    words, names = json.dumps(data.get("scenes"), ensure_ascii=False).lower(), [*dict.fromkeys(cast)]
    kept = sorted(names, key=lambda name: name.lower() not in words)[:bound]  # stable
    left = [name for name in names if name not in kept]
    found.say(f"{path}.cast: {len(cast)} names where at most {bound} may be: " + (
        f"those its scenes name first, {len(left)} left out ({', '.join(left)})" if left else
        "each read once"))
    return {**data, "cast": kept}


def _somethings(schema: dict[str, Any], data: list[Any], found: Mended, path: str) -> list[Any]:
    """A list of named things without the entries whose name says there are none."""
    if "name" not in schema.get("items", {}).get("properties", {}):
        return data
    kept = [item for item in data if not (isinstance(item, dict) and says_none(item.get("name")))]
    if len(kept) < len(data):
        found.say(f"{_where(path)}: an entry named as there being none: left out")
    return kept


def says_none(name: Any) -> bool:
    """Whether a name says there is nothing (``none``, ``N/A``, ``no props``), any case."""
    return isinstance(name, str) and \
        NONE_NAMES.fullmatch(" ".join(name.lower().strip(" .!-").split())) is not None


def _where(path: str) -> str:
    return path or "the answer"


def _object(schema: dict[str, Any], data: dict[str, Any], found: Mended, path: str
            ) -> dict[str, Any]:
    properties: dict[str, Any] = schema["properties"]
    out = {_key(key, properties, data, found, path): value for key, value in data.items()}
    out = _crowded(_thing(out, properties, found, path), properties, found, path)
    return {key: mended(properties[key], value, found, f"{path}.{key}" if path else key)
            if key in properties else value for key, value in out.items()}


def _key(key: str, properties: dict[str, Any], data: dict[str, Any], found: Mended,
         path: str) -> str:
    """``key``, or the one property it is a singular/plural slip of (that the answer lacks)."""
    if key in properties:
        return key
    slips = [p for p in properties if p not in data and (p == f"{key}s" or key == f"{p}s")]
    if len(slips) != 1:
        return key
    found.say(f"{_where(path)}: the key {key!r} read as {slips[0]!r}")
    return slips[0]


def _thing(data: dict[str, Any], properties: dict[str, Any], found: Mended, path: str
           ) -> dict[str, Any]:
    """A place or prop (``name`` and ``look``) given a character's fields: its ``appearance``
    read as its look, its ``voice`` dropped; given its ``look`` and a ``voice`` (Qwen2.5-Coder
    1.5B wrote ``"voice": "none"``), the voice dropped."""
    if set(properties) != {"name", "look"}:
        return data
    if set(data) in ({"name", "look", "voice"}, {"look", "voice"}):
        found.say(f"{path}: a character's voice given to a place or prop: dropped")
        return {key: value for key, value in data.items() if key != "voice"}
    if "look" in data or "appearance" not in data \
            or not set(data) <= {"name", *CHARACTER_FIELDS}:
        return data
    found.say(f"{path}: a character's fields given to a place or prop: its appearance read as "
              "its look" + (", its voice dropped" if "voice" in data else ""))
    named = {"name": data["name"]} if "name" in data else {}
    return {**named, "look": data["appearance"]}
