"""The series' cast and the files it names into checked media references: characters, voices, cards.

The resolver's base: every local file a series names must stay inside the series folder and is
recorded as a ``MediaUse`` (checked once per file and role by the compiler); a character's picture
or video, a voice's recording, a generated image's refs, an episode's music and card images, and
``output.dir``. Images made from words and voices designed from words become cast assets.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from storyboard.errors import Diagnostic
from storyboard.language.document import Document, PathKey
from storyboard.language.read.literals import color_problem, data_uri_problem, url_problem
from storyboard.language.read.schemacheck import did_you_mean_name, legal_names
from storyboard.language.read.series import Source
from storyboard.language.request import MediaRef, is_url, speaker_name
from storyboard.language.resolving import cast, identity, looks
from storyboard.language.resolving.resolved import Look
from storyboard.targets.capabilities import FileRule
from storyboard.targets.cast.assets import spoken_seconds
from storyboard.targets.video.kling4 import VOICE_CLIP_RULE


@dataclass
class Character:
    name: str
    role: str  # "reference_image" | "reference_video"
    ref: MediaRef
    voice: str | None
    where: PathKey
    # Its ids on vendors: faces registered once, Kling's element and voice (sent instead of the
    # sheet and the voice on that vendor's models that take them).
    identity: identity.Identity | None = None


@dataclass
class MediaUse:
    """A local file the series uses, and as what; checked once per (file, role)."""

    path: Path
    role: str  # "image" | "video" | "voice", or a frame role its model has a rule for
    doc: Document
    where: PathKey
    rule: FileRule | None = None  # the model's rule for that role (``first_clip``: 2..10 s)


class MediaResolver:
    """The series' cast and the files it names, resolved and checked (the resolver's base)."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.problems: list[Diagnostic] = []
        self.repeats = 0  # problems not added again: said already (``incremental`` keeps none)
        self.output_problem: Diagnostic | None = None
        self.media: dict[tuple[Path, str], MediaUse] = {}
        series = source.series.data if isinstance(source.series.data, dict) else {}
        self.series = series
        style = series.get("style")
        self.style: str = style if isinstance(style, str) else ""
        self.designed: dict[str, cast.DesignedVoice] = {}  # voices made from words
        self.generated: dict[str, cast.GeneratedImage] = {}  # images made from words
        self.lines: dict[str, cast.SpokenLine] = {}  # lines spoken in a designed voice
        self.elements: dict[str, cast.MadeElement] = {}  # elements made from the sheets
        self.kvoices: dict[str, cast.MadeVoice] = {}  # voices made on Kling from the voices
        self.portraits: dict[str, cast.MadePortrait] = {}  # portraits made in Ark's library
        self.looks: dict[str, dict[str, Look]] = {}  # each character's looks, by name
        self.episode_number = 0  # the episode being resolved: its place in the series, from 1
        self.voices = self._voices(series.get("voices"))
        self.characters = self._characters(series.get("characters"))

    # --- helpers ----------------------------------------------------------------------------------

    def error(self, doc: Document, path: PathKey, message: str, *, key: bool = False) -> None:
        self.problems.append(doc.diagnostic(path, message, key=key))

    def media_ref(self, doc: Document, path: PathKey, value: str, role: str,
                  rule: FileRule | None = None) -> MediaRef | None:
        """A path or URL from ``doc`` at ``path``; local files must stay inside the series."""
        if is_url(value) or value[:7].lower() == "http://":
            problem = data_uri_problem(value) if value[:5].lower() == "data:" else \
                url_problem(value)
            if problem is not None:
                self.error(doc, path, problem)
                return None
            return MediaRef(url=value)
        file, inside = _resolved(doc.file.parent, value, self.source.root)
        if not inside:
            self.error(doc, path, f"{value!r} leaves the series folder; expected a path inside "
                                  f"{self.source.root.name}/ or a URL (https://, oss://, data:)")
            return None
        self.media.setdefault((file, role), MediaUse(file, role, doc, path, rule))
        return MediaRef(path=file)

    # --- the cast ---------------------------------------------------------------------------------

    def _voices(self, table: Any) -> dict[str, MediaRef]:
        voices: dict[str, MediaRef] = {}
        doc = self.source.series
        for name, entry in (table or {}).items() if isinstance(table, dict) else ():
            if isinstance(entry, dict) and isinstance(entry.get("audio"), str):
                ref = self.media_ref(doc, ("voices", name, "audio"), entry["audio"], "voice")
                if ref is not None:
                    voices[name] = ref
            elif isinstance(entry, dict) and isinstance(entry.get("design"), str):
                self._sample_length(name, str(entry.get("sample") or ""))
                self._unsettled(("voices", name))
                self.designed[name] = cast.DesignedVoice(
                    name, entry["design"], str(entry.get("sample") or ""),
                    str(entry.get("language") or "en"), _count(entry.get("takes")),
                    doc.span(("voices", name)))
                voices[name] = MediaRef(asset=cast.asset_id("voices", name))
        return voices

    def _sample_length(self, name: str, sample: str) -> None:
        """A warning for a sample whose preview may outlast a reference voice (1..10 s), or
        will likely fall short of one (``spoken_seconds``, the estimate a line is held to)."""
        seconds = spoken_seconds(sample)
        if len(sample) > cast.SAMPLE_CHARACTERS:
            self.problems.append(self.source.series.diagnostic(("voices", name, "sample"), (
                f"the sample is {len(sample)} characters long: spoken, it may last more than "
                f"10 s, longer than a reference voice may; expected at most about "
                f"{cast.SAMPLE_CHARACTERS} characters"), severity="warning"))
        elif seconds < cast.SAMPLE_SECONDS:
            self.problems.append(self.source.series.diagnostic(
                ("voices", name, "sample") if sample else ("voices", name), (
                    f"spoken, this sample will likely last about {seconds:.2f} s (about 20 "
                    f"characters a second); a reference voice lasts {cast.SAMPLE_SECONDS:g} to "
                    "10 s: lengthen the sample (the designed voice is measured, and a shot "
                    "whose voice is too short waits, unpaid)"),
                severity="warning", code="sample-length"))

    def _unsettled(self, where: PathKey) -> None:
        """A warning where ``init --from`` left a comment that its words settled nothing (who
        speaks, a character's looks): the words are for a person to finish before paying."""
        doc = self.source.series
        span = doc.span(where)
        text = doc.line_text(span.line) or ""
        at = text.find(cast.UNSETTLED, text.find("#") + 1) if "#" in text else -1
        if at < 0:
            return
        what = text[at + len(cast.UNSETTLED):].strip()
        self.problems.append(doc.diagnostic(where, (
            f"{where[0]} {where[1]!r}: `init --from` could not settle {what}; expected words a "
            "person settled: describe it, then remove the comment"), severity="warning",
            span=replace(span, col=at + 1), code="init-unsettled"))

    def _generated(self, name: str, entry: dict[str, Any], where: PathKey) -> MediaRef:
        """A character's ``image: {generate: ...}``: its refs resolved, the image an asset."""
        doc = self.source.series
        refs = [self.media_ref(doc, (*where, "refs", i), value, "image")
                for i, value in enumerate(entry.get("refs") or ()) if isinstance(value, str)]
        seed = entry.get("seed")
        kind = entry.get("kind")  # another word is the schema's error: drawn as a character
        subject = kind if isinstance(kind, str) and kind in cast.RECIPES else "character"
        self.generated[name] = cast.GeneratedImage(
            name, str(entry["generate"]), subject,
            tuple(r for r in refs if r is not None), _count(entry.get("takes")),
            seed if isinstance(seed, int) else None, doc.span(where))
        return MediaRef(asset=cast.asset_id("cast", name))

    def _characters(self, table: Any) -> dict[str, Character]:
        characters: dict[str, Character] = {}
        doc = self.source.series
        for name, entry in (table or {}).items() if isinstance(table, dict) else ():
            if not isinstance(entry, dict):
                continue
            kind = "image" if "image" in entry else "video" if "video" in entry else None
            where = ("characters", name)
            generate = entry.get("image")
            if isinstance(generate, dict) and isinstance(generate.get("generate"), str):
                self._unsettled(where)
                ref: MediaRef | None = self._generated(name, generate, (*where, "image"))
            elif kind is None or not isinstance(entry[kind], str):
                continue
            else:
                ref = self.media_ref(doc, (*where, kind), entry[kind], kind)
            voice = entry.get("voice")
            if isinstance(voice, str) and voice not in self.voices:
                self.error(doc, (*where, "voice"), f"unknown voice {voice!r}"
                           f"{did_you_mean_name(voice, self.voices, 'voices')}; expected one "
                           "of the series' voices: "
                           f"{', '.join(sorted(legal_names(self.voices, 'voices'))) or '(none declared)'}")
            drawn = isinstance(generate, dict) and isinstance(generate.get("generate"), str)
            heard = self.voices.get(voice) if isinstance(voice, str) else None
            guided = drawn and isinstance(generate, dict) and bool(generate.get("refs"))
            found, problems = identity.read(doc, (*where, "identity"), entry.get("identity"),
                                            kind, drawn, identity.voice_kind(heard), guided)
            self.problems += problems
            if heard is not None and found is not None and found.makes_voice:
                self._kvoice(name, heard, (*where, "identity"))
            if ref is not None:
                characters[name] = Character(name, f"reference_{kind}", ref,
                                             voice if isinstance(voice, str) else None, where,
                                             found)
                self._element(name, found, ref, generate["generate"]
                              if drawn and isinstance(generate, dict) else "")
                if found is not None and found.portraits_made:  # made in Ark's asset library
                    self.portraits[name] = cast.MadePortrait(
                        name, found.portraits_made, ref, doc.span((*where, "identity")))
            if isinstance(entry.get("looks"), dict) and entry["looks"]:
                self._looks(name, entry["looks"], (*where, "looks"), kind,
                            found.permission if found is not None else "")
        return characters

    def _kvoice(self, name: str, heard: MediaRef, where: PathKey) -> None:
        """A character's voice to make on Kling from its voice (``voice: make``), a cast asset;
        a recorded clip is held to Kling's own length (5-30 s), at the character's line."""
        doc = self.source.series
        self.kvoices[name] = cast.MadeVoice(name, heard, doc.span(where))
        if heard.path is not None:
            self.media.setdefault((heard.path, "kvoice"), MediaUse(
                heard.path, "kvoice", doc, (*where, "kling", "voice"), VOICE_CLIP_RULE))

    def _element(self, name: str, found: identity.Identity | None, sheet: MediaRef,
                 words: str) -> None:
        """A character's element to make from its sheet (``element: make``), a cast asset."""
        if found is not None and found.makes_element:
            self.elements[name] = cast.MadeElement(
                name, words or speaker_name(name), sheet,
                self.source.series.span(("characters", name, "identity")))

    def _looks(self, name: str, table: dict[str, Any], where: PathKey, kind: str | None,
               permission: str) -> None:
        """A character's looks: each picture resolved (one made from words a cast asset of its
        own, ``cast/NAME.LOOK``), each range checked, each look's own identity read (an
        element or a portrait it makes a cast asset of its own too)."""
        doc = self.source.series
        if kind != "image":
            self.error(doc, where, (
                f"character {name!r} has looks, but its reference is a video: a look is a "
                "picture; expected image: on the character to give it looks"), key=True)
            return
        held = looks.checked_ranges(doc, self.problems, name, table, where)
        found: dict[str, Look] = {}
        for look, entry in table.items():
            image = entry.get("image") if isinstance(entry, dict) else None
            at = (*where, look, "image")
            drawn = isinstance(image, dict) and isinstance(image.get("generate"), str)
            if isinstance(image, dict) and drawn:
                ref: MediaRef | None = self._generated(looks.asset_name(name, look), image, at)
            elif isinstance(image, str):
                ref = self.media_ref(doc, at, image, "image")
            else:
                continue  # the schema says what is wrong with it
            if ref is None:
                continue
            sheet = (drawn, drawn and isinstance(image, dict) and bool(image.get("refs")))
            own, problems = identity.read_look(doc, (*where, look, "identity"),
                                               entry.get("identity"), sheet, permission)
            self.problems += problems
            found[look] = Look(name, look, ref, held.get(look), (*where, look), own)
            self._made_for_look(found[look], image["generate"] if isinstance(image, dict)
                                and drawn else "")
        self.looks[name] = found

    def _made_for_look(self, look: Look, words: str) -> None:
        """The element and the portrait a look's identity makes from its sheet (``make``)."""
        own, name = look.identity, look.asset
        if own is None:
            return
        span = self.source.series.span((*look.where, "identity"))
        if own.makes_element:
            self.elements[name] = cast.MadeElement(
                name, words or f"{speaker_name(look.character)} ({look.name})", look.ref, span)
        if own.portraits_made:
            self.portraits[name] = cast.MadePortrait(name, own.portraits_made, look.ref, span)

    # --- an episode's files -----------------------------------------------------------------------

    def _output_dir(self, doc: Document, path: PathKey, data: dict[str, Any]) -> None:
        """``output.dir`` must stay inside the series folder (someone else's series must not write
        elsewhere): a warning here, an error when a render would use it without ``-o DIR``."""
        owner, where = (doc, (*path, "output", "dir")) if "output" in data else \
            (self.source.series, ("output", "dir"))
        value = owner.get(where)
        if not isinstance(value, str) or _resolved(self.source.root, value, self.source.root)[1]:
            return
        problem = owner.diagnostic(where, (
            f"output.dir {value!r} leaves the series folder; expected a folder inside "
            f"{self.source.root.name}/ (to write elsewhere, name the folder with -o DIR)"),
            severity="warning")
        if problem not in self.problems:
            self.problems.append(problem)
        else:
            self.repeats += 1
        self.output_problem = self.output_problem or replace(problem, severity="error")

    def _episode_media(self, doc: Document, path: PathKey, settings: dict[str, Any]) -> None:
        """Music and card images become absolute paths, checked like references."""
        music = settings.get("music")
        if isinstance(music, dict) and isinstance(music.get("file"), str):
            where = (*path, "music") if "music" in _mapping(doc.get(path)) else ("music",)
            owner = doc if "music" in _mapping(doc.get(path)) else self.source.series
            ref = self.media_ref(owner, (*where, "file"), music["file"], "audio")
            settings["music"] = {**music, "file": ref.path if ref and ref.path else music["file"]}
        for card in ("title_card", "end_card"):
            entry = settings.get(card)
            for key in ("color", "text_color"):
                value = entry.get(key) if isinstance(entry, dict) else None
                problem = color_problem(value) if isinstance(value, str) else None
                if problem is not None:
                    self.error(doc, (*path, card, key), problem)
            if isinstance(entry, dict) and isinstance(entry.get("image"), str):
                ref = self.media_ref(doc, (*path, card, "image"), entry["image"], "card")
                settings[card] = {**entry, "image": ref.path if ref and ref.path else None}


@functools.lru_cache(maxsize=4096)
def _resolved(folder: Path, value: str, root: Path) -> tuple[Path, bool]:
    """``folder / value`` made absolute, and whether it is inside ``root`` (memoised: each
    variation of a matrix names the same files)."""
    file = (folder / value).resolve()
    return file, file.is_relative_to(root)


def _count(value: Any) -> int:
    """A ``takes:`` count as the schema allows it (1..10), else 1."""
    return value if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 10 else 1


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
