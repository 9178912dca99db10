"""The cast and each episode's shots into YAML texts, every text through ``scaffold.yamltext``.

Written as ``init --from`` writes (``scaffold.emit``'s way): keys only from ``cast`` (plain names)
and the language's own words; every value through ``quote`` or ``flow``, every comment through
``comment`` or ``trailing``. Each shot says where it came from as a comment (``# story.md:12-18``),
so a reviewer can hold it to the source. Same answers, same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from storyboard.breakdown.shape.video import Video, default_video
from storyboard.breakdown.stages.cast import Cast, Entry
from storyboard.breakdown.stages.chaptershots import Shot, spoken
from storyboard.scaffold.yamltext import Value, comment, flow, quote, trailing

MODELS_LOOK = "look: the model's, not the story's (check it against the story)"
BOARDS_MODEL = "wan2.7-image"  # the cast's own image model: the boards need no other account
BOARDS_SAID = ("Boards: a still for every shot, the cheap look first (cents where its video costs "
               "dimes):\n`storyboard render . boards`, look (`storyboard studio .`), "
               "`storyboard approve . boards/EP/SHOT`,\nthen `storyboard render .`: only approved "
               "boards' videos are paid for. `storyboard docs boards`")
UNSHOWN = ("no shot shows it (a shot names it in words only where it had no room): no picture "
           "is made; uncomment it and write @{} in a shot to show it")
HEARD_ONLY = ("heard, not on the lips: {} speaks no designed voice ({{route: lipsync}} puts "
              "them there, a pass over the take)")
DENSITY_SAID = ("A season is written within the density rule for video models: `check` holds "
                "its shots to it\n(a warning, never an error). `storyboard docs season`")
SERIES_HEAD = ("# Written by `storyboard breakdown` from {source}. Edit freely: a file you edit is "
               "never\n# overwritten (a new proposal goes beside it). `storyboard docs breakdown`")


@dataclass
class Episode:
    number: int
    title: str
    summary: str
    beats: list[str]
    chapters: list[str]
    shots: list[Shot] = field(default_factory=list)
    hook: str = ""  # a season's: the hook it ends on (``season.yaml``'s), written as ``hook:``


def _n(value: float) -> str:
    return f"{value:g}"


def shot_yaml(shot: Shot, source: str) -> list[str]:
    lines = [*comment(f"{source}:{shot.first}-{shot.last}", "  "), f"  - id: {shot.id}",
             f"    duration: {shot.duration}"]
    if shot.cast:
        lines.append(f"    cast: [{', '.join(shot.cast)}]")
    lines.append("    scenes:")
    for number, scene in enumerate(shot.scenes):
        action = f"{shot.camera}: {scene.action}" if number == 0 else scene.action
        lines += [f"      - at: {_n(scene.start)}-{_n(scene.end)}s",
                  f"        action: {quote(action)}"]
        if scene.say:  # one line a speaker: a second is joined to the first, never lost
            own = spoken(scene.say)
            said = {key: words for key, words, _ in own}
            where = ", ".join(f"line {line}" for _, _, line in own)
            lines.append(f"        say: {flow(said)}{trailing(f'{source}: {where}')}")
    return lines


def episode_yaml(episode: Episode, source: str) -> str:
    lines = [*comment(f"From {source} ({', '.join(episode.chapters)}), by `storyboard "
                      "breakdown`.")]
    lines += comment(f"Summary: {episode.summary}") if episode.summary else []
    lines += [line for n, beat in enumerate(episode.beats, 1) for line in comment(f"{n}. {beat}")]
    lines += [f"id: ep{episode.number:02d}", f"title: {quote(episode.title)}"]
    lines += [f"hook: {quote(episode.hook)}"] if episode.hook.strip() else []
    lines.append("shots:")
    for shot in episode.shots:
        lines += shot_yaml(shot, source)
    return "\n".join(lines) + "\n"


def refused_head(refused: list[str], go_on: str) -> list[str]:
    """The head of a series written after a refused stage: which, why, and the way on."""
    if not refused:
        return []
    said = [*comment("Incomplete: these answers were refused, and what they would have given "
                     "is missing here:"), *(c for r in refused for c in comment(f"- {r}"))]
    if go_on:
        said += comment(f"To go on (answers given come from the cache, free): {go_on}")
    return said


def no_cast(refused: list[str]) -> str:
    """The ``characters:`` line of a series with no cast: why it has none."""
    if any(r.startswith("the cast answer") for r in refused):
        return "characters: {}  # none: a cast answer was refused (see the head of this file)"
    return "characters: {}  # the story named no one"


def series_yaml(title: str, cast: Cast, source: str, refused: list[str] | None = None,
                go_on: str = "", unshown: set[str] | None = None, ratio: str | None = None,
                *, density: bool = False, video: Video | None = None) -> str:
    """The series file; ``refused``: the stages refused (said at its head, with ``go_on``);
    ``unshown``: the cast no shot shows, each written as a comment; ``ratio``: the season's
    (default 16:9); ``density``: the density lint turned on (a season, written within it);
    ``video``: the model it is written for (``_defaults``; default wan2.7-r2v)."""
    refused, unshown = refused or [], unshown or set()
    lines = [*SERIES_HEAD.format(source=source).split("\n"), *refused_head(refused, go_on),
             "storyboard: 1", f"title: {quote(title)}", "defaults:",
             *_defaults(video or default_video(), ratio)]
    if density:
        lines += [*comment(DENSITY_SAID), "lint: {density: true}"]
    speakers = [e for e in cast.of("character") if e.first_line and e.key not in unshown]
    if speakers:
        lines.append("voices:")
        for entry in speakers:
            voice: dict[str, Value] = {"design": entry.voice, "sample": entry.first_line}
            said = trailing("the story's lines are too short a sample: a sentence added") \
                if entry.lengthened else ""
            lines.append(f"  {entry.key}-voice: {flow(voice)}{said}")
    lines.append("characters:" if cast.entries else no_cast(refused))
    for entry in cast.entries.values():
        lines += cast_line(entry, entry.key in unshown)
    return "\n".join([*lines, "episodes:", "  - episodes/*.yaml"]) + "\n"


def _defaults(video: Video, ratio: str | None) -> list[str]:
    """The series' defaults and boards for its video model: the model named where it is not
    the default, a resolution it makes, only the switches it takes, its lines heard only where
    it cannot speak them in the designed voices, and the boards as it takes a picture."""
    model = video.model
    lines = [f"  model: {quote(video.named)}"] if not video.default else []
    lines += [f"  resolution: {video.written_resolution()}", f"  ratio: {quote(ratio or '16:9')}"]
    lines += ["  negative_prompt: blurry, low quality, watermark"] if model.negative_prompt else []
    lines += ["  prompt_extend: false"] if model.prompt_extend else []
    lines += ["  watermark: false"] + (["  seed: 1234"] if model.seed else [])
    lines += [] if video.voiced else ["  dialogue: {route: none}   # " + HEARD_ONLY.format(
        model.id)]
    if model.handoff == "none":
        return lines
    boards: dict[str, Value] = {"model": BOARDS_MODEL}
    if model.handoff == "exclusive":
        boards["as"] = "reference"
    return [*lines, *comment(BOARDS_SAID), f"boards: {flow(boards)}"]


def cast_line(entry: Entry, unshown: bool) -> list[str]:
    """One entry of ``characters:``; one no shot shows as a comment that says so (no picture
    is made of it; uncomment it and mention it as ``@key`` to use it)."""
    picture: dict[str, Value] = {"generate": entry.look}
    if entry.kind != "character":
        picture["kind"] = entry.kind
    item: dict[str, Value] = {"image": picture}
    if entry.kind == "character" and entry.first_line:
        item["voice"] = f"{entry.key}-voice"
    item["description"] = entry.name
    said = f"{entry.kind}, first in chapter {entry.chapter}" + (
        "" if entry.sourced else f"; {MODELS_LOOK}")
    if unshown:
        return comment(f"{entry.key}: {flow(item)}   # {said}; {UNSHOWN.format(entry.key)}",
                       "  ")
    return [f"  {entry.key}: {flow(item)}{trailing(said)}"]
