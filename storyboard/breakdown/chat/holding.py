"""An endpoint's structured-output mode into whether it holds it: one probe per endpoint and mode.

A server that takes ``response_format`` does not always hold the answer to its schema: an old
llama-cpp-python build drops a grammar it cannot compile and decodes any JSON (saying so only in
its own log), llama-server builds have answered 200 without it, Ollama ignores it for some
models. So before the first call in ``json_schema`` or ``json_object`` to a free endpoint on
loopback (the servers that do this; a paid one is never sent a call nobody agreed to), one small
call asks for "a JSON object" under a schema with one possible answer, a word nobody writes
unasked (``WORD``). A server that holds the schema can only answer ``{"word": WORD}``; anything
else is a server that took the schema and did not hold it. What the probe found is said, and
remembered per base URL, model and mode in ``.storyboard/breakdown/endpoints.json`` (``holds``);
an endpoint that does not hold its mode has every answer judged as one asked in ``text``
(``Calls.judged``: the repairs of an unconstrained answer run on it; a quote not in the story is
refused in every mode). A probe that fails says nothing is known, and the run goes on as asked.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol

from storyboard.breakdown.chat.endpoints import FORMAT_WORDS, Endpoints, refuses
from storyboard.breakdown.state.reading import loads
from storyboard.errors import ProviderError
from storyboard.targets.llm import on_loopback

WORD = "qz7-probe"
ASK = "Reply with a JSON object."
SCHEMA: dict[str, Any] = {"type": "object", "properties": {"word": {"type": "string",
                                                                    "enum": [WORD]}},
                          "required": ["word"], "additionalProperties": False}
DEADLINE = 120.0  # seconds: a few tokens, on a loaded machine
MODES = ("json_schema", "json_object")


class Said(Protocol):
    """What the probe reads of an answer (``client.Answer``)."""

    @property
    def content(self) -> str: ...

    @property
    def finish_reason(self) -> str: ...


class Asks(Protocol):
    """The one call the probe makes (``client.ChatClient``)."""

    def complete(self, body: dict[str, Any], *, deadline: float | None = None,
                 said: str = ...) -> Said: ...


def body(model: str, mode: str) -> dict[str, Any]:
    """The probe's request in ``mode``, shaped as the breakdown's own calls are."""
    fmt: dict[str, Any] = {"type": "json_object", "schema": SCHEMA} if mode == "json_object" \
        else {"type": "json_schema", "json_schema": {"name": "probe", "schema": SCHEMA,
                                                     "strict": True}}
    return {"model": model, "messages": [{"role": "user", "content": ASK}],
            "temperature": 0.0, "max_tokens": 64, "stream": False, "response_format": fmt}


def held(content: str) -> bool:
    """Whether the probe's answer is the one its schema allows."""
    try:
        found = loads(content.strip().encode())
    except ValueError:
        return False
    return bool(found == {"word": WORD})


def probed(base_url: str, free: bool, mode: str) -> bool:
    """Whether a call in ``mode`` to this endpoint is one the probe is for."""
    return free and mode in MODES and on_loopback(base_url)


def once(client: Asks, endpoints: Endpoints, where: tuple[str, str, str], free: bool,
         say: Callable[[str], None]) -> None:
    """The probe of the endpoint's mode (``where``: base URL, model, mode), once a run and only
    while not known: what it found remembered."""
    url, model, mode = where
    if endpoints.holds(url, model, mode) is not None or not probed(url, free, mode) or \
            where in endpoints.probed:
        return
    endpoints.probed.add(where)
    found = probe(client, model, mode, say)
    if found is not None:
        endpoints.note(url, model, holds={**endpoints.held(url, model), mode: found})


def probe(client: Asks, model: str, mode: str, say: Callable[[str], None]
          ) -> bool | None:
    """Whether the endpoint holds ``mode`` (None: the probe failed or was refused: not known),
    said (a refusal of the mode itself is said by the call that steps down from it)."""
    try:
        got = client.complete(body(model, mode), deadline=DEADLINE, said="the probe's")
    except ProviderError as error:
        if not refuses(error, FORMAT_WORDS):
            say(f"  whether the endpoint holds response_format {mode} is not known (its "
                f"probe: {error}): its answers are judged as asked")
        return None
    if got.finish_reason == "length" and not held(got.content):  # cut: it shows nothing
        say(f"  whether the endpoint holds response_format {mode} is not known (its probe's "
            "answer was cut at its max_tokens): its answers are judged as asked")
        return None
    if held(got.content):
        say(f"  the endpoint holds response_format {mode} (a probe's answer kept to its schema; "
            "free, on loopback)")
        return True
    say(f"  the endpoint takes response_format {mode} and does not hold it (a probe's answer "
        f"broke its schema: {json.dumps(got.content[:60])}): each answer is judged as one asked "
        "in text, its repairs run on it and its quotes held to the story")
    return False
