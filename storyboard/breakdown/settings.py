"""A series' ``storyboard.yaml`` into the breakdown's settings: its ``breakdown:`` block, checked.

The block records the series' endpoint: the run writes the model, ``base_url`` and ``key_env`` it
used into the ``storyboard.yaml`` it writes (``block``), so a re-run and every command ``plan`` and
the studio suggest go back to it; a flag that names another endpoint (``base_url`` or ``key_env``)
than the one recorded is refused at the recorded line unless the run says ``switch_endpoint``
(``--switch-endpoint``), and the new one is then recorded. The block may name the model, the
endpoint, the environment variable that holds its key, the prices (``price_in``, ``price_out``, USD
per million tokens), how the endpoint is asked (``response_format``, ``stream``) and the bounds of
one call (``deadline`` in seconds, ``max_answer_mb``), the endpoint's context window
(``context``, in tokens) and the season's target (``episodes``, ``episode_seconds``, ``ratio``:
recorded by a run as its endpoint is, so a re-run asks the same season); a flag given on the
command line overrides it, and what neither gives is the built-in default. The key itself only
ever comes from the environment (the schema has no place for it, and refuses a URL with a user or
password in it); the pipeline sends it only to its own provider's hosts. A wrong value is refused
at its line, as ``storyboard check`` refuses it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from storyboard.errors import Diagnostic, ProblemsFound, Span, StoryboardError
from storyboard.language.document import Document
from storyboard.language.read.load import parse
from storyboard.language.read.schemacheck import SERIES_SCHEMA, check_schema
from storyboard.scaffold.yamltext import quote
from storyboard.targets.llm import DEFAULT_CHAT_BASE, DEFAULT_CHAT_MODEL, DEFAULT_KEY_ENV

BLOCK = "breakdown"
SETTINGS = ("model", "base_url", "key_env", "price_in", "price_out", "response_format", "stream",
            "deadline", "max_answer_mb", "context", "episodes", "episode_seconds", "ratio",
            "video_model")
NUMBERS = ("price_in", "price_out", "deadline", "max_answer_mb", "episode_seconds")
WHOLE = ("context", "episodes")
RATIOS = ("16:9", "9:16", "1:1", "4:3", "3:4", "4:5", "5:4", "9:21", "21:9")  # as the schema's
TARGET = ("episodes", "episode_seconds", "ratio")  # the season's: how many, how long, which shape
ENDPOINT = ("base_url", "key_env")  # where the story goes and whose key pays
# What a run records of itself (``block``); how it asked (``response_format``, ``stream``) and the
# bounds of a call are the author's to write, and carried as written.
RECORDED = ("model", "base_url", "key_env", "price_in", "price_out", *TARGET)
DEFAULTS = {"model": DEFAULT_CHAT_MODEL, "base_url": DEFAULT_CHAT_BASE, "key_env": DEFAULT_KEY_ENV}


def merged(series: Path, flags: dict[str, Any]) -> dict[str, Any]:
    """The run's options: the flags given (not None), else the series' block (the defaults are
    ``Options``' own)."""
    return {**from_series(series), **{k: v for k, v in flags.items() if v is not None}}


def series_file(series: Path) -> Document | None:
    """The series file, parsed (None: there is none yet); one that does not parse is refused."""
    file = series / "storyboard.yaml"
    if not file.is_file():
        return None
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise StoryboardError(f"{file}: cannot read the breakdown's settings: {exc}") from exc
    doc, problems = parse(text, file)
    if problems:
        raise ProblemsFound(problems)
    return doc


def from_series(series: Path) -> dict[str, Any]:
    """The settings the series file's ``breakdown:`` block gives ({} with no file or block)."""
    doc = series_file(series)
    block = doc.data.get(BLOCK) if doc is not None and isinstance(doc.data, dict) else None
    if doc is None or block is None:
        return {}
    found = [d for d in check_schema(doc, SERIES_SCHEMA) if _within(d, doc)]
    if found or not isinstance(block, dict):
        raise ProblemsFound(found or [doc.diagnostic((BLOCK,), "expected a mapping of settings")])
    return {name: _value(name, block[name]) for name in SETTINGS if name in block}


def _value(name: str, value: Any) -> Any:
    if name == "stream" and isinstance(value, bool):
        return "true" if value else "false"
    if name in WHOLE:
        return int(value)
    return float(value) if name in NUMBERS else str(value)


def block_lines(doc: Document) -> range:
    """The lines of the ``breakdown:`` block (to the next top-level key)."""
    starts = sorted(doc.span((key,), key=True).line for key in doc.data)
    first = doc.span((BLOCK,), key=True).line
    after = [line for line in starts if line > first]
    return range(first, after[0] if after else len(doc.lines) + 1)


def _within(diagnostic: Diagnostic, doc: Document) -> bool:
    """Whether a problem of the series file lies in its ``breakdown:`` block (the rest of the
    file is ``check``'s business, not the breakdown's)."""
    if diagnostic.span is None or diagnostic.severity != "error":
        return False
    return diagnostic.span.line in block_lines(doc)


def carried(series: Path) -> tuple[str, bool]:
    """The series file's ``breakdown:`` block as its author wrote it (written again at the end of
    the series file the breakdown writes, so a run never drops its own settings), and whether the
    file holds nothing else (then the breakdown may write the series file over it)."""
    doc = series_file(series)
    if doc is None or not isinstance(doc.data, dict) or BLOCK not in doc.data:
        return "", False
    rows = [doc.lines[n - 1] for n in block_lines(doc)]
    while rows and not rows[-1].strip():
        rows.pop()
    return "\n".join(rows) + "\n", set(doc.data) <= {"storyboard", BLOCK}


def endpoint(url: str) -> str:
    """``url`` without any user, password, query or fragment, nor a closing ``/`` (it is
    written to files and compared)."""
    parts = urlsplit(url)
    where = f"{parts.hostname or ''}:{parts.port}" if parts.port else parts.hostname or ""
    return urlunsplit((parts.scheme, where, parts.path.rstrip("/"), "", ""))


def _same(name: str, one: str, other: str) -> bool:
    return endpoint(one) == endpoint(other) if name == "base_url" else one == other


def switch_problem(series: Path, wanted: dict[str, Any]) -> Diagnostic | None:
    """The located refusal of a run whose endpoint (``wanted``: base_url, key_env) is not the
    one the series file records (None: the same, or none recorded)."""
    doc = series_file(series)
    block = doc.data.get(BLOCK) if doc is not None and isinstance(doc.data, dict) else None
    if doc is None or not isinstance(block, dict):
        return None
    recorded = {**DEFAULTS, **{k: str(block[k]) for k in ENDPOINT if k in block}}
    changed = [k for k in ENDPOINT if not _same(k, str(wanted[k]), recorded[k])]
    if not any(k in block for k in ENDPOINT) or not changed:
        return None
    name = changed[0]
    span = doc.span((BLOCK, name)) if name in block else doc.span((BLOCK,), key=True)
    return Diagnostic(Span(str(series / "storyboard.yaml"), span.line, span.col), (
        f"the series' breakdown asks {endpoint(recorded['base_url'])} with the key in "
        f"{recorded['key_env']} (recorded here); this run would ask "
        f"{endpoint(str(wanted['base_url']))} with the key in {wanted['key_env']}: pass "
        "--switch-endpoint to ask it from now on (it is then recorded), or leave the flag out"),
        code="breakdown-endpoint")


def block(settings: dict[str, Any]) -> str:
    """The ``breakdown:`` block a run records: its model, endpoint and key's variable (never a
    key), and the prices it was given."""
    rows = [f"  {name}: {_shown(name, settings[name])}" for name in RECORDED
            if settings.get(name) is not None]
    return "\n".join([f"{BLOCK}:", *rows]) + "\n"


def _shown(name: str, value: Any) -> str:
    if name in NUMBERS:
        return f"{float(value):g}"
    if name in WHOLE:
        return str(int(value))
    return quote(endpoint(str(value)) if name == "base_url" else str(value))


def states(text: str, settings: dict[str, Any]) -> bool:
    """Whether a carried block's settings (``text``) say what ``settings`` say."""
    doc, problems = parse(text, Path("storyboard.yaml"))
    given = doc.data.get(BLOCK) if not problems and isinstance(doc.data, dict) else None
    if not isinstance(given, dict):
        return False
    found = {**DEFAULTS, **{k: _value(k, given[k]) for k in SETTINGS if k in given}}
    return all(_same(k, str(found.get(k)), str(settings.get(k)))
               for k in RECORDED if found.get(k) is not None or settings.get(k) is not None)
