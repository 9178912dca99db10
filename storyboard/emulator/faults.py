"""Fault options into a fault plan: which request gets which failure, by script or by chance.

A fault names an endpoint and a kind, ``ENDPOINT:KIND[=ARG]``:

    endpoints  submit query cancel list policy upload download   (HTTP requests)
               file                    (a file hop: MiniMax v1's files/retrieve)
               image voice speech      (the cast: image-generation submit, voice design, speech;
                                        image: Seedream's and Kling's picture calls too)
               retalk                  (videoretalk's submit: the lip-sync pass; as submit)
               chat                    (chat completions: the breakdown's language model)
               task                                              (the outcome of an accepted submit)
    HTTP kinds 429[=RETRY_AFTER]  500 502 503 504  drop  reset  slow[=SECONDS]  ok
    query      status=WORD (the task's answer with its status word replaced by WORD)
    list       items=KEY (the list answer's items moved from ``data`` to KEY; ``none``: dropped)
    download   endless (200, then bytes without end and no length, until the client hangs up)
               huge (the same under a Content-Length of a terabyte)
    submit     moderation (400 DataInspectionFailed, not accepted)
               refused=INPUT (a content refusal naming the flagged input: prompt, image, video,
                             voice or person; 400, not accepted, nothing billed)
               lost[=SECONDS] (accepted and counted, then its answer dropped, or sent SECONDS late;
                              a refused submit gets its error answer as usual)
               made[=STATUS] (accepted and counted, then answered with the error STATUS, 500 by
                             default, in the gateway's own words: MiniMax's 1000; a refused
                             submit gets its error answer as usual)
               envelope=SHAPE (accepted and counted, then answered HTTP 200 with no task id and
                              an odd code in the gateway's envelope: unknown (a number the
                              gateway does not document), string, list, null, huge (10**30);
                              html: a web page instead of JSON)
    chat       moderation (400 data_inspection_failed), and faults of the answer's content:
               invalid_json, schema (a required field dropped), paraphrase (a quote reworded),
               invented (each scene's action told what its lines do not), length (cut short,
               finish_reason: length); real servers' and models' shapes
               (``chat.faults``): no_schema no_stream wrapped fenced prose think reasoning ignored nan
               deep=content|body|error usage=negative|float|nan|infinity|huge|string|missing
               trickle[=SECONDS] late_moderation interrupted endless huge
    task       failed (FAILED InternalError)  moderation (FAILED DataInspectionFailed)
               refused=OUTPUT (FAILED after the render: its video, audio or image refused)
               size (SUCCEEDED, its picture half the size asked for: a wrong size)
               unknown (the task vanishes: UNKNOWN)  stuck (RUNNING forever)  ok
               cut black frozen silence short (SUCCEEDED, its video with that flaw in its
               middle second, or 0.5 s short: what measuring a take finds)
               html empty corrupt long (SUCCEEDED and billed, its result unusable: an HTML
               page, an empty file, its first 512 bytes alone, an MP4 declaring 89,478 s)
               swap costume grade (SUCCEEDED, drifting from the references it was sent: the
               first character's place shows the second's picture (with one, ``OTHER_FACE``),
               each character's costume recoloured, the whole frame's grade shifted)

A *rate* rule is ``ENDPOINT:KIND[=ARG]:PROBABILITY`` (``submit:429:0.2``): each matching request
draws from a seeded generator, so a run is reproducible. A *script* is a comma-separated queue
(``query:500,query:drop,download:500*2``): the next matching requests take its faults in order
before any rate is drawn; ``ok`` lets one request through, ``*N`` repeats an entry.
"""

from __future__ import annotations

import random
import re
import threading
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

HTTP_ENDPOINTS = ("submit", "query", "cancel", "list", "policy", "upload", "download", "file")
# submit-like: moderation, lost apply
CAST_ENDPOINTS = ("image", "voice", "speech", "element", "kvoice", "portrait")
PASS_ENDPOINTS = ("retalk",)  # a pass over a take on a path of its own: submit's faults
ENDPOINTS = (*HTTP_ENDPOINTS, *CAST_ENDPOINTS, *PASS_ENDPOINTS, "chat", "task")
ERROR_KINDS = ("429", "500", "502", "503", "504")
HTTP_KINDS = (*ERROR_KINDS, "drop", "reset", "slow", "ok")
SUBMIT_KINDS = (*HTTP_KINDS, "moderation", "lost", "made", "refused", "envelope")
SHAPE_KINDS = ("no_schema", "no_stream", "wrapped", "fenced", "prose", "think", "reasoning",  # bent
               "ignored", "nan", "deep", "usage", "trickle", "late_moderation",  # by chat/faults.py
               "unheld", "interrupted")
