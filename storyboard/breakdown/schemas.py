"""Each stage's answer into its JSON schema, and an answer into the problems it has against it.

The schemas are what the model is asked to answer in (``response_format: json_schema``, strict:
every property required, no other property), and what every answer is held to here, whatever the
service claims to enforce. A problem is said by its path in the answer (``shots[2].scenes[0]``) so
it can be quoted back to the model and, when it stays, reported.
"""

from __future__ import annotations

import json
from typing import Any

from jsonschema import Draft202012Validator

TEXT = {"type": "string", "minLength": 1, "maxLength": 2000}
NAME = {"type": "string", "minLength": 1, "maxLength": 60}


def _object(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "required": list(properties),
            "properties": properties}


def _list(item: dict[str, Any], most: int) -> dict[str, Any]:
    return {"type": "array", "items": item, "maxItems": most}


OUTLINE = _object(title=NAME, summary=TEXT, beats=_list(TEXT, 60))
THING = _object(name=NAME, look=TEXT)
CAST = _object(
    characters=_list(_object(name=NAME, appearance=TEXT, voice=TEXT), 60),
    places=_list(THING, 60), props=_list(THING, 60))
LINE = _object(speaker=NAME, quote={"type": "string", "minLength": 1, "maxLength": 1000})
SCENE = _object(seconds={"type": "number", "minimum": 0.5, "maximum": 15}, action=TEXT,
                lines=_list(LINE, 6))
SHOT = _object(from_line={"type": "integer", "minimum": 1}, to_line={"type": "integer", "minimum": 1},
               camera=NAME, cast=_list(NAME, 5), scenes=_list(SCENE, 6))
SHOTS = _object(shots=_list(SHOT, 200))

SCHEMAS: dict[str, dict[str, Any]] = {"outline": OUTLINE, "cast": CAST, "shots": SHOTS}


def response_format(stage: str) -> dict[str, Any]:
    """The ``response_format`` a request for ``stage`` carries."""
    return {"type": "json_schema",
            "json_schema": {"name": stage, "schema": SCHEMAS[stage], "strict": True}}


def _path(parts: Any) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}" if out else str(part)
    return out or "the answer"


def problems(stage: str, answer: Any) -> list[str]:
    """What is wrong with ``answer`` against ``stage``'s schema, each at its path (sorted)."""
    validator = Draft202012Validator(SCHEMAS[stage])
    found = {f"{_path(error.absolute_path)}: {error.message}" for error in
             validator.iter_errors(answer)}
    return sorted(found)


def parsed(content: str) -> tuple[Any, list[str]]:
    """The JSON in ``content``, or None and why it is not JSON."""
    try:
        return json.loads(content), []
    except ValueError as exc:
        return None, [f"the answer is not valid JSON: {exc}"]
