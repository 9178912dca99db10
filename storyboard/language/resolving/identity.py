"""Characters' declared identities into what a request sends: a face registered once, by its id.

A character may declare, per vendor, a portrait registered in that vendor's library
(``identity: {ark: {asset: ID}, modelark: {asset: ID}, permission: TEXT}``; models-2026-11.md,
"Faces"). On a target that reads that key (``Target.identity_key``) the character's picture goes
as the asset (``asset://ID``) in place of its sheet's URL, at the same place among the media, so
the prompt names it as before ("Image 2"). A target that refuses faces sent by URL
(``Target.faces_by_url`` false: Seedance on Ark and ModelArk) gets one warning naming the
characters whose photoreal pictures would go to it by URL. ``asset: make`` is a cast asset
(``portraits/NAME``) storyboard makes in the vendor's asset library from a sheet it drew from words
(a virtual portrait): a face named by a file or URL is refused at its line (a real person's goes
through the vendor's own liveness flow), and a sheet drawn from pictures needs ``permission``.
``kling: {element: make}`` is a cast asset (``elements/NAME``) storyboard makes from the approved
sheet; a face that may be a real person's (a sheet not drawn from words) needs ``permission``.
``kling: {voice: make}`` is a cast asset (``kvoices/NAME``) made from the character's voice (a
designed voice's take, or a recorded clip: a real person's voice, which needs ``permission``).
A registered id shows its character's own look: a look declares its own ids (``looks: {LOOK:
{identity: {ark: {asset: ...}, kling: {element: ...}}}}``, or ``make`` from the look's sheet), sent
where the character's would go; a look worn where its character goes by an id and the look has
none is refused at the look's line (``unworn_faces``), never sent as the character's own face.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol

from storyboard.errors import Diagnostic
from storyboard.language.document import Document, PathKey
from storyboard.language.read.series import Source
from storyboard.language.request import (
    PORTRAITS,
    CompiledEpisode,
    MediaRef,
    ShotRequest,
    VoiceKind,
    is_portrait,
)
from storyboard.language.resolving.cast import GeneratedImage, asset_id
from storyboard.targets.cast.arkassets import DOCS as ARK_DOCS
from storyboard.targets.video.kling4 import KLING_V4
from storyboard.targets.wire.gateways import IDENTITY_DOCS, TARGETS, Target

# The keys of ``identity:`` that name a portrait asset: every target's that reads one.
PORTRAIT_KEYS = tuple(dict.fromkeys(t.identity_key for t in TARGETS.values() if t.identity_key))
MAKE = "make"  # ``element: make`` (Kling), ``asset: make`` (Ark): made from the approved sheet
ELEMENT_VENDOR = KLING_V4.identity  # the ``identity:`` key whose ``element: make`` storyboard makes
ELEMENT_DOCS = "docs/cast.md#kling-elements-storyboard-makes"
VOICE_DOCS = "docs/cast.md#kling-voices-storyboard-makes"
PORTRAIT_DOCS = ARK_DOCS
LOOK_DOCS = "docs/cast.md#looks-and-identities"  # ``asset: make``: Ark's and ModelArk's asset libraries
# Words of a drawn look: a style (or a character's words) naming one is not photoreal, and the
# vendors' face screening usually lets such pictures pass by URL (models-2026-11.md, "Faces").
DRAWN = re.compile(
    r"\b(anime|cartoon\w*|animat(ed|ion)|hand[- ]drawn|drawn|illustrat\w*|water ?colou?r|comic\w*|"
    r"manga|pixel[- ]art|cel[- ]shaded|chibi|clay\w*|sketch\w*|paint(ed|ing)|storybook|2d|"
    r"low[- ]poly|ink|crayon|pastel|vector|flat colou?r|toon)\b", re.I)


@dataclass(frozen=True)
class Identity:
    """A character's ids on vendors (each key's ids by kind: ``{ark: {asset: ID}, kling:
    {element: ID, voice: ID}}``), and the permission said."""

    ids: Mapping[str, Mapping[str, str]]
    permission: str = ""

    @property
    def assets(self) -> dict[str, str]:
        """Its registered faces: each portrait key's asset id (not one storyboard makes)."""
        return {key: ids["asset"] for key in PORTRAIT_KEYS
                for ids in (self.ids.get(key, {}),) if ids.get("asset", MAKE) != MAKE}

    @property
    def portraits_made(self) -> tuple[str, ...]:
        """The portrait keys whose asset storyboard makes from its sheet (``asset: make``)."""
        return tuple(key for key in PORTRAIT_KEYS if self.ids.get(key, {}).get("asset") == MAKE)

    @property
    def makes_element(self) -> bool:
        """Whether storyboard makes its Kling element from its sheet (``element: make``)."""
        return self.ids.get(ELEMENT_VENDOR, {}).get("element") == MAKE

    @property
    def makes_voice(self) -> bool:
        """Whether storyboard makes its Kling voice from its voice's audio (``voice: make``)."""
        return self.ids.get(ELEMENT_VENDOR, {}).get("voice") == MAKE


