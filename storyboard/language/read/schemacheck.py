"""Documents into schema diagnostics: the JSON Schema under ``schemas/``, said in plain words.

jsonschema finds the problems; this module says where (``file:line:col`` from the document's spans)
and what was expected, with "did you mean" for misspelt keys. The semantic rules of the language
live in ``resolve``; both report every problem at once.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import fastjsonschema

from storyboard.errors import Diagnostic
from storyboard.language.document import SEP, Document, PathKey
from storyboard.language.read import namerule, schemacode, tags
from storyboard.language.request import NEVER_SHARED, SHARED_SETTINGS
from storyboard.targets.kinds import KINDS

if TYPE_CHECKING:  # jsonschema is imported only when a document is rejected
    from jsonschema.exceptions import ValidationError

SERIES_SCHEMA = "storyboard.schema.json"
EPISODE_SCHEMA = "episode.schema.json"
_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]*@")
LISTED = 8  # an episode's shots listed, at most, where no shot id is near the one given
RULES_VERSION = b"2"  # bump when the checks change, not the schemas (2: strict integers)
TEMPLATE_SCHEMA = "template"  # a shot template file: $defs/template of the series schema
TYPE_WORDS = {"object": "a mapping", "array": "a list", "string": "a string",
              "integer": "a whole number", "number": "a number", "boolean": "true or false",
              "null": "nothing (null)"}


def schema_dir() -> Path:
    """The schemas: inside the installed package, else the repository's ``schemas/`` folder."""
    packaged = Path(str(resources.files("storyboard"))) / "schemas"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "schemas"


@functools.cache
def schema_digest() -> str:
    """Changes whenever a schema file changes (it salts the parse cache)."""
    folder = schema_dir()
    digest = hashlib.sha256(RULES_VERSION)
    for name in (SERIES_SCHEMA, EPISODE_SCHEMA):
        digest.update((folder / name).read_bytes())
    return digest.hexdigest()


@functools.cache
def _schemas() -> dict[str, Any]:
    folder = schema_dir()
    return {name: json.loads((folder / name).read_text(encoding="utf-8"))
            for name in (SERIES_SCHEMA, EPISODE_SCHEMA)}


@functools.cache
def _validators() -> dict[str, Any]:
    import jsonschema
    import referencing
    schemas = dict(_schemas())
    registry: referencing.Registry[Any] = referencing.Registry().with_resources(
        (name, referencing.Resource.from_contents(schema)) for name, schema in schemas.items())
    schemas[TEMPLATE_SCHEMA] = {"$ref": "#/$defs/template",
                                "$defs": schemas[SERIES_SCHEMA]["$defs"]}
    base = jsonschema.validators.validator_for(schemas[SERIES_SCHEMA])
    # A whole number written as a float (``takes: 3.0``) is JSON Schema's integer but not
    # Python's: every later stage would pass it by. Here it is no integer, and said at its line.
    cls = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
        base, type_checker=base.TYPE_CHECKER.redefine("integer", _strict_integer))
    return {name: cls(schema, registry=registry) for name, schema in schemas.items()}


def _strict_integer(_checker: object, instance: object) -> bool:
    return isinstance(instance, int) and not isinstance(instance, bool)


def has_whole_float(value: Any) -> bool:
    """Whether a float with no fraction (``3.0``) sits anywhere in ``value``: fastjsonschema
    takes it for an integer, so such a document is walked by jsonschema, which does not."""
    if isinstance(value, float):
        return value.is_integer()
    if isinstance(value, dict):
        return any(has_whole_float(v) for v in value.values())
    if isinstance(value, list):
        return any(has_whole_float(v) for v in value)
    return False


