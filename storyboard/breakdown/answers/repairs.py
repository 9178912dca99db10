"""The repairs: each near-miss of a model's answer read as meant, declared with its name, the
failure it reads, and what holds that failure off (``held``), so the modes it can still fire in.

``REPAIRS`` is run in order by the judge (``judging.Judge``), as sqlglot's optimizer runs its
``RULES``: each ``(answer, context) -> (answer, notes)``, each firing counted with its mode
(``breakdown --json``: ``repairs``). A call goes under the endpoint's strongest constraint
(``json_schema``, else ``json_object`` with the schema, else the schema in the prompt: ``text``,
counted as ``prompt``), and a repair runs only where its failure can still come back:

- ``unheld`` (``think``, ``fence``, ``wrapper``): unambiguous, and no server always holds a
  schema it took (llama-server, Ollama, old llama-cpp-python builds): every mode.
- ``shape`` (``thing-fields``): a key the schema forbids:
  ``json_object`` (not held by all) and ``prompt``; a season's shot and cut ``prompt`` alone.
- ``bounds`` (``crowded-cast``, ``over-bound``, ``cut-*``): a string or list past its bound, an
  answer cut at ``max_tokens``. Only a season's shot and cut send their bounds (local grammar
  builders overflow on ``maxLength: 2000``), and llama-cpp-python's builder (0.2.x and 0.3.x)
  reads a list that must be empty, sent with no items, as any list (it answered ``"lines": [[]]``
  through both send-backs): ``prompt`` there (``over-bound``, once the send-backs are spent,
  ``json_object`` too), every mode elsewhere.
- ``nothing`` (``none-entry``, ``ordinary-entry``): a name no schema forbids (``none``; ``I``
  in a cast stopped while it looped): every mode.

``text`` and ``judged`` repairs run on each answer (before and after it is read as JSON);
``settled`` ones once the send-backs are spent (``walk.settled``). Anything ambiguous is left
for the schema to refuse, located, and sent back; so is a near-miss no kept run and no real
server's known answer showed (a key in the singular, a list of one for one item: both repairs
were deleted, issue 98).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from storyboard.breakdown.answers import cutshort
from storyboard.breakdown.questions import schemas
from storyboard.breakdown.questions.ordinary import ordinary
from storyboard.breakdown.source import Chapter
from storyboard.breakdown.state import reading

MODES = ("json_schema", "json_object", "prompt")
ELLIPSIS = "…"
SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*(?=\s)")
CLOSING = " ,;:-–—(\"'“‘"  # what a cut at a word leaves no value ending in
NONE_NAMES = re.compile(r"(?:none|nothing|nobody|no one|n/a|null|nil|not applicable)"
                        r"(?: (?:mentioned|given|named|listed|present|seen))?"
                        r"|no (?:characters?|places?|props?)(?: mentioned)?")


@dataclass(frozen=True)
class Context:
    """What a repair reads beside the answer: its stage, the mode asked under, its chapter."""

    stage: str
    mode: str
    chapter: Chapter | None = None

    @property
    def schema(self) -> dict[str, Any]:
        return schemas.of(self.stage, self.chapter)


Notes = list[str]
Fix = Callable[[Any, Context], tuple[Any, Notes]]


@dataclass(frozen=True)
class Repair:
    name: str
    failure: str  # what it reads, as a person would say it
    held: str  # what constraint holds the failure off: unheld | shape | bounds | nothing
    fix: Fix
    when: str = "judged"  # text, judged: every answer (before, after it is read as JSON);
    # settled: once the send-backs are spent
    stages: tuple[str, ...] = ()  # the stages it reads (all: ())

    def modes(self, stage: str) -> tuple[str, ...]:
        """The modes an answer of ``stage`` can still come back with this failure in."""
        bounded = stage in schemas.BOUNDED
        if self.held == "bounds" and bounded:  # settled: json_object's empty lists may fill
            return ("json_object", "prompt") if self.when == "settled" else ("prompt",)
        if self.held == "shape":
            return ("prompt",) if bounded else ("json_object", "prompt")
        return MODES

    def fires(self, context: Context) -> bool:
        return (not self.stages or context.stage in self.stages) and \
            context.mode in self.modes(context.stage)


def _think(content: str, _context: Context) -> tuple[str, Notes]:
    text = reading.THINK.sub("", content, count=1)
    return text, ["a <think> block before the JSON: left out"] if text != content else []


def _fence(content: str, _context: Context) -> tuple[str, Notes]:
    text, words = reading.unwrapped_text(content), reading.around(content)
    said = f"the JSON read from its fence{f' among the words {words!r}' if words else ''}"
    return text, [said] if text != content else []


def _wrapper(data: Any, context: Context) -> tuple[Any, Notes]:
    inner = reading.unwrapped(data, set(context.schema["properties"]))
    return inner, [f"the answer wrapped in {{{next(iter(data))!r}: ...}}: read as what it "
                   "wraps"] if inner is not data else []


def walked(fix: Callable[[dict[str, Any], Any, Notes, str], Any]) -> Fix:
    """``fix(schema, value, notes, path)`` on each value of an answer, from the top down."""
    def each(schema: dict[str, Any], data: Any, notes: Notes, path: str) -> Any:
        data, kind = fix(schema, data, notes, path or "the answer"), schema.get("type")
        if kind == "object" and isinstance(data, dict):
            props = schema.get("properties", {})
            return {key: each(props[key], value, notes, f"{path}.{key}" if path else key)
                    if key in props else value for key, value in data.items()}
        if kind == "array" and isinstance(data, list):
            return [each(schema["items"], item, notes, f"{path}[{n}]")
                    for n, item in enumerate(data)]
        return data

    def repair(answer: Any, context: Context) -> tuple[Any, Notes]:
        notes: Notes = []
        return each(context.schema, answer, notes, ""), notes
    return repair


def _thing_fields(schema: dict[str, Any], data: Any, notes: Notes, path: str) -> Any:
    """A place or prop's ``appearance`` read as its look, its ``voice`` dropped."""
    if set(schema.get("properties", {})) != {"name", "look"} or not isinstance(data, dict):
        return data
    if set(data) in ({"name", "look", "voice"}, {"look", "voice"}):
        notes.append(f"{path}: a character's voice given to a place or prop: dropped")
        return {key: value for key, value in data.items() if key != "voice"}
    if "look" in data or "appearance" not in data or \
            not set(data) <= {"name", "appearance", "voice"}:
        return data
    notes.append(f"{path}: a character's fields given to a place or prop: its appearance read as "
                 "its look" + (", its voice dropped" if "voice" in data else ""))
    return {**({"name": data["name"]} if "name" in data else {}), "look": data["appearance"]}


