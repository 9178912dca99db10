"""Resolved boards into image requests: a still per shot, worded from the shot, its cast as references.

A board made by an image model compiles into a ``CompiledShot`` of episode ``boards`` and id
``EP/SHOT`` whose ``AssetRequest`` (subject ``board``) has the prompt below, the cast's pictures of
who is in it as references in order (a generated sheet as ``cast/NAME``, its picked take's hash in
``needs``), then a place carried from an earlier board and the board it chains from. The prompt
is the shot's first scene's action (or its prompt, or the board's own words) with each character
named by the label the image model wants (``image 1`` by order; Kling's ``<<<image_1>>>``), its
camera words, its place and who is in it. Its hash covers every reference's content (a generated
one through the hash of the take it uses), so another pick re-plans exactly the boards using it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from storyboard.errors import Diagnostic
from storyboard.language.hashing import take_of
from storyboard.language.read.series import Source
from storyboard.language.request import BOARDS, AssetRequest, CompiledShot, MediaRef, speaker_name
from storyboard.language.resolving.boards import Board
from storyboard.language.resolving.cast import asset_shot
from storyboard.language.resolving.resolve import MENTION, ResolvedEpisode, ResolvedShot
from storyboard.targets.capabilities import NATIVE_SIZES
from storyboard.targets.cast.assets import ImageModel

# Words that say how a shot is framed or moves, longest first where one holds another.
CAMERA_WORDS = (
    "extreme close-up", "extreme wide shot", "medium close-up", "close-up", "close up",
    "medium shot", "wide shot", "long shot", "full shot", "establishing shot", "two-shot",
    "over-the-shoulder", "over the shoulder", "point of view", "pov", "low angle", "high angle",
    "bird's-eye view", "aerial", "top-down", "dutch angle", "tracking shot", "dolly", "push in",
    "pull back", "zoom in", "zoom out", "pan", "tilt", "crane", "handheld", "insert",
    "silhouette", "profile")
_CAMERA = re.compile(r"\b(" + "|".join(re.escape(w) for w in sorted(
    CAMERA_WORDS, key=len, reverse=True)) + r")\b", re.IGNORECASE)
FRAME_RULE = "One single frame: no panels, no split screen, no text, no watermark."
SIZE = re.compile(r"^(\d+)\*(\d+)$")


def camera_words(text: str) -> list[str]:
    """The camera words in ``text``, each once, in the order they first appear (lower case)."""
    return list(dict.fromkeys(m.group(1).lower() for m in _CAMERA.finditer(text)))


def default_size(model: ImageModel, ratio: str) -> str:
    """The board's size for a shot of ``ratio``: 1080P's size of that shape (1920*1080 at
    16:9), grown to the model's fewest pixels (Seedream's 2560*1440)."""
    width, height = NATIVE_SIZES.get(("1080P", ratio)) or _shape(ratio)
    if model.min_pixels and width * height < model.min_pixels:
        grow = math.sqrt(model.min_pixels / (width * height))
        width, height = _up16(width * grow), _up16(height * grow)
    return f"{width}*{height}"


def _shape(ratio: str) -> tuple[int, int]:
    """1080P's short side at ``ratio`` ("21:9"), the long side a multiple of 16; 16:9 for a
    ratio without numbers ("adaptive")."""
    match = re.fullmatch(r"(\d+):(\d+)", ratio)
    wide, high = (int(match.group(1)), int(match.group(2))) if match else (16, 9)
    if wide >= high:
        return _up16(1080 * wide / high), 1080
    return 1080, _up16(1080 * high / wide)


def _up16(value: float) -> int:
    return int(math.ceil(value / 16 - 1e-9) * 16)


class BoardCompiler:
    """Each made board of a series into its asset shot, checked against its image model."""

    def __init__(self, source: Source, characters: Mapping[str, Any], style: str,
                 hashes: dict[str, str], digests: Mapping[Path, str]) -> None:
        self.series, self.characters, self.style = source.name, characters, style
        self.file = source.series  # the series file, where a ``boards:`` key may be set
        self.hashes = hashes  # each asset's take-1 hash by id: the cast's, then each board's
        self.digests = digests
        self.problems: list[Diagnostic] = []

    def all(self, episodes: Iterable[ResolvedEpisode]) -> list[CompiledShot]:
        """Every made board, in episode and shot order (a chained board after the one it
        chains from), its hash added to ``hashes`` as it is compiled."""
        made: list[CompiledShot] = []
        for episode in episodes:
            for shot in episode.shots:
                board = shot.board
                if board is not None and board.made:
                    compiled = self.compile(shot, board)
                    self.hashes[f"{BOARDS}/{compiled.id}"] = compiled.hash
                    made.append(compiled)
        return made

    def compile(self, shot: ResolvedShot, board: Board) -> CompiledShot:
        """One board into its asset shot (take 1, with its other takes)."""
        model = board.settings.image_model
        refs = self.refs(board)
        labels = {name: model.label.format(index=i + 1) for i, name in enumerate(board.names)}
        size = board.settings.size or default_size(model, board.ratio)
        prompt = self.prompt(shot, board, labels, model, len(refs))
        self._check(shot, board, model, refs, size, prompt)
        seed = _seed(shot.params.get("seed"), model)
        name = board.id.removeprefix(BOARDS + "/")
        request = AssetRequest("image", model.id, prompt, name, refs=tuple(refs), size=size,
                               subject="board", seed=seed)
        form = {"asset": "image", "subject": "board", "model": model.id, "prompt": prompt,
                "size": size, "n": 1, "refs": [self._form(r) for r in refs], "seed": seed}
        first = asset_shot(self.series, BOARDS, name, request, form, shot.doc.span(shot.path),
                           self.digests)
        first.request = replace(first.request, ratio=board.ratio)  # not 16:9 always
        first.needs = {r.asset: self.hashes.get(r.asset, "?") for r in refs
                       if r.asset is not None}
        first.gate = board.settings.gate
        first.people = dict(zip(board.names, board.pictures or refs, strict=False))
        first.others = [take_of(first, k) for k in range(2, board.settings.takes + 1)]
        return first

    def refs(self, board: Board) -> list[MediaRef]:
        """Who is in it, then a carried place's picture, then the board it chains from."""
        refs = list(board.pictures) or [self.characters[n].ref for n in board.names]
        if board.place is not None and board.place in self.characters:
            refs.append(self.characters[board.place].ref)
        if board.chain is not None:
            refs.append(board.chain)
        return refs

    def _form(self, ref: MediaRef) -> dict[str, str]:
        if ref.asset is not None:
            return {"asset": self.hashes.get(ref.asset, "?")}
        if ref.path is not None:
            return {"sha256": self.digests.get(ref.path, f"missing:{ref.path.name}")}
        return {"url": str(ref.url)}

    # --- the prompt -----------------------------------------------------------------------

    def prompt(self, shot: ResolvedShot, board: Board, labels: Mapping[str, str],
               model: ImageModel, count: int) -> str:
        """The board's words: what happens, the camera, the place, who is in it, the style."""
        text = _action(shot, board)
        parts = [f"Storyboard frame: {_named(text, labels).rstrip('.')}."]
        camera = camera_words(" ".join([text, *_texts(shot)]))
        if camera:
            parts.append(f"Camera: {', '.join(camera)}.")
        if board.place is not None:
            label = model.label.format(index=len(labels) + 1)
            parts.append(f"Place: {speaker_name(board.place)} ({label}).")
        if labels:
            parts.append("In frame: " + ", ".join(f"{speaker_name(n)} ({label})"
                                                  for n, label in labels.items()) + ".")
        if board.chain is not None:
            label = model.label.format(index=count)
            parts.append(f"Keep the look of the previous frame ({label}).")
        if self.style.strip():
            parts.append(f"Style: {self.style.strip().rstrip('.')}.")
        parts.append(FRAME_RULE)
        return " ".join(parts)

    # --- checks -----------------------------------------------------------------------------

    def _check(self, shot: ResolvedShot, board: Board, model: ImageModel,
               refs: list[MediaRef], size: str, prompt: str) -> None:
        if len(prompt) > model.prompt_limit:
            self._error(shot, board, "", (
                f"this shot's board prompt has {len(prompt)} characters; {model.id} takes at "
                f"most {model.prompt_limit}: expected a shorter first scene, or the board's "
                "own words (board: {prompt: ...})"))
        if len(refs) > model.max_references:
            self._error(shot, board, "", (
                f"this shot's board has {len(refs)} references ({', '.join(map(str, refs))}); "
                f"{model.id} takes at most {model.max_references}: expected fewer characters "
                "in the shot, or an image model that takes more (boards: {model: ...})"))
        match = SIZE.match(size)
        problem = model.size_problem(int(match.group(1)), int(match.group(2)), len(refs)) \
            if match else "W*H"
        if problem is not None:
            self._error(shot, board, "size", (
                f"board size {size}: {model.id} does not make it; expected {problem}"))

    def _error(self, shot: ResolvedShot, board: Board, key: str, message: str) -> None:
        doc, path = board.settings.located(key, self.file, shot)
        problem = doc.diagnostic(path, message)
        if problem not in self.problems:
            self.problems.append(problem)


def _seed(value: Any, model: ImageModel) -> int | None:
    """The shot's seed, within the image model's range (a video model's may be wider)."""
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    return value % (model.seed_max + 1)


def _action(shot: ResolvedShot, board: Board) -> str:
    """What the board shows: its own words, else the shot's first scene's action (its first
    line's speaker speaking, for a scene of lines alone), else its prompt."""
    if board.words is not None:
        return board.words
    if shot.prompt is not None:
        return shot.prompt
    scene = shot.scenes[0] if shot.scenes else None
    if scene is None:
        return ""
    if scene.action:
        return scene.action
    return f"@{scene.say[0][0]} speaks" if scene.say else ""


def _texts(shot: ResolvedShot) -> list[str]:
    """Every scene's action (camera words may sit in a later one)."""
    return [scene.action for scene in shot.scenes]


def _named(text: str, labels: Mapping[str, str]) -> str:
    """``text`` with each ``@name`` as its label (``@@`` as ``@``; a name without a label, its
    name in words)."""
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return "@"
        return labels.get(name) or speaker_name(name)
    return MENTION.sub(one, text)
