"""A season's skeleton, computed before anything is asked: N episodes of K shots of d seconds each.

``--episodes N`` writes N episodes, or says why not, never silently. The shape of an episode
(``shape``) comes from ``--episode-seconds S`` and the durations the series' video model takes
(``video.Video.takes``: the model table's list, else every whole second of its range, within its
provider's; ``durations`` for wan2.7-r2v): K shots of d
seconds, d among them, K·d within ``TOLERANCE`` of S (the closest; then d nearest ``AIM``). The
story is cut into N segments on its own units (``cutting``). Before anything is asked
(``refusal``), a season that cannot be cut is refused with the figure (``the story has 5
sentences: at most 5 episodes``), as is an episode's seconds no shots can make. After the
answers, a season whose episodes written are fewer than it asked (``shortfall``: an episode
whose call was refused) is a problem that says how many of how many were written and why, so the
command never exits 0 with fewer episodes than asked.
"""

from __future__ import annotations

from dataclasses import dataclass

from storyboard.breakdown.shape.cutting import sentence_units
from storyboard.breakdown.source import Story
from storyboard.targets.video.models import DEFAULT_MODEL, MODELS

TOLERANCE = 0.2  # an episode's shots come within this share of its seconds
AIM = 6  # the seconds a shot aims at among the durations that make an episode's
DEFAULT_SECONDS = 60.0  # an episode's seconds when none are asked
MOST_SHOTS = 40  # shots one episode's call asks for at most (its answer fits a call)

@dataclass(frozen=True)
class Shape:
    """An episode's shots: ``shots`` of ``seconds`` each, for an episode of ``asked`` seconds."""

    shots: int
    seconds: int
    asked: float

    @property
    def total(self) -> int:
        return self.shots * self.seconds


def durations(model: str = DEFAULT_MODEL) -> tuple[int, ...]:
    """The shot durations ``model`` takes: those its table lists, else every whole second of
    its range."""
    found = MODELS[model]
    listed = sorted({d for lengths in found.durations.values() for d in lengths})
    return tuple(listed) or tuple(range(found.caps.min_duration, found.caps.max_duration + 1))


def shape(seconds: float | None, takes: tuple[int, ...] | None = None) -> Shape | str:
    """The shots of an episode of ``seconds`` (``DEFAULT_SECONDS`` when None), or why no shots
    of the durations ``takes`` make it."""
    asked = DEFAULT_SECONDS if seconds is None else float(seconds)
    takes = takes or durations()
    found = []
    for each in takes:
        count = min(MOST_SHOTS, max(1, round(asked / each)))
        if abs(count * each - asked) <= TOLERANCE * asked:
            found.append((abs(count * each - asked), abs(each - AIM), -each, count))
    if not found:
        most = MOST_SHOTS * max(takes)
        return (f"an episode of {asked:g} s cannot be filmed in shots of {_listed(takes)} s within "
                f"{TOLERANCE:.0%} of it (at most {MOST_SHOTS} shots, {most} s, an episode): ask "
                f"for {min(takes)} to {most} seconds an episode (--episode-seconds)")
    _, _, longest, count = min(found)
    return Shape(count, -longest, asked)


def _listed(takes: tuple[int, ...]) -> str:
    if takes == tuple(range(takes[0], takes[-1] + 1)) and len(takes) > 2:
        return f"{takes[0]} to {takes[-1]}"
    return ", ".join(map(str, takes))


def sentences(story: Story) -> int:
    """How many sentences the story's lines hold (headings and ``Chapter 3`` lines left out):
    each run of words up to a ``.``, ``!``, ``?`` or ``…`` before a space or the end, and a
    paragraph's words after its last such mark."""
    return len(sentence_units(story))


def refusal(story: Story, episodes: int, seconds: float | None = None,
            takes: tuple[int, ...] | None = None) -> str | None:
    """Why a season of ``episodes`` cannot be cut from ``story`` in shots of the lengths
    ``takes`` (None: it can)."""
    made = shape(seconds, takes)
    if isinstance(made, str):
        return f"{made}; nothing was asked"
    count = sentences(story)
    if count >= episodes:
        return None
    return (f"the story has {_count(count, 'sentence')}: at most {_count(count, 'episode')}, "
            f"and {episodes} were asked (an episode films at least one sentence); nothing was asked. Ask for "
            f"at most {count} (--episodes, or episodes: in the series' breakdown: block), or "
            "give a longer story")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def shortfall(written: int, wanted: int, reasons: list[str]) -> str | None:
    """The problem of a season that wrote fewer episodes than it asked (None: it wrote them
    all)."""
    if written >= wanted:
        return None
    why = "; ".join(dict.fromkeys(reasons)) or "no shot was written for the others"
    return (f"{written} of {_count(wanted, 'episode')} written: {why}. The series is not the "
            "season asked: ask for fewer episodes (--episodes), or edit season.yaml and run "
            "again")
