"""What the resolver's passes share: the resolved shot, the context they resolve in, the pass type.

``resolve.Resolver`` parses a shot's own keys into a ``ResolvedShot`` and then runs its declared
``PASSES`` in order (frames, the board, the lines' routes, the model's checks, ...). Each pass is
a function ``(context, shot, given)``: ``Resolving`` is what any pass may read of the resolver
(declared once, here, for all of them; the resolver is the one context), ``ResolvedShot`` the
one concrete shot they all set, and ``Given`` what the shot's YAML said and the passes before
found. A new pass is one more entry in ``resolve.PASSES``, not a new call and a new protocol.
``Board`` and ``Origin``, which a shot carries, live here too (``boards`` and ``modelcheck``
re-export them), so that every pass module imports this one and none imports the resolver.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from storyboard.errors import Diagnostic
from storyboard.language.document import Document, PathKey
from storyboard.language.read.ranges import Ranges
from storyboard.language.request import CUT, MediaRef, Transition
from storyboard.language.resolving import cast
from storyboard.language.resolving.identity import Identity
from storyboard.language.resolving.scenes import ResolvedScene
from storyboard.targets.capabilities import FileRule
from storyboard.targets.cast.assets import BOARD_MODELS, ImageModel
from storyboard.targets.video.models import DEFAULT_MODEL, MODELS, WAN27_R2V, Model, model_of

DEFAULT_BOARD_MODEL = "wan2.7-image"
# How a reference of each role is labelled natively (a Kling element: a character's identity).
WORDS = {"reference_image": "Image", "reference_video": "Video", "element": "Element"}
Role = str  # "first_frame" | "reference" | "none": what the board is in the video request
Layer = tuple[Document, PathKey]  # a document and the path of a ``boards:`` block in it


@dataclass(frozen=True)
class Settings:
    """The ``boards:`` blocks that reach a shot, merged key by key (nearest wins), with where
    each key was set, for a located error: in the series file or in the shot's own document,
    and its path there (a document by role, not by object: a kept shot's may have been
    re-read since)."""

    model: str = DEFAULT_BOARD_MODEL
    size: str = ""  # "" : the image model's size for the shot's ratio
    takes: int = 1
    gate: bool = True
    as_: str = ""  # "" : as the model's declaration says
    chain: bool = False
    last_frame: bool = False
    places: bool = False
    where: Mapping[str, tuple[bool, PathKey]] = field(default_factory=dict, compare=False)

    @property
    def image_model(self) -> ImageModel:
        return BOARD_MODELS.get(self.model) or BOARD_MODELS[DEFAULT_BOARD_MODEL]

    def located(self, key: str, series: Document, shot: ResolvedShot) -> tuple[Document, PathKey]:
        """Where ``key`` was set (the shot itself when no block set it)."""
        found = self.where.get(key)
        if found is None:
            return shot.doc, shot.path
        return (series if found[0] else shot.doc), found[1]


@dataclass(frozen=True)
class Board:
    """A shot's board as resolved: made from words (``still`` None) or the shot's own still."""

    id: str  # boards/EP/SHOT
    settings: Settings
    ratio: str
    role: Role
    words: str | None = None  # the shot's own words for it (``board: {prompt: ...}``)
    still: MediaRef | None = None  # the shot's own still
    names: tuple[str, ...] = ()  # who is in it, in order (its references)
    pictures: tuple[MediaRef, ...] = ()  # each one's picture, in ``names``' order (its look's)
    chain: MediaRef | None = None  # the board before it in the same place (``chain``)
    place: str | None = None  # a place carried from an earlier board (``places``)
    next: MediaRef | None = None  # the next shot's board: this shot's last frame

    @property
    def ref(self) -> MediaRef:
        """The board as the video request names it."""
        return self.still if self.still is not None else MediaRef(asset=self.id)

    @property
    def made(self) -> bool:
        """Made by an image model (a paid asset), not the shot's own still."""
        return self.still is None


@dataclass(frozen=True)
class Look:
    """One of a character's looks (``looks: {wedding: {image: ..., episodes: "12-20"}}``): its
    picture (a file, or the asset ``cast/ada.wedding`` made from words), the episodes it
    holds over (None: only where a shot asks for it), and its own ids on vendors (``identity:
    {ark: {asset: ID}, kling: {element: ID}}``), sent where the character's would go."""

    character: str
    name: str
    ref: MediaRef
    episodes: Ranges | None
    where: PathKey
    identity: Identity | None = None

    @property
    def asset(self) -> str:
        """The look's name among the cast's: ``ada.wedding`` (its sheet ``cast/ada.wedding``,
        its element ``elements/ada.wedding``, its portrait ``portraits/ada.wedding``)."""
        return look_asset(self.character, self.name)