def voice_kind(ref: MediaRef | None) -> VoiceKind:
    """What a character's voice is: designed from words (a cast asset), recorded (a file or
    URL: maybe a real person's), or none."""
    if ref is None:
        return ""
    return "designed" if ref.asset is not None else "recorded"


class Cast(Protocol):
    """What the face warning reads of a resolved character."""

    @property
    def where(self) -> PathKey: ...

    @property
    def identity(self) -> Identity | None: ...


def read(doc: Document, where: PathKey, value: Any, kind: str | None, drawn: bool = False,
         voiced: VoiceKind = "", guided: bool = False
         ) -> tuple[Identity | None, list[Diagnostic]]:
    """A character's ``identity:`` (at ``where``) as its ids by vendor and kind; wrong shapes
    are the schema's errors, and ``asset: make``, a face registered for a character shown by a
    video, an element to make that may show a real person without ``permission`` (``drawn``:
    its sheet is drawn from words), a portrait to make from a face that may be a real person's
    (a file, or a sheet drawn from pictures, ``guided``, without ``permission``), and a voice
    to make without a voice (``voiced``) or from a recording without ``permission`` are
    refused here."""
    if not isinstance(value, dict):
        return None, []
    problems: list[Diagnostic] = []
    permission = value.get("permission")
    permission = permission.strip() if isinstance(permission, str) else ""
    ids = {vendor: {what: found for what, found in table.items() if isinstance(found, str)}
           for vendor, table in value.items() if isinstance(table, dict)}
    name = str(where[-2])
    problems += _made(doc, where, name, ids, kind, (drawn, guided), permission)
    element = ids.get(ELEMENT_VENDOR, {})
    if element.get("voice") == MAKE and (why := _voice(name, voiced, permission)):
        problems.append(doc.diagnostic((*where, ELEMENT_VENDOR, "voice"), why))
        del element["voice"]
    if kind == "video" and Identity(ids).assets:
        problems.append(doc.diagnostic(where, (
            f"{where[-2]} is shown by a video: a registered face replaces a character's "
            "picture; expected identity on a character with image:")))
    return Identity(ids, permission), problems


def read_look(doc: Document, where: PathKey, value: Any, sheet: tuple[bool, bool],
              permission: str) -> tuple[Identity | None, list[Diagnostic]]:
    """A look's ``identity:`` (at ``where``): the look's own face on each vendor (``ark``,
    ``modelark``: ``asset``; ``kling``: ``element``), an id or ``make`` (made from the look's
    sheet, ``sheet``: drawn from words, and from pictures too; refused as a character's is,
    the character's ``permission`` counting for its looks). Its voice is the character's."""
    if not isinstance(value, dict):
        return None, []
    ids = {vendor: {what: found for what, found in table.items() if isinstance(found, str)}
           for vendor, table in value.items() if isinstance(table, dict)}
    name = f"{where[1]}.{where[-2]}"  # ("characters", NAME, "looks", LOOK, "identity")
    return Identity(ids, permission), _made(doc, where, name, ids, "image", sheet, permission)


