"""An answer into what it is worth: its data, the data as read, and what is wrong with it.

``Judge.judge`` holds an answer to its stage, in order: cut short (``loops``), the text repairs
(``repairs.REPAIRS``), not JSON, the judged repairs, not in the schema (a bounded stage's: its
call's), the stage's own check. A repair runs only in the modes where its failure can come back;
each firing is counted once an answer, with its mode (``counted``). The asker decides what is sent
back; this only judges and repairs.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from storyboard.breakdown.answers.repairs import MODES, NAMED, REPAIRS, Context, Repair
from storyboard.breakdown.chat import loops
from storyboard.breakdown.questions import prompts, schemas
from storyboard.breakdown.results import Check
from storyboard.breakdown.source import Chapter
from storyboard.breakdown.state.reading import loads, seen


@dataclass
class Judge:
    """Judges a run's answers in the mode asked in now; keeps what was read as meant (``notes``),
    each call's answers (``answered``) and its cut ones (``cut``, read by ``walk.settled``)."""

    mode: Callable[[], str]
    say: Callable[[str], None] = lambda _text: None
    notes: list[str] = field(default_factory=list)
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    cut: dict[str, list[tuple[int, dict[str, Any]]]] = field(default_factory=dict)  # (turn, it)
    answered: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    _fired: set[tuple[str, str, str]] = field(default_factory=set)

    def context(self, stage: str, chapter: Chapter | None) -> Context:
        return Context(stage, "prompt" if self.mode() == "text" else self.mode(), chapter)

    def fire(self, repair: Repair, answer: Any, context: Context) -> tuple[Any, list[str]]:
        """``repair`` on ``answer`` where it can fire, counted once for each answer it reads."""
        if not repair.fires(context):
            return answer, []
        fixed, notes = repair.fix(answer, context)
        call = prompts.what(context.stage, context.chapter) if context.chapter else context.stage
        seen = (repair.name, context.mode, f"{call} {json.dumps(answer, sort_keys=True, default=str)}")
        if notes and seen not in self._fired:
            self._fired.add(seen)
            self.counts[(repair.name, context.mode)] += 1
        return fixed, notes

    def mark(self) -> tuple[Counter[tuple[str, str]], set[tuple[str, str, str]]]:
        """What has been counted so far, to go ``back`` to when a reading is not taken."""
        return self.counts.copy(), set(self._fired)

    def back(self, mark: tuple[Counter[tuple[str, str]], set[tuple[str, str, str]]]) -> None:
        """Forget what was counted since ``mark``: a reading not taken counts nothing."""
        self.counts, self._fired = mark[0].copy(), set(mark[1])

    def settle(self, name: str, answer: Any, stage: str, chapter: Chapter | None = None
               ) -> tuple[Any, list[str]]:
        """The settled repair ``name`` (``over-bound``, ``cut-*``) on what an answer was."""
        return self.fire(NAMED[name], answer, self.context(stage, chapter))

    def repaired(self, when: str, answer: Any, context: Context) -> tuple[Any, list[str]]:
        """``answer`` through each repair of ``when`` in order, and what each read."""
        notes: list[str] = []
        for repair in REPAIRS:
            if repair.when == when:
                answer, said = self.fire(repair, answer, context)
                notes += said
        return answer, notes

    def judge(self, stage: str, chapter: Chapter, record: dict[str, Any], check: Check
              ) -> tuple[Any, Any, list[str]]:
        """The answer's data (None: it is not usable), the data as read and what is wrong (an
        answer judged again is kept once)."""
        what = prompts.what(stage, chapter)
        if record not in (turns := self.answered.setdefault(what, [])):
            turns.append(record)
        kept = self.cut.setdefault(what, [])
        if loops.cut(record) and all(record != earlier for _, earlier in kept):
            kept.append((turns.index(record) + 1, record))
        if loops.cut(record):
            loop = loops.looping(record)
            stopped = record.get("finish_reason") == loops.STOPPED
            return None, None, [loop.problem(stopped) if loop is not None else
                                "the answer was cut short at max_tokens (finish_reason: length): "
                                "answer more briefly"]
        context = self.context(stage, chapter)
        content, notes = self.repaired("text", str(record["content"]), context)
        try:
            data = loads(content)
        except ValueError as exc:
            shown = f" (it holds {seen(str(record['content']))})".replace(" (it holds )", "")
            return None, None, [f"the answer is not valid JSON{shown}: {exc}"]
        data, more = self.repaired("judged", data, context)
        self.noted(stage, chapter, notes + more)
        problems = schemas.problems(stage, data, chapter)
        if problems:
            return None, data, problems
        return data, data, check(data)

    def noted(self, stage: str, chapter: Chapter, notes: list[str]) -> None:
        """What was read as meant in ``stage``'s answer for ``chapter``, kept (each once)."""
        for note in notes:
            said = f"{prompts.answer_of(stage, chapter)}: {note}"
            if said not in self.notes:
                self.notes.append(said)
                self.say(said)

    def counted(self) -> list[dict[str, Any]]:
        """Each repair that fired, in ``REPAIRS``' order: its name, mode and count."""
        return [{"name": repair.name, "mode": mode, "count": self.counts[(repair.name, mode)]}
                for repair in REPAIRS for mode in MODES if self.counts[(repair.name, mode)]]
