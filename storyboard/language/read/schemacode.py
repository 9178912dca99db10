"""A JSON Schema into a fastjsonschema validator, its compiled code kept on disk between processes.

fastjsonschema writes a schema out as Python source, which Python then compiles: for the series
schema (about a megabyte of source) 0.2 to 0.4 s, paid again by every new process that checks a
file, a third of a fresh check of 2,000 shots. So the compiled code is kept, as Python keeps a
module's bytecode in ``__pycache__``: marshalled, under ``$XDG_CACHE_HOME/storyboard/validators``
(else ``~/.cache``), named by everything it was made from (the schema, fastjsonschema's version,
the interpreter's bytecode tag, ``CODE_VERSION``) and sealed with the digest of its bytes. The
next process loads it in milliseconds. A file missing, damaged or of another make is compiled
anew; a cache that cannot be written only costs the compile.

The source is trimmed first (``trimmed``), for a yes/no: the check reads no message of a
fastjsonschema error (a document it refuses is walked again by jsonschema, which explains every
problem), so each call to a sub-schema is handed its caller's name as it is, not one formatted
from all the caller's locals (``".shots[{data__shots_x}]".format(**locals())`` for each shot
and each scene: half the yes/no's time on a 2,000-shot series); and each regular expression is
compiled when first used (``_Patterns``), not all of them in every new process.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import marshal
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from types import CodeType
from typing import Any

import fastjsonschema
from fastjsonschema.ref_resolver import RefResolver

from storyboard.files import write_atomic

CODE_VERSION = 2  # bump when how the code is made or kept changes (2: ``trimmed``)
SEAL = hashlib.sha256().digest_size  # the kept file: the digest of the code's bytes, then them
Validator = Callable[[Any], Any]


def validator(definition: dict[str, Any]) -> Validator:
    """``definition`` compiled by fastjsonschema (``use_default=False``: the data is never
    changed), from the kept code when there is one."""
    path = cache_file(definition)
    code = _load(path)
    if code is None:
        code = compiled(definition)
        _keep(path, code)
    namespace: dict[str, Any] = {"_Patterns": _Patterns}
    exec(code, namespace)  # fastjsonschema's own code for our own schema
    root: Validator = namespace[RefResolver.from_schema(definition).get_scope_name()]
    return root


def compiled(definition: dict[str, Any]) -> CodeType:
    """fastjsonschema's code for ``definition``, compiled."""
    source = fastjsonschema.compile_to_code(definition, use_default=False)
    return compile(trimmed(source), "<fastjsonschema validator>", "exec")


# a call to a sub-schema's validator, named by formatting every local of its caller
_NAMED_CALL = re.compile(r'^(\s*validate_\w+\([^\n]*, custom_formats, )\(name_prefix or "data"\) \+ '
                         r'"[^"\n]*"\.format\(\*\*locals\(\)\)\)$', re.M)
_PATTERNS = re.compile(r"^REGEX_PATTERNS = \{\n(.*?)^\}$", re.M | re.S)


def trimmed(source: str) -> str:
    """fastjsonschema's ``source`` for a yes/no (the module's docstring): each sub-schema
    called with its caller's name, each regular expression compiled when first used."""
    source = _NAMED_CALL.sub(r"\1name_prefix)", source)
    return _PATTERNS.sub(lambda found: "_SOURCES = {\n" + found.group(1).replace(
        ": re.compile(", ": lambda: re.compile(") + "}\nREGEX_PATTERNS = _Patterns(_SOURCES)",
        source, count=1)


class _Patterns(dict[str, "re.Pattern[str]"]):
    """The validator's regular expressions by their text, each compiled when first asked for."""

    def __init__(self, sources: dict[str, Callable[[], re.Pattern[str]]]) -> None:
        super().__init__()
        self.sources = sources

    def __missing__(self, key: str) -> re.Pattern[str]:
        found = self[key] = self.sources[key]()
        return found


def cache_file(definition: dict[str, Any]) -> Path:
    """Where the code of ``definition`` is kept: named by everything it is made from."""
    made_from = json.dumps([CODE_VERSION, fastjsonschema.VERSION, sys.implementation.cache_tag,
                            definition], sort_keys=True, separators=(",", ":"))
    name = hashlib.sha256(made_from.encode()).hexdigest()[:32]
    return cache_dir() / f"{name}.code"


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
    return Path(base) / "storyboard" / "validators"


def _load(path: Path) -> CodeType | None:
    """The kept code at ``path``; None when it is missing, damaged or not code."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    seal, body = data[:SEAL], data[SEAL:]
    if hashlib.sha256(body).digest() != seal:
        return None
    try:
        code = marshal.loads(body)
    except (EOFError, ValueError, TypeError):
        return None
    return code if isinstance(code, CodeType) else None


def _keep(path: Path, code: CodeType) -> None:
    """Keep ``code`` at ``path``, whole or not at all; a folder that cannot be written is let be."""
    body = marshal.dumps(code)
    with contextlib.suppress(OSError):
        write_atomic(path, hashlib.sha256(body).digest() + body, durable=False)
