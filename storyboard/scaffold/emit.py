"""Episodes into YAML text: the series file and one file per episode, every text through yamltext.

Nothing from the screenplay is written but through ``yamltext``: values by ``quote`` and ``flow``,
comments by ``comment`` and ``trailing`` (folded onto one line), keys only as the plain names
``names`` makes. So no title page, heading, note or file name can add a key.
"""

from __future__ import annotations

from storyboard.scaffold.fountain import Screenplay
from storyboard.scaffold.names import Names, shorten
from storyboard.scaffold.timing import Episode, Shot
from storyboard.scaffold.yamltext import comment, flow, quote, trailing

MAX_TITLE_ENTRIES = 40  # title page entries kept as comments
LONGEST_TITLE = 200  # characters of the title, and of each title page value kept


def _n(value: float) -> str:
    return f"{value:g}"


def shot_yaml(shot: Shot) -> list[str]:
    lines = [*comment(f"{shot.heading} (line {shot.line})", "  ")]
    for text in shot.comments:
        lines += comment(text, "  ")
    lines.append(f"  - id: {shot.id}")
    if shot.transition:
        lines.append(f"    transition: {shot.transition}{trailing(shot.transition_note)}")
    lines.append(f"    duration: {shot.duration}")
    if shot.cast:
        lines.append(f"    cast: [{', '.join(shot.cast)}]")
    lines.append("    scenes:")
    for beat, (start, end) in zip(shot.beats, shot.windows, strict=True):
        lines.append(f"      - at: {_n(start)}-{_n(end)}s")
        if beat.action:
            lines.append(f"        action: {quote(beat.action)}")
        if beat.say:
            lines.append(f"        say: {flow(dict(beat.say))}")
    return lines


def episode_yaml(episode: Episode, number: int, source: str) -> str:
    where = f"the section at line {episode.line}" if episode.line else "the screenplay"
    lines = [*comment(f"From {source}, {where}, by `storyboard init --from`"),
             "# (docs/starting.md: the mapping and the timing rule). Edit freely: it is yours now."]
    for text in episode.comments:
        lines += comment(text)
    lines += [f"id: ep{number:02d}", f"title: {quote(episode.title)}", "shots:"]
    for shot in episode.shots:
        lines += shot_yaml(shot)
    return "\n".join(lines) + "\n"


def series_yaml(play: Screenplay, title: str, names: Names, source: str) -> str:
    lines = [*comment(f"From the screenplay {source}, by `storyboard init --from`. How it was "
                      "mapped and"),
             "# timed: docs/starting.md; every key of the language: docs/language.md."]
    entries = [(k, v) for k, v, _ in play.title_page if k.lower() != "title"]
    for key, value in entries[:MAX_TITLE_ENTRIES]:
        lines += comment(f"  {shorten(key, 40)}: {shorten(value, LONGEST_TITLE)}")
    lines += ["storyboard: 1", f"title: {quote(shorten(title, LONGEST_TITLE))}", "defaults:",
              "  resolution: 720P", '  ratio: "16:9"',
              "  negative_prompt: blurry, low quality, watermark", "  prompt_extend: false",
              "  watermark: false", "  seed: 1234", "characters:",
              "  # every image below is a grey placeholder card: replace each with a real picture",
              "  # (same path) before a paid render"]
    for name, key in names.characters.items():
        lines.append(f"  {key}: {flow({'image': f'media/cast/{key}.png', 'description': name})}"
                     f"{trailing(f'first speaks at line {names.first_line[name]}')}")
    for location, key in names.places.items():
        lines.append(f"  {key}: {flow({'image': f'media/places/{key}.png'})}"
                     f"{trailing(f'a place: {location}')}")
    return "\n".join([*lines, "episodes:", "  - episodes/*.yaml"]) + "\n"
