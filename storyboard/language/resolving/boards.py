"""The ``boards:`` blocks and a shot's ``board:`` into each shot's board and what it becomes in its video.

With a ``boards:`` block (in the series, an episode or a shot; the nearer one wins key by key)
every shot has a board: a still made by an image model from the shot's words and its cast
(``boardshots`` compiles it), or the shot's own still (``board: media/x.png``, never paid). A
shot says ``board: false`` to have none and ``board: {prompt: ...}`` to word it itself;
``first_frame: {generate: ...}`` is the same as ``board: {prompt: ...}``. What the board becomes
in the video request is the model's declaration (``Model.handoff``): the first frame beside the
references, the first frame alone, a reference image, or, where frames and references exclude
each other, what ``boards: {as: ...}`` says (a warning names the references a first frame
replaces). Continuity is opt-in: ``chain`` (the previous board of the same place as a
reference), ``places`` (a place's picture in every board set there until another place is
named) and ``last_frame: next`` (the next shot's board as this shot's last frame).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from storyboard.errors import Diagnostic
from storyboard.language.document import Document, PathKey
from storyboard.language.read.schemacheck import did_you_mean
from storyboard.language.request import MediaRef, board_id
from storyboard.language.resolving import looks
from storyboard.language.resolving.resolved import (
    DEFAULT_BOARD_MODEL,
    Board,
    Given,
    Layer,
    Reference,
    ResolvedShot,
    Resolving,
    Role,
    Settings,
)
from storyboard.targets.cast.assets import BOARD_MODELS

# The board's types live with the resolved shot that carries them; importers keep this path.
__all__ = ["DEFAULT_BOARD_MODEL", "KEYS", "Board", "Layer", "Role", "Settings", "attach",
           "board_pass", "link", "settings"]

KEYS = ("model", "size", "takes", "gate", "as", "chain", "last_frame", "places")


# --- settings -------------------------------------------------------------------------------




def settings(layers: list[Layer]) -> Settings | None:
    """The blocks at ``layers`` (farthest first) merged; None when none of them is there."""
    found: dict[str, Any] = {}
    where: dict[str, tuple[bool, PathKey]] = {}
    present = False
    for index, (doc, path) in enumerate(layers):
        block = doc.get(path)
        if not isinstance(block, dict):
            continue
        present = True
        for key in KEYS:
            if key in block:
                found[key], where[key] = block[key], (index == 0, (*path, key))
    if not present:
        return None
    return _typed(found, where)


def _typed(found: dict[str, Any], where: dict[str, tuple[bool, PathKey]]) -> Settings:
    """Each key of its type (another type is the schema's error: the default stands in)."""
    def value(key: str, kind: type, default: Any) -> Any:
        got = found.get(key, default)
        return got if isinstance(got, kind) and (kind is bool or not isinstance(got, bool)) \
            else default
    takes = value("takes", int, 1)
    return Settings(model=value("model", str, DEFAULT_BOARD_MODEL), size=value("size", str, ""),
                    takes=takes if 1 <= takes <= 10 else 1, gate=value("gate", bool, True),
                    as_=value("as", str, ""), chain=value("chain", bool, False),
                    last_frame=found.get("last_frame") == "next",
                    places=value("places", bool, False), where=where)


# --- a shot's board -------------------------------------------------------------------------


def board_pass(resolver: Resolving, shot: ResolvedShot, given: Given) -> None:
    """The pass: the shot's board and its hand-off (``attach``); a board that is a reference
    image joins the references, labelled after them."""
    given.names = attach(resolver, shot, given.raw, resolver.board_layers, given.names)
    board = shot.board
    if board is None or board.role != "reference" or not shot.model.takes_references:
        return
    images = sum(1 for r in shot.references if r.role == "reference_image")
    if images + 1 > shot.model.max_images:
        resolver.error(shot.doc, shot.path, (
            f"with its board as a reference this shot has {images + 1} image references; "
            f"{shot.model.id} takes at most {shot.model.max_images}: expected fewer "
            "characters, or boards: {as: none} for this shot"))
    shot.references.append(Reference(board.id, "reference_image", board.ref,
                                     f"Image {images + 1}", None))


def attach(resolver: Resolving, shot: ResolvedShot, raw: dict[str, Any], layers: list[Layer],
           names: list[str]) -> list[str]:
    """``shot``'s board (``shot.board``) and its hand-off: a first frame, a reference, or
    nothing. Returns the names that stay the video's references (a first frame that replaces
    them leaves none: they are written as words, ``shot.plain``)."""
    wanted = _wanted(resolver, shot, raw)
    if wanted is False or (wanted is None and "boards" not in raw and not any(
            isinstance(doc.get(path), dict) for doc, path in layers)):
        return names  # no boards here, and the shot asks for none (most series)
    found = settings([*layers, (shot.doc, (*shot.path, "boards"))])
    if found is None and wanted is None:
        return names  # no boards here, and the shot asks for none
    found = _own_takes(found or Settings(), raw.get("board"), shot.path)
    explicit = wanted is not None
    if _framed(shot, raw):
        if explicit:
            resolver.problems.append(shot.doc.diagnostic((*shot.path, _board_key(raw)), (
                "this shot starts from a frame or clip of its own; expected either that or a "
                "board, not both (board: false keeps the frame)")))
        return names
    series = layers[0][0]  # the series file: where a block may set a key
    _check_model(resolver, shot, found, series)
    role = _role(resolver, shot, raw, found, names, series)
    if role is None:
        return names
    words, still = wanted if isinstance(wanted, tuple) else (None, None)
    pictured = tuple(_pictured(resolver, names))
    board = Board(board_id(shot.episode, shot.id), found, str(shot.params.get("ratio", "16:9")),
                  role, words, still, pictured,
                  tuple(looks.picture(resolver, shot, n) for n in pictured))
    shot.board = board
    return _hand_off(shot, board, names)


def _own_takes(found: Settings, value: Any, path: PathKey) -> Settings:
    """``board: {takes: N}``: this shot's number of candidate boards, over the blocks'."""
    takes = value.get("takes") if isinstance(value, dict) else None
    if not isinstance(takes, int) or isinstance(takes, bool) or not 1 <= takes <= 10:
        return found
    return replace(found, takes=takes, where={**found.where, "takes": (False, (*path, "board"))})


def _board_key(raw: dict[str, Any]) -> str:
    return "board" if "board" in raw else "first_frame"


def _wanted(resolver: Resolving, shot: ResolvedShot, raw: dict[str, Any]
            ) -> bool | tuple[str | None, MediaRef | None] | None:
    """What the shot says of its board: False (none), None (nothing: the blocks decide), or
    its own words or its own still."""
    value = raw.get("board")
    frame = raw.get("first_frame")
    if isinstance(frame, dict) and isinstance(frame.get("generate"), str):
        if "board" in raw:
            resolver.problems.append(shot.doc.diagnostic((*shot.path, "first_frame"), (
                "first_frame: {generate: ...} is this shot's board in other words; expected "
                "one of them, not both (keep board:)")))
        else:
            return frame["generate"], None
    if value is False:
        return False
    if isinstance(value, dict):
        words = value.get("prompt")
        return (words if isinstance(words, str) else None), None
    if isinstance(value, str):
        still = resolver.media_ref(shot.doc, (*shot.path, "board"), value, "image")
        return (None, still) if still is not None else False
    return None


def _framed(shot: ResolvedShot, raw: dict[str, Any]) -> bool:
    """The shot starts from a frame or clip of its own (its board would have no place)."""
    frame = raw.get("first_frame")
    own = isinstance(frame, str) or (isinstance(frame, dict) and "from" in frame)
    return own or bool({"first_clip", "source_video"} & raw.keys())


def _check_model(resolver: Resolving, shot: ResolvedShot, found: Settings, series: Document) -> None:
    if found.model in BOARD_MODELS:
        return
    doc, path = found.located("model", series, shot)
    _once(resolver, doc.diagnostic(path, (
        f"unknown board model {found.model!r}{did_you_mean(found.model, BOARD_MODELS)}; "
        f"expected one of: {', '.join(BOARD_MODELS)}")))


def _once(resolver: Resolving, problem: Diagnostic) -> None:
    """``problem`` said once, however many shots a block it is located at reaches."""
    if problem not in resolver.problems:
        resolver.problems.append(problem)
    else:
        resolver.repeats += 1


def _role(resolver: Resolving, shot: ResolvedShot, raw: dict[str, Any], found: Settings,
          names: list[str], series: Document) -> Role | None:
    """What the board becomes on the shot's model; None (with an error) where it cannot."""
    model, wanted = shot.model, found.as_
    handoff = model.handoff
    if wanted == "none":
        return "none"
    refused = {"none": "it takes no picture",
               "alone": "it takes no references" if wanted == "reference" else "",
               "reference": "it takes no first frame" if wanted == "first_frame" else ""}
    why = refused.get(handoff, "")
    if why:
        doc, path = (shot.doc, (*shot.path, _board_key(raw))) if "board" in raw or \
            "first_frame" in raw else found.located("as", series, shot)
        become = {"first_frame": "its first frame", "reference": "a reference image"}
        _once(resolver, doc.diagnostic(path, (
            f"a board cannot become {become.get(wanted, 'a picture')} of a {model.id} shot: "
            f"{why}; expected board: false for this shot, boards: {{as: none}}, or a model "
            f"that takes {'a reference image' if wanted == 'reference' else 'a first frame'}")))
        return None
    if handoff == "exclusive" and not wanted and names:
        resolver.problems.append(shot.doc.diagnostic(shot.path, (
            f"{model.id} takes a first frame or references, not both: this shot's board "
            f"becomes its first frame and replaces {', '.join('@' + n for n in names)} (written "
            "as words); expected boards: {as: first_frame | reference | none} to choose"),
            severity="warning", code="board-replaces"))
    if handoff == "reference":
        return "reference"
    return wanted or "first_frame"


def _pictured(resolver: Resolving, names: list[str]) -> list[str]:
    """Who is in the board: the shot's characters that are pictures (a reference video is not
    an image an image model takes)."""
    return [n for n in names if resolver.characters[n].role == "reference_image"]


def _hand_off(shot: ResolvedShot, board: Board, names: list[str]) -> list[str]:
    """The board as the video's first frame (a reference is added by the resolver); the
    references that remain."""
    if board.role != "first_frame":
        return names
    shot.first_frame = board.ref
    if shot.model.handoff in ("exclusive", "alone"):
        shot.plain = tuple(names)
        shot.references = []
        return []
    return names


# --- continuity, across an episode's shots --------------------------------------------------


def link(shots: Sequence[ResolvedShot], places: Mapping[str, Any]) -> None:
    """Each board's chain, carried place and next board, in the episode's order (``places``:
    the series' generated images, by name, each with its ``subject``)."""
    previous: dict[str | None, Board] = {}
    here: str | None = None
    boards = [shot.board for shot in shots]
    for index, shot in enumerate(shots):
        board = boards[index]
        if board is None:
            continue
        named = next((n for n in board.names if _is_place(places, n)), None)
        carried = here if board.settings.places and named is None else None
        here = named or here  # the place a shot is set in: the last one named
        where = here
        before = previous.get(where) if board.settings.chain else None
        after = boards[index + 1] if index + 1 < len(boards) else None
        shot.board = replace(board, place=carried, chain=before.ref if before else None,
                             next=_next(shot, board, after))
        previous[where] = board


def _is_place(places: Mapping[str, Any], name: str) -> bool:
    image = places.get(name)
    return image is not None and getattr(image, "subject", "") == "place"


def _next(shot: ResolvedShot, board: Board, after: Board | None) -> MediaRef | None:
    """The next shot's board as this shot's last frame, where asked and the model takes one
    (beside its references, or with none)."""
    if not board.settings.last_frame or after is None or "last_frame" in shot.frames:
        return None
    model = shot.model
    if "last_frame" not in model.frames or (shot.references and not model.frames_with_references):
        return None
    return after.ref