def _made(doc: Document, where: PathKey, name: str, ids: dict[str, dict[str, str]],
          kind: str | None, sheet: tuple[bool, bool], permission: str) -> list[Diagnostic]:
    """Each ``asset: make`` and ``element: make`` of ``ids`` that cannot be made (an error at
    its line, the ``make`` taken out); ``name``: whose face (a character, or ``ada.wedding``)."""
    problems: list[Diagnostic] = []
    for key in PORTRAIT_KEYS:
        if ids.get(key, {}).get("asset") == MAKE and (
                why := _make(name, key, kind, sheet, permission)):
            problems.append(doc.diagnostic((*where, key, "asset"), why))
            del ids[key]["asset"]
    element = ids.get(ELEMENT_VENDOR, {})
    if element.get("element") == MAKE and (why := _element(name, kind, sheet[0], permission)):
        problems.append(doc.diagnostic((*where, ELEMENT_VENDOR, "element"), why))
        del element["element"]
    return problems


def _element(name: str, kind: str | None, drawn: bool, permission: str) -> str:
    """Why ``element: make`` cannot be made for this character ("" when it can)."""
    if kind != "image":
        return (f"{name} is shown by a video: an element is made from a character's sheet; "
                "expected element: make on a character with image:")
    if permission or drawn:
        return ""
    return (f"identity.{ELEMENT_VENDOR}.element: make sends {name}'s picture to Kling to make a "
            "saved element of a face that may be a real person's, and this character declares "
            "no permission; expected identity.permission: who consented and where the consent "
            f"is kept, or a sheet drawn from words (image: {{generate: ...}}) ({ELEMENT_DOCS})")


def _voice(name: str, voiced: VoiceKind, permission: str) -> str:
    """Why ``voice: make`` cannot be made for this character ("" when it can)."""
    if not voiced:
        return (f"identity.{ELEMENT_VENDOR}.voice: make makes {name}'s voice on Kling from the "
                f"character's voice, and {name} has none; expected voice: NAME (a series voice: "
                f"a recorded clip, or one designed from words) ({VOICE_DOCS})")
    if voiced == "designed" or permission:
        return ""
    return (f"identity.{ELEMENT_VENDOR}.voice: make sends {name}'s recorded voice to Kling to "
            "make a saved voice of what may be a real person's, and this character declares no "
            "permission; expected identity.permission: who consented and where the consent is "
            f"kept, or a voice designed from words (voices: {{NAME: {{design: ...}}}}) "
            f"({VOICE_DOCS})")


def _make(name: str, key: str, kind: str | None, sheet: tuple[bool, bool],
          permission: str) -> str:
    """Why ``asset: make`` cannot be made for this character ("" when it can); ``sheet``:
    whether it is drawn from words, and whether from pictures too (``refs``)."""
    drawn, guided = sheet
    if kind != "image":
        return (f"{name} is shown by a video: a portrait is made from a character's sheet; "
                "expected asset: make on a character with image:")
    if not drawn:
        return (f"identity.{key}.asset: make sends {name}'s picture to the vendor's asset "
                "library, which makes a portrait by API only of an AI-made face (a virtual "
                "portrait); a real person's face goes through the vendor's own liveness "
                "verification, which storyboard cannot perform; expected a sheet drawn from "
                "words (image: {generate: ...}), or the face registered in the vendor's console "
                f"and its id declared: identity: {{{key}: {{asset: ID}}}} ({PORTRAIT_DOCS})")
    if guided and not permission:
        return (f"identity.{key}.asset: make sends {name}'s sheet, drawn from pictures (refs) "
                "that may show a real person, to the vendor's asset library, and this "
                "character declares no permission; expected identity.permission: who consented "
                f"and where the consent is kept ({PORTRAIT_DOCS})")
    return ""


class WornLook(Protocol):
    """What a shot reads of a character's look: its sheet's name and its own identity."""

    @property
    def asset(self) -> str: ...

    @property
    def where(self) -> PathKey: ...

    @property
    def identity(self) -> Identity | None: ...