MODEL_KINDS = ("invalid_json", "schema", "paraphrase", "invented", "length")  # a model's failing
CONTENT_KINDS = (*MODEL_KINDS, *SHAPE_KINDS)
CHAT_KINDS = (*HTTP_KINDS, "moderation", *CONTENT_KINDS, "endless", "huge")
CHAT_WORDS = {"deep": ("content", "body", "error"),
              "usage": ("negative", "float", "nan", "infinity", "huge", "string", "missing")}
FLAW_KINDS = ("cut", "black", "frozen", "silence", "short")  # as ``media.samples.FLAWS``
UNUSABLE_KINDS = ("html", "empty", "corrupt", "long")  # as ``render.unusable_bytes``
DRIFT_KINDS = ("swap", "costume", "grade")  # as ``render.local_render_body`` draws them
TASK_KINDS = ("failed", "moderation", "refused", "unknown", "stuck", "ok", "size", *FLAW_KINDS,
              *UNUSABLE_KINDS, *DRIFT_KINDS)
SUBMIT_REFUSED = ("prompt", "image", "video", "voice", "person")  # what a submit refusal names
ENVELOPE_SHAPES = ("unknown", "string", "list", "null", "huge", "html")  # odd answers
TASK_REFUSED = ("video", "audio", "image")  # what a refusal after the render names
QUERY_KINDS = (*HTTP_KINDS, "status")
LIST_KINDS = (*HTTP_KINDS, "items")
DOWNLOAD_KINDS = (*HTTP_KINDS, "endless", "huge")
ARG_KINDS = ("429", "slow", "lost", "trickle", "made")  # kinds that take a number
WORD_KINDS = ("status", "items", "refused", "envelope", *CHAT_WORDS)  # kinds that take a word
DEFAULT_SLOW = 5.0


class FaultSyntaxError(ValueError):
    """A fault option that cannot be read; the message quotes it and says what is allowed."""


@dataclass(frozen=True)
class Fault:
    endpoint: str
    kind: str
    arg: float | None = None
    word: str | None = None

    @property
    def tag(self) -> str:
        """What a task carries of it: its kind, with the flagged output of a refusal."""
        return f"refused={self.word}" if self.kind == "refused" else self.kind

    def __str__(self) -> str:
        arg = "" if self.arg is None else f"={self.arg:g}"
        arg = arg if self.word is None else f"={self.word}"
        return f"{self.endpoint}:{self.kind}{arg}"


@dataclass(frozen=True)
class FaultRule:
    fault: Fault
    rate: float

    def __str__(self) -> str:
        return f"{self.fault}:{self.rate:g}"


def kinds_for(endpoint: str) -> tuple[str, ...]:
    if endpoint == "task":
        return TASK_KINDS
    if endpoint == "query":
        return QUERY_KINDS
    if endpoint == "chat":
        return CHAT_KINDS
    if endpoint == "list":
        return LIST_KINDS
    if endpoint == "download":
        return DOWNLOAD_KINDS
    return SUBMIT_KINDS if endpoint in ("submit", *CAST_ENDPOINTS, *PASS_ENDPOINTS) \
        else HTTP_KINDS


def _number(text: str, what: str, source: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise FaultSyntaxError(f"{source!r}: {what} {text!r} is not a number") from None
    if value < 0:
        raise FaultSyntaxError(f"{source!r}: {what} must not be negative")
    return value


def parse_fault(text: str) -> Fault:
    """``ENDPOINT:KIND[=ARG]`` into a Fault."""
    source = text.strip()
    endpoint, sep, kind = source.partition(":")
    if not sep or not kind:
        raise FaultSyntaxError(f"{source!r}: expected ENDPOINT:KIND, e.g. submit:429")
    if endpoint not in ENDPOINTS:
        raise FaultSyntaxError(f"{source!r}: unknown endpoint {endpoint!r} "
                               f"(one of {', '.join(ENDPOINTS)})")
    kind, eq, raw_arg = kind.partition("=")
    if kind not in kinds_for(endpoint):
        raise FaultSyntaxError(f"{source!r}: {kind!r} is not a fault of {endpoint} "
                               f"(one of {', '.join(kinds_for(endpoint))})")
    if kind == "refused":
        return _refused(endpoint, raw_arg, source)
    if kind in CHAT_WORDS and raw_arg not in CHAT_WORDS[kind]:
        raise FaultSyntaxError(f"{source!r}: {kind} takes one of {', '.join(CHAT_WORDS[kind])} "
                               f"(e.g. chat:{kind}={CHAT_WORDS[kind][0]})")
    if kind == "envelope":
        return _envelope(endpoint, raw_arg, source)
    if kind in WORD_KINDS:
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_ -]{0,39}", raw_arg):
            raise FaultSyntaxError(f"{source!r}: {kind} takes a word, e.g. query:status=processing "
                                   "or list:items=tasks")
        return Fault(endpoint, kind, word=raw_arg)
    if eq and kind not in ARG_KINDS:
        raise FaultSyntaxError(f"{source!r}: {kind} takes no argument")
    arg = _number(raw_arg, "argument", source) if eq else None
    if kind == "made" and arg is not None and f"{arg:g}" not in ERROR_KINDS:
        raise FaultSyntaxError(f"{source!r}: made takes an error status, one of "
                               f"{', '.join(ERROR_KINDS)} (e.g. submit:made=500)")
    return Fault(endpoint, kind, arg)


