"""Episodes and the cast into YAML text: the series file and one file per episode, every text through
yamltext.

Nothing from the screenplay is written but through ``yamltext``: values by ``quote`` and ``flow``,
comments by ``comment`` and ``trailing`` (folded onto one line), keys only as the plain names
``names`` makes. So no title page, heading, note or file name can add a key.
"""

from __future__ import annotations

from storyboard.language.resolving.cast import UNSETTLED
from storyboard.scaffold.cast import Cast
from storyboard.scaffold.fountain import Screenplay
from storyboard.scaffold.namekeys import Names, shorten
from storyboard.scaffold.timing import Episode, Shot
from storyboard.scaffold.yamltext import Value, comment, flow, quote, trailing

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
             "# (`storyboard docs starting`: the mapping and the timing rule). Edit freely: it is yours."]
    for text in episode.comments:
        lines += comment(text)
    lines += [f"id: ep{number:02d}", f"title: {quote(episode.title)}", "shots:"]
    for shot in episode.shots:
        lines += shot_yaml(shot)
    return "\n".join(lines) + "\n"


def series_yaml(play: Screenplay, title: str, names: Names, cast: Cast, source: str) -> str:
    lines = [*comment(f"From the screenplay {source}, by `storyboard init --from`. How it was "
                      "mapped and"),
             "# timed: `storyboard docs starting`; every key of the language: `storyboard docs language`."]
    entries = [(k, v) for k, v, _ in play.title_page if k.lower() != "title"]
    for key, value in entries[:MAX_TITLE_ENTRIES]:
        lines += comment(f"  {shorten(key, 40)}: {shorten(value, LONGEST_TITLE)}")
    lines += ["storyboard: 1", f"title: {quote(shorten(title, LONGEST_TITLE))}", "defaults:",
              "  resolution: 720P", '  ratio: "16:9"',
              "  negative_prompt: blurry, low quality, watermark", "  prompt_extend: false",
              "  watermark: false", "  seed: 1234",
              '# style: "warm hand-drawn animation"   # optional: one look for every generated '
              "picture"]
    return "\n".join([*lines, *voices_yaml(names, cast), *characters_yaml(names, cast),
                      "episodes:", "  - episodes/*.yaml"]) + "\n"


def voice_key(key: str) -> str:
    """The voice of the character ``key`` (a plain name, so a plain voice name)."""
    return f"{key}-voice"


def voices_yaml(names: Names, cast: Cast) -> list[str]:
    """A designed voice for every speaking character: how it sounds, the line its preview says."""
    if not names.characters:
        return []
    lines = ["voices:", "  # designed from words (edit them freely); the sample is the line the "
             "voice's preview", "  # says: the character's first line. Or a recording: "
             "{audio: media/voices/NAME.wav}"]
    for name, key in names.characters.items():
        voice = cast.voices[name]
        entry = {"design": voice.design, "sample": voice.sample}
        note = trailing(f"{UNSETTLED} {voice.unsettled}") if voice.unsettled else ""
        lines.append(f"  {voice_key(key)}: {flow({**entry, **_language(voice.language)})}{note}")
    return lines


def _language(language: str) -> dict[str, str]:
    return {"language": language} if language else {}


def _why_unsure(name: str, cast: Cast) -> str:
    return "no introduction found" if name in cast.unintroduced else "its introduction is only its name"


def characters_yaml(names: Names, cast: Cast) -> list[str]:
    """Every character and place, each picture generated from its words."""
    lines = ["characters:", "  # each picture is generated from its words (edit them freely), "
             "or give a picture", "  # instead: image: media/cast/NAME.png"]
    for name, key in names.characters.items():
        entry: dict[str, Value] = {"image": {"generate": cast.pictures[name]},
                                   "voice": voice_key(key), "description": name}
        unsure = f"; {UNSETTLED} how it looks? ({_why_unsure(name, cast)})" \
            if name in cast.unintroduced | cast.undescribed else ""
        lines.append(f"  {key}: {flow(entry)}"
                     f"{trailing(f'first speaks at line {names.first_line[name]}{unsure}')}")
    for location, key in names.places.items():
        place: dict[str, Value] = {"image": {"generate": cast.places[location], "kind": "place"}}
        lines.append(f"  {key}: {flow(place)}{trailing(f'a place: {location}')}")
    return lines