@dataclass(frozen=True)
class Faces:
    """The series' identities: each character's (those that declare one), and each look's."""

    identities: Mapping[str, Identity]
    looks: Mapping[str, Mapping[str, WornLook]]

    def shown(self, worn: Mapping[str, str]) -> dict[str, tuple[str, Identity]]:
        """Whose identity each character shows in a shot that dresses it as ``worn`` (its
        look, by character): its look's (named ``ada.wedding``) where it wears one, else its
        own; only those that declare one."""
        faces = {name: (name, found) for name, found in self.identities.items()
                 if name not in worn}
        faces.update({name: (look.asset, look.identity) for name, wearing in worn.items()
                      if (look := self.looks[name][wearing]).identity is not None})
        return faces


def sent(request: ShotRequest, target: Target | None, faces: Faces,
         worn: Mapping[str, str]) -> ShotRequest:
    """``request`` with each character's picture replaced by its portrait on ``target``,
    where it declares one (or the portrait storyboard makes, ``portraits/NAME``, until it is
    made): same place, same label. A character that wears a look (``worn``) shows the look's
    own portrait there, or else the look's picture: never its own face in another look (a
    look without its own portrait where the character has one is refused, ``unworn_faces``)."""
    key = target.identity_key if target is not None else ""
    shown = {name: face for name, face in faces.shown(worn).items()
             if key in face[1].assets or key in face[1].portraits_made}
    if not key or not shown:
        return request
    assert target is not None
    media = tuple(replace(m, ref=_portrait(target, key, *shown[m.character]))
                  if m.role == "reference_image" and m.character in shown else m
                  for m in request.media)
    return replace(request, media=media)


def _portrait(target: Target, key: str, name: str, found: Identity) -> MediaRef:
    if key in found.assets:
        return MediaRef(url=target.identity_ref(found.assets[key]))
    return MediaRef(asset=asset_id(PORTRAITS, name))


def unworn_faces(target: Target | None, doc: Document, faces: Faces,
                 episodes: Iterable[CompiledEpisode]) -> list[Diagnostic]:
    """An error at each look worn where its character goes by an id registered on the
    vendor (a Seedance portrait on ``target``, a Kling 4.0 element) and the look declares no
    id of its own there: that id shows the character's own look, so the costume would be lost
    and paid for. One error per look and vendor, naming the shots that wear it."""
    key = target.identity_key if target is not None else ""
    identities, looks = faces.identities, faces.looks
    worn: dict[tuple[str, str, str], list[str]] = {}
    for episode in episodes:
        for shot in episode.shots:
            for name, look in shot.looks.items():
                for vendor in _ids_sent(shot.request, name, key, identities.get(name)):
                    own = looks[name][look].identity  # a make refused: said at its line
                    if own is None or vendor not in own.ids:
                        worn.setdefault((name, look, vendor), []).append(
                            f"{shot.episode}/{shot.id}")
    return [_unworn(doc, looks[name][look], name, look, vendor, shots, identities[name], target)
            for (name, look, vendor), shots in worn.items()]


def _ids_sent(request: ShotRequest, name: str, key: str, found: Identity | None
              ) -> list[str]:
    """The vendors ``name``'s picture goes to by an id in ``request`` (its element's, its
    portrait's on the target: ``key``)."""
    if found is None:
        return []
    sent_as = {m.role for m in request.media if m.character == name}
    out = [ELEMENT_VENDOR] if "element" in sent_as else []
    if "reference_image" in sent_as and key and (key in found.assets
                                                 or key in found.portraits_made):
        out.append(key)
    return out


def _unworn(doc: Document, look: WornLook, name: str, worn: str, vendor: str,
            shots: list[str], found: Identity, target: Target | None) -> Diagnostic:
    what = "element" if vendor == ELEMENT_VENDOR else "asset"
    where = "Kling 4.0" if vendor == ELEMENT_VENDOR else \
        f"{vendor} ({target.title})" if target is not None else vendor
    as_what = "saved element" if what == "element" else "registered portrait"
    more = f" and {len(shots) - 1} more shot(s)" if len(shots) > 1 else ""
    return doc.diagnostic(look.where, (
        f"look {worn!r} of {name} is worn by {shots[0]}{more} on {where}, where {name} goes as "
        f"its {as_what} (identity.{vendor}.{what}: {found.ids[vendor][what]}), which shows "
        f"{name}'s own look, not {worn!r}: the look would be lost and paid for; expected the "
        f"look's own: looks.{worn}.identity: {{{vendor}: {{{what}: ID}}}} (or {what}: make, "
        f"made from the look's sheet), or those shots not in this look there (look: base) "
        f"({LOOK_DOCS})"), key=True, code="look-identity")