def _refused(endpoint: str, word: str, source: str) -> Fault:
    allowed = TASK_REFUSED if endpoint == "task" else SUBMIT_REFUSED
    if word not in allowed:
        raise FaultSyntaxError(f"{source!r}: refused names what is flagged, one of "
                               f"{', '.join(allowed)} (e.g. {endpoint}:refused={allowed[0]})")
    return Fault(endpoint, "refused", word=word)


def _envelope(endpoint: str, word: str, source: str) -> Fault:
    if endpoint != "submit" or word not in ENVELOPE_SHAPES:
        raise FaultSyntaxError(f"{source!r}: envelope names the odd code a submit's answer "
                               f"carries, one of {', '.join(ENVELOPE_SHAPES)} "
                               "(e.g. submit:envelope=unknown)")
    return Fault(endpoint, "envelope", word=word)


def parse_rate(text: str) -> FaultRule:
    """``ENDPOINT:KIND[=ARG]:PROBABILITY`` into a FaultRule."""
    source = text.strip()
    head, sep, raw_rate = source.rpartition(":")
    if not sep or ":" not in head:
        raise FaultSyntaxError(f"{source!r}: expected ENDPOINT:KIND:PROBABILITY, "
                               "e.g. submit:429:0.2")
    rate = _number(raw_rate, "probability", source)
    if rate > 1:
        raise FaultSyntaxError(f"{source!r}: probability must be within 0..1")
    return FaultRule(parse_fault(head), rate)


def parse_script(text: str) -> list[Fault]:
    """``query:500,query:drop,download:500*2`` into a list of faults, in order."""
    faults: list[Fault] = []
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        entry, star, count = entry.partition("*")
        times = int(_number(count, "repeat count", entry)) if star else 1
        faults.extend([parse_fault(entry)] * times)
    return faults


class FaultPlan:
    """Rates and scripted queues of faults per endpoint. Safe to change from any thread."""

    def __init__(self, rates: Iterable[FaultRule] = (), script: Iterable[Fault] = (),
                 *, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._rates: list[FaultRule] = list(rates)
        self._queues: dict[str, deque[Fault]] = {}
        self.script(*script)

    def reseed(self, seed: int) -> None:
        with self._lock:
            self._rng = random.Random(seed)

    def script(self, *faults: Fault | str) -> None:
        """Queue faults for the next matching requests (strings are parsed as scripts)."""
        parsed: list[Fault] = []
        for fault in faults:
            parsed.extend(parse_script(fault) if isinstance(fault, str) else [fault])
        with self._lock:
            for fault in parsed:
                self._queues.setdefault(fault.endpoint, deque()).append(fault)

    def add_rate(self, *rules: FaultRule | str) -> None:
        parsed = [parse_rate(r) if isinstance(r, str) else r for r in rules]
        with self._lock:
            self._rates.extend(parsed)

    def clear(self) -> None:
        with self._lock:
            self._rates.clear()
            self._queues.clear()

    def take(self, endpoint: str) -> Fault | None:
        """The fault for this request of ``endpoint``, or None to answer normally."""
        with self._lock:
            queue = self._queues.get(endpoint)
            if queue:
                fault = queue.popleft()
                return None if fault.kind == "ok" else fault
            for rule in self._rates:
                # Draw for every matching rule, hit or miss, so one seed gives one sequence.
                if rule.fault.endpoint == endpoint and self._rng.random() < rule.rate:
                    return None if rule.fault.kind == "ok" else rule.fault
        return None

    def describe(self) -> dict[str, object]:
        """Pending faults: ``{"script": {"query": ["query:500"]}, "rates": ["submit:429:0.2"]}``."""
        with self._lock:
            return {"script": {ep: [str(f) for f in q] for ep, q in self._queues.items() if q},
                    "rates": [str(r) for r in self._rates]}


def parse_fault_options(rates: Sequence[str] = (), scripts: Sequence[str] = (),
                        *, seed: int = 0) -> FaultPlan:
    """What ``storyboard emulate --fault RULE --fault-script LIST --seed N`` map onto.

    Each ``rates`` entry is one or more comma-separated ``ENDPOINT:KIND[=ARG]:PROBABILITY`` rules;
    each ``scripts`` entry is a comma-separated queue (see the module docstring). Raises
    FaultSyntaxError (a ValueError) with a message fit for the command line.
    """
    rules = [parse_rate(part) for text in rates for part in text.split(",") if part.strip()]
    queued = [fault for text in scripts for fault in parse_script(text)]
    return FaultPlan(rules, queued, seed=seed)

