"""An answer that repeats one already refused into a narrowed request, and its answer back into
the whole.

A model at temperature 0 asked the same kind of question gives the same answer: a second
send-back of the same problems buys nothing. So when an answer repeats one refused in the same
call (byte for byte, or with the same problems, ``Seen``), the next turn asks only for the failing
items (``props[0]``, ``shots[3]``), with the fields an item has and one minimal example of its
shape; the items given are put back in the answer they mend (``merged``) and the whole is judged
again. A repeat with no item to narrow to (not JSON, a field of the whole missing) is asked once
for the whole in the bare shape. What is still wrong after the narrowed turn stops the call
(``STOPPED``): no call is paid for the same answer twice.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from typing import Any

from storyboard.breakdown.schemas import SCHEMAS, sketch

ITEM = re.compile(r"^([a-z_]+)\[(\d+)\]")
STOPPED = ("the model answered again as it had been refused, and the narrowed request (only the "
           "failing items, their fields and an example) did not mend it: stopped, so no call is "
           "paid for the same answer twice. The way on: fix the problems above in the written "
           "file by hand, or ask a larger model (docs/breakdown.md#a-local-model), or a server "
           "that enforces response_format json_schema; a re-run takes these answers from the "
           "cache for nothing")


@dataclass
class Seen:
    """The answers refused in one call: their texts and their problems."""

    contents: set[str] = field(default_factory=set)
    problems: set[tuple[str, ...]] = field(default_factory=set)

    def repeats(self, content: str, problems: list[str]) -> bool:
        """Whether this refused answer repeats one before it (and remember it)."""
        again = content in self.contents or tuple(problems) in self.problems
        self.contents.add(content)
        self.problems.add(tuple(problems))
        return again


@dataclass(frozen=True)
class Narrowed:
    """What a narrowed turn asks: the items again (list key -> indexes), over ``base``, the
    repeated answer as read (no items: the whole is asked)."""

    base: Any
    items: dict[str, list[int]]


def narrowed(base: Any, problems: list[str]) -> Narrowed:
    """The items the ``problems`` are in, when each problem is in an item of ``base``."""
    items: dict[str, set[int]] = {}
    for problem in problems:
        found = ITEM.match(problem)
        if found is None or not isinstance(base, dict) or \
                not isinstance(base.get(found.group(1)), list) or \
                int(found.group(2)) >= len(base[found.group(1)]):
            return Narrowed(base, {})
        items.setdefault(found.group(1), set()).add(int(found.group(2)))
    return Narrowed(base, {key: sorted(indexes) for key, indexes in items.items()})


def turn(stage: str, previous: str, problems: list[str], asked: Narrowed
         ) -> list[dict[str, str]]:
    """The narrowed turn after the repeated answer ``previous``."""
    listed = "\n".join(f"- {problem}" for problem in problems)
    return [{"role": "assistant", "content": previous[:40_000]},
            {"role": "user", "content": f"{_request(stage, asked)}\nThe problems:\n{listed}"}]


def _request(stage: str, asked: Narrowed) -> str:
    schema = SCHEMAS[stage]
    head = "Your answer repeats one already refused, with the same problems. "
    if not asked.items:
        return head + ("Answer with one JSON object of exactly this shape and nothing else: "
                       f"{sketch(schema)}")
    parts = []
    for key, indexes in asked.items.items():
        item = schema["properties"][key]["items"]
        names = ", ".join(f"{key}[{i}]" for i in indexes)
        parts.append(f'"{key}": the {len(indexes)} item(s) {names} fixed, in that order; each '
                     f"has exactly the fields {', '.join(item['properties'])}, for example "
                     f"{sketch(item)}")
    only = json.dumps({key: ["..."] for key in asked.items})
    return head + (f"Answer only those items, fixed, as one JSON object like {only} holding "
                   "nothing else: " + "; ".join(parts) + ".")


def merged(asked: Narrowed, data: Any) -> tuple[Any, list[str]]:
    """The whole answer with the narrowed answer's items put back, or what is wrong with it."""
    if not asked.items:
        return data, []
    if not isinstance(data, dict):
        return None, ["the narrowed answer is not a JSON object of the items asked"]
    whole, problems = copy.deepcopy(asked.base), []
    for key, indexes in asked.items.items():
        given = data.get(key)
        if not isinstance(given, list) or len(given) != len(indexes):
            count = len(given) if isinstance(given, list) else 0
            problems.append(f"{key}: the narrowed answer gave {count} item(s) where "
                            f"{len(indexes)} were asked")
            continue
        for index, item in zip(indexes, given, strict=True):
            whole[key][index] = item
    return (None if problems else whole), problems
