"""A call's tokens against the endpoint's context window: the window found, a call made to fit
it, a chapter cut into parts that fit, or a stop that names the figure needed and the remedy.

The window is what the series' ``breakdown:`` block says (``context``), else what the endpoint
states (llama.cpp's server, ``GET /props``: ``n_ctx``; vLLM, ``GET /v1/models``:
``max_model_len``; asked on a loopback endpoint only, once a run, with no key and no cost), else
what a refusal taught and ``endpoints.json`` remembers (an error saying the context was exceeded,
with its figure; an answer cut at fewer tokens than ``max_tokens`` asked, as llama-cpp-python's
server cuts them silently). Unknown: each call is asked as it is.

A call's whole ``max_tokens`` is ``answer_tokens``: its stage's, except a shots call's, bounded by
what its chapter (or part) can need (its answer quotes the chapter's lines by range, so its length
follows the lines: ``HEAD`` and, for each line, ``PER_LINE`` and its own words ``WORDS`` times),
and a season shot's, bounded by its lines (``HEAD``, ``PER_SHOT`` and its words), never above
the stage's ``MAX_TOKENS``. A model that loops stops at
the bound (``finish_reason: length``) and is sent back as cut short. The consent's ceiling, the
count of a call whose usage cannot be believed and this fitting all use that one figure.

Known: a call needs its prompt (estimated as ``cost.prompt_tokens`` estimates it) and its
``max_tokens``. One that does not fit asks for what the window leaves, down to a quarter of its
whole (``floor``); a chapter whose calls cannot fit even so is cut at blank lines into parts
that can (``fitted``, before any call); a call that still cannot fit is never sent
(``TooSmall``: the figure it needs and the remedy), so "to go on" never asks a call that cannot
fit.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, replace
from typing import Any

from storyboard.breakdown.chat.cost import prompt_tokens, tokens
from storyboard.breakdown.questions import prompts
from storyboard.breakdown.questions.schemas import SCHEMAS
from storyboard.breakdown.source import Chapter, Story
from storyboard.errors import StoryboardError
from storyboard.targets.llm import on_loopback

MAX_TOKENS = {"outline": 2048, "cast": 4096, "shots": 8192, "translate": 4096, "episode": 512,
              "shot": 2048, "cut": 256}
PER_SHOT = 160  # a season shot beyond its lines' words: range, camera, cast, scenes
EARLIER_ANSWERS = 600  # tokens the beats and names of a chapter not yet outlined may add
MARGIN = 64  # tokens of chat framing a server adds that the estimate may miss
HEAD = 256  # a shots answer's tokens whatever its chapter: its frame and a first shot's camera
PER_LINE = 96  # a line's shot beyond its words: its range, camera, cast, a scene's seconds
WORDS = 2  # times a line's own words may come back: quoted once, told again in an action
MOST = 100_000_000  # a stated window larger than this is not believed
CONTEXT_WORDS = ("context_length_exceeded", "context length", "context window", "context size",
                 "exceed_context", "n_ctx", "maximum context", "range of input length")
FIGURE = re.compile(r"(?:context (?:window|length|size)(?: is| of)?|n_ctx\s*[=:]?|maximum "
                    r"context length is|input length should be \[1,)\s*\(?(\d{3,9})", re.I)
REMEDY = ("start the server with a larger context (llama.cpp: --ctx-size {n}; llama-cpp-python: "
          "--n_ctx {n}; Ollama: num_ctx {n}; vLLM: --max-model-len {n}) and set context: {n} in "
          "the series' breakdown: block (it overrides a figure remembered from a refusal); or cut "
          "the story's chapters smaller (docs/breakdown.md#the-context-window)")


class TooSmall(StoryboardError):
    """A call that cannot fit the endpoint's context window: nothing was sent."""


@dataclass(frozen=True)
class Window:
    """The endpoint's context window in tokens, and where the figure came from."""

    tokens: int
    source: str


def answer_tokens(stage: str, chapter: Chapter | None = None) -> int:
    """A call's whole ``max_tokens``: its stage's; a shots call's bounded by its chapter's lines
    (``HEAD``, and ``PER_LINE`` and its words ``WORDS`` times a line), a season shot's by its
    lines (``HEAD``, ``PER_SHOT`` and its words ``WORDS`` times), at most the stage's."""
    most = MAX_TOKENS[stage]
    if stage == "shot" and chapter is not None:
        words = sum(WORDS * tokens(text) for _number, text in chapter.numbered())
        return min(most, HEAD + PER_SHOT + words)
    if stage != "shots" or chapter is None:
        return most
    need = HEAD + sum(PER_LINE + WORDS * tokens(text) for _number, text in chapter.numbered())
    return min(most, need)


def floor(stage: str, chapter: Chapter | None = None) -> int:
    """The fewest answer tokens a call is asked with: a quarter of its whole."""
    return answer_tokens(stage, chapter) // 4


def max_tokens(stage: str, prompt: int, window: Window | None,
               chapter: Chapter | None = None) -> int | None:
    """The ``max_tokens`` a call asks: its whole (``answer_tokens``), or what the window leaves
    (None: it cannot fit)."""
    full = answer_tokens(stage, chapter)
    if window is None or prompt + full + MARGIN <= window.tokens:
        return full
    left = window.tokens - prompt - MARGIN
    return left if left >= floor(stage, chapter) else None


def needed(stage: str, prompt: int, chapter: Chapter | None = None) -> int:
    """The window a call needs whole, rounded up to 1,024 tokens."""
    return math.ceil((prompt + answer_tokens(stage, chapter) + MARGIN) / 1024) * 1024


