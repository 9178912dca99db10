"""A stage's request into its answer: from the cache, or one paid call to the endpoint.

The transport under the asker (``asking``): the request's body (``Settings``), its cache key (the
conversation, being the request, is content-addressed: a re-run replays every turn from the cache
and sends nothing), its ``max_tokens`` fitted to the context window (``fitting``), its price
reserved and counted (``cost``). An answer that is not JSON is never stored (a re-run asks again),
except one cut at the whole ``max_tokens`` it asked or a streamed one stopped because it loops
(a model that loops loops again: stored, a re-run replays it and pays nothing).

How the endpoint is asked: the structured-output mode (``response_format``: ``json_schema``,
``json_object``, ``text`` or ``auto``, which steps down on a refusal) and streaming (``stream``:
``auto`` streams unless the endpoint refuses it), each found mode remembered per base URL and model
(``endpoints``). Usage that is not a count is counted at the call's ceiling
(``cost.Spend.count_ceiling``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from storyboard.breakdown.chat import holding, loops
from storyboard.breakdown.chat.cost import Spend, price_of, prompt_tokens, within
from storyboard.breakdown.chat.endpoints import (
    FORMAT_WORDS,
    Endpoints,
    hinted,
    next_mode,
    refuses,
)
from storyboard.breakdown.chat.fitting import (
    EARLIER_ANSWERS,
    MAX_TOKENS,
    TooSmall,
    Window,
    answer_tokens,
    cut_short,
    exceeded,
    probed,
    refused_context,
    stated,
    too_small,
)
from storyboard.breakdown.chat.fitting import max_tokens as fitting_max_tokens
from storyboard.breakdown.chat.pace import DeadlinePassed, Pace, probe
from storyboard.breakdown.questions import prompts, schemas
from storyboard.breakdown.source import Chapter
from storyboard.breakdown.state.answerstore import AnswerCache, request_key
from storyboard.errors import ProviderError

if TYPE_CHECKING:  # httpx is imported when a call is made
    from storyboard.breakdown.chat.client import Answer, ChatClient

UNKEYED = ("stream", "stream_options")  # how the answer travels, not what decides it
QUOTE_TIMES = 2  # a send-back quotes its answer up to this many times its call's max_tokens
# (estimated from its characters): an honest answer ends within them, an endpoint's may not


@dataclass(frozen=True)
class Settings:
    model: str
    base_url: str
    temperature: float = 0.0
    seed: int = 1234
    response_format: str = "auto"  # json_schema | json_object | text | auto
    stream: str = "auto"  # true | false | auto
    context: int | None = None  # the endpoint's context window, as the series' block says
    deadline: float | None = None  # one call's, in seconds (None: fitted to the pace, ``pace``)

    def body(self, stage: str, messages: list[dict[str, str]], mode: str = "json_schema",
             stream: bool = False, limit: int | None = None, penalty: bool = True,
             chapter: Chapter | None = None) -> dict[str, Any]:
        """The request; after a looping answer was sent back, with ``presence_penalty``
        (``penalty=False``: the endpoint refused that field)."""
        body: dict[str, Any] = {"model": self.model, "messages": messages,
                                "temperature": self.temperature, "seed": self.seed,
                                "max_tokens": limit or MAX_TOKENS[stage], "stream": stream}
        if penalty and loops.looped_before(messages):
            body["presence_penalty"] = loops.LOOP_PENALTY
        if stream:
            body["stream_options"] = {"include_usage": True}
        fmt = schemas.response_format(stage, mode, chapter)
        if fmt is not None:
            body["response_format"] = fmt
        if "/compatible-mode/" in self.base_url or "aliyuncs.com" in self.base_url:
            body["enable_thinking"] = False  # structured output refuses thinking (spec/llm.md)
        return body


def key_of(body: dict[str, Any]) -> str:
    """The cache key of a request: what decides its answer (not whether it streams)."""
    return request_key(prompts.INSTRUCTIONS, {k: v for k, v in body.items() if k not in UNKEYED})


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
class Calls:
    """Asks through the cache; ``connect`` makes the client on the first call that needs one."""

    cache: AnswerCache
    settings: Settings
    spend: Spend
    connect: Callable[[], ChatClient]
    say: Callable[[str], None] = lambda _text: None
    progress: Callable[[str], None] = lambda _text: None
    endpoints: Endpoints = field(init=False)  # what was found of each endpoint (read once)
    planning: bool = False
    current: str = ""  # the call being asked (for a failure's message)
    hits: set[str] = field(default_factory=set)  # keys answered from the cache
    fresh: set[str] = field(default_factory=set)  # keys answered by a call of this run
    pending: list[Pending] = field(default_factory=list)
    told: set[str] = field(default_factory=set)  # why calls were counted at their ceiling
    pace: Pace = field(init=False)  # each call's deadline (``pace``)
    longer: float | None = None  # the deadline "to go on" asks, after a call passed its own
    _client: ChatClient | None = field(default=None, repr=False)
    _window: tuple[Window | None] | None = field(default=None, repr=False)  # found once

    def __post_init__(self) -> None:
        self.endpoints = Endpoints.of(self.cache.series)
        self.pace = Pace(self.settings.deadline)

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

    def unfit(self, stage: str, chapter: Chapter, conversation: list[dict[str, str]]) -> str:
        """Why a send-back is not sent: it would not fit the context window ("": it fits)."""
        try:
            self.body(stage, chapter, conversation)
        except TooSmall as error:
            return f"not sent back: {error}"
        return ""

    def window(self) -> Window | None:
        """The endpoint's context window (``fitting``): the setting, else what the endpoint
        states, else what a refusal taught; found once a run."""
        if self._window is None:
            url, model = self.settings.base_url, self.settings.model
            remembered = self.endpoints.context(url, model)
            found = Window(self.settings.context, "the breakdown: block's context") \
                if self.settings.context else probed(url) or (
                    Window(remembered, "remembered from a refusal, in "
                           ".storyboard/breakdown/endpoints.json") if remembered else None)
            self._window = (found,)
        return self._window[0]

    def learned(self, tokens: int | None, how: str) -> None:
        """Remember the window a refusal taught (the setting, when given, still wins)."""
        if tokens is None or not 0 < tokens <= 100_000_000:
            return
        self.endpoints.note(self.settings.base_url, self.settings.model, context=tokens)
        if self.settings.context is None:
            self._window = (Window(tokens, how),)

    def body(self, stage: str, chapter: Chapter, conversation: list[dict[str, str]],
             stream: bool = False, fit: bool = True) -> dict[str, Any]:
        """The request of a call, its ``max_tokens`` fitted to the window (``TooSmall``: it
        cannot fit, and is never sent; ``fit=False``: the stage's own then)."""
        prompt = prompt_tokens(conversation, json.dumps(schemas.of(stage, chapter)))
        window = self.window()
        limit, full = fitting_max_tokens(stage, prompt, window, chapter), answer_tokens(stage, chapter)
        if limit is None and window is not None and fit:
            raise too_small(prompts.what(stage, chapter), stage, prompt, window, chapter)
        if window is not None and limit is not None and limit < full and \
                f"fit {stage}" not in self.told:
            self.told.add(f"fit {stage}")
            self.say(f"  the endpoint's context window is {window.tokens:,} tokens "
                     f"({window.source}): {stage} calls that would not fit ask for fewer answer "
                     f"tokens (at least {limit:,} here, {full:,} otherwise)")
        return self.settings.body(stage, conversation, self.mode(), stream, limit or full,
                                  self.penalty(), chapter)

    def mode(self) -> str:
        """The structured-output mode to ask in: the setting, or what was found for the
        endpoint (``auto``: ``json_schema`` until the endpoint refuses it)."""
        chosen = self.settings.response_format
        if chosen != "auto":
            return chosen
        return self.endpoints.mode(self.settings.base_url, self.settings.model) or "json_schema"

    def _where(self) -> tuple[str, str, str]:
        return self.settings.base_url, self.settings.model, self.mode()

    def judged(self) -> str:
        """The mode answers are judged in: ``mode``, or ``text`` where the endpoint was found
        not to hold it (``holding``)."""
        return "text" if self.endpoints.holds(*self._where()) is False else self.mode()

    def penalty(self) -> bool:
        """Whether a turn after a looping answer may ask with ``presence_penalty`` (not when
        the endpoint refused it)."""
        return self.endpoints.penalty(self.settings.base_url, self.settings.model) is not False

    def streams(self) -> bool:
        chosen = self.settings.stream
        if chosen != "auto":
            return chosen == "true"
        found = self.endpoints.stream(self.settings.base_url, self.settings.model)
        return True if found is None else found

    def pending_shots(self, chapter: Chapter, context: dict[str, Any], stage: str = "shots"
                      ) -> None:
        """Planning: the shots (or a season episode's) call of a chapter whose outline or cast
        is not stored yet."""
        conversation = prompts.messages(stage, chapter, context)
        schema = json.dumps(schemas.of(stage, chapter))
        estimate = prompt_tokens(conversation, schema) + EARLIER_ANSWERS
        ceiling = price_of(self.spend.price, estimate, answer_tokens(stage, chapter))
        self.pending.append(Pending(stage, chapter.number, estimate, ceiling))

    def answer(self, stage: str, chapter: Chapter, conversation: list[dict[str, str]],
               note: str = "") -> dict[str, Any]:
        """The call's answer: stored (free), else asked (``note`` said first: nothing is said
        of a call the store answers)."""
        what = prompts.what(stage, chapter)
        while True:
            stored = self.before(stage, chapter, conversation)
            if stored is not None:
                return stored
            body = self.body(stage, chapter, conversation, self.streams())
            key = key_of(body)
            stored = self.stored(key)
            if stored is not None:
                return stored
            if self.planning:
                schema = json.dumps(schemas.of(stage, chapter))
                self.pending.append(Pending(stage, chapter.number,
                                            prompt_tokens(conversation, schema),
                                            self.ceiling(stage, chapter, conversation)))
                raise NotAnswered(what)
            if note:
                self.say(note)
                note = ""  # once, however often the call is tried
            got = self._asked(stage, chapter, body, self.ceiling(stage, chapter, conversation))
            if got is not None:
                kept = self._kept(stage, key, what, got, conversation, int(body["max_tokens"]))
                self._fitted(stage, chapter, got, body)
                return kept

    def before(self, stage: str, chapter: Chapter, conversation: list[dict[str, str]]
               ) -> dict[str, Any] | None:
        """The answer stored for the call asked whole (``_whole``): free."""
        for whole in self._whole(stage, chapter, conversation):
            stored = self.stored(key_of(whole))
            if stored is not None:
                return stored
        return None

    def _whole(self, stage: str, chapter: Chapter, conversation: list[dict[str, str]]
               ) -> list[dict[str, Any]]:
        """The call's requests asked whole: before its window was known, or before its
        ``max_tokens`` was bounded by its chapter (the stage's own)."""
        return [self.settings.body(stage, conversation, self.mode(), self.streams(), most,
                                   self.penalty(), chapter)
                for most in dict.fromkeys((answer_tokens(stage, chapter), MAX_TOKENS[stage]))]

    def stored(self, key: str) -> dict[str, Any] | None:
        found = self.cache.get(key)
        if found is not None:
            self.hits.add(key)
        return found

    def _fitted(self, stage: str, chapter: Chapter, got: Answer, body: dict[str, Any]) -> None:
        """Stop after an answer the server cut at fewer tokens than asked: its window is too
        small for the call (remembered, so "to go on" never asks it the same way)."""
        asked = int(body["max_tokens"])
        done, prompt = got.completion_tokens, got.prompt_tokens
        if got.finish_reason != "length" or done is None or prompt is None or done >= asked:
            return
        self.learned(prompt + done, "an answer the server cut short taught it, remembered in "
                     ".storyboard/breakdown/endpoints.json")
        raise cut_short(prompts.what(stage, chapter), stage, prompt, done, asked, chapter)

    def _asked(self, stage: str, chapter: Chapter, body: dict[str, Any], ceiling: float
               ) -> Answer | None:
        """The answer of one call (None: the endpoint refused a mode; ask again in the next)."""
        what = self.current = prompts.what(stage, chapter)
        self.spend.reserve(ceiling, what)
        if self._client is None:
            self._client = self.connect()
            probe(self._client, self.settings.base_url, self.settings.model, self.spend.price,
                  self.pace, self.say)
        holding.once(self._client, self.endpoints, self._where(), self.spend.price.free, self.say)
        prompt = prompt_tokens(body["messages"], json.dumps(schemas.of(stage, chapter)))
        asked, started = int(body["max_tokens"]), time.monotonic()
        deadline = self.pace.deadline(prompt, asked)
        try:
            got = self._client.complete(body, lambda n: self.progress(
                f"  {what}: {n} token(s) so far"), loops.watcher(body["messages"]), deadline,
                self.pace.said(deadline))
            if got.usage_ok:
                self.pace.measured(time.monotonic() - started, got.prompt_tokens or 0,
                                   got.completion_tokens or 0, what)
            return got
        except ProviderError as error:
            if isinstance(error, DeadlinePassed):
                self.longer = self.pace.enough(error.deadline, prompt, asked)
            if not self._stepped_down(error, body):
                self._hinted(stage, chapter, error, body)
                raise
            return None
        finally:
            self.progress("")  # the line is cleared; the call's own line follows

    def _hinted(self, stage: str, chapter: Chapter, error: ProviderError,
                body: dict[str, Any]) -> None:
        """``hinted``; a refusal for the context window says the figure needed and the remedy,
        and the window it states is remembered."""
        if not refused_context(str(error)):
            hinted(error, body)
            return
        self.learned(stated(str(error)), "the endpoint's refusal stated it, remembered in "
                     ".storyboard/breakdown/endpoints.json")
        prompt = prompt_tokens(body["messages"], json.dumps(schemas.of(stage, chapter)))
        error.detail += exceeded(stage, prompt, stated(str(error)), chapter)

    def _stepped_down(self, error: ProviderError, body: dict[str, Any]) -> bool:
        """Whether ``error`` refused a mode ``auto`` may step down from (and it did)."""
        url, model, endpoints = self.settings.base_url, self.settings.model, self.endpoints
        if body.get("stream") and self.settings.stream == "auto" and \
                refuses(error, ("stream",)):
            endpoints.note(url, model, stream=False)
            self.say("  the endpoint refuses streaming: asking without it (remembered)")
            return True
        if "presence_penalty" in body and refuses(error, ("presence_penalty",)):
            endpoints.note(url, model, presence_penalty=False)
            self.say("  the endpoint refuses presence_penalty: asking without it (remembered)")
            return True
        was = self.mode()
        lower = next_mode(was)
        if self.settings.response_format != "auto" or lower is None or \
                not refuses(error, FORMAT_WORDS):
            return False
        endpoints.note(url, model, response_format=lower)
        where = "beside it and in the instructions" if lower == "json_object" \
            else "in the instructions"
        self.say(f"  the endpoint refuses response_format {was}: asking in {lower} "
                 f"(remembered; the schema is {where})")
        return True

    def _kept(self, stage: str, key: str, what: str, got: Answer,
              conversation: list[dict[str, str]], asked: int) -> dict[str, Any]:
        """The answer as a record: stored unless it is not JSON, and counted (at the
        ``max_tokens`` it ``asked`` when its usage cannot be believed)."""
        record = {**got.record(), "stage": stage, "model": self.settings.model}
        looped = got.finish_reason == loops.STOPPED or (
            got.finish_reason == "length" and (got.completion_tokens or 0) >= asked)
        if looped or not schemas.parsed(stage, got.content)[1]:
            self.cache.put(key, record)  # stored before it is used: a kill after it loses nothing
            self.fresh.add(key)
        if got.usage_ok:
            cost = self.spend.count(stage, got.prompt_tokens or 0, got.completion_tokens or 0)
            self.say(f"  {what}: {got.prompt_tokens} + {got.completion_tokens} tokens, "
                     f"{cost:.4f} USD")
            return record
        schema = json.dumps(schemas.SCHEMAS[stage])  # the stage's: its bounds add no tokens
        cost = self.spend.count_ceiling(stage, prompt_tokens(conversation, schema), asked)
        self.say(f"  {what}: counted at its ceiling, {cost:.4f} USD{self._why(got)}")
        return record

    def _why(self, got: Answer) -> str:
        """Why a call was counted at its ceiling, the first time each reason is met."""
        reason = got.finish_reason if got.finish_reason == loops.STOPPED else \
            "missing" if not got.usage_given else "bad"
        if reason in self.told:
            return ""
        self.told.add(reason)
        said = {loops.STOPPED: "it was stopped when it began to say the same again, so its "
                "usage never came, and the server may have made more than was read",
                "missing": "the endpoint reported no usage (a streaming endpoint may send none: "
                "stream: false asks for it)"}.get(reason, "the usage it reported is not a whole "
                                                  "number of tokens >= 0")
        return f" ({said}: such a call is counted at its ceiling, the estimate with the whole " \
               "max_tokens)"

    def sent_back(self, stage: str, chapter: Chapter, record: dict[str, Any],
                  problems: list[str]) -> list[dict[str, str]]:
        """The turn that sends ``record`` back, bounded whatever it holds: ``prompts.few`` of its
        problems, and the answer up to where its loop begins, at most ``QUOTE_TIMES`` its call's
        ``max_tokens`` (an answer of 10,000 scenes is sent back in a few thousand tokens)."""
        said = loops.unlooped(record)
        most = within(said, QUOTE_TIMES * answer_tokens(stage, chapter))
        return prompts.send_back(said, problems, most)

    def ceiling(self, stage: str, chapter: Chapter, conversation: list[dict[str, str]]) -> float:
        """The most a call could cost: its prompt and its whole ``max_tokens``
        (``fitting.answer_tokens``: a shots call's bounded by its chapter)."""
        schema = json.dumps(schemas.of(stage, chapter))
        return price_of(self.spend.price, prompt_tokens(conversation, schema),
                        answer_tokens(stage, chapter))
