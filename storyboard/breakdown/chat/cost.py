"""Calls into money: tokens estimated from the text before a call, the usage reported after it.

Before a call its price is quoted at the ceiling: the input's tokens estimated from its characters
(0.3 a token for each ASCII character, 0.6 for any other, as DeepSeek's page gives; a few more a
message for the chat framing) at the input price of the tier that length falls in, plus the whole
``max_tokens`` at the output price. After it, the usage the service reported is what is counted,
when it is a count: usage that is missing, negative, fractional, not finite or not a number is
untrusted input, and that call is counted at its ceiling (``count_ceiling``), so a hostile answer
can never lift the budget.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from storyboard.errors import BudgetExceeded
from storyboard.targets.llm import ChatPrice
from storyboard.targets.prices import is_amount

PER_MESSAGE = 8


def tokens(text: str) -> int:
    ascii_chars = len(text.encode("ascii", "ignore"))
    return math.ceil(ascii_chars * 0.3 + (len(text) - ascii_chars) * 0.6)


def within(text: str, most: int) -> int:
    """How many of ``text``'s first characters ``tokens`` estimates at ``most`` tokens or fewer
    (its whole length when all of it is)."""
    weight = 0.0
    for index, char in enumerate(text):
        weight += 0.3 if char.isascii() else 0.6
        if weight > most:
            return index
    return len(text)


def prompt_tokens(messages: list[dict[str, str]], schema_text: str) -> int:
    return sum(tokens(m["content"]) + PER_MESSAGE for m in messages) + tokens(schema_text)


def price_of(price: ChatPrice, input_tokens: int, output_tokens: int) -> float:
    tier = price.tier(input_tokens)
    return (input_tokens * tier.input + output_tokens * tier.output) / 1_000_000


@dataclass
class Spend:
    """What this run has spent (by the reported usage) against what it may spend."""

    price: ChatPrice
    limit: float | None  # None: no ceiling (nothing was to be asked)
    consented: bool = False  # the limit is the estimate's "up to" (--yes, a yes), not --budget
    spent: float = 0.0
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    by_stage: dict[str, int] = field(default_factory=dict)
    at_ceiling: int = 0  # calls whose reported usage was not a count

    def reserve(self, ceiling: float, what: str) -> None:
        """Refuse a call whose ceiling could pass the limit (fail closed: NaN refuses)."""
        if self.limit is None:
            return
        if is_amount(ceiling) and self.spent + ceiling <= self.limit:
            return
        said = (f"stopped before {what}: it could cost up to {ceiling:.4f} USD, and "
                f"{self.spent:.4f} USD of the {self.limit:.4f} USD ")
        if not self.consented:
            raise BudgetExceeded(said + "allowed is spent; what was answered is kept (run again "
                                 "with a larger --budget to go on)")
        raise BudgetExceeded(said + "consented (the estimate's \"up to\") is spent: the answers "
                             "made the run cost more than its estimate (an endpoint that answers "
                             "far more than asked is sent back a few of the problems, yet each "
                             "send-back grows); what was answered is kept (run again to go on, "
                             "its answers free and the rest estimated again, or with --budget "
                             "AMOUNT to allow more)")

    def count(self, stage: str, input_tokens: int, output_tokens: int) -> float:
        cost = price_of(self.price, input_tokens, output_tokens)
        self.spent += cost
        self.calls += 1
        self.input_tokens += input_tokens
        self.output_tokens += output_tokens
        self.by_stage[stage] = self.by_stage.get(stage, 0) + 1
        return cost

    def count_ceiling(self, stage: str, input_tokens: int, max_tokens: int) -> float:
        """A call whose usage cannot be believed, counted at its ceiling."""
        self.at_ceiling += 1
        return self.count(stage, input_tokens, max_tokens)
