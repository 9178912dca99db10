"""A JSON Schema into a fastjsonschema validator, its compiled code kept on disk between processes.

fastjsonschema writes a schema out as Python source, which Python then compiles: for the series
schema (about a megabyte of source) 0.2 to 0.4 s, paid again by every new process that checks a
file, a third of a fresh check of 2,000 shots. So the compiled code is kept, as Python keeps a
module's bytecode in ``__pycache__``: marshalled, under ``$XDG_CACHE_HOME/storyboard/validators``
(else ``~/.cache``), named by everything it was made from (the schema, fastjsonschema's version,
the interpreter's bytecode tag, ``CODE_VERSION``) and sealed with the digest of its bytes. The
next process loads it in milliseconds. A file missing, damaged or of another make is compiled
anew; a cache that cannot be written only costs the compile.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import marshal
import os
import sys
from collections.abc import Callable
from pathlib import Path
from types import CodeType
from typing import Any

import fastjsonschema
from fastjsonschema.ref_resolver import RefResolver

from storyboard.files import write_atomic

CODE_VERSION = 1  # bump when how the code is made or kept changes
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
    namespace: dict[str, Any] = {}
    exec(code, namespace)  # fastjsonschema's own code for our own schema
    root: Validator = namespace[RefResolver.from_schema(definition).get_scope_name()]
    return root


def compiled(definition: dict[str, Any]) -> CodeType:
    """fastjsonschema's code for ``definition``, compiled."""
    source = fastjsonschema.compile_to_code(definition, use_default=False)
    return compile(source, "<fastjsonschema validator>", "exec")


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
