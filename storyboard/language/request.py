"""The provider-neutral form: what a compiled shot asks for, before any dialect shapes it.

A ``ShotRequest`` is what every later stage reads: the dialects turn it into a provider's body, the
``local`` provider turns it into an animatic, stitching reads its scenes for subtitles. Local files are
absolute paths here; the hash (see ``compile``) replaces each by the sha256 of its content.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from storyboard.errors import Diagnostic, Span
from storyboard.targets.kinds import named

MediaRole = Literal["reference_image", "reference_video", "reference_audio", "first_frame",
                    "middle_frame", "last_frame", "first_clip", "driving_audio", "source_video", "element",
                    "voice_id"]
# Items that are ids a vendor made (a character's declared identity: Kling's saved element and
# voice), sent as ids, never as files.
IDENTITY_ROLES = ("element", "voice_id")
REFERENCE_ROLES = ("reference_image", "reference_video")
INPUT_VIDEO_ROLES = ("reference_video", "first_clip", "source_video")  # video the service reads

URL_PREFIXES = ("https://", "http://", "oss://", "data:")


def is_url(ref: str) -> bool:
    return ref.startswith(URL_PREFIXES)


@dataclass(frozen=True)
class Mention:
    """A reference named in the prompt: which character, of which kind, its number in that kind.

    The neutral form keeps mentions as these tokens; each dialect writes them in its label style
    ("Image 1" natively, "Image1" on the arrays marketplace, "image 1" on the roles gateway).
    An ``audio`` mention is a voice sent as a ``reference_audio`` item (wan3.0-video's "Audio 1");
    an ``element`` and a ``voice`` are a character's saved element and voice sent by id (Kling 4.0).
    """

    name: str
    kind: Literal["image", "video", "audio", "element", "voice"]
    index: int


Token = str | Mention
LabelStyle = Callable[[Mention], str]


_LABELS: dict[tuple[str, int], str] = {}


def native_label(mention: Mention) -> str:
    """DashScope's label style, and the one the hash is computed over: "Image 1", "Video 2"."""
    key = (mention.kind, mention.index)
    label = _LABELS.get(key)
    if label is None:
        label = _LABELS[key] = f"{mention.kind.capitalize()} {mention.index}"
    return label


_SPELLED: dict[str, LabelStyle] = {}


def spelled(spelling: str) -> LabelStyle:
    """A label style from a declared spelling: ``[{Kind} {index}]`` writes "[Image 1]"."""
    style = _SPELLED.get(spelling)
    if style is None:
        def style(mention: Mention) -> str:
            return spelling.format(Kind=mention.kind.capitalize(), kind=mention.kind,
                                   index=mention.index)
        _SPELLED[spelling] = style
    return style


def write(tokens: Iterable[Token], style: LabelStyle = native_label) -> str:
    """Tokens into prompt text, each mention written in ``style``."""
    return "".join([t if t.__class__ is str else style(t) for t in tokens])  # type: ignore[arg-type]


@dataclass(frozen=True)
class MediaRef:
    """A file on disk (``path``), a URL (``url``), a cast asset this series makes (``asset``:
    ``cast/mia``, ``voices/mia-voice``, ``lines/ep01/hook``), or the id of something a vendor made
    (``id``: a Kling element or voice a character declares): exactly one is set. An asset becomes
    the file of its picked take when the run hands the shot to a provider (``run.assets``)."""

    path: Path | None = None
    url: str | None = None
    asset: str | None = None
    id: str | None = None

    @property
    def local(self) -> bool:
        return self.path is not None

    def __str__(self) -> str:
        if self.asset is not None:
            return self.asset
        if self.id is not None:
            return self.id
        return str(self.path) if self.path is not None else str(self.url)


@dataclass(frozen=True)
class MediaItem:
    """One entry of the media array, in order; ``label`` is "Image 1", "Video 2", or None."""

    role: MediaRole
    ref: MediaRef | None  # None only for a first frame taken from another shot
    label: str | None = None
    character: str | None = None
    voice: MediaRef | None = None
    from_shot: str | None = None  # first_frame: {from: SHOT}
    # A made line handed over as driving audio: padded (``silence`` or ``room_tone``) to the
    # model's shortest driving audio, its words ``lead`` seconds in (the line's scene start).
    pad: str = ""
    lead: float = 0.0


# each reference's item made once (they are frozen, and shared by the shots that name it: each
# stored once too, ``storedform.SHARED``), by its fields (its pictures by identity: kept with it)
_ITEMS: dict[tuple[str, int, str, str, int], MediaItem] = {}


def reference_item(role: str, ref: MediaRef, label: str, name: str,
                   voice: MediaRef | None) -> MediaItem:
    """A reference's media item, the one made before when it is the same."""
    key = (role, id(ref), label, name, id(voice))
    found = _ITEMS.get(key)
    if found is None or found.ref is not ref or found.voice is not voice:
        found = MediaItem(role, ref, label, name, voice)  # type: ignore[arg-type]
        if len(_ITEMS) >= 100_000:
            _ITEMS.clear()
        _ITEMS[key] = found
    return found


@dataclass(frozen=True)
class Line:
    """A line of dialogue, timed by its scene's window."""

    speaker: str  # character name
    label: str  # its label in the prompt ("Image 2")
    text: str
    start: float
    end: float
    voice: MediaRef | None = None  # the speaker's voice clip, if any
    video_voice: MediaRef | None = None  # else a reference video whose own audio is the voice
    # How it reaches the lips (``targets.video.models.LineRoute``; docs/dialogue.md) and, for a route
    # that hands the line over as audio (driving_audio, lipsync), the line made in the speaker's
    # designed voice (``lines/EP/SHOT``) and how it is padded when short.
    route: str = "voice_reference"
    audio: MediaRef | None = None
    pad: str = ""


@dataclass(frozen=True)
class Scene:
    """A timed segment of a shot; ``text`` has its @mentions already replaced by labels."""

    index: int
    start: float
    end: float
    text: str
    lines: tuple[Line, ...] = ()


@dataclass(frozen=True)
class ShotRequest:
    model: str
    prompt: str
    media: tuple[MediaItem, ...]
    resolution: str
    ratio: str
    duration: int
    prompt_extend: bool | None  # None: the model takes no such switch, so it is not sent
    watermark: bool
    negative_prompt: str | None = None
    seed: int | None = None
    audio: bool | None = None  # wan3.0-video's sound switch; None: not sent
    scenes: tuple[Scene, ...] = ()
    # The prompt with its mentions as tokens; ``prompt`` is the same in the native style. Empty for
    # a request built by hand, whose prompt then has no mentions to rewrite.
    tokens: tuple[Token, ...] = ()
    # A pass over its ``source_video`` by the model's own task (a derived take): ``edit`` or
    # ``extend`` (Kling 4.0's, whose body says which); "" for a shot of its own.
    task: str = ""

    def prompt_in(self, style: LabelStyle) -> str:
        """The prompt with every mention written in ``style``."""
        return write(self.tokens, style) if self.tokens else self.prompt

    @property
    def references(self) -> tuple[MediaItem, ...]:
        """The characters' images and videos (what the model keeps consistent)."""
        return tuple(m for m in self.media if m.role in REFERENCE_ROLES)

    @property
    def first_frame(self) -> MediaItem | None:
        return self.item("first_frame")

    def item(self, role: MediaRole) -> MediaItem | None:
        """The first media item of ``role``, if any."""
        return next((m for m in self.media if m.role == role), None)

    @property
    def has_input_video(self) -> bool:
        """A video the service reads (a reference video, a clip to continue): maybe billed."""
        return any(m.role in INPUT_VIDEO_ROLES for m in self.media)

    @property
    def has_video_reference(self) -> bool:
        return any(m.role == "reference_video" for m in self.media)


@dataclass(frozen=True)
class Transition:
    type: str = "cut"  # cut | fade | crossfade | wipeleft | ... (see stitch.transitions)
    duration: float = 0.0


CUT = Transition()  # a shot's transition when it says none (frozen: one for every shot)


@dataclass
class CompiledShot:
    series: str
    episode: str
    id: str
    request: ShotRequest
    hash: str  # sha256 of the canonical request with local files replaced by their content hash
    span: Span | None = None
    transition: Transition = CUT
    depends_on: str | None = None  # the shot whose last frame is this shot's first frame
    inputs: dict[str, str] = field(default_factory=dict)  # local path -> sha256 of its content
    canonical: dict[str, Any] = field(default_factory=dict)  # what the hash was computed over
    take: int = 1  # which take of the shot this is; take k > 1 has the id ``shot#k``
    others: list[CompiledShot] = field(default_factory=list)  # take 1's takes 2..N
    # A cast asset (episode ``cast``, ``voices`` or ``lines``) is compiled as a shot of its own
    # kind: ``asset`` says what it asks for; ``request`` then carries its model and prompt only.
    asset: AssetRequest | None = None
    needs: dict[str, str] = field(default_factory=dict)  # asset id -> hash of the take it uses
    # what the shot intends its takes to show (``checks:``: ``cuts``, ``silent``, ``ignore``):
    # not hashed, it changes what is measured as a finding, never what is rendered
    checks: dict[str, Any] = field(default_factory=dict)
    # the shot's board, read from one place (the run, the animatic, the studio): the asset
    # ``boards/EP/SHOT`` or the path of its own still; not hashed (its media and needs are)
    board: MediaRef | None = field(default=None, repr=False)
    # a board (episode ``boards``): whether its video waits for its approval (``boards: {gate:
    # false}``: a picked board is enough); not hashed
    gate: bool = field(default=True, repr=False)
    # each character that wears one of its looks here, and which (``compile`` shows it); not
    # hashed (the look's picture is in the media)
    looks: dict[str, str] = field(default_factory=dict, repr=False)
    # who the shot (or its board) declares, each with the picture it wears here (its look's):
    # what its takes' people are measured against; not hashed (the pictures are in the media)
    people: dict[str, MediaRef] = field(default_factory=dict, repr=False)

    @property
    def name(self) -> str:
        """The shot's own id, whichever take this is (``ballad`` for ``ballad#2``)."""
        return self.id.partition("#")[0]

    @property
    def shot_id(self) -> str:
        """``episode/shot``: how commands name the shot all its takes belong to."""
        return f"{self.episode}/{self.name}"

    def all_takes(self) -> list[CompiledShot]:
        """Take 1 and every other take of this shot, in take order."""
        return [self, *self.others]


VoiceKind = Literal["designed", "recorded", ""]  # a character's voice: from words, a file, none
AssetKind = Literal["image", "voice", "speech", "element", "kvoice", "portrait"]
BOARDS = "boards"  # the episode a board lives in: ``boards/EP/SHOT``
ELEMENTS = "elements"  # where a character's element made on a vendor lives: ``elements/NAME``
KVOICES = "kvoices"  # where a character's voice made on Kling lives: ``kvoices/NAME``
PORTRAITS = "portraits"  # a character's portrait made in Ark's asset library: ``portraits/NAME``
# Reserved episode ids: where assets live.
ASSET_EPISODES = ("cast", "voices", "lines", BOARDS, ELEMENTS, KVOICES, PORTRAITS)


PICKED_ASSETS = ("cast", "voices", BOARDS)  # the assets the take commands name (each picked)


def is_picked_asset(shot_id: str) -> bool:
    """Whether ``shot_id``, as the take commands write it, names an asset others use: a cast
    sheet (``cast/NAME``), a designed voice (``voices/NAME``) or a board (``boards/EP/SHOT``)."""
    return shot_id.partition("/")[0] in PICKED_ASSETS and "/" in shot_id


def is_board(shot_id: str) -> bool:
    """Whether ``shot_id``, as commands write it (``boards/EP/SHOT``), names a shot's board."""
    return shot_id.startswith(BOARDS + "/")


def board_id(episode: str, shot: str) -> str:
    """How commands and shots name a shot's board: ``boards/EP/SHOT``."""
    return f"{BOARDS}/{episode}/{shot}"
# An element's file is its picture as the vendor shows it (its id is the task id that made it).
ASSET_SUFFIX: dict[str, str] = {"image": ".png", "voice": ".wav", "speech": ".wav",
                                "element": ".png", "kvoice": ".wav",  # a made voice's: its clip
                                "portrait": ".png"}  # a portrait's: the sheet it was made from


def is_portrait(asset: str) -> bool:
    """Whether an asset id names a portrait storyboard makes in Ark's asset library."""
    return asset.startswith(PORTRAITS + "/")


def by_id(ref: MediaRef | None) -> bool:
    """Whether a character's voice goes by its id on the vendor: declared there (``id``), or a
    voice storyboard makes there (``kvoices/NAME``, its id known once made)."""
    return ref is not None and (ref.id is not None or (
        ref.asset is not None and ref.asset.startswith(KVOICES + "/")))


@dataclass(frozen=True)
class AssetRequest:
    """A cast asset to make: a generated image (a character sheet, a place, a prop), a designed
    voice, or a line spoken in a designed voice. Its hash ends with the file type it addresses
    (``<sha256>.png``), so the cache and the store keep it under its own kind of name."""

    kind: AssetKind
    model: str  # wan2.7-image(-pro) | qwen-voice-design | a qwen3-tts-vd snapshot
    prompt: str  # the image recipe's prompt, the voice's description, or the line to speak
    name: str  # the character, voice or line it makes
    refs: tuple[MediaRef, ...] = ()  # images that guide a generated image
    size: str = ""  # ``W*H`` of an image
    subject: str = ""  # an image's recipe: character | place | prop
    sample: str = ""  # a voice's preview text (its reference audio says it)
    language: str = ""  # a voice's language; a line's: its voice's (sent as ``language_type``)
    target_model: str = ""  # the speech snapshot a voice is designed for
    voice: str = ""  # a line's voice: ``voices/NAME``
    seed: int | None = None

    @property
    def suffix(self) -> str:
        return ASSET_SUFFIX[self.kind]


@dataclass
class CompiledEpisode:
    id: str
    title: str
    shots: list[CompiledShot]
    settings: dict[str, Any] = field(default_factory=dict)  # output, music, cards, subtitles
    span: Span | None = None


# What ``providers:`` may hold for every provider at once: settings that carry no credential and
# lead no key anywhere (a base_url, headers or key_env belong to one provider's block).
SHARED_SETTINGS = ("media_base_url", "concurrency", "submit_rate", "poll", "max_wait",
                   "max_download_mb", "timeout", "use_data_uris_below", "clock_skew")
# What leads a key somewhere: never shared, only in the block of the provider it belongs to.
NEVER_SHARED = ("base_url", "headers", "key_env", "workspace")


def provider_settings(block: Any, providers: Any, name: str) -> dict[str, tuple[Any, str]]:
    """Each setting provider ``name`` uses and where it is set: ``providers:``'s shared settings,
    over them its block in ``providers:`` (``providers.NAME``), over both the ``provider:``
    block when it names ``name`` (``own_settings``). No block leads to another provider."""
    found: dict[str, tuple[Any, str]] = {}
    table = providers if isinstance(providers, dict) else {}
    for key in SHARED_SETTINGS:
        if key in table:
            found[key] = (table[key], f"providers.{key}")
    own = table.get(name)
    for key, value in (own.items() if isinstance(own, dict) else ()):
        found[str(key)] = (value, f"providers.{name}.{key}")
    for key, value in own_settings(block, name).items():
        found[key] = (value, f"provider.{key}")
    return found


def settings_of(block: Any, providers: Any, name: str) -> dict[str, Any]:
    """The settings provider ``name`` uses (``provider_settings`` without where)."""
    return {key: value for key, (value, _) in provider_settings(block, providers, name).items()}


def own_settings(block: Any, name: str) -> dict[str, Any]:
    """The settings of a ``provider:`` block that provider ``name`` uses: all of them when the
    block names it (a block without a name is ``local``'s), else none. A block's settings belong
    to the provider it names: its ``base_url`` and headers never lead another provider's key to
    that host (``render --provider dashscope`` on a gateway's block uses DashScope's defaults)."""
    if not isinstance(block, dict) or named(block) != name:
        return {}
    return dict(block)


@dataclass
class Manifest:
    """A compiled series: what ``storyboard compile`` prints and every later stage reads."""

    title: str
    name: str  # the series' folder name, used for output paths
    root: Path  # the series folder
    source: Path  # storyboard.yaml (or the single file)
    episodes: list[CompiledEpisode]
    provider: dict[str, Any] = field(default_factory=dict)  # the series' `provider:` settings
    store: Any = None  # the series' `store:` setting (a URL or {url, options}), as written
    ledger: Any = None  # the series' `ledger:` setting (a postgresql:// URL), as written
    checks: dict[str, Any] = field(default_factory=dict)  # the series' `checks:` thresholds
    warnings: list[Diagnostic] = field(default_factory=list)
    retakes: bool = False  # the lock's extra takes (``retake``) are added to the shots
    # An ``output.dir`` leading outside the series folder: refused unless ``-o`` names the folder.
    output_problem: Diagnostic | None = None

    cast: list[CompiledShot] = field(default_factory=list)  # generated assets, made first
    providers: dict[str, Any] = field(default_factory=dict)  # the series' `providers:` map

    def settings_for(self, name: str) -> dict[str, Any]:
        """The series' settings provider ``name`` uses (``provider:`` and ``providers:``)."""
        return settings_of(self.provider, self.providers, name)

    def setting_where(self, name: str, key: str) -> str:
        """Where the series sets provider ``name``'s ``key`` (``providers.ark.base_url``)."""
        found = provider_settings(self.provider, self.providers, name).get(key)
        return found[1] if found else f"provider.{key}"

    def shots(self) -> list[CompiledShot]:
        """Each cast asset, then each shot, once, as its take 1."""
        return [*self.cast, *(shot for episode in self.episodes for shot in episode.shots)]

    def episode_shots(self) -> list[CompiledShot]:
        """Each shot of an episode once, as its take 1 (no cast assets)."""
        return [shot for episode in self.episodes for shot in episode.shots]

    def takes(self) -> list[CompiledShot]:
        """Every take of every shot: each one is a paid request of its own."""
        return [take for shot in self.shots() for take in shot.all_takes()]


def take_id(shot_id: str, take: int) -> str:
    """A take's own id: the shot's id for take 1 (as before takes existed), else ``id#k``."""
    return shot_id if take == 1 else f"{shot_id}#{take}"


def speaker_name(name: str) -> str:
    """How a speaker is named to viewers (subtitles and the animatic's captions alike): the key's
    words (``_`` between them) each with a capital first letter, ``little_brave`` -> ``Little
    Brave``."""
    words = [word[:1].upper() + word[1:] for word in name.split("_") if word]
    return " ".join(words) or name
