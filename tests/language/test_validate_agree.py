"""The two JSON Schema validators decide alike (issue 35.4): fastjsonschema for speed, jsonschema
for located messages. ``check_schema`` trusts the fast one's yes; if it ever said yes where
jsonschema says no, a broken document would pass ``check`` in silence.

Hypothesis mutates real documents (the examples' series and episodes): a value replaced by any
JSON value, a key removed, an unknown key added, at any depth. A whole number written as a float
(``3.0``) is an integer to fastjsonschema and not to ours; ``check_schema`` walks such documents
with jsonschema anyway, so its fast path is held to: "clean" implies valid.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import fastjsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storyboard.language.read.schemacheck import (
    EPISODE_SCHEMA,
    SERIES_SCHEMA,
    _fast_validator,
    _validators,
    has_whole_float,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SEEDS: list[tuple[str, Any]] = [
    (SERIES_SCHEMA, yaml.safe_load((EXAMPLES / name / "storyboard.yaml").read_text()))
    for name in ("coffee-shop", "long-take", "ad")
] + [(EPISODE_SCHEMA, yaml.safe_load(path.read_text()))
     for path in sorted(EXAMPLES.glob("*/episodes/*.yaml"))]

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 40),
                    st.floats(allow_nan=False, allow_infinity=False, width=32),
                    st.sampled_from([2.0, 5.0, 7.0, -1.0]),  # whole numbers as floats
                    st.sampled_from(["", "720P", "16:9", "adaptive", "wan3.0-video", "@mia",
                                     "0-3s", "media/cast/mia.png", "x" * 600]),
                    st.text(max_size=8))
JSON = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=6)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside ``value`` (mappings' keys and lists' indexes)."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += paths(item, (*prefix, index))
    return found


def mutate(doc: Any, data: st.DataObject) -> Any:
    doc = copy.deepcopy(doc)
    for _ in range(data.draw(st.integers(1, 3))):
        where = data.draw(st.sampled_from(paths(doc)))
        if not where:
            continue
        parent = doc
        for part in where[:-1]:
            parent = parent[part]
        action = data.draw(st.sampled_from(["replace", "remove", "add"]))
        if action == "replace":
            parent[where[-1]] = data.draw(JSON)
        elif action == "remove" and isinstance(parent, dict):
            del parent[where[-1]]
        elif action == "add" and isinstance(parent, dict):
            parent[data.draw(st.sampled_from(["extra", "takes", "seed", "duration", "ratio"]))] \
                = data.draw(JSON)
    return doc


def fast_says_valid(schema: str, doc: Any) -> bool:
    try:
        _fast_validator(schema)(doc)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


@pytest.mark.parametrize(("schema", "seed"), SEEDS, ids=[f"{s}-{i}" for i, (s, _) in
                                                         enumerate(SEEDS)])
def test_the_unmutated_examples_are_valid_to_both(schema: str, seed: Any) -> None:
    assert fast_says_valid(schema, seed) and _validators()[schema].is_valid(seed)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_both_validators_decide_alike_on_mutated_documents(data: st.DataObject) -> None:
    schema, seed = data.draw(st.sampled_from(SEEDS))
    doc = mutate(seed, data)
    fast, slow = fast_says_valid(schema, doc), _validators()[schema].is_valid(doc)
    if has_whole_float(doc):
        # fastjsonschema takes 3.0 for an integer: check_schema then walks it with jsonschema,
        # so only its "clean" (fast yes and no whole float) must imply valid.
        assert slow <= fast, doc
    else:
        assert fast == slow, doc