def look_asset(character: str, look: str) -> str:
    """A character's look as the cast names it: ``ada.wedding``."""
    return f"{character}.{look}"


@dataclass(frozen=True)
class Origin:
    """Where a shot's parameter was set: its document, its key, and how narrow a level it is
    (0: the series' ``defaults``, 1: an episode's, 2: the shot)."""

    doc: Document
    path: PathKey
    level: int


def model_for(params: dict[str, Any], table: Mapping[str, Model] = MODELS) -> Model:
    """The shot's model declaration, from ``table`` (the declarations with the series' own
    limits); an unknown id is the schema's error: the default model stands in."""
    known = model_of(str(params.get("model", DEFAULT_MODEL))) or WAN27_R2V
    return table.get(known.id, known)


@dataclass
class Reference:
    """A character (or a board) the shot's video request names, with its label and voice."""

    name: str
    role: str
    ref: MediaRef
    label: str
    voice: MediaRef | None
    face: MediaRef | None = None  # an element's: the picture the id shows (what takes match)


@dataclass
class ResolvedShot:
    """A shot as the resolver's passes leave it: the one type every pass reads and sets."""

    id: str
    episode: str
    doc: Document
    path: PathKey
    params: dict[str, Any]
    references: list[Reference] = field(default_factory=list)
    scenes: list[ResolvedScene] = field(default_factory=list)
    prompt: str | None = None
    first_frame: MediaRef | None = None
    first_frame_from: str | None = None
    transition: Transition = CUT
    origins: dict[str, Origin] = field(default_factory=dict)  # where each parameter was set
    frames: dict[str, MediaRef] = field(default_factory=dict)  # last_frame, first_clip, ...
    checks: dict[str, Any] = field(default_factory=dict)  # what its takes are meant to show
    pad: tuple[str, float] | None = None  # a made line as driving audio: pad kind, words' start
    heard: dict[tuple[int, int], MediaRef] = field(default_factory=dict)  # (scene, line): made
    board: Board | None = None  # its board (``boards:``, ``board:``)
    plain: tuple[str, ...] = ()  # characters written as words: a first frame replaced them
    looks: dict[str, str] = field(default_factory=dict)  # character -> the look it wears here

    models: Mapping[str, Model] = field(default_factory=lambda: MODELS)  # with the series' limits
    # the model as last looked up, with the ``model`` parameter and table it was looked up for
    _model: tuple[Any, Mapping[str, Model], Model] | None = field(
        default=None, repr=False, compare=False)

    @property
    def model(self) -> Model:
        chosen, memo = self.params.get("model"), self._model
        if memo is not None and memo[0] == chosen and memo[1] is self.models:
            return memo[2]
        model = model_for(self.params, self.models)
        self._model = (chosen, self.models, model)
        return model


@dataclass
class Given:
    """What a pass is handed besides the shot: the shot's YAML mapping, the characters that are
    its references so far (a pass may change them: a first frame that replaces them), the
    earlier shots of its episode."""

    raw: dict[str, Any]
    names: list[str]
    earlier: list[ResolvedShot]


class Resolving(Protocol):
    """The resolve context: what any pass may read of the resolver, and where it says problems."""

    problems: list[Diagnostic]
    repeats: int  # problems found again and not added
    voices: dict[str, MediaRef]
    designed: dict[str, cast.DesignedVoice]
    lines: dict[str, cast.SpokenLine]
    broken: set[str]  # this episode's shots so far left out for their errors
    after_broken: bool  # the shot being resolved follows one left out
    board_layers: list[Layer]  # the ``boards:`` blocks over this episode
    looks: dict[str, dict[str, Look]]  # each character's looks, by name
    episode_number: int  # the episode being resolved: its place in the series, from 1

    @property
    def characters(self) -> Mapping[str, Any]: ...  # each with ``role``, ``ref`` and ``voice``

    def error(self, doc: Document, path: PathKey, message: str, *, key: bool = False) -> None:
        ...

    def media_ref(self, doc: Document, path: PathKey, value: str, role: str,
                  rule: FileRule | None = None) -> MediaRef | None: ...


Pass = Callable[[Resolving, ResolvedShot, Given], None]