@functools.cache
def _fast_validator(schema: str) -> Callable[[Any], Any]:
    """``schema`` (SERIES_, EPISODE_ or TEMPLATE_SCHEMA) compiled to Python code by
    fastjsonschema: a yes/no in microseconds, its code kept between processes (``schemacode``).

    jsonschema explains every problem but walks the schema for each value; on a clean 2,000-shot
    series it is most of the compile time. Clean documents (nearly all of them) take this fast
    path; only a document it rejects is walked again by jsonschema for located messages.
    """
    series = _schemas()[SERIES_SCHEMA]
    roots = {SERIES_SCHEMA: series,
             EPISODE_SCHEMA: {"$ref": "#/$defs/episode", "$defs": series["$defs"]},
             TEMPLATE_SCHEMA: {"$ref": "#/$defs/template", "$defs": series["$defs"]}}
    return schemacode.validator(roots[schema])


def check_schema(doc: Document, schema: str) -> list[Diagnostic]:
    """Every schema problem of ``doc`` against ``schema`` (SERIES_, EPISODE_ or TEMPLATE_SCHEMA),
    and every number that is not finite (``.nan``, ``.inf``: a limit of NaN would limit nothing)."""
    noted = doc.floats  # the odd floats the parser noted, else a walk finds them
    odd_floats = _non_finite(doc.data, ()) if noted is None else \
        ((tuple(where.split(SEP)[1:]), value) for where, value in noted
         if not math.isfinite(value))
    odd = [doc.diagnostic(path, f"{_show(value)} is not a finite number; expected a number "
                                "such as 0.5 (NaN and infinity are refused everywhere)")
           for path, value in odd_floats]
    whole = has_whole_float(doc.data) if noted is None else \
        any(math.isfinite(value) for _, value in noted)
    try:
        _fast_validator(schema)(doc.data)
        if not whole:
            return odd
    except fastjsonschema.JsonSchemaException:
        pass  # fall through to the thorough walk that locates and explains every problem
    validator = _validators()[schema]
    found: dict[tuple[Any, ...], Diagnostic] = {}
    for error in validator.iter_errors(doc.data):
        for leaf in _leaves(error):
            if leaf.validator == "additionalProperties":
                described = _unknown_keys(doc, leaf, _path(leaf))
            else:
                described = [_describe(doc, leaf)]
            code = "schema-unknown-key" if leaf.validator == "additionalProperties" else \
                f"schema-{leaf.validator}"
            for diagnostic in (replace(d, code=d.code or code) for d in described):
                found.setdefault((diagnostic.span, diagnostic.message), diagnostic)
    return [*odd, *found.values()]


