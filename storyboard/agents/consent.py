"""A paid call's quote into a person's answer, asked through the client (MCP elicitation).

Where the client declares elicitation, a paid ``render`` or ``retake`` is priced first and the
person is asked, with the price and what it buys (shots, seconds of video, provider); only their
accept lets it spend, and then only what they accepted (the call's ``max_cost`` becomes the
quoted cost). A decline, a cancel or no answer within ``WAIT`` seconds spends nothing. On a
handshake connection the question is an ``elicitation/create`` request; on a 2026-07-28
connection, which has no server-to-client requests, the call answers ``input_required`` with the
question and the client calls again with the answer (multi round-trip requests). The answer is
keyed by a digest of the quote, so an answer to another price (the plan changed since) is asked
again, never taken. Where the client cannot ask anyone, ``max_cost`` stays the only consent.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

import anyio
from mcp.server.context import ServerRequestContext
from mcp_types import (
    CallToolRequestParams,
    ElicitRequest,
    ElicitRequestFormParams,
    ElicitResult,
    InputRequiredResult,
)
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

WAIT = 600.0  # seconds a person has to answer on a handshake connection; then nothing is spent
SCHEMA: dict[str, Any] = {"type": "object", "properties": {}}
Answer = Literal["accept", "decline", "cancel"]


def can_ask(ctx: ServerRequestContext[Any, Any]) -> bool:
    """Whether the client declared that it can ask its user (form elicitation)."""
    capabilities = ctx.session.client_capabilities
    return capabilities is not None and capabilities.elicitation is not None


def question(tool: str, quote: dict[str, Any], series: str) -> str:
    """What the person is asked: the price and what it buys."""
    if tool == "breakdown":
        return (f"storyboard asks to spend up to {quote['cost']:.2f} {quote['currency']} with "
                f"{quote['provider']} (the key in {quote['key_env']}): {quote['calls']} call(s) "
                f"to break the story down into {series}. Accept to spend it; decline and nothing "
                "is asked.")
    what = (f"{quote['shots']} take(s) of {quote['rows'][0]['key']}" if tool == "retake"
            and quote["rows"] else f"{quote['shots']} shot(s) of {series}")
    return (f"storyboard asks to spend about {quote['cost']:.2f} {quote['currency']} with "
            f"{quote['provider']}: {what}, {quote['seconds']:g} s of video. Accept to spend it; "
            "decline and nothing is submitted.")


def key(tool: str, arguments: dict[str, Any], quote: dict[str, Any]) -> str:
    """The answer's key: bound to the call and the price asked about."""
    asked = {"tool": tool, "arguments": {k: v for k, v in arguments.items() if k != "max_cost"},
             "cost": quote["cost"], "currency": quote["currency"],
             "rows": [row["key"] for row in quote["rows"]]}
    digest = hashlib.sha256(json.dumps(asked, sort_keys=True).encode()).hexdigest()
    return f"consent-{digest[:16]}"


async def ask(ctx: ServerRequestContext[Any, Any], params: CallToolRequestParams,
              quote: dict[str, Any], series: str) -> Answer | InputRequiredResult:
    """The person's answer to ``quote``, or (2026-07-28) the question to answer first."""
    arguments = dict(params.arguments or {})
    text = question(params.name, quote, series)
    if ctx.protocol_version in MODERN_PROTOCOL_VERSIONS:
        asked = key(params.name, arguments, quote)
        answer = (params.input_responses or {}).get(asked)
        if isinstance(answer, ElicitResult):
            return answer.action
        return InputRequiredResult(input_requests={asked: ElicitRequest(
            params=ElicitRequestFormParams(message=text, requested_schema=SCHEMA))})
    with anyio.move_on_after(WAIT):
        result = await ctx.session.elicit_form(text, SCHEMA, related_request_id=ctx.request_id)
        return result.action
    return "cancel"  # no answer in time: nothing is spent


def refusal(answer: Answer, quote: dict[str, Any]) -> str:
    said = {"decline": "declined", "cancel": "did not accept"}[answer]
    return (f"refused, nothing was submitted or written: the person {said} spending about "
            f"{quote['cost']:.2f} {quote['currency']} with {quote['provider']}")
