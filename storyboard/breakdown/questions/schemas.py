"""Each stage's answer into its JSON schema, and an answer into the problems it has against it.

The schemas are what every answer is held to here, whatever the service claims to enforce (strict:
every property required, no other property). What is sent is the schema without its length and
count bounds (``sent``: local servers' grammar builders overflow on ``maxLength: 2000``; the
bounds are checked here), in ``response_format`` when the endpoint takes one and always, as a
compact sketch, in the instructions (``sketch``), so a model without constrained decoding knows
the fields. A problem is said by its path in the answer (``shots[2].scenes[0]``) so it can be
quoted back to the model and, when it stays, reported.
"""

from __future__ import annotations

import json
import re
from typing import Any

from jsonschema import Draft202012Validator

from storyboard.breakdown.questions.quotable import quotable
from storyboard.breakdown.source import Chapter
from storyboard.breakdown.state.reading import answer_data

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
SCENE = _object(seconds={"type": "number", "minimum": 0.5, "maximum": 15, "examples": [4]},
                action=TEXT,
                lines=_list(LINE, 6))
SHOT = _object(from_line={"type": "integer", "minimum": 1}, to_line={"type": "integer", "minimum": 1},
               camera=NAME, cast=_list(NAME, 5), scenes=_list(SCENE, 6))
SHOTS = _object(shots=_list(SHOT, 200))
TRANSLATED = _object(id=NAME, text={"type": "string", "minLength": 1, "maxLength": 1000})
TRANSLATE = _object(lines=_list(TRANSLATED, 100))  # a version's lines (``versionwords``)

HOOK = {"type": "string", "minLength": 1, "maxLength": 300}
ACTION = {"type": "string", "minLength": 1, "maxLength": 160}  # a shot's scene: a sentence or two
SAID = _object(speaker=NAME, quote={"type": "string", "minLength": 1, "maxLength": 600})
# The longest ``maxLength`` a grammar is sent: llama-cpp-python 0.2.62 parses a grammar in Python,
# a level of recursion a character, and on a longer bound drops the grammar unsaid (measured: 400
# compiles, 500 does not). A longer bound is checked here only, as ``sent`` leaves every bound of
# the unbounded stages (the instructions' sketch still says it).
LONGEST_SENT = 400


EPISODE = _object(title=NAME, hook=HOOK)  # a season episode's own call: its title and hook


def shot(chapter: Chapter | None = None) -> dict[str, Any]:
    """A season shot's answer, bounded by its call (``chapter``: the shot's lines, and the
    skeleton's d seconds): its camera, its cast and its scenes, each scene's seconds a share of
    the shot's d, each line's quote one the shot's lines offer (``quotable``)."""
    most = chapter.shot_seconds if chapter and chapter.shot_seconds else 15
    offered = quotable(chapter) if chapter else []
    said = _object(speaker=NAME, quote={"enum": offered} if offered else SAID["properties"]["quote"])
    scene = _object(seconds={"type": "number", "minimum": 0.5, "maximum": most, "examples": [2]},
                    action=ACTION, lines={**_list(said, 3 if offered or not chapter else 0),
                                          "minItems": 0})
    return _object(camera=NAME, cast=_list(NAME, 5), scenes={**_list(scene, 3), "minItems": 1})


WHY = {"type": "string", "minLength": 1, "maxLength": 200}


def cut(chapter: Chapter | None = None) -> dict[str, Any]:
    """A season cut's answer (``chapter``: the call, its ``ends``): which of the units its
    episode may end at it ends at, and why."""
    ends = list(chapter.ends) if chapter else []
    return _object(end={"enum": ends, "description": "ends[].end"} if ends else NAME, why=WHY)


BUILT = {"shot": shot, "cut": cut}  # stages whose schema is built for its call (their bounds sent)
SCHEMAS: dict[str, dict[str, Any]] = {"outline": OUTLINE, "cast": CAST, "shots": SHOTS,
                                      "translate": TRANSLATE, "episode": EPISODE, "shot": shot(),
                                      "cut": cut()}
BOUNDED = tuple(BUILT)


def of(stage: str, chapter: Chapter | None = None) -> dict[str, Any]:
    """The schema an answer of ``stage`` for ``chapter`` is held to."""
    return BUILT[stage](chapter) if stage in BUILT else SCHEMAS[stage]


BOUNDS = ("maxLength", "maxItems")  # checked in code, never sent
UNSENT = (*BOUNDS, "examples")  # the sketch's typical value: for the instructions only


def sent(schema: Any) -> Any:
    """``schema`` without the bounds local grammar builders cannot compile, nor the sketch's
    typical values."""
    if isinstance(schema, dict):
        return {k: sent(v) for k, v in schema.items() if k not in UNSENT}
    if isinstance(schema, list):
        return [sent(v) for v in schema]
    return schema


def response_format(stage: str, mode: str = "json_schema", chapter: Chapter | None = None
                    ) -> dict[str, Any] | None:
    """The ``response_format`` a request for ``stage`` carries in ``mode`` (None: in ``text``):
    a bounded stage's schema with its bounds (``minItems``, ``maxItems``, ``maxLength``, each
    line range's ``minimum`` and ``maximum``), another stage's without them; in ``json_object``
    too (a server that takes a schema there, as llama-cpp-python's, holds the answer to it)."""
    if stage in BOUNDED and mode != "text":
        schema = _unexampled(of(stage, chapter))
        if mode == "json_object":
            return {"type": "json_object", "schema": schema}
        return {"type": "json_schema", "json_schema": {"name": stage, "schema": schema,
                                                       "strict": True}}
    if mode == "json_object":
        return {"type": "json_object", "schema": sent(SCHEMAS[stage])}
    if mode == "text":
        return None
    return {"type": "json_schema",
            "json_schema": {"name": stage, "schema": sent(SCHEMAS[stage]), "strict": True}}


