"""Server-sent events of a streamed chat completion into one answer, as OpenAI-compatible servers
send them.

Each event is a ``data: {...}`` line holding a ``chat.completion.chunk``: the text comes in
``choices[0].delta.content`` pieces (a thinking model's ``reasoning_content`` pieces are counted
as progress, never taken as the answer), the last choice chunk carries ``finish_reason``, and
``usage`` comes in a chunk of its own when ``stream_options.include_usage`` is asked (llama.cpp
puts it on the last chunk). ``data: [DONE]`` ends the stream. An error event
(``data: {"error": ...}``) is the server's error; a stream that ends with no finish reason was cut
off (``StreamCut``), and may have been billed. A moderation error mid-stream (DashScope's
``data_inspection_failed`` after part of the answer) is the same refusal as one before it.

A ``watch`` reads the text so far every ``WATCH_EVERY`` pieces and may stop the reading: the finish
reason it names is the answer's, and the connection is closed, which a server takes as the end of
the generation (llama.cpp's server stops at once, measured). The caller counts such an answer at its
ceiling: it carries no usage, and the server may have made more than was read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from storyboard.breakdown.state.reading import loads
from storyboard.errors import ProviderError, RequestRejected, ServerError, TransportError


class StreamCut(TransportError):
    """A stream that ended with no finish reason: the connection dropped, or the server stopped
    generating (llama-cpp-python's ends a stream so when another request comes). The answer may
    have been made, and billed, whole: whether it was is said where the price is known
    (``failure.failed``)."""


MODERATION = "data_inspection_failed"  # as ``client.MODERATION``: a refusal, reported at its chapter
WATCH_EVERY = 16  # pieces of text between two readings of a ``watch``
Watch = Callable[[str], str]  # the text so far -> the finish reason to stop with ("": go on)


def unwatched(_text: str) -> str:
    return ""


@dataclass
class Pieces:
    """What a stream has given so far."""

    text: list[str] = field(default_factory=list)
    finish: str = ""
    usage: dict[str, Any] = field(default_factory=dict)
    chunks: int = 0
    size: int = 0  # characters of text so far

    def add(self, chunk: dict[str, Any]) -> bool:
        """Take one chunk; whether it carried any text (answer or thinking)."""
        if isinstance(chunk.get("usage"), dict):
            self.usage = chunk["usage"]
        choices = chunk.get("choices")
        choice = choices[0] if isinstance(choices, list) and choices else None
        if not isinstance(choice, dict):
            return False
        self.finish = str(choice.get("finish_reason") or self.finish)
        delta = choice.get("delta")
        delta = delta if isinstance(delta, dict) else {}
        piece, thought = delta.get("content"), delta.get("reasoning_content")
        if isinstance(piece, str):
            self.text.append(piece)
            self.size += len(piece)
        return bool(piece) or bool(thought)



def event(line: str, provider: str) -> dict[str, Any] | None:
    """The JSON of one ``data:`` line (None: a comment, a blank, another field, or [DONE])."""
    if not line.startswith("data:"):
        return None
    payload = line[5:].strip()
    if payload == "[DONE]" or not payload:
        return None
    try:
        data = loads(payload, finite=False)
    except ValueError as exc:
        raise ProviderError(f"the chat stream sent an event that is not JSON: {exc}",
                            provider=provider) from exc
    if not isinstance(data, dict):
        raise ProviderError("the chat stream sent an event that is not a JSON object",
                            provider=provider)
    if isinstance(data.get("error"), dict):
        message = str(data["error"].get("message") or "")[:500]
        code = str(data["error"].get("code") or "")
        kind = RequestRejected if code == MODERATION else ServerError
        raise kind(f"the chat stream ended in an error: {message}", provider=provider,
                   code=code)
    return data


def streamed(lines: Iterable[str], provider: str, progress: Callable[[int], None],
             most: int, watch: Watch = unwatched) -> Pieces:
    """What the stream's ``lines`` put together; ``progress`` hears the pieces so far; a text
    longer than ``most`` characters is refused; ``watch`` may stop the reading (its finish)."""
    pieces = Pieces()
    for line in lines:
        data = event(line, provider)
        if data is not None and pieces.add(data):
            pieces.chunks += 1
            if pieces.size > most:
                raise ProviderError(f"the chat answer's text passed {most:,} characters and "
                                    "was cut off (the breakdown's max_answer_mb setting)",
                                    provider=provider)
            progress(pieces.chunks)
            if _stopped(pieces, watch):
                return pieces
        if line.strip() == "data: [DONE]":
            break
    if not pieces.finish:
        raise StreamCut("the chat stream ended before the answer was finished (no "
                        "finish_reason)", provider=provider)
    return pieces


def _stopped(pieces: Pieces, watch: Watch) -> bool:
    """Whether ``watch``, read every ``WATCH_EVERY`` pieces, stops the stream (its finish kept)."""
    if pieces.chunks % WATCH_EVERY or pieces.finish:
        return False
    stop = watch("".join(pieces.text))
    if stop:
        pieces.finish, pieces.usage = stop, {}
    return bool(stop)
