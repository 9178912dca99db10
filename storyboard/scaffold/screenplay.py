"""A Fountain screenplay into a Blueprint: a series of episodes, shots, characters, places and voices.

Parsed by ``fountain``, mapped by ``convert`` (names by ``names``, timing by ``timing``), cut into
episodes by ``episodes``, written by ``emit``.

The mapping (docs/starting.md has it as a table):

- ``#`` sections (level 1) start episodes; with none, act markers (``ACT ONE``, ``SEQUENCE 2``) do;
  with neither, the screenplay is cut at scene headings into episodes of about ``--episode-minutes``
  (10 by default). Deeper sections are kept as comments.
- Each scene heading starts a shot. Its location becomes a *place*, a character whose picture is
  generated from the heading's words (``kind: place``), added to the shot's ``cast``; the heading
  opens the shot's text. A forced heading with no ``INT.``/``EXT.`` (``.OPENING TITLES``) names no
  place.
- Each character cue becomes a character (key: the name in lower case, ``_`` between words) whose
  picture is generated from its introduction, with a designed voice (``cast`` has the words). The
  name in action text (``MIA`` or ``Mia``) becomes the mention ``@mia``.
- Each action paragraph and each dialogue block is one timed scene (``at: A-Bs``) of its shot;
  dialogue is the speaker's ``say`` line; parentheticals and extensions such as ``(V.O.)`` go into
  that scene's action (``(CONT'D)`` says nothing a shot needs).
- A transition (``CUT TO:``, ``DISSOLVE TO:``, ``FADE OUT.``, ...) becomes the next shot's
  ``transition`` where the language has one (``TRANSITIONS``); ``MATCH CUT TO:`` and the like become
  the nearest one, with a warning; others are reported.

Timing: a scene lasts its action words at ``ACTION_RATE`` (3) words a second plus its dialogue words
at ``DIALOGUE_RATE`` (2.5) words a second, rounded up to the half second, at least one second. A shot
lasts the sum, rounded up to whole seconds, clamped to the model's 2..15 s (wan2.7-r2v with image
references); a scene heading whose scenes run longer is split into several shots at scene
boundaries, and one scene longer than 15 s on its own is squeezed into 15 s (with a warning).

Everything the language cannot say (notes, synopses, boneyard, lyrics, centered text, page breaks,
emphasis, dual dialogue's simultaneity, unknown transitions, action before the first scene heading,
a sixth reference in one shot) is a warning at its line, never dropped silently; notes, synopses,
lyrics and centered text are also kept as comments in the episode file.
"""

from __future__ import annotations

import re
from pathlib import Path

from storyboard.errors import Diagnostic
from storyboard.language.document import MAX_FILE_BYTES
from storyboard.scaffold.blueprint import EPISODE_SCHEMA, SERIES_SCHEMA, Blueprint
from storyboard.scaffold.cast import cast_of
from storyboard.scaffold.convert import convert, has_acts
from storyboard.scaffold.emit import episode_yaml, series_yaml
from storyboard.scaffold.episodes import DEFAULT_MINUTES, by_length, by_size
from storyboard.scaffold.fountain import Screenplay, parse, unemphasize
from storyboard.scaffold.namekeys import slug
from storyboard.scaffold.timing import Episode, Shot, references

MAX_EPISODE_BYTES = MAX_FILE_BYTES * 3 // 4  # an episode's file: well within the loader's limit


def used_keys(episodes: list[Episode]) -> set[str]:
    """Every character and place some shot refers to."""
    return {key for episode in episodes for shot in episode.shots
            for key in [*references(shot), *shot.cast]}


def readable(name: str) -> str:
    """A file name as text: bytes that are not UTF-8 become U+FFFD."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def title_of(play: Screenplay, path: Path) -> str:
    titles = [value for key, value, _ in play.title_page if key.lower() == "title" and value]
    if titles:
        return unemphasize(titles[0])[0]
    words = re.split(r"[-_\s]+", readable(path.stem))
    return " ".join(w.capitalize() for w in words if w) or "Screenplay"


def episodes_of(play: Screenplay, episodes: list[Episode], minutes: float) -> list[Episode]:
    """The episodes cut to length (no sections, no acts) and to the loader's file size."""
    sections = any(e.kind == "section" and e.level == 1 for e in play.elements)
    if len(episodes) == 1 and not sections and not has_acts(play):
        episodes = by_length(episodes[0], minutes)
    size = lambda episode: len(episode_yaml(episode, 1, "").encode())  # noqa: E731
    parts = [part for episode in episodes for part in by_size(episode, size, MAX_EPISODE_BYTES)]
    for part in parts:
        _opens_plainly(part.shots[0])
    return parts


def _opens_plainly(first: Shot) -> None:
    """An episode's first shot joins nothing before it: a transition a cut left there (``DISSOLVE
    TO:`` before the scene an episode starts at) is kept as a comment, not as the shot's."""
    if first.transition and first.transition != "cut":
        first.comments.append(f"{first.transition_note or first.transition}: the episode starts "
                              "here, so nothing comes before it to join")
    first.transition = first.transition_note = ""


def blueprint_of(path: Path, *, minutes: float = DEFAULT_MINUTES) -> Blueprint:
    """The series ``path`` (a Fountain screenplay) maps onto, with its warnings; a screenplay with
    no sections or acts is cut into episodes of about ``minutes`` each."""
    play = parse(path)
    converted, names, warnings = convert(play)
    episodes = episodes_of(play, converted, minutes)
    names.keep(used_keys(episodes))
    title = title_of(play, path)
    blueprint = Blueprint(warnings=sorted(warnings, key=Diagnostic.sort_key),
                          episodes=len(episodes), shots=sum(len(e.shots) for e in episodes),
                          images=len(names.characters) + len(names.places),
                          voices=len(names.characters))
    blueprint.files["storyboard.yaml"] = (SERIES_SCHEMA, series_yaml(
        play, title, names, cast_of(play, names), readable(path.name)))
    for number, episode in enumerate(episodes, 1):
        episode.title = episode.title or (title if len(episodes) == 1 else "Opening")
        name = f"episodes/{number:02d}-{slug(episode.title, '-')}.yaml"
        blueprint.files[name] = (EPISODE_SCHEMA, episode_yaml(episode, number,
                                                                readable(path.name)))
    return blueprint