def says_none(name: Any) -> bool:
    """Whether a name says there is nothing (``none``, ``N/A``, ``no props``), any case."""
    return isinstance(name, str) and \
        NONE_NAMES.fullmatch(" ".join(name.lower().strip(" .!-").split())) is not None


def _left_out(drop: Callable[[str], bool], why: str) -> Fix:
    """A repair leaving out each entry of a list of named things whose name ``drop`` says."""
    def fix(schema: dict[str, Any], data: Any, notes: Notes, path: str) -> Any:
        if not isinstance(data, list) or "name" not in schema.get("items", {}).get("properties", ()):
            return data
        kept = [item for item in data if not (isinstance(item, dict) and drop(str(item.get("name") or "")))]
        if len(kept) < len(data):
            notes.append(f"{path}: {why}: left out")
        return kept
    return walked(fix)


def _crowded(schema: dict[str, Any], data: Any, notes: Notes, path: str) -> Any:
    """A shot naming more than its bound: the names its scenes name first, then in order."""
    props = schema.get("properties", {})
    bound, cast = props.get("cast", {}).get("maxItems"), \
        data.get("cast") if isinstance(data, dict) else None
    if bound is None or "scenes" not in props or not isinstance(cast, list) or \
            len(cast) <= bound or not all(isinstance(name, str) for name in cast):
        return data
    words, names = json.dumps(data.get("scenes"), ensure_ascii=False).lower(), [*dict.fromkeys(cast)]
    kept = sorted(names, key=lambda name: name.lower() not in words)[:bound]  # stable
    left = [name for name in names if name not in kept]
    notes.append(f"{path}.cast: {len(cast)} names where at most {bound} may be: " + (
        f"those its scenes name first, {len(left)} left out ({', '.join(left)})" if left else
        "each read once"))
    return {**data, "cast": kept}


