"""Schema-checked documents into resolved shots: references, labels, timing and the language's rules.

This is "Compiling a shot", points 1, 2 and 5 of the language document: a shot's references are its
characters in order of first mention (scene actions, then speakers, in document order), then any
``cast`` extras; images and videos are numbered separately; every rule problem is located.
After a shot's own keys, the declared ``PASSES`` run over it in order, each a function of the
one context, the one ``ResolvedShot`` and what the shot said (``resolved.py``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from storyboard.language.document import Document, PathKey
from storyboard.language.read.schemacheck import did_you_mean, did_you_mean_name, legal_names
from storyboard.language.read.series import EpisodeSource, Source
from storyboard.language.request import ASSET_EPISODES, ELEMENTS, KVOICES, MediaRef, Transition
from storyboard.language.resolving import boards, cast, identity, liproutes, looks, modelcheck, scenes
from storyboard.language.resolving.resolved import WORDS, Given, Origin, Pass, Resolving
from storyboard.language.resolving.resolved import Reference as Reference
from storyboard.language.resolving.resolved import ResolvedShot as ResolvedShot
from storyboard.language.resolving.resolvemedia import Character, MediaResolver
from storyboard.language.resolving.resolvemedia import MediaUse as MediaUse

MENTION = re.compile(r"@@|@([A-Za-z_][A-Za-z0-9_]*)")
PARAMS = ("model", "resolution", "ratio", "duration", "negative_prompt", "prompt_extend",
          "watermark", "seed", "takes", "audio", "dialogue")
# The service's own defaults (spec section 1), made explicit in every request.
SERVICE_DEFAULTS: dict[str, Any] = {"model": "wan2.7-r2v", "resolution": "1080P", "ratio": "16:9",
                                    "duration": 5, "prompt_extend": True, "watermark": False}
DEFAULT_TRANSITION_SECONDS = 0.5


@dataclass
class ResolvedEpisode:
    id: str
    title: str
    doc: Document
    path: PathKey
    shots: list[ResolvedShot]
    settings: dict[str, Any]
    number: int = 0  # its place in the series, from 1 (set each time it is resolved or kept)


class Resolver(MediaResolver):
    """The series' episodes and shots resolved; its base class resolves the cast and the files."""

    def __init__(self, source: Source) -> None:
        super().__init__(source)
        self.models = modelcheck.model_table(self.series)
        self.broken: set[str] = set()  # this episode's shots so far left out for their errors
        self.after_broken = False  # the shot being resolved follows one left out
        self.board_layers: list[boards.Layer] = []  # the ``boards:`` blocks over this episode

    # --- episodes ------------------------------------------------------------------------------

    def episodes(self) -> list[ResolvedEpisode]:
        result: list[ResolvedEpisode] = []
        seen: dict[str, PathKey] = {}
        for number, source in enumerate(self.source.episodes, 1):
            self.episode_number = number
            episode = self._episode(source)
            if episode is None:
                continue
            episode.number = number
            if episode.id in seen:
                self.error(episode.doc, (*episode.path, "id"),
                           f"duplicate episode id {episode.id!r}; expected each episode once")
                continue
            seen[episode.id] = episode.path
            result.append(episode)
        self._unused_and_unsupported(result)
        return result

    def _unused_and_unsupported(self, episodes: list[ResolvedEpisode]) -> None:
        """Warnings for cast and voices no shot uses."""
        doc = self.source.series
        used = {r.name for e in episodes for s in e.shots for r in s.references}
        used |= {speaker for e in episodes for s in e.shots for scene in s.scenes
                 for speaker, _ in scene.say}  # heard off screen too
        used |= {n for e in episodes for s in e.shots if s.board for n in s.board.names}
        voices = {r.voice for e in episodes for s in e.shots for r in s.references if r.voice}
        driving = {s.frames["driving_audio"] for e in episodes for s in e.shots
                   if "driving_audio" in s.frames}
        for ref in driving - voices:  # a voice only drives shots: held to the driving rule alone
            if ref.path is not None and any(u.rule for (p, _), u in self.media.items()
                                            if p == ref.path):
                self.media.pop((ref.path, "voice"), None)
        for name in self.characters:
            if name not in used and episodes:
                self.problems.append(doc.diagnostic(("characters", name), (
                    f"character {name!r} is never used: no shot mentions it or lists it in "
                    "'cast'"), key=True, severity="warning"))
        self._voiceless(episodes)
        self._unworn(episodes)
        voices |= {MediaRef(asset=cast.asset_id("voices", line.voice)) for line in self.lines.values()}
        voices |= {v.audio for n, v in self.kvoices.items()  # a voice made on Kling uses its own
                   if MediaRef(asset=cast.asset_id(KVOICES, n)) in voices}
        for name, ref in self.voices.items():
            if ref not in voices and ref not in driving and episodes:
                self.problems.append(doc.diagnostic(("voices", name), (
                    f"voice {name!r} is never used by a character in a shot"), key=True,
                    severity="warning"))

    def _unworn(self, episodes: list[ResolvedEpisode]) -> None:
        """A warning at each look no shot wears: a sheet made from words is paid for nothing;
        and at each range that reaches past the series' last episode."""
        worn = {(n, look) for e in episodes for s in e.shots for n, look in s.looks.items()}
        for name, found in self.looks.items():
            for look in found.values():
                held = look.episodes
                past = held.outside(len(episodes)) if held is not None else None
                if held is not None and past is not None and episodes:
                    self.problems.append(self.source.series.diagnostic((*look.where, "episodes"), (
                        f"look {look.name!r} of {name!r} holds over episodes {held}, "
                        f"but {past!r} reaches past the series' last episode (it has "
                        f"{len(episodes)}): expected a range within 1-{len(episodes)}, or "
                        f"\"{min(a for a, _ in held.parts)}-\" for every episode from "
                        "its first"), severity="warning", code="look-past-end"))
                if (name, look.name) not in worn and episodes:
                    self.problems.append(self.source.series.diagnostic(look.where, (
                        f"look {look.name!r} of {name!r} is worn by no shot: no episode of its "
                        "range has a shot with it, and no shot asks for it (look: or "
                        f"@{name}.{look.name}); expected a use, or remove it"), key=True,
                        severity="warning", code="look-unworn"))

    def _voiceless(self, episodes: list[ResolvedEpisode]) -> None:
        """A warning, once at its character, for each pictured one that speaks a line with no
        voice: the model makes a voice up, maybe another in every shot (a reference video
        speaks with the voice recorded in it)."""
        first: dict[str, str] = {}
        for episode in episodes:
            for shot in episode.shots:
                spoken = {speaker for scene in shot.scenes
                          for index, (speaker, _) in enumerate(scene.say)
                          if liproutes.route_at(scene, index) == "voice_reference"}
                for ref in shot.references:
                    if ref.name in spoken and ref.voice is None and ref.role == "reference_image":
                        first.setdefault(ref.name, f"{episode.id}/{shot.id}")
        for name, where in first.items():
            self.problems.append(self.source.series.diagnostic(("characters", name), (
                f"character {name!r} speaks (first in {where}) but has no voice: the model "
                "makes one up, maybe another in every shot; expected voice: naming one of the "
                "series' voices"), key=True, severity="warning", code="voiceless-speaker"))

    def _episode(self, source: EpisodeSource) -> ResolvedEpisode | None:
        data = source.doc.get(source.path)
        if not isinstance(data, dict) or not isinstance(data.get("shots"), list):
            return None
        episode_id = str(data.get("id") or source.default_id)
        if episode_id in ASSET_EPISODES:
            self.error(source.doc, (*source.path, "id") if "id" in data else source.path,
                       f"episode id {episode_id!r} is reserved for the cast's assets; expected "
                       f"another id (not {', '.join(ASSET_EPISODES)})")
            return None
        takes = {"takes": data["takes"]} if "takes" in data else {}
        defaults = {**SERVICE_DEFAULTS, **_mapping(self.series.get("defaults")), **takes,
                    **_mapping(data.get("defaults"))}
        origins = self._origins(source, data)
        settings = {k: data[k] for k in ("title_card", "end_card", "music", "output", "hook")
                    if k in data}
        for key in ("music", "output", "delivery"):
            if key not in settings and key in self.series:
                settings[key] = self.series[key]
        self._episode_media(source.doc, source.path, settings)
        self._output_dir(source.doc, source.path, data)
        shots: list[ResolvedShot] = []
        ids: set[str] = set()
        self.broken, self.after_broken = set(), False
        self.board_layers = [(self.source.series, ("boards",)),
                             (source.doc, (*source.path, "boards"))]
        for index, raw in enumerate(data["shots"]):
            if not isinstance(raw, dict):
                continue
            path = (*source.path, "shots", index)
            shot_id = str(raw.get("id") or f"shot{index + 1:02d}")
            if shot_id in ids:
                self.error(source.doc, (*path, "id"),
                           f"duplicate shot id {shot_id!r} in episode {episode_id!r}")
                continue
            ids.add(shot_id)
            shot = self._shot(source.doc, path, raw, shot_id, episode_id, defaults, shots,
                              origins)
            if shot is not None:
                shots.append(shot)
            else:  # its own errors say why; what refers to it is not blamed for it
                self.broken.add(shot_id)
            self.after_broken = shot is None
        boards.link(shots, self.generated)
        if shots and (not self.broken or shots[0].path[-1] == 0):
            self._opening_transition(shots[0], _mapping(data.get("title_card")))
        return ResolvedEpisode(episode_id, str(data.get("title", episode_id)), source.doc,
                               source.path, shots, settings)

    def _origins(self, source: EpisodeSource, data: dict[str, Any]) -> dict[str, Origin]:
        """Where each default a shot may inherit was set: the series' or the episode's."""
        series = self.source.series
        found = {k: Origin(series, ("defaults", k), 0)
                 for k in _mapping(self.series.get("defaults"))}
        for key in _mapping(data.get("defaults")):
            found[key] = Origin(source.doc, (*source.path, "defaults", key), 1)
        return found

    # --- shots ---------------------------------------------------------------------------------

    def _shot(self, doc: Document, path: PathKey, raw: dict[str, Any], shot_id: str,
              episode: str, defaults: dict[str, Any], earlier: list[ResolvedShot],
              origins: dict[str, Origin]) -> ResolvedShot | None:
        own = [k for k in PARAMS if k in raw]
        params = {**defaults, **{k: raw[k] for k in own}}
        if not _params_well_typed(params):
            return None  # the schema check has already said what is wrong with them
        shot = ResolvedShot(shot_id, episode, doc, path, params, origins={
            **origins, **{k: Origin(doc, (*path, k), 2) for k in own}}, models=self.models)
        has_scenes, has_prompt = "scenes" in raw, "prompt" in raw
        if has_scenes == has_prompt:
            self.error(doc, path, "a shot needs either 'scenes' or 'prompt'" +
                       ("" if not has_scenes else ", not both"))
            return None
        mentions = self._timing_and_mentions(shot, raw)
        if "duration" not in raw and shot.scenes:
            params["duration"] = max(1, math.ceil(shot.scenes[-1].end - 1e-9))
            shot.origins.pop("duration", None)  # the scenes set it, not a default
        scenes.check_windows(self.problems, shot.doc, shot.scenes, shot.params.get("duration"))
        given = Given(raw, self._references(shot, raw, mentions), earlier)
        for step in PASSES:
            step(self, shot, given)
        return shot

    def _timing_and_mentions(self, shot: ResolvedShot, raw: dict[str, Any]) -> list[str]:
        """Parse scenes (or the prompt) and collect mentions in document order."""
        doc, mentions = shot.doc, []
        if "prompt" in raw and isinstance(raw["prompt"], str):
            shot.prompt = raw["prompt"]
            mentions += self._mentions(doc, (*shot.path, "prompt"), raw["prompt"])
            return mentions
        chosen = liproutes.choice(shot.params)
        for index, scene in enumerate(raw.get("scenes") or []):
            where = (*shot.path, "scenes", index)
            parsed = scenes.parse(self.problems, doc, where, scene, index + 1)
            if parsed is None:
                continue
            parsed.routes = [liproutes.route_of(shot.model, parsed, speaker, chosen)
                             for speaker, _ in parsed.say]
            shot.scenes.append(parsed)
            if isinstance(scene, str):
                mentions += self._mentions(doc, where, parsed.action,
                                           offset=scenes.shorthand_offset(scene))
            else:
                mentions += self._mentions(doc, (*where, "action"), parsed.action)
            for (speaker, line), route in zip(parsed.say, parsed.routes, strict=True):
                if liproutes.pictured(shot.model, route):
                    mentions.append(speaker)
                if speaker not in self.characters:
                    self._check_speaker(doc, (*where, "say", speaker), speaker)
                if "@" in line:
                    mentions += self._mentions(doc, (*where, "say", speaker), line)
        return [m for m in mentions if m in self.characters]

    def _mentions(self, doc: Document, path: PathKey, text: str, offset: int = 0) -> list[str]:
        names: list[str] = []
        if "@" not in text:
            return names
        for match in MENTION.finditer(text):
            name = match.group(1)
            if name is None:
                continue
            if name not in self.characters:
                span = doc.text_span(path, offset + match.start())
                self.problems.append(doc.diagnostic(
                    path, f"unknown character @{name}{self._near(name)}; expected one of: "
                    f"{', '.join('@' + c for c in self._legal()) or '(none)'}",
                    span=span))
                continue
            names.append(name)
        return names

    def _near(self, name: str) -> str:
        """The "did you mean" of a character's name: only ever one the schema takes."""
        return did_you_mean_name(name, self.characters, "characters")

    def _legal(self) -> list[str]:
        return legal_names(self.characters, "characters")

    def _check_speaker(self, doc: Document, where: PathKey, speaker: str) -> None:
        if speaker not in self.characters:
            self.error(doc, where, f"unknown speaker {speaker!r}"
                       f"{self._near(speaker)}; expected a character",
                       key=True)

    def _references(self, shot: ResolvedShot, raw: dict[str, Any], mentions: list[str]
                    ) -> list[str]:
        """The shot's references in order (mentions, then ``cast``), labelled on the shot."""
        order = list(dict.fromkeys(mentions))
        for index, name in enumerate(raw.get("cast") or []):
            if name not in self.characters:
                self.error(shot.doc, (*shot.path, "cast", index), f"unknown character {name!r}"
                           f"{self._near(str(name))}")
            elif name not in order:
                order.append(name)
        if not shot.model.takes_references:
            return order  # refused with every name by ``modelcheck``: nothing to label
        overrides = self._voice_overrides(shot, raw, order)
        counters = dict.fromkeys(WORDS, 0)
        for name in order:
            character = self.characters[name]
            own = character.identity.ids.get(shot.model.identity, {}) if character.identity else {}
            made = MediaRef(asset=cast.asset_id(ELEMENTS, name)) \
                if own.get("element") == identity.MAKE else None
            role, ref = (("element", made or MediaRef(id=own["element"])) if "element" in own
                         else (character.role, character.ref))
            counters[role] += 1
            voice_name = overrides.get(name, character.voice)
            voice = self.voices.get(voice_name) if voice_name else None
            if "voice" in own and name not in overrides:  # the voice made on the vendor
                voice = MediaRef(asset=cast.asset_id(KVOICES, name)) \
                    if own["voice"] == identity.MAKE else MediaRef(id=own["voice"])
            shot.references.append(Reference(name, role, ref, f"{WORDS[role]} {counters[role]}",
                                             voice, _face(character, role)))
        return order

    def _voice_overrides(self, shot: ResolvedShot, raw: dict[str, Any], order: list[str]
                         ) -> dict[str, str]:
        overrides: dict[str, str] = {}
        for name, voice in _mapping(raw.get("voices")).items():
            where = (*shot.path, "voices", name)
            if name not in order:
                self.error(shot.doc, where, f"a voice for {name!r}, who is not a reference in "
                           f"this shot; expected one of: {', '.join(order) or '(none)'}", key=True)
            elif voice not in self.voices:
                self.error(shot.doc, where, f"unknown voice {voice!r}"
                           f"{did_you_mean_name(str(voice), self.voices, 'voices')}")
            else:
                overrides[name] = voice
        return overrides

    def _opening_transition(self, first: ResolvedShot, title_card: dict[str, Any]) -> None:
        """The first shot's transition joins it to the title card; without one it does nothing."""
        kind, seconds = first.transition.type, first.transition.duration
        if kind == "cut":
            return
        where = (*first.path, "transition")
        if not title_card:
            self.problems.append(first.doc.diagnostic(where, (
                f"the first shot's {kind} has nothing before it and is ignored; add a "
                "title_card to fade from, or remove it"), severity="warning"))
            return
        card = title_card.get("duration", 2.0)
        if isinstance(card, int | float) and seconds >= min(card, first.params["duration"]):
            self.error(first.doc, where, f"a {seconds:g} s {kind} is as long as the title card "
                       f"({card:g} s) or the shot it joins; expected less than both")