def unregistered_faces(target: Target | None, doc: Document, characters: Mapping[str, Cast],
                       episodes: Iterable[CompiledEpisode], faceless: Mapping[str, bool]
                       ) -> list[Diagnostic]:
    """One warning naming every character whose photoreal picture goes by URL to ``target``,
    a target that refuses faces sent by URL (``faceless``: a place, a prop or a drawn look);
    at the first of them in the series file."""
    if target is None or target.faces_by_url:
        return []
    sent_by_url = {name for episode in episodes for shot in episode.shots
                   for m in shot.request.media
                   if m.role == "reference_image" and (name := m.character) is not None
                   and name in characters and not faceless.get(name, False)
                   and not (m.ref is not None and m.ref.url is not None
                            and target.names_identity(m.ref.url))
                   and not (m.ref is not None and m.ref.asset is not None
                            and is_portrait(m.ref.asset))}
    names = sorted(sent_by_url, key=lambda n: (doc.span(characters[n].where, key=True).line, n))
    if not names:
        return []
    key = target.identity_key or target.name
    return [doc.diagnostic(characters[names[0]].where, (
        f"{', '.join(names)}: {'a photoreal picture goes' if len(names) == 1 else 'photoreal pictures go'}"
        f" by URL to {target.name} ({target.title}), which refuses faces sent by URL (\"may "
        "contain real person\"); register each face in the vendor's portrait library and "
        f"declare it: identity: {{{key}: {{asset: ID}}}}, or let storyboard make a sheet it drew "
        f"into one: identity: {{{key}: {{asset: make}}}} ({IDENTITY_DOCS}); a drawn look "
        "named in the series' style (anime, cartoon, hand-drawn, ...) usually passes"),
        key=True, severity="warning", code="identity-faces")]


def is_drawn(*words: str) -> bool:
    """Whether any of ``words`` (the series' style, a character's description) names a drawn
    look rather than a photoreal one."""
    return any(DRAWN.search(text) for text in words if text)


class Resolved(Protocol):
    """What the face warning reads of the resolver: the series file, its style, its cast."""

    @property
    def source(self) -> Source: ...

    @property
    def style(self) -> str: ...

    @property
    def characters(self) -> Mapping[str, Cast]: ...

    @property
    def generated(self) -> Mapping[str, GeneratedImage]: ...

    @property
    def looks(self) -> Mapping[str, Mapping[str, WornLook]]: ...


def faces_of(resolver: Resolved) -> Faces:
    """The resolved series' identities: its characters' and their looks'."""
    return Faces({name: c.identity for name, c in resolver.characters.items() if c.identity},
                 resolver.looks)


def face_problems(target: Target | None, resolver: Resolved, faces: Faces,
                  episodes: list[CompiledEpisode]) -> list[Diagnostic]:
    """What the compiled series' faces say on ``target``: ``unworn_faces``' errors and
    ``face_warnings``' warning."""
    return [*unworn_faces(target, resolver.source.series, faces, episodes),
            *face_warnings(target, resolver, episodes)]


def face_warnings(target: Target | None, resolver: Resolved,
                  episodes: Iterable[CompiledEpisode]) -> list[Diagnostic]:
    """``unregistered_faces`` for a compiled series: a place or a prop drawn from words, and
    a look the series' style or the character's words call drawn, shows no photoreal face."""
    faceless = {name: made is not None and (made.subject != "character" or is_drawn(made.words))
                for name, made in resolver.generated.items()}
    key = target.identity_key if target is not None else ""
    faceless.update({name: True for name, c in resolver.characters.items()  # registered: a
                     if c.identity is not None and key  # look of its that goes by URL is
                     and (key in c.identity.assets or key in c.identity.portraits_made)})  # an error
    if is_drawn(resolver.style):
        return []
    return unregistered_faces(target, resolver.source.series, resolver.characters, episodes,
                              faceless)