def _unexampled(schema: Any) -> Any:
    """The schema as a grammar is built from it: no sketch's values, a list that may hold
    nothing (``maxItems: 0``) with no item schema at all, and no string bound past
    ``LONGEST_SENT`` (llama-cpp-python 0.2.62's builder recursed past its limit on a free quote's
    ``maxLength: 600``, reachable or not)."""
    if isinstance(schema, dict):
        if schema.get("type") == "array" and schema.get("maxItems") == 0:
            return {"type": "array", "maxItems": 0}
        return {k: _unexampled(v) for k, v in schema.items() if k != "examples" and
                not (k == "maxLength" and v > LONGEST_SENT)}
    if isinstance(schema, list):
        return [_unexampled(v) for v in schema]
    return schema


def sketch(schema: dict[str, Any]) -> str:
    """The schema as a compact example of its shape, valid JSON on its own (a model without a
    grammar copies it): ``{"title":"text, at most 60 characters","beats":["text, ..."]}``;
    the bounds a string cannot hold are ``bounds``, said in prose after it."""
    return json.dumps(_example(schema), ensure_ascii=False, separators=(",", ":"))


def _example(schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    if "enum" in schema:
        return f"one of {schema.get('description', 'shot.quotes')}, exactly"
    if "examples" in schema:  # a typical value where the least would be copied (0.5 s scenes)
        return schema["examples"][0]
    if kind == "object":
        return {k: _example(v) for k, v in schema["properties"].items()}
    if kind == "array":
        return [_example(schema["items"])]
    if kind == "string":
        most = schema.get("maxLength")
        return f"text, at most {most} characters" if most else "text"
    low = schema.get("minimum", 1)
    return int(low) if kind == "integer" else low


def bounds(schema: dict[str, Any], path: str = "") -> list[str]:
    """What the example cannot show, in prose: each list's most items, each number's range
    (``shots[].scenes[].seconds: a number from 0.5 to 15``)."""
    kind = schema.get("type")
    if "enum" in schema:
        return [f"{path}: one of {schema.get('description', 'shot.quotes')}, exactly"]
    if kind == "object":
        return [said for key, value in schema["properties"].items()
                for said in bounds(value, f"{path}.{key}" if path else key)]
    if kind == "array":
        most, least = schema.get("maxItems"), schema.get("minItems")
        own = [f"{path}: exactly {most} items"] if most is not None and most == least else \
            [f"{path}: at most {most} items"] if most is not None else []
        return own + bounds(schema["items"], f"{path}[]")
    if kind in ("integer", "number"):
        what = "a whole number" if kind == "integer" else "a number"
        low, high = schema.get("minimum"), schema.get("maximum")
        span = f"from {low:g} to {high:g}" if high is not None else f"at least {low:g}"
        return [f"{path}: {what} {span}"] if low is not None else [f"{path}: {what}"]
    return []


def _path(parts: Any) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}" if out else str(part)
    return out or "the answer"


def problems(stage: str, answer: Any, chapter: Chapter | None = None) -> list[str]:
    """What is wrong with ``answer`` against ``stage``'s schema (for ``chapter``), each at its
    path (sorted): its errors, and the sketch's placeholders copied as values."""
    schema = of(stage, chapter)
    answer = clipped(schema, answer)
    found = {f"{_path(error.absolute_path)}: {error.message}" for error in
             Draft202012Validator(schema).iter_errors(answer)}
    return sorted(found | set(copied(answer)))


def clipped(schema: dict[str, Any], answer: Any) -> Any:
    """``answer`` with each list longer than its ``maxItems`` cut to one item more: it is as
    wrong (too long), and an answer of 10,000 shots is judged in the time of 201, not 10,000
    times over with a problem for each."""
    if isinstance(answer, dict) and schema.get("type") == "object":
        inner = schema.get("properties", {})
        return {key: clipped(inner[key], value) if key in inner else value
                for key, value in answer.items()}
    if isinstance(answer, list) and schema.get("type") == "array":
        most = schema.get("maxItems")
        return [clipped(schema["items"], value)
                for value in (answer if most is None else answer[:most + 1])]
    return answer


PLACEHOLDER = re.compile(r"text(, at most \d+ characters)?")


def copied(answer: Any, path: tuple[str | int, ...] = ()) -> list[str]:
    """Each string of ``answer`` that is a placeholder of the sketch (``"text, at most 2000
    characters"``, as Qwen2.5-Coder-1.5B wrote for every shot's action), at its path."""
    if isinstance(answer, dict):
        return [f for key, value in answer.items() for f in copied(value, (*path, key))]
    if isinstance(answer, list):
        return [f for n, value in enumerate(answer) for f in copied(value, (*path, n))]
    if isinstance(answer, str) and PLACEHOLDER.fullmatch(answer.strip()):
        field = next((p for p in reversed(path) if isinstance(p, str)), "value")
        return [f"{_path(path)}: {answer!r} is the shape's placeholder, copied: write the "
                f"{field} itself"]
    return []


def parsed(stage: str, content: str) -> tuple[Any, list[str]]:
    """The JSON in ``content`` as models write it (``reading.answer_data``), or None and why it
    is not JSON."""
    return answer_data(content, set(SCHEMAS[stage]["properties"]))
