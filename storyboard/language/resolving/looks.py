"""A character's ``looks:`` and a shot's words into the picture each reference wears in that shot.

A character may declare looks, each a picture of its own (a file, or a sheet made from words:
the cast asset ``cast/NAME.LOOK``, planned, priced and picked like the character's own sheet),
over a range of episodes (``episodes: "12-20"``) or only where a shot asks for it. In a shot,
each reference wears, first found: the look its words name (``@ada.wedding``), the look the
shot's ``look:`` names (``look: wedding``, or ``look: {ada: wedding, bo: base}``), the look
whose range holds the shot's episode, else its own picture (``base``). The voice never changes.
On a Kling 4.0 model a look's own element (``identity: {kling: {element: ...}}``) goes as the
reference (labels counted again); a character's element never shows another look (refused at the
look's line by ``identity.unworn_faces``).
``check`` refuses at the line: a bad range, two ranges of one character that overlap, an
unknown look, a look on a character whose reference is a video.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from storyboard.errors import Diagnostic
from storyboard.language.document import Document, PathKey
from storyboard.language.read import ranges
from storyboard.language.read.schemacheck import did_you_mean
from storyboard.language.request import ELEMENTS, MediaRef
from storyboard.language.resolving import cast, scenes
from storyboard.language.resolving.identity import MAKE
from storyboard.language.resolving.resolved import WORDS, Given, Look, ResolvedShot, Resolving, look_asset

BASE = "base"  # the character's own picture, by name
# ``@name.look`` (``@@`` is a literal ``@``): read as a look only when the series declares any
WORN = re.compile(r"@@|@([A-Za-z_][A-Za-z0-9_]*)\.([a-z_][a-z0-9_]*)")


def asset_name(character: str, look: str) -> str:
    """The made sheet of a look, as the cast names it: ``ada.wedding`` (``cast/ada.wedding``)."""
    return look_asset(character, look)


def masked(text: str) -> str:
    """``text`` with the ``.look`` of each ``@name.look`` blanked, every offset kept (the lints
    read ``@name`` as a mention, never its dot as a clause's end)."""
    if "@" not in text:
        return text
    return WORN.sub(lambda m: m.group(0) if m.group(1) is None else
                    f"@{m.group(1)}" + " " * (len(m.group(2)) + 1), text)


def ranged(table: Mapping[str, Mapping[str, Look]]) -> bool:
    """Some look of the series holds over a range of episodes (so an episode's place in the
    series decides what its shots wear)."""
    return any(look.episodes is not None for found in table.values() for look in found.values())


def checked_ranges(doc: Document, problems: list[Diagnostic], character: str,
                   entries: Mapping[str, Any], where: PathKey) -> dict[str, ranges.Ranges | None]:
    """Each look's ``episodes:`` parsed (a bad one an error at its line, the look then asked
    for by shots only), and an error at each range that overlaps an earlier one's."""
    found: dict[str, ranges.Ranges | None] = {}
    for name, entry in entries.items():
        value = entry.get("episodes") if isinstance(entry, dict) else None
        if value is None:
            found[name] = None
            continue
        parsed = ranges.parse(value)
        at = (*where, name, "episodes")
        if isinstance(parsed, str):
            problems.append(doc.diagnostic(at, f"look {name!r} of {character!r}: {parsed}"))
            found[name] = None
            continue
        clash = next(((other, held, first) for other, held in found.items() if held is not None
                      and (first := parsed.overlap(held)) is not None), None)
        if clash is not None:
            other, held, first = clash
            problems.append(doc.diagnostic(at, (
                f"look {name!r} of {character!r} holds over episodes {parsed}, which overlaps "
                f"look {other!r} ({held}) at episode {first}; expected ranges that do not "
                f"overlap (a shot may still ask for a look: look: {name})")))
        found[name] = None if clash is not None else parsed
    return found


# --- the pass --------------------------------------------------------------------------------


def look_pass(ctx: Resolving, shot: ResolvedShot, given: Given) -> None:
    """The pass: the look each of the shot's characters wears (``shot.looks``), each reference's
    picture that look's, the ``.look`` of ``@name.look`` taken out of the words."""
    if not ctx.looks:
        if "look" in given.raw:  # no character has any look: said at the shot's look:
            _asked(ctx, shot, given, {})
        return
    chosen = _worn_in_words(ctx, shot)
    asked = _asked(ctx, shot, given, chosen)
    for name in given.names:
        looks = ctx.looks.get(name)
        if not looks:
            continue
        look = chosen.get(name) or asked.get(name) or next(
            (k for k, v in looks.items() if v.episodes is not None
             and ctx.episode_number in v.episodes), None)
        if look is not None and look != BASE and look in looks:
            shot.looks[name] = look
    worn = [(ref, ctx.looks[ref.name][wearing]) for ref in shot.references
            if (wearing := shot.looks.get(ref.name)) is not None]
    for ref, dressed in worn:
        element = _element(shot, dressed)
        if element is not None:  # the look's own saved element, on a model that takes one
            ref.role, ref.ref, ref.face = "element", element, dressed.ref
        elif ref.role != "element":  # the character's element shows its own look: refused
            ref.ref = dressed.ref  # at the look's line (``identity.unworn_faces``), never sent
    if worn:
        _relabel(shot)


def _element(shot: ResolvedShot, look: Look) -> MediaRef | None:
    """The look's own element on the shot's model (``looks: {LOOK: {identity: {kling:
    {element: ...}}}}``): its id, or the element made from its sheet; None without one."""
    key = shot.model.identity
    found = look.identity.ids.get(key, {}).get("element") if key and look.identity else None
    if found is None:
        return None
    if found == MAKE:
        return MediaRef(asset=cast.asset_id(ELEMENTS, look.asset))
    return MediaRef(id=found)


def _relabel(shot: ResolvedShot) -> None:
    """Each reference's label counted again per role in order (a look's element is an
    ``Element``, where its character's picture was an ``Image``)."""
    counters = dict.fromkeys(WORDS, 0)
    for ref in shot.references:
        counters[ref.role] += 1
        ref.label = f"{WORDS[ref.role]} {counters[ref.role]}"


def picture(ctx: Resolving, shot: ResolvedShot, name: str) -> MediaRef:
    """The picture ``name`` wears in ``shot`` (its look's, else its own)."""
    look = shot.looks.get(name)
    if look is not None:
        return ctx.looks[name][look].ref
    ref: MediaRef = ctx.characters[name].ref
    return ref


def declared(shot: ResolvedShot) -> dict[str, MediaRef]:
    """Who ``shot`` declares, each with the picture it wears here: its references that are
    pictures, those sent by a registered id (a Kling element: the picture that id shows), and
    those its board stands in for (a first frame that replaced them)."""
    found = {r.name: r.face or r.ref for r in shot.references
             if r.role in ("reference_image", "element") and "/" not in r.name
             and (r.role != "element" or r.face is not None)}
    if shot.board is not None:
        found.update({n: p for n, p in zip(shot.board.names, shot.board.pictures, strict=False)
                      if n not in found})
    return found


def _texts(shot: ResolvedShot) -> Iterator[tuple[PathKey, int, str, int, int]]:
    """Each text of the shot: where it is, its offset in that scalar, the text, and which
    scene (-1: the prompt) and line (-1: the action) it is."""
    if shot.prompt is not None:
        yield (*shot.path, "prompt"), 0, shot.prompt, -1, -1
    for number, scene in enumerate(shot.scenes):
        raw = shot.doc.get(scene.path)
        if isinstance(raw, str):
            yield scene.path, scenes.shorthand_offset(raw), scene.action, number, -1
        elif isinstance(raw, dict):
            action = raw.get("action")
            lead = len(action) - len(action.lstrip()) if isinstance(action, str) else 0
            yield (*scene.path, "action"), lead, scene.action, number, -1
        for index, (speaker, line) in enumerate(scene.say):
            yield (*scene.path, "say", speaker), 0, line, number, index


def _worn_in_words(ctx: Resolving, shot: ResolvedShot) -> dict[str, str]:
    """The looks the words name (``@ada.wedding``), the ``.wedding`` taken out of them."""
    chosen: dict[str, str] = {}
    for path, offset, text, scene, line in list(_texts(shot)):
        if "@" not in text:
            continue
        kept: list[str] = []
        at = 0
        for match in WORN.finditer(text):
            name, look = match.group(1), match.group(2)
            if name is None or name not in ctx.characters:
                continue  # a literal @, or an unknown character: said by the resolver
            if not _known(ctx, shot, path, offset + match.start(2), name, look):
                continue
            if chosen.setdefault(name, look) != look:
                ctx.problems.append(shot.doc.diagnostic(path, (
                    f"@{name}.{look}: this shot already shows {name} as {chosen[name]!r}; "
                    "expected one look of a character per shot (one request, one picture)"),
                    span=shot.doc.text_span(path, offset + match.start())))
            kept.append(text[at:match.end(1)])
            at = match.end()
        if at:
            _rewrite(shot, scene, line, "".join(kept) + text[at:])
    return chosen


def _known(ctx: Resolving, shot: ResolvedShot, path: PathKey, offset: int, name: str,
           look: str) -> bool:
    looks = ctx.looks.get(name, {})
    if look in looks or look == BASE:
        return True
    ctx.problems.append(shot.doc.diagnostic(path, (
        f"unknown look {look!r} of @{name}{did_you_mean(look, looks)}; expected one of "
        f"{name}'s looks: {', '.join(sorted(looks)) or '(none declared)'}, or base"),
        span=shot.doc.text_span(path, offset)))
    return False


def _rewrite(shot: ResolvedShot, scene: int, line: int, text: str) -> None:
    if scene < 0:
        shot.prompt = text
    elif line < 0:
        shot.scenes[scene].action = text
    else:
        said = shot.scenes[scene].say
        said[line] = (said[line][0], text)


def _asked(ctx: Resolving, shot: ResolvedShot, given: Given, chosen: dict[str, str]
           ) -> dict[str, str]:
    """What the shot's ``look:`` asks: a look's name (each of its characters that has it), or
    a look per character."""
    value = given.raw.get("look")
    where = (*shot.path, "look")
    if isinstance(value, str):
        having = {n: value for n in given.names if value in ctx.looks.get(n, {})}
        if not having and value != BASE:
            every = sorted({k for found in ctx.looks.values() for k in found})
            ctx.error(shot.doc, where, (
                f"no character of this shot has a look {value!r}{did_you_mean(value, every)}; "
                f"expected a look of {', '.join('@' + n for n in given.names) or 'its cast'} "
                f"(declared: {', '.join(every) or 'none'})"))
        return {n: BASE for n in given.names} if value == BASE else having
    asked: dict[str, str] = {}
    for name, look in value.items() if isinstance(value, dict) else ():
        if name not in given.names:
            ctx.error(shot.doc, (*where, name), (
                f"a look for {name!r}, who is not in this shot; expected one of: "
                f"{', '.join(given.names) or '(none)'}"), key=True)
        elif isinstance(look, str) and _known(ctx, shot, (*where, name), 0, name, look):
            asked[name] = look
    return asked