def cut_to(text: str, most: int) -> str:
    """``text`` within ``most`` characters: up to its last whole sentence that fits (when that
    keeps at least half of them), else its last whole word with an ellipsis after it, else its
    first ``most - 1`` characters and the ellipsis (``text`` itself when it fits)."""
    text = text.strip()
    if len(text) <= most:
        return text
    ends = [m.end() for m in SENTENCE_END.finditer(text[:most + 1]) if most // 2 <= m.end() <= most]
    if ends:
        return text[:ends[-1]]
    room = text[:most]  # the ellipsis takes one character
    space = room.rfind(" ")
    kept = room[:space].rstrip(CLOSING) if space > 0 else ""
    return f"{kept or text[:most - 1]}{ELLIPSIS}"


def _over_bound(schema: dict[str, Any], data: Any, notes: Notes, path: str) -> Any:
    """A string past its ``maxLength`` cut (``cut_to``); a list past ``maxItems``, its first."""
    most = schema.get("maxItems") if isinstance(data, list) else schema.get("maxLength")
    if most is None or not isinstance(data, list | str) or len(data) <= most:
        return data
    if isinstance(data, list):
        notes.append(f"{path}: {len(data)} items where at most {most} may be: the first {most} "
                     "kept")
        return data[:most]
    cut = cut_to(data, most)
    how = "at a word" if cut.endswith(ELLIPSIS) else "after its last whole sentence"
    notes.append(f"{path}: {len(data)} characters where at most {most} may be: cut {how} "
                 f"({len(cut)})")
    return cut


def _read(read: Callable[[str, Chapter | None], tuple[dict[str, Any], int] | None]) -> Fix:
    """A reading of a cut answer's text (``cutshort``) as a repair: what it wrote whole, and how
    many whole items after it were left out (None: nothing)."""
    def repair(content: Any, context: Context) -> tuple[Any, Notes]:
        found = read(str(content), context.chapter)
        return found, ["read as written whole before the cut"] if found is not None else []
    return repair


CUT = "an answer cut at max_tokens, or stopped while it loops"
REPAIRS: tuple[Repair, ...] = (
    Repair("think", "a <think> block before the JSON", "unheld", _think, "text"),
    Repair("fence", "the JSON inside a ``` fence, alone or among words", "unheld", _fence, "text"),
    Repair("wrapper", "the schema's object inside one wrapper object", "unheld", _wrapper),
    Repair("thing-fields", "a place or prop given a character's appearance or voice", "shape",
           walked(_thing_fields)),
    Repair("none-entry", "an entry of a list of named things named as there being none",
           "nothing", _left_out(says_none, "an entry named as there being none")),
    Repair("crowded-cast", "a shot's cast naming more than its bound", "bounds",
           walked(_crowded)),
    Repair("over-bound", "a string past its maxLength, a list past its maxItems", "bounds",
           walked(_over_bound), "settled"),
    Repair("ordinary-entry", "a cast entry named by ordinary words alone ('I') in an answer read as cut",
           "nothing", _left_out(ordinary, "named by ordinary words alone"), "settled", ("cast",)),
    Repair("cut-outline", f"{CUT}: an outline's beats written whole", "bounds",
           _read(cutshort.read_outline), "settled", ("outline",)),
    Repair("cut-summary", f"{CUT}: an outline cut inside its summary", "bounds",
           _read(cutshort.read_summary), "settled", ("outline",)),
    Repair("cut-cast", f"{CUT}: a cast's entries written whole", "bounds",
           _read(cutshort.read_cast), "settled", ("cast",)),
    Repair("cut-shots", f"{CUT}: its shots written whole", "bounds",
           _read(cutshort.read_shots), "settled", ("shots",)),
    Repair("cut-scene", f"{CUT}: inside its first scene's action", "bounds",
           _read(cutshort.read_scene), "settled", ("shots",)),
)
NAMED = {repair.name: repair for repair in REPAIRS}
