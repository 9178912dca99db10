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

from storyboard.breakdown.questions.density import RULE
from storyboard.breakdown.questions.schemas import bounds, of, sketch
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
TRANSLATOR = ("You translate the spoken lines of a short film for its dubbed version. Each line is "
              "said by a character on screen or in voice-over within a window of seconds.")
TRANSLATE = ("Translate each line of the user message from its language (from) into the "
             "language to (a BCP-47 tag: es is Spanish, pt-BR Brazilian Portuguese): the same "
             "meaning, tone and register, as the character would say it, natural to speak "
             "aloud and short enough to be said in about its seconds. Answer every line once, "
             "by its id; keep names as they are; never add notes or quotes around the words. A "
             "line marked shorter: true lasted longer than its seconds in the words given as "
             "now: say it again in fewer words.")
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
    "translate": TRANSLATE,
    "episode": "These lines are one episode of a season. Give it a short title and its hook: one "
               "line that ends it on a question, a threat or a turn that makes the viewer want "
               "the next.",
    "cut": "A season of episode.of episodes is cut from a story; episode episode.number ends at "
           "one of ends, each given with the story's last words before it and the first after "
           "it (planned: the end that keeps the episodes even). Choose the end that leaves the "
           "viewer wanting the next episode: just after a question, a threat or a turn, never "
           "inside a scene that goes on. In why, say in one line what it ends on.",
    "shot": "These lines are one shot of a season's episode (shot.number of shot.of), lasting "
            "shot.seconds seconds shared among its scenes (each scene's seconds its share). Say "
            "what is seen, in your own words, as each scene's action, from these lines alone; a "
            "shot that films its lines again (shot.again above 0) shows a later moment of them. "
            "Name the camera and framing (e.g. 'close-up, slow push in'). In cast, name at most "
            "5 of the given characters, places and props seen in the shot. Dialogue is the "
            "author's words: in lines, give the speaker (one of the given characters) and a "
            "quote chosen from shot.quotes, exactly; leave lines empty where no one speaks. " + RULE,
}
def user_message(stage: str, chapter: Chapter, context: dict[str, Any]) -> str:
    """The stage's input as one JSON document (a translation's: its lines alone)."""
    document = {"stage": stage, "chapter": chapter.title,
                "lines": [[number, text] for number, text in chapter.numbered()], **context}
    if stage == "translate":
        document = {"stage": stage, **context}
    return json.dumps(document, ensure_ascii=False, sort_keys=True)


def messages(stage: str, chapter: Chapter, context: dict[str, Any]) -> list[dict[str, str]]:
    """The conversation that asks ``stage`` of ``chapter`` for the first time."""
    schema = of(stage, chapter)
    shape = SHAPE + sketch(schema) + "\nBounds: " + "; ".join(bounds(schema)) + "."
    said = STAGES[stage]
    common = TRANSLATOR if stage == "translate" else COMMON
    return [{"role": "system", "content": f"{common}\n\n{said}\n\n{shape}"},
            {"role": "user", "content": user_message(stage, chapter, context)}]


def what(stage: str, chapter: Chapter) -> str:
    """A call, as a message names it: ``the shots call for chapter 3``, ``the episode call
    for episode 4 (The Storm)`` (a season's episode)."""
    if stage == "translate":
        return f"the translation of {chapter.title}"
    return _for(f"the {stage} call", chapter)


def answer_of(stage: str, chapter: Chapter) -> str:
    """A call's answer, as a note names it: ``the shots answer for chapter 3``, ``the episode
    answer for episode 4 (The Storm)`` (a season's episode)."""
    return _for(f"the {stage} answer", chapter)


def _for(said: str, chapter: Chapter) -> str:
    """``said`` for a chapter, or for a season's episode."""
    if chapter.shot:
        return f"{said} for shot {chapter.shot} of episode {chapter.episode} ({chapter.title})"
    if chapter.episode:
        return f"{said} for episode {chapter.episode} ({chapter.title})"
    return f"{said} for chapter {chapter.number}"


QUOTED = 40_000  # characters of a previous answer quoted back at most (a longer one is cut)
FEW = 8  # problems of an answer quoted back and reported, at most; the rest are counted
PROBLEM_CHARS = 800  # characters of a problem quoted, at most: a longer one is cut in its middle
KEPT_END = 160  # of a cut problem, its last characters kept (what is wrong: "is too long")


def few(problems: list[str], width: int = PROBLEM_CHARS) -> list[str]:
    """The problems as they are quoted back and reported: the first ``FEW`` (all, when one more
    would be the count's line), each cut at ``width`` characters, and a count of the rest. An
    answer of 10,000 shots has a problem for each, quoting its values: they are not sent back
    nor printed whole. ``few(few(p)) == few(p)``."""
    shown = problems if len(problems) <= FEW + 1 else problems[:FEW]
    rest = len(problems) - len(shown)
    return [cut(problem, width) for problem in shown] + (
        [f"and {rest:,} more problem(s) of the same answer, not quoted"] if rest else [])


def cut(problem: str, most: int = PROBLEM_CHARS) -> str:
    """A problem of at most ``most`` characters: a longer one keeps its start (where it is)
    and its end (what is wrong), and says how much was cut between."""
    if len(problem) <= most:
        return problem
    mark = f" [... {len(problem):,} characters in all, cut here ...] "
    head = max(0, most - KEPT_END - len(mark))
    return problem[:head] + mark + problem[len(problem) - KEPT_END:]


def send_back(previous: str, problems: list[str], most: int = QUOTED) -> list[dict[str, str]]:
    """The turn that sends an answer back with its problems quoted (``few`` of them; the answer
    itself at most ``most`` characters, never more than ``QUOTED``: an endless or garbage answer
    is not paid for twice)."""
    listed = "\n".join(f"- {problem}" for problem in few(problems))
    most = min(most, QUOTED)
    if len(previous) > most:
        previous = previous[:most] + " [cut here]"
    return [{"role": "assistant", "content": previous},
            {"role": "user", "content": "Your answer has these problems; answer again, whole, "
                                        f"in the same schema, with them fixed:\n{listed}"}]
