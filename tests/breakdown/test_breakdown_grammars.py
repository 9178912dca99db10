"""Grammars the servers people run compile, and answers they give read (issue 98, item 3).

Every schema the breakdown can send (each stage, each mode, each kind of call: a shot that
offers quotes, one that offers none, a cut with ends) is walked for the shapes that old grammar
builders refuse or that Ollama's ``format`` does not take: an empty list (``maxItems: 0``) with
anything bounded inside it (llama-cpp-python 0.2.62 recursed past its limit on such a list's
``quote: {maxLength: 600}`` and dropped the grammar), references, combinators, open objects.
A ```json fence, a ``<think>`` block or one wrapper object is read in every mode (a server that
takes ``json_schema`` does not always hold it), and an answer still not read says what it held.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from storyboard.breakdown.questions import schemas
from storyboard.breakdown.source import Chapter
from tests.breakdown.scripted import Reply, Scripted, completion, stage_of
from tests.breakdown.test_breakdown_llm import KEY_ENV, MIA_CAST, OUTLINE, SHOTS, run

NARRATION = Chapter("story.md", 1, "One", 3, ("Mia climbed the stairs.",), shots=4,
                    shot_seconds=5, shot=1)
SPOKEN = Chapter("story.md", 1, "One", 3, ('"Are you coming up?" Mia called down.',), shots=4,
                 shot_seconds=5, shot=1)
CUT = Chapter("story.md", 1, "One", 3, ("Mia climbed.",), ends=("1.1", "1.2"))
CALLS = (None, NARRATION, SPOKEN, CUT)
MODES = ("json_schema", "json_object")


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "none")


COMBINATORS = ("$ref", "$defs", "anyOf", "oneOf", "allOf", "not", "if", "then", "else",
               "patternProperties", "dependentSchemas")


def sent() -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema a request can carry, named by its stage, mode and call."""
    for stage in schemas.SCHEMAS:
        for mode in MODES:
            for call in (CALLS if stage in schemas.BOUNDED else (None,)):
                found = schemas.response_format(stage, mode, call)
                assert found is not None
                schema = found["json_schema"]["schema"] if mode == "json_schema" else \
                    found["schema"]
                yield f"{stage} {mode} {call.lines[0] if call else ''}", schema


def faults(schema: Any, path: str = "") -> Iterator[str]:
    """Each shape an old grammar builder or Ollama's format refuses, at its path."""
    if not isinstance(schema, dict):
        return
    yield from (f"{path}: {key}" for key in COMBINATORS if key in schema)
    kind = schema.get("type")
    if kind == "array" and schema.get("maxItems") == 0 and set(schema) - {"type", "maxItems"}:
        yield f"{path}: an empty list bounds its items ({sorted(set(schema) - {'type', 'maxItems'})})"
    if kind == "array" and schema.get("maxItems") != 0:
        yield from faults(schema.get("items"), f"{path}[]")
    if kind == "object":
        if schema.get("additionalProperties") is not False or \
                set(schema.get("required", [])) != set(schema.get("properties", {})):
            yield f"{path}: an object that is not flat (closed, every slot required)"
        for key, value in schema.get("properties", {}).items():
            yield from faults(value, f"{path}.{key}")
    if schema.get("maxLength", 0) > schemas.LONGEST_SENT:
        yield f"{path}: a string bounded at {schema['maxLength']} characters (0.2.62 recursed)"
    if "enum" in schema and not all(isinstance(v, str) for v in schema["enum"]):
        yield f"{path}: an enum of other than strings"


def test_every_schema_the_breakdown_sends_has_shapes_old_servers_compile() -> None:
    walked = dict(sent())
    assert len(walked) == 2 * (len(schemas.SCHEMAS) - 2) + 2 * 2 * len(CALLS)
    found = {name: list(faults(schema)) for name, schema in walked.items()}
    assert {name: said for name, said in found.items() if said} == {}
    narration = walked["shot json_schema Mia climbed the stairs."]
    lines = narration["properties"]["scenes"]["items"]["properties"]["lines"]
    assert lines == {"type": "array", "maxItems": 0}  # nothing inside an empty list
    spoken = walked['shot json_schema "Are you coming up?" Mia called down.']
    said = spoken["properties"]["scenes"]["items"]["properties"]["lines"]["items"]
    assert said["properties"]["quote"] == {"enum": ["Are you coming up?"]}
    free = walked["shot json_schema "]["properties"]["scenes"]["items"]["properties"]["lines"]
    assert free["items"]["properties"]["quote"] == {"type": "string", "minLength": 1}  # bound here


def test_the_walk_finds_what_0_2_62_refused() -> None:
    """The shot schema as it was sent before: its empty list kept its quote's maxLength."""
    was = schemas.shot(NARRATION)
    assert was["properties"]["scenes"]["items"]["properties"]["lines"]["maxItems"] == 0
    assert any("an empty list bounds its items" in f for f in faults(was))
    assert list(faults({"type": "string", "maxLength": 600})) == [
        ": a string bounded at 600 characters (0.2.62 recursed)"]  # a free quote's, before
    assert list(faults({"type": "object", "properties": {"a": {"anyOf": []}},
                        "required": ["a"], "additionalProperties": False})) == [".a: anyOf"]


def think(text: str) -> str:
    return f"<think>\nThe user wants JSON.\n</think>\n{text}"


def fence(text: str) -> str:
    return f"Here is the answer as JSON:\n```json\n{text}\n```\nI hope this helps."


def unsure(body: dict[str, Any]) -> Reply:
    """A server that takes json_schema and does not hold it: a fence, a think block and a
    wrapper object come back."""
    stage = stage_of(body)
    given = {"outline": fence(json.dumps(OUTLINE)), "cast": think(json.dumps(MIA_CAST)),
             "shots": json.dumps({"episode": SHOTS})}[stage]
    return completion(given)


def test_a_fence_a_think_block_and_a_wrapper_are_read_under_json_schema(tmp_path: Path) -> None:
    with Scripted(unsure) as server:
        report, series = run(server, tmp_path, response_format="json_schema")
    assert report.problems == []
    assert [stage_of(b) for b in server.bodies] == ["outline", "cast", "shots"]  # none sent back
    assert all(b["response_format"]["type"] == "json_schema" for b in server.bodies)
    assert report.repairs == [{"name": n, "mode": "json_schema", "count": 1}
                              for n in ("think", "fence", "wrapper")]
    assert (series / "episodes" / "01-the-lighthouse.yaml").is_file()


def broken(body: dict[str, Any]) -> Reply:
    if stage_of(body) == "cast":
        return completion(fence('{"characters": [{"name": "Mia",'))
    return unsure(body)


def test_an_answer_not_read_says_it_held_a_fence(tmp_path: Path) -> None:
    with Scripted(broken) as server:
        report, _series = run(server, tmp_path, response_format="json_schema")
    casts = [b for b in server.bodies if stage_of(b) == "cast"]
    assert len(casts) == 3  # the answer and its two send-backs
    assert "the answer is not valid JSON (it holds a ``` fence)" in \
        casts[1]["messages"][-1]["content"]
    messages = [p.message for p in report.problems]
    assert any("not valid JSON (it holds a ``` fence)" in m for m in messages), messages
