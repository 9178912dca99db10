"""A stage's request into a checked answer: from the cache or one paid call, sent back with its
problems at most ``SEND_BACKS`` times.

An answer is judged in order: cut short (``finish_reason: length``), not JSON, not in the schema,
then the stage's own check (quotes not in the source, lines out of the chapter, unknown names).
Each problem found is quoted back to the model in the same conversation; the conversation, being
the request, is content-addressed like the first question, so a re-run replays every turn from
the cache and sends nothing. What is still wrong after the last turn is returned to be reported.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from storyboard.breakdown import prompts, schemas
from storyboard.breakdown.cache import AnswerCache, request_key
from storyboard.breakdown.cost import Spend, price_of, prompt_tokens
from storyboard.breakdown.source import Chapter

if TYPE_CHECKING:  # httpx is imported when a call is made
    from storyboard.breakdown.client import ChatClient

SEND_BACKS = 2
MAX_TOKENS = {"outline": 2048, "cast": 4096, "shots": 8192}
EARLIER_ANSWERS = 600  # tokens the beats and names of a chapter not yet outlined may add
Check = Callable[[Any], list[str]]


@dataclass(frozen=True)
class Settings:
    model: str
    base_url: str
    temperature: float = 0.0
    seed: int = 1234

    def body(self, stage: str, messages: list[dict[str, str]]) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.model, "messages": messages,
                                "temperature": self.temperature, "seed": self.seed,
                                "max_tokens": MAX_TOKENS[stage], "stream": False,
                                "response_format": schemas.response_format(stage)}
        if "/compatible-mode/" in self.base_url or "aliyuncs.com" in self.base_url:
            body["enable_thinking"] = False  # structured output refuses thinking (spec/llm.md)
        return body


@dataclass
class Result:
    answer: Any
    problems: list[str]
    turns: int


class NotAnswered(Exception):
    """Planning: this call's answer is not stored (it is counted as pending, not asked)."""


@dataclass(frozen=True)
class Pending:
    """A call a run would make: what it asks, and the most it could cost."""

    stage: str
    chapter: int
    input_tokens: int
    ceiling: float


@dataclass
class Asker:
    """Asks through the cache; ``connect`` makes the client on the first call that needs one."""

    cache: AnswerCache
    settings: Settings
    spend: Spend
    connect: Callable[[], ChatClient]
    say: Callable[[str], None] = lambda _text: None
    planning: bool = False
    hits: set[str] = field(default_factory=set)  # keys answered from the cache
    fresh: set[str] = field(default_factory=set)  # keys answered by a call of this run
    pending: list[Pending] = field(default_factory=list)
    _client: ChatClient | None = field(default=None, repr=False)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    @property
    def cached(self) -> int:
        """Answers this run took from the cache (not those it asked itself and read again)."""
        return len(self.hits - self.fresh)

    @property
    def sent(self) -> int:
        return self._client.sent if self._client is not None else 0

    def ask(self, stage: str, chapter: Chapter, context: dict[str, Any], check: Check,
            later: list[list[str]]) -> Result:
        """The checked answer; ``later``: problems found after it was written (``storyboard
        check``), a round each, each sent back after the answer the round before settled on (so
        a run asked again replays the same conversation from the cache)."""
        conversation = prompts.messages(stage, chapter, context)
        turn, backs, rounds = 0, 0, list(later)
        while True:
            record = self.answer(stage, chapter, conversation)
            data, problems = judge(stage, record, check)
            turn += 1
            checks = not problems and bool(rounds)
            if checks:
                problems = rounds.pop(0)
            if not problems or backs == SEND_BACKS:  # check's own problems: check reports them
                return Result(data, [] if checks else problems, turn)
            backs += 1
            self.say(f"  {stage} of chapter {chapter.number}: {len(problems)} problem(s), sent "
                     "back to the model")
            conversation = conversation + prompts.send_back(record["content"], problems)

    def pending_shots(self, chapter: Chapter, context: dict[str, Any]) -> None:
        """Planning: the shots call of a chapter whose outline or cast is not stored yet."""
        conversation = prompts.messages("shots", chapter, context)
        schema = json.dumps(schemas.SCHEMAS["shots"])
        estimate = prompt_tokens(conversation, schema) + EARLIER_ANSWERS
        ceiling = price_of(self.spend.price, estimate, MAX_TOKENS["shots"])
        self.pending.append(Pending("shots", chapter.number, estimate, ceiling))

    def answer(self, stage: str, chapter: Chapter, conversation: list[dict[str, str]]
               ) -> dict[str, Any]:
        body = self.settings.body(stage, conversation)
        key = request_key(prompts.INSTRUCTIONS, body)
        stored = self.cache.get(key)
        if stored is not None:
            self.hits.add(key)
            return stored
        what = f"the {stage} call for chapter {chapter.number}"
        if self.planning:
            schema = json.dumps(schemas.SCHEMAS[stage])
            self.pending.append(Pending(stage, chapter.number,
                                        prompt_tokens(conversation, schema),
                                        self.ceiling(stage, conversation)))
            raise NotAnswered(what)
        self.spend.reserve(self.ceiling(stage, conversation), what)
        if self._client is None:
            self._client = self.connect()
        got = self._client.complete(body)
        record = {**got.record(), "stage": stage, "model": self.settings.model}
        self.cache.put(key, record)  # stored before it is used: a kill after this loses nothing
        self.fresh.add(key)
        cost = self.spend.count(stage, got.prompt_tokens, got.completion_tokens)
        self.say(f"  {what}: {got.prompt_tokens} + {got.completion_tokens} tokens, ${cost:.4f}")
        return record

    def ceiling(self, stage: str, conversation: list[dict[str, str]]) -> float:
        schema = json.dumps(schemas.SCHEMAS[stage])
        return price_of(self.spend.price, prompt_tokens(conversation, schema), MAX_TOKENS[stage])


def judge(stage: str, record: dict[str, Any], check: Check) -> tuple[Any, list[str]]:
    """The answer's data and what is wrong with it (nothing: it is used as it is)."""
    if record.get("finish_reason") == "length":
        return None, ["the answer was cut short at max_tokens (finish_reason: length): answer "
                      "more briefly"]
    data, problems = schemas.parsed(record["content"])
    if problems:
        return None, problems
    problems = schemas.problems(stage, data)
    if problems:
        return None, problems
    return data, check(data)
