"""A stage's request into a checked answer: asked through the cache (``calls``), judged
(``judging``), sent back at most ``SEND_BACKS`` times (a scene telling what its shot's lines do
not, alone, ``told.SEND_BACKS``), bounded (``Calls.sent_back``).

The conversation, being the request, is content-addressed: a re-run replays every turn from the
cache. A send-back that would send the same bytes again, or would not fit the window, stops. A cut
answer that wrote an item whole and then the same again (``cutshort.loops``) is not sent back: at
temperature 0 the model repeats the loop (measured), each turn at the whole ``max_tokens``. What is
still wrong after the last turn is returned, to be reported or settled (``walk.settled``): settled
from the last answer that could be read as JSON, an earlier turn's when the last one cannot (it
looped inside a string, or is not JSON).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from storyboard.breakdown.answers import cutshort
from storyboard.breakdown.answers.judging import Judge
from storyboard.breakdown.chat.calls import Calls, key_of
from storyboard.breakdown.questions import prompts, told
from storyboard.breakdown.results import Check, Result
from storyboard.breakdown.source import Chapter

SEND_BACKS = 2


@dataclass
class Asker(Calls):
    """Sends a stage's calls and decides their send-backs; ``judge`` judges and repairs."""

    judge: Judge = field(init=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        self.judge = Judge(self.judged, self._traced)  # as asked, or as text: ``holding``

    def ask(self, stage: str, chapter: Chapter, context: dict[str, Any], check: Check,
            later: list[list[str]]) -> Result:
        """The checked answer; ``later``: problems found after it was written (``storyboard
        check``), a round each, each sent back after the answer the round before settled on (so
        a run asked again replays the same conversation from the cache)."""
        conversation = prompts.messages(stage, chapter, context)
        turn, backs, rounds, asked, note = 0, 0, list(later), set[str](), ""
        readable: Any = None  # the last answer that could be read, for an unreadable last one
        while True:
            asked.add(key_of(self.body(stage, chapter, conversation, fit=False)))
            record = self.answer(stage, chapter, conversation, note)  # said if it is sent
            data, read, problems = self.judge.judge(stage, chapter, record, check)
            turn += 1
            read = readable = read if read is not None else readable
            if cutshort.loops(stage, record):  # asked again, it loops again: read as written
                return Result(data, prompts.few(problems), turn, read=read)
            checks = not problems and bool(rounds)
            if checks:
                problems = rounds.pop(0)
            if not problems or backs == SEND_BACKS or told.spent(problems, backs):
                # check's own problems: check reports them
                return Result(data, [] if checks else prompts.few(problems), turn, read=read)
            following = conversation + self.sent_back(stage, chapter, record, problems)
            stop = "sending it back again would ask the same question: stopped" if key_of(
                self.body(stage, chapter, following, fit=False)) in asked else \
                self.unfit(stage, chapter, following)
            if stop:
                return Result(data, [*prompts.few(problems), stop], turn, read=read)
            backs, conversation = backs + 1, following
            note = (f"  {prompts.what(stage, chapter)}: {len(problems)} problem(s), sent back to "
                    "the model with them quoted (the request changes by them)")

    def _traced(self, note: str) -> None:
        if not self.planning:  # said to --verbose once a run
            from storyboard.providers import trace  # httpx, only when it is said
            trace.note(f"read as meant: {note}")
