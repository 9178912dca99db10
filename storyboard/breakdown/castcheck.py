"""A written series' cast, held to the story it was broken down from, into ``check``'s warnings.

A person the story says speaks a quoted line (``stages.speakers.named``: a capitalised name read
with its title, ``said old Mrs. Rabbit`` is Mrs. Rabbit) whom no character of the series names
(its key, its ``name:`` or its ``description:``, or one the breakdown wrote as a comment
because no shot shows it) is a warning at the series file's
``characters:`` line, naming the story's line: the breakdown sends such a cast back, and a cast
edited since (or written before it did) would give that person's lines no face and no voice.
Only a series the breakdown wrote is held so (its record, ``.storyboard/breakdown/last.json``,
names the story; nothing is sent, nothing is paid); without it, or with the story gone, nothing
is said.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from storyboard.breakdown.source import Story
from storyboard.breakdown.stages.speakers import Said, named, same
from storyboard.breakdown.state.answerstore import RULES
from storyboard.breakdown.status import recorded
from storyboard.errors import Diagnostic
from storyboard.language.read.load import parse

CODE = "cast-speaker"
MAX_BYTES = 4 * 1024 * 1024  # a series file larger than this is not one the breakdown wrote
MAX_SAID = 12  # speakers named one by one; the rest are counted in one more warning


def cast_problems(series: Path) -> list[Diagnostic]:
    """A warning at ``characters:`` for each speaker of the recorded story no character names."""
    path = series / "storyboard.yaml"
    made = recorded(series)
    if made is None or not path.is_file() or path.stat().st_size > MAX_BYTES:
        return []
    doc, found = parse(path.read_bytes().decode("utf-8", errors="replace"), path)
    if found or not isinstance(doc.data, dict) or "characters" not in doc.data:
        return []
    story = made[1]
    names = cast_names(doc.data.get("characters")) + unshown_names(doc.lines)
    left = unnamed(story, names)
    source = Path(story.file).name
    out = [doc.diagnostic(("characters",), (
        f"{who!r} speaks in the story ({source}:{said.line}) and no character here names them; "
        "expected a character for each speaker (its picture and voice): add one under "
        "characters:, or run `storyboard breakdown` again"), key=True, severity="warning",
        code=CODE) for who, said in list(left.items())[:MAX_SAID]]
    if len(left) > MAX_SAID:
        out.append(doc.diagnostic(("characters",), (
            f"and {len(left) - MAX_SAID} more speakers of the story no character names"),
            key=True, severity="warning", code=CODE))
    return out


def cast_names(characters: Any) -> list[str]:
    """Every name a series' ``characters:`` gives: each key (``mrs-rabbit``: mrs rabbit), and
    each entry's ``name:`` and ``description:``."""
    if not isinstance(characters, dict):
        return []
    out = []
    for key, entry in characters.items():
        out.append(str(key).replace("-", " ").replace("_", " "))
        if isinstance(entry, dict):
            out += [str(entry[k]) for k in ("name", "description") if isinstance(entry.get(k), str)]
    return out


UNSHOWN = re.compile(r"^  # ([\w-]+): (\{.*)$")


def unshown_names(lines: list[str]) -> list[str]:
    """The names of the characters the breakdown wrote as comments (cast, and no shot shows
    them: ``stages.writer.cast_line``): cast, so not missing, though nothing shows them."""
    out = []
    for line in lines:
        found = UNSHOWN.match(line)
        if found is None:
            continue
        out.append(found[1].replace("-", " ").replace("_", " "))
        described = re.search(r'description: "?([^",}]+)', found[2])
        out += [described[1]] if described else []
    return out


def unnamed(story: Story, names: list[str]) -> dict[str, Said]:
    """Each speaker of ``story`` none of ``names`` names, at the first line it speaks."""
    left: dict[str, Said] = {}
    for chapter in story.chapters:
        for said in named(replace(chapter, rules=RULES)):  # read by the newest rules
            if said.who.endswith(("'s", "’s")):  # ``said Farmer Brown's boy``: no name
                continue
            who = said.who.replace(".", " ")  # ``Mr. McGregor`` is the key ``mr_mcgregor``
            if said.who not in left and not any(same(who, n.replace(".", " ")) for n in names):
                left[said.who] = said
    return left