def _non_finite(node: Any, path: PathKey) -> Iterator[tuple[PathKey, float]]:
    """Each float in ``node`` that is NaN or infinite, with its path."""
    if isinstance(node, float):
        if not math.isfinite(node):
            yield path, node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _non_finite(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _non_finite(value, (*path, index))


def _type_matches(instance: Any, schema: dict[str, Any]) -> bool:
    """Whether a oneOf branch is about this kind of value at all."""
    if "type" in schema:
        kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        return any(_is_type(instance, kind) for kind in kinds)
    if "enum" in schema:
        return isinstance(instance, str)
    return True


def _is_type(instance: Any, kind: str) -> bool:
    checks = {"object": dict, "array": list, "string": str, "boolean": bool}
    if kind in checks:
        return isinstance(instance, checks[kind])
    if kind in ("integer", "number"):
        return isinstance(instance, int | float) and not isinstance(instance, bool)
    return instance is None


def _by_required(instance: Any, fitting: list[int], branches: Any) -> list[int]:
    """Of several mapping branches, the one whose required keys the mapping has (the most of
    them, when several do): ``{design: ..., takes: 2.0}`` is about the designed voice."""
    if len(fitting) < 2 or not isinstance(instance, dict):
        return fitting
    required = {i: set(_deref(branches[i]).get("required", ())) for i in fitting}
    having = [i for i in fitting if required[i] and required[i] <= set(instance)]
    most = max((len(required[i]) for i in having), default=0)
    best = [i for i in having if len(required[i]) == most]
    return best if len(best) == 1 else fitting


def _leaves(error: ValidationError) -> Iterator[ValidationError]:
    """Descend into oneOf/anyOf to the branch that fits the value's kind, if exactly one does."""
    if error.validator in ("oneOf", "anyOf") and error.context:
        branches: Any = error.validator_value
        fitting = _by_required(error.instance, [
            i for i, branch in enumerate(branches) if _type_matches(error.instance, _deref(branch))],
            branches)
        if len(fitting) == 1:
            inner = [e for e in error.context if e.schema_path and e.schema_path[0] == fitting[0]]
            if inner:
                for sub in inner:
                    yield from _leaves(sub)
                return
    yield error


@functools.cache
def _series_defs() -> dict[str, Any]:
    return dict(_schemas()[SERIES_SCHEMA]["$defs"])


def _deref(schema: Any) -> dict[str, Any]:
    if isinstance(schema, dict) and "$ref" in schema:
        name = str(schema["$ref"]).rsplit("/", 1)[-1]
        return dict(_series_defs().get(name, {}))
    return schema if isinstance(schema, dict) else {}


def _show(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _path(error: ValidationError) -> PathKey:
    return tuple(error.absolute_path)


def _describe(doc: Document, error: ValidationError) -> Diagnostic:
    path = _path(error)
    kind = error.validator
    value: Any = error.validator_value
    if kind == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return doc.diagnostic(path, f"missing required key {missing!r}")
    if kind == "type":
        kinds = value if isinstance(value, list) else [value]
        words = " or ".join(TYPE_WORDS.get(str(k), str(k)) for k in kinds)
        if "integer" in kinds and isinstance(error.instance, float) and \
                error.instance.is_integer():
            return doc.diagnostic(path, f"expected {words}, got {_show(error.instance)}: write "
                                        f"it without the decimal point ({int(error.instance)})")
        return doc.diagnostic(path, f"expected {words}, got {_show(error.instance)}")
    if kind == "enum":
        choices = ", ".join(str(c) for c in value)
        hint = _did_you_mean(str(error.instance), [str(c) for c in value])
        return doc.diagnostic(path, f"expected one of {choices}; got {_show(error.instance)}{hint}")
    if kind == "const":
        return doc.diagnostic(path, f"expected {_show(error.validator_value)}, "
                                    f"got {_show(error.instance)}")
    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        sign = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">",
                "exclusiveMaximum": "<"}[kind]
        return doc.diagnostic(path, f"expected a number {sign} {error.validator_value}, "
                                    f"got {_show(error.instance)}")
    if kind == "minItems":
        return doc.diagnostic(path, f"expected at least {error.validator_value} item(s)")
    if kind == "maxLength":
        return doc.diagnostic(path, f"{len(str(error.instance))} characters; expected at most "
                                    f"{error.validator_value}")
    if kind == "pattern" and value == tags.FORM.pattern and isinstance(error.instance, str):
        return doc.diagnostic(path, tags.problem(error.instance) or "", code="language-tag")
    if kind == "pattern":
        said = error.schema.get("description") if isinstance(error.schema, dict) else None
        parent = doc.get(path)
        key = error.instance if isinstance(error.instance, str) else None
        at_key = key is not None and isinstance(parent, dict) and key in parent  # propertyNames
        container = next((str(p) for p in reversed(path) if isinstance(p, str)), "")
        worded = namerule.said(container, key, str(value)) if at_key and key else None
        if worded is not None and key is not None:  # the rule in words, a legal name near it
            return doc.diagnostic((*path, key), worded, key=True, code="schema-name")
        return doc.diagnostic((*path, key) if key is not None and at_key else path,
                              f"{_show(error.instance)} does not have the expected form "
                              f"({said or error.validator_value})", key=at_key)
    if kind == "not" and isinstance(error.schema, dict) and error.schema.get("description"):
        shown = _USERINFO.sub(r"\1***@", _show(error.instance))  # never echo a password
        return doc.diagnostic(path, f"{shown} is not allowed here: {error.schema['description']}")
    if kind == "propertyNames":
        said = error.schema.get("description") if isinstance(error.schema, dict) else None
        return doc.diagnostic(path, f"{_show(error.instance)} is not a valid name here; expected "
                                    f"{said or 'letters, digits and underscores, starting with a letter'}")
    if kind == "oneOf" and isinstance(error.instance, dict) and path and \
            {"image", "video"} & set(_deref(error.schema).get("properties", {})):
        return doc.diagnostic(path, "a character needs exactly one of 'image' or 'video'")
    if kind in ("oneOf", "anyOf") and (lacking := _missing(error)):
        return doc.diagnostic(path, lacking)
    return doc.diagnostic(path, f"{_show(error.instance)} is not valid here: {_expected(error)}")


def _missing(error: ValidationError) -> str | None:
    """For a mapping that fits one form of several but for a required key: which key is missing
    and what it is (a designed voice without its ``sample``)."""
    keys = set(error.instance) if isinstance(error.instance, dict) else set()
    branches = error.validator_value if isinstance(error.validator_value, list) else []
    for branch in map(_deref, branches):
        properties = branch.get("properties", {})
        missing = [k for k in branch.get("required", []) if k not in keys]
        if keys and keys <= set(properties) and missing:
            said = _deref(properties.get(missing[0])).get("description")
            return (f"missing required key {missing[0]!r} beside {', '.join(map(repr, sorted(keys)))}"
                    + (f" ({missing[0]}: {said})" if said else ""))
    return None


def _expected(error: ValidationError) -> str:
    branches = error.validator_value if isinstance(error.validator_value, list) else []
    words = []
    for branch in branches:
        branch = _deref(branch)
        if "enum" in branch:
            words.append("one of " + ", ".join(map(str, branch["enum"])))
        elif branch.get("type") == "object" and branch.get("required"):
            words.append("a mapping with " + " and ".join(map(repr, branch["required"])))
        elif "type" in branch:
            words.append(TYPE_WORDS.get(str(branch["type"]), str(branch["type"])))
    return "expected " + " or ".join(words) if words else error.message


def _unknown_keys(doc: Document, error: ValidationError, path: PathKey) -> list[Diagnostic]:
    schema: Any = error.schema
    instance: Any = error.instance
    allowed = sorted(schema.get("properties", {}))
    listing = ", ".join(allowed)
    return [doc.diagnostic((*path, key), _never_shared(key, instance) if path == ("providers",)
                           and key in NEVER_SHARED else f"unknown key {key!r}"
                           f"{_did_you_mean(key, allowed)}; expected one of: {listing}", key=True)
            for key in instance if key not in allowed]


def _never_shared(key: str, present: Iterable[Any]) -> str:
    """Why a credential's setting at the top of ``providers:`` is refused, and where it belongs:
    the block of the one provider it is for (named when the map has a single block)."""
    blocks = [name for name in present if name in KINDS]
    block = blocks[0] if len(blocks) == 1 else "NAME"
    listing = "" if len(blocks) == 1 else f", NAME one of: {', '.join(sorted(KINDS))}"
    return (f"{key!r} is never shared between providers: credentials are not shared, and what leads a "
            f"key somewhere ({', '.join(NEVER_SHARED)}) reaches only the provider whose block holds "
            f"it; move it into that block: providers: {{{block}: {{{key}: ...}}}}{listing}. "
            f"Shared by every provider: {', '.join(SHARED_SETTINGS)}")


_RATIO_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*[:/x]\s*(\d+(?:\.\d+)?)\s*$")


def _aspect(text: str) -> float | None:
    found = _RATIO_RE.match(text)
    if found is None or not float(found.group(1)) or not float(found.group(2)):
        return None
    return math.log(float(found.group(1)) / float(found.group(2)))


def _nearest_by_meaning(word: str, choices: list[str]) -> str | None:
    """For aspect ratios, the choice nearest in shape (``16:10`` is nearly ``16:9``, though its
    spelling is nearer ``1:1``); ``None`` when the words are not ratios."""
    wanted = _aspect(word)
    shapes = {choice: shape for choice in choices if (shape := _aspect(choice)) is not None}
    if wanted is None or not shapes:  # ``adaptive`` among ratios is no shape: left out
        return None
    return min(shapes, key=lambda choice: abs(shapes[choice] - wanted))


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    options = list(choices)
    by_meaning = _nearest_by_meaning(word, options)
    if by_meaning is not None:
        return f" (did you mean {by_meaning!r}?)"
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` or an empty string."""
    return _did_you_mean(word, choices)


def shot_meant(shot_id: str, shots: Iterable[str]) -> str:
    """``did_you_mean`` for an ``EPISODE/SHOT`` id: among its episode's shots when it names an
    episode that has shots, else those shots listed (``ep01/nope`` is never answered with an
    ``ep02`` shot); among every shot otherwise."""
    every, (episode, _, name) = list(shots), shot_id.rpartition("/")
    own = [shot.rpartition("/")[2] for shot in every
           if episode and shot.rpartition("/")[0] == episode]
    if not own:
        return _did_you_mean(shot_id, every)
    close = difflib.get_close_matches(name, own, n=1, cutoff=0.6)  # the names alone: every id
    if close:  # of the episode shares its first characters
        return f" (did you mean {f'{episode}/{close[0]}'!r}?)"
    more = f" and {len(own) - LISTED} more" if len(own) > LISTED else ""
    return f" ({episode}'s shots: {', '.join(own[:LISTED])}{more})"


def did_you_mean_name(word: str, choices: Iterable[str], container: str) -> str:
    """`` (did you mean 'x'?)`` among the names of ``container`` (``characters``, ``voices``),
    only ever a name the schema takes: a near name it refuses is offered in its legal form, as
    the name to give it (``namerule``)."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    pattern = _series_name_pattern(container)
    if not close or pattern is None or re.fullmatch(pattern, close[0]):
        return f" (did you mean {close[0]!r}?)" if close else ""
    found = namerule.rule(pattern)
    legal = found.nearest(close[0]) if found is not None else None
    return (f" (did you mean {legal!r}? rename {close[0]!r} to it: {close[0]!r} is no valid "
            f"{namerule.WHAT.get(container, 'name')})") if legal else ""


def legal_names(choices: Iterable[str], container: str) -> list[str]:
    """The names of ``choices`` the schema takes for ``container`` (a listing of what may be
    written never offers one it refuses)."""
    pattern = _series_name_pattern(container)
    return [c for c in choices if pattern is None or re.fullmatch(pattern, c)]


def _series_name_pattern(container: str) -> str | None:
    names = _schemas()[SERIES_SCHEMA]["properties"].get(container, {}).get("propertyNames", {})
    return str(names["pattern"]) if "pattern" in names else None


def check_default(key: str, value: Any) -> str | None:
    """Why ``value`` cannot be the default ``key`` (as under ``defaults:``; ``provider``: the
    series' provider settings), or None."""
    defs = _series_defs()
    schema = defs["provider"] if key == "provider" else defs["defaults"]["properties"].get(key)
    if schema is None:
        return None
    validator = _validators()[SERIES_SCHEMA].evolve(schema=schema)
    error = next(iter(validator.iter_errors(value)), None)
    if error is None:
        return None
    if error.validator == "enum":
        return f"expected one of {', '.join(map(str, error.validator_value))}"
    if error.validator == "additionalProperties":
        return f"{error.message}; expected one of: {', '.join(sorted(schema['properties']))}"
    return f"expected {TYPE_WORDS.get(str(schema.get('type')), 'a valid value')}: {error.message}"
