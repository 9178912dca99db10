"""Language models into list prices: what a breakdown's calls cost, per million tokens, in USD.

Figures from ../shared/spec/llm.md (section 2), each with where it came from: ``official`` when an
Alibaba Cloud page said it, ``third-party`` when only a reseller or a parse of a page did. Prices
move: every one is overridable (``storyboard breakdown --price-in/--price-out``), and a model not
listed here has no price, so the command refuses to estimate it until one is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_CHAT_MODEL = "qwen-plus"
DEFAULT_CHAT_BASE = "https://dashscope-intl.aliyuncs.com/compatible-mode/v1"
DEFAULT_KEY_ENV = "DASHSCOPE_API_KEY"


@dataclass(frozen=True)
class Tier:
    """Up to ``up_to`` input tokens in one request: USD per million input and output tokens."""

    up_to: int
    input: float
    output: float


@dataclass(frozen=True)
class ChatPrice:
    model: str
    tiers: tuple[Tier, ...]
    source: str
    max_output: int

    def tier(self, input_tokens: int) -> Tier:
        """The tier a request of ``input_tokens`` is billed at (the last for a longer one)."""
        return next((t for t in self.tiers if input_tokens <= t.up_to), self.tiers[-1])

    @property
    def free(self) -> bool:
        """Whether every tier costs nothing (a local server's, or prices given as 0)."""
        return all(t.input == 0 and t.output == 0 for t in self.tiers)


CHAT_PRICES: dict[str, ChatPrice] = {p.model: p for p in (
    ChatPrice("qwen3-max", (Tier(32_000, 1.2, 6.0), Tier(128_000, 2.4, 12.0),
                            Tier(256_000, 3.0, 15.0)), "third-party (a reseller's list)", 65_536),
    ChatPrice("qwen-max", (Tier(30_720, 1.6, 6.4),), "third-party (OpenRouter)", 8_192),
    ChatPrice("qwen-plus", (Tier(1_000_000, 0.4, 1.2),), "third-party (resellers, upper figure)",
              32_768),
    ChatPrice("qwen-turbo", (Tier(98_304, 0.05, 0.2),), "third-party", 16_384),
)}


def chat_price(model: str, *, input: float | None = None, output: float | None = None
               ) -> ChatPrice | None:
    """``model``'s list price with any override applied; None when neither says a price."""
    listed = CHAT_PRICES.get(model)
    if listed is None and (input is None or output is None):
        return None
    if listed is None:
        return ChatPrice(model, (Tier(10**9, input or 0.0, output or 0.0),), "given", 8_192)
    tiers = tuple(Tier(t.up_to, t.input if input is None else input,
                       t.output if output is None else output) for t in listed.tiers)
    given = input is not None or output is not None
    return ChatPrice(model, tiers, "given" if given else listed.source, listed.max_output)


# A known provider's key goes only to that provider's hosts (or to loopback: the emulator, a local
# server). A key named by any other variable goes where the user points it.
KEY_HOSTS: dict[str, tuple[str, ...]] = {
    "DASHSCOPE_API_KEY": ("aliyuncs.com",),
    "OPENAI_API_KEY": ("api.openai.com",),
    "DEEPSEEK_API_KEY": ("api.deepseek.com",),
}
LOOPBACK = ("localhost", "127.0.0.1", "::1")


def on_loopback(url: str) -> bool:
    """Whether ``url``'s host is this machine's loopback (by name or address)."""
    return urlsplit(url).hostname in LOOPBACK


def key_host_problem(key_env: str, host: str) -> str:
    """Why the key in ``key_env`` must not be sent to ``host`` ("" when it may)."""
    own = KEY_HOSTS.get(key_env)
    host = host.lower().rstrip(".")
    if own is None or host in LOOPBACK or host.startswith("127."):
        return ""
    if any(host == suffix or host.endswith("." + suffix) for suffix in own):
        return ""
    return (f"{key_env} is sent only to {' or '.join(own)}, not to {host}: name the variable "
            "that holds this endpoint's key with --api-key-env (or key_env in the "
            "series' breakdown: block)")
