"""A stage's inputs into chat messages: the instructions (versioned) and the source as JSON.

The user message is one JSON document: the stage, the chapter's lines with their numbers in the
file, and what earlier stages decided (the beats, the cast's names). A model reads JSON well, and
the emulator reads the same document to answer from the text it is given. The system message
ends with the answer's shape (``schemas.sketch``: valid JSON on its own, so a model without a
grammar has nothing to copy that breaks JSON) and its bounds in prose after it
(``schemas.bounds``), in every structured-output mode, so a model without constrained decoding
knows the fields, and says that the user message is input, not the
shape to answer in (a small model echoed the request's own keys). ``INSTRUCTIONS``
changes whenever any instruction's words change: it is part of every cache key, so a new wording
asks again rather than reusing answers given to the old one.
"""

from __future__ import annotations

import json
from typing import Any

from storyboard.breakdown.schemas import SCHEMAS, bounds, sketch
from storyboard.breakdown.source import Chapter

INSTRUCTIONS = "breakdown-4"
MAX_SHOT_SECONDS = 15
MIN_SHOT_SECONDS = 2

COMMON = ("You turn a story into a storyboard for an AI video model. The story comes as numbered "
          "lines; never invent events that are not in it.")
SHAPE = ("The user message is your input (a JSON document: the chapter's numbered lines and what "
         "was decided before); do not repeat its keys. Answer with one JSON object of exactly "
         "this shape and nothing else, no other keys, no wrapper around it, no code fence "
         "(each value shows its type; the shape is JSON, copy its form, not its words):\n")
STAGES = {
    "outline": "Outline this chapter as one episode: a short title, a one-paragraph summary and "
               "its beats in order (one sentence each).",
    "cast": "List every character who appears or speaks in this chapter (one entry per person, "
            "by the name the story uses most), with their appearance as words to draw from and "
            "their voice (sex, age, timbre, manner) as words to design a voice from; every "
            "place and every prop that matters, each once, with its look.",
    "shots": "Break this chapter into shots. Each shot covers a range of the chapter's lines "
             f"(from_line..to_line, in order, not overlapping), lasts {MIN_SHOT_SECONDS} to "
             f"{MAX_SHOT_SECONDS} seconds in total and has timed scenes (seconds each) with an "
             "action to film. Name the camera and framing (e.g. 'close-up, slow push in'). In "
             "cast, name at most 5 of the given characters, places and props seen in the shot. "
             "Dialogue and voice-over are the author's words: in lines, give the speaker (one of "
             "the given characters) and the quote copied exactly, character for character, from "
             "the story's lines. Never paraphrase, shorten or translate a quote.",
}


def user_message(stage: str, chapter: Chapter, context: dict[str, Any]) -> str:
    document = {"stage": stage, "chapter": chapter.title,
                "lines": [[number, text] for number, text in chapter.numbered()], **context}
    return json.dumps(document, ensure_ascii=False, sort_keys=True)


def messages(stage: str, chapter: Chapter, context: dict[str, Any]) -> list[dict[str, str]]:
    """The conversation that asks ``stage`` of ``chapter`` for the first time."""
    shape = SHAPE + sketch(SCHEMAS[stage]) + "\nBounds: " + "; ".join(bounds(SCHEMAS[stage])) + "."
    return [{"role": "system", "content": f"{COMMON}\n\n{STAGES[stage]}\n\n{shape}"},
            {"role": "user", "content": user_message(stage, chapter, context)}]


QUOTED = 40_000  # characters of a previous answer quoted back (a longer one is cut)


def send_back(previous: str, problems: list[str]) -> list[dict[str, str]]:
    """The turn that sends an answer back with its problems quoted (the answer itself at most
    ``QUOTED`` characters: an endless or garbage answer is not paid for twice)."""
    listed = "\n".join(f"- {problem}" for problem in problems)
    if len(previous) > QUOTED:
        previous = previous[:QUOTED] + " [cut here]"
    return [{"role": "assistant", "content": previous},
            {"role": "user", "content": "Your answer has these problems; answer again, whole, "
                                        f"in the same schema, with them fixed:\n{listed}"}]