def first_frame(ctx: Resolving, shot: ResolvedShot, given: Given) -> None:
    """The pass: the shot's first frame, a file or ``{from: SHOT}`` (an earlier shot's last)."""
    value, earlier = given.raw.get("first_frame"), given.earlier
    where = (*shot.path, "first_frame")
    if isinstance(value, str):
        shot.first_frame = ctx.media_ref(shot.doc, where, value, "image")
    elif isinstance(value, dict) and isinstance(value.get("from"), str):
        target = value["from"]
        if target in ctx.broken:
            return  # an earlier shot with errors of its own: they say what to fix
        if not any(s.id == target for s in reversed(earlier)):  # most often the last
            names = [s.id for s in earlier]
            ctx.error(shot.doc, (*where, "from"), f"first_frame.from names {target!r}, "
                       f"which is no earlier shot of this episode{did_you_mean(target, names)}"
                       f"; expected one of: {', '.join(names) or '(no earlier shot)'}")
        else:
            shot.first_frame_from = target


def transition(ctx: Resolving, shot: ResolvedShot, given: Given) -> None:
    """The pass: the shot's transition, no longer than either shot it joins."""
    value, earlier = given.raw.get("transition"), given.earlier
    if isinstance(value, str):
        value = {"type": value}
    if not isinstance(value, dict) or not isinstance(value.get("type"), str):
        return
    kind = value["type"]
    default = 0.0 if kind == "cut" else DEFAULT_TRANSITION_SECONDS
    seconds = float(value.get("duration", default))
    shot.transition = Transition(kind, 0.0 if kind == "cut" else seconds)
    if not earlier or kind == "cut" or ctx.after_broken:
        return
    shortest = min(earlier[-1].params.get("duration", 0), shot.params.get("duration", 0))
    if seconds >= shortest:
        ctx.error(shot.doc, (*shot.path, "transition"), f"a {seconds:g} s {kind} is as long "
                  f"as a shot it joins ({shortest} s); expected less than {shortest} s")