def too_small(what: str, stage: str, prompt: int, window: Window,
              chapter: Chapter | None = None) -> TooSmall:
    need, least = needed(stage, prompt, chapter), prompt + floor(stage, chapter) + MARGIN
    return TooSmall(
        f"{what} needs a context of about {need:,} tokens (a prompt of ~{prompt:,} and "
        f"max_tokens {answer_tokens(stage, chapter):,}; at the least {least:,}); the "
        f"endpoint's is {window.tokens:,} ({window.source}): nothing was sent. To go on: "
        + REMEDY.format(n=need))


def cut_short(what: str, stage: str, prompt: int, got: int, asked: int,
              chapter: Chapter | None = None) -> TooSmall:
    """The stop after an answer the server cut at fewer tokens than asked (its window)."""
    need = needed(stage, prompt, chapter)
    return TooSmall(
        f"{what}: the server cut the answer at {got:,} tokens where max_tokens asked {asked:,} "
        f"(finish_reason: length): its context window is about {prompt + got:,} tokens (the "
        f"prompt's {prompt:,} and the answer's {got:,}; remembered), and the call needs about "
        f"{need:,}. To go on: " + REMEDY.format(n=need))


def exceeded(stage: str, prompt: int, figure: int | None, chapter: Chapter | None = None) -> str:
    """What a refusal for the context window gains: the figure needed and the remedy."""
    need = needed(stage, prompt, chapter)
    where = f", the endpoint's is {figure:,}" if figure else ""
    return (f" (the request does not fit the endpoint's context window: it needs about "
            f"{need:,} tokens{where}. To go on: {REMEDY.format(n=need)})")


def refused_context(text: str) -> bool:
    """Whether an error's text says the request did not fit the context window."""
    lower = text.lower()
    return any(word in lower for word in CONTEXT_WORDS)


def stated(text: str) -> int | None:
    """The window a context error states (``context window of 2048``), if it states one."""
    found = FIGURE.search(text)
    return int(found.group(1)) if found else None


def largest_prompt(chapter: Chapter, stage: str = "shots") -> int:
    """The estimate of a chapter's largest prompt, its ``stage`` call's (a shots call's with
    the earlier answers; a season's chapter is asked only its cast)."""
    conversation = prompts.messages(stage, chapter, {})
    return prompt_tokens(conversation, json.dumps(SCHEMAS[stage])) + \
        (EARLIER_ANSWERS if stage == "shots" else 0)


def fitted(story: Story, window: Window | None, stage: str = "shots") -> Story:
    """``story`` with each chapter whose largest call (``stage``'s) cannot fit ``window`` cut
    at blank lines into parts that can (halves, again and again; a paragraph is never cut),
    numbered anew."""
    if window is None:
        return story
    parts = [part for chapter in story.chapters for part in _parts(chapter, window, stage)]
    if len(parts) != len(story.chapters):
        parts = [replace(p, number=n) for n, p in enumerate(parts, 1)]
    for part in parts:  # a part that still cannot fit stops the run before any call
        prompt = largest_prompt(part, stage)
        if max_tokens(stage, prompt, window, part) is None:
            raise too_small(f"the {stage} call for chapter {part.number}", stage, prompt,
                            window, part)
    return replace(story, chapters=tuple(parts))


def _parts(chapter: Chapter, window: Window, stage: str) -> list[Chapter]:
    if max_tokens(stage, largest_prompt(chapter, stage), window, chapter) is not None:
        return [chapter]
    halves = _halves(chapter)
    if halves is None:
        return [chapter]  # one paragraph: its call stops with the figure
    parts = [part for half in halves for part in _parts(half, window, stage)]
    fits = all(max_tokens(stage, largest_prompt(p, stage), window, p) is not None
               for p in parts)
    return parts if fits else [chapter]  # cut only into parts that all fit


def _halves(chapter: Chapter) -> tuple[Chapter, Chapter] | None:
    starts = [i for i, line in enumerate(chapter.lines)
              if line.strip() and (i == 0 or not chapter.lines[i - 1].strip())]
    if len(starts) < 2:
        return None
    middle = starts[len(starts) // 2]
    first = list(chapter.lines[:middle])
    while first and not first[-1].strip():
        first.pop()
    group = chapter.part_of or -chapter.number  # the parts stay one episode
    return (replace(chapter, lines=tuple(first), part_of=group),
            replace(chapter, title=f"{chapter.title} (from line {chapter.first + middle})",
                    first=chapter.first + middle, lines=chapter.lines[middle:], part_of=group))


def probed(base_url: str, deadline: float = 5.0) -> Window | None:
    """The window a loopback endpoint states (llama.cpp's ``/props``, vLLM's ``/v1/models``);
    None when it states none, or is not on loopback (nothing is asked of a hosted one)."""
    if not on_loopback(base_url):
        return None
    from storyboard.breakdown.chat.client import described  # httpx, only when it is asked
    root = base_url.rstrip("/")
    root = root[:-3] if root.endswith("/v1") else root
    for url, read in ((f"{root}/props", _props), (f"{base_url.rstrip('/')}/models", _models)):
        figure = read(described(url, deadline))
        if figure is not None:
            return Window(figure, f"the server's {url.rsplit('/', 1)[1]} says so")
    return None


def _figure(value: Any) -> int | None:
    return value if type(value) is int and 0 < value <= MOST else None


def _props(data: Any) -> int | None:
    if not isinstance(data, dict):
        return None
    settings = data.get("default_generation_settings")
    inner = settings.get("n_ctx") if isinstance(settings, dict) else None
    return _figure(inner) or _figure(data.get("n_ctx"))


def _models(data: Any) -> int | None:
    models = data.get("data") if isinstance(data, dict) else None
    if not isinstance(models, list):
        return None
    figures = [_figure(m.get("max_model_len")) for m in models if isinstance(m, dict)]
    return next((f for f in figures if f is not None), None)
