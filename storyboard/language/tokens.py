"""A shot's words into tokens: text with each ``@name`` its ``Mention``, one spelling of each
token list, a scene's ``Scene K [A-Bs]: <action>`` line and its lines joined."""

from __future__ import annotations

from collections.abc import Mapping

from storyboard.language.request import Mention, Token, write
from storyboard.language.resolving.resolve import MENTION


def mention_tokens(text: str, mentions: Mapping[str, Mention | str]) -> list[Token]:
    """Text into tokens: ``@name`` becomes its ``Mention`` (or its words, for a character a
    board's first frame replaced), ``@@`` becomes ``@``."""
    if "@" not in text:
        return [text] if text else []
    tokens: list[Token] = []
    pending, at = "", 0  # text since the last mention (``@@`` and unknown names stay text)
    for match in MENTION.finditer(text):
        name = match.group(1)
        found = mentions.get(name) if name is not None else None
        pending += text[at:match.start()]
        if found is None:
            pending += "@" if name is None else match.group(0)
        elif found.__class__ is str:
            pending += found
        else:
            if pending:
                tokens.append(pending)
            tokens.append(found)
            pending = ""
        at = match.end()
    pending += text[at:]
    if pending:
        tokens.append(pending)
    return tokens  # as merged would spell it


def merged(tokens: list[Token]) -> list[Token]:
    """Adjacent strings joined and empty ones dropped: one spelling of each token list."""
    out: list[Token] = []
    after_text = False  # the last token out is a string
    for token in tokens:
        if token.__class__ is not str:
            out.append(token)
            after_text = False
        elif not token:
            continue
        elif after_text:
            out[-1] += token  # type: ignore[operator]
        else:
            out.append(token)
            after_text = True
    return out


def _rstrip(tokens: list[Token]) -> list[Token]:
    if tokens and isinstance(tokens[-1], str):
        return [*tokens[:-1], tokens[-1].rstrip()]
    return tokens


def scene_tokens(index: int, start: float, end: float, action: list[Token],
                 lines: list[list[Token]]) -> list[Token]:
    """``Scene K [A-Bs]: <action>`` then each line; the joiner is chosen as the native text reads."""
    head = _rstrip([f"Scene {index} [{start:g}-{end:g}s]: ", *action])
    if lines:  # how the action ends: its last token's end (the whole text when that is "")
        text = write(action[-1:]) or write(action)
        joiner = " " if not text or text.endswith((".", "!", "?", ":")) else ". "
        said: list[Token] = []
        for number, line in enumerate(lines):
            said += [" "] * (number > 0) + line
        head = [*head, joiner, *said]  # no action: "Scene 2 [3-5.5s]: Image 1 says: ..."
    return merged(head)


def join_line(tokens: list[Token], more: list[Token]) -> None:
    """``more`` (merged) after ``tokens`` (merged) on a line of its own, merged as ``merged``
    would: strings either side of the newline joined with it."""
    if not tokens:
        tokens += more
        return
    if tokens[-1].__class__ is str:
        tokens[-1] += "\n"
    else:
        tokens.append("\n")
    if more and more[0].__class__ is str:
        tokens[-1] += more[0]  # type: ignore[operator]
        tokens += more[1:]
    else:
        tokens += more