def checks(ctx: Resolving, shot: ResolvedShot, given: Given) -> None:
    """The pass: what the shot's takes are meant to show (``checks:``)."""
    shot.checks = _mapping(given.raw.get("checks"))


# The passes over a resolved shot, in order, each ``(context, shot, given)``: a new one is an
# entry here (like sqlglot's optimizer ``RULES``). The looks first (what each reference wears,
# the board's pictures too), the frames before the board (a board never
# replaces a frame of the shot's own), the board before the routes (with the references it
# left), the model's checks last (with every reference known).
PASSES: tuple[Pass, ...] = (looks.look_pass, first_frame, modelcheck.frames_pass,
                            boards.board_pass, liproutes.route_pass, transition, checks,
                            modelcheck.check_pass)


PARAM_TYPES: dict[str, tuple[type, ...]] = {
    "model": (str,), "resolution": (str,), "ratio": (str,), "duration": (int,),
    "negative_prompt": (str,), "prompt_extend": (bool,), "watermark": (bool,), "seed": (int,),
    "takes": (int,), "audio": (bool,), "dialogue": (dict,)}


def _params_well_typed(params: dict[str, Any]) -> bool:
    """Every parameter known and of its type (an unknown key under ``defaults:``, the schema
    check's "did you mean", is not one)."""
    for name, value in params.items():
        if value is None and name in ("seed", "negative_prompt"):
            continue
        types = PARAM_TYPES.get(name)
        if types is None or not isinstance(value, types):
            return False
        if isinstance(value, bool) and bool not in types:
            return False
    return True


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _face(character: Character, role: str) -> MediaRef | None:
    """The picture a character sent by its registered element shows (its image), which its
    takes are measured against; None for one sent as its picture, or shown by a video."""
    return character.ref if role == "element" and character.role == "reference_image" else None
