"""The lock's records of derived takes (a lip-sync pass or an edit by words over a rendered take)
into the shot's takes, each kept beside its parent; its request is compiled by ``language.derived``.

A derived take is a take of the shot (``shot#k``) whose request is a pass over its parent's file:
``wan2.7-videoedit`` with the words of ``retake --edit``, or ``videoretalk`` with the lines' made
audio laid at their windows (``retake --lipsync``). The lock keeps what made it (the shot's take
state ``derived``, a list: its number, kind and hash, its parent's take and hash, the words or
the track, and the version of the shot it was asked for, ``for``: the retakes' ``extra_for``);
its number is one a retake would take (``extra``), so the two never collide. Its hash is
the digest of both inputs (the parent's file by content, and the words or the track by content),
so the runner prices, asks consent, journals, caches and never pays it twice, as any take; pick
and approve take it as any take. It holds while its parent is the take it was made from: after an
edit of the shot (the parent's hash changed) it is stale: listed under its parent's hash by
``takes``, never rendered again, never deleted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from storyboard.errors import StoryboardError
from storyboard.language.derived import Pass, PassKind
from storyboard.language.derived import derived_take as compiled
from storyboard.language.picks import state_key
from storyboard.language.request import (
    CompiledEpisode,
    CompiledShot,
    Line,
    Manifest,
    MediaRef,
)
from storyboard.run.state.cache import OutputCache, cast_source
from storyboard.run.state.lock.lockfile import LockFile, TakeState
from storyboard.targets.kinds import CAST_MAKER, EDIT_MODEL, LIPSYNC_MODEL

Kind = PassKind
# An extension is made by the parent's own model's task (Kling 4.0): no model of its own.
MODELS: dict[str, str] = {"edit": EDIT_MODEL, "lipsync": LIPSYNC_MODEL, "extend": ""}
TRACKS = Path(".storyboard") / "derived"  # the lip-sync passes' tracks, by content


@dataclass(frozen=True)
class Derived:
    """What made a derived take: the lock's record of it."""

    take: int
    kind: Kind
    parent: int
    parent_hash: str
    version: str = ""  # the shot's version it was asked for (its retakes' ``extra_for``)
    hash: str = ""  # the derived take's own, as asked for
    words: str = ""  # an edit's
    track: str = ""  # a lip-sync pass's audio, relative to the series folder
    track_sha256: str = ""
    editor: str = ""  # the model an edit is made on, when not wan2.7-videoedit (Seedance 2.5)
    seconds: int = 0  # an extension's own length (its output seconds)

    @property
    def model(self) -> str:
        return self.editor or MODELS[self.kind]

    def record(self) -> dict[str, Any]:
        own = {"words": self.words} if self.kind != "lipsync" else \
            {"track": self.track, "track_sha256": self.track_sha256}
        editor: dict[str, Any] = {"model": self.editor} if self.editor else {}
        if self.kind == "extend":
            editor["seconds"] = self.seconds
        return {"take": self.take, "kind": self.kind, "parent": self.parent,
                "parent_hash": self.parent_hash, "for": self.version, "hash": self.hash, **own,
                **editor}

    def asked(self, root: Path) -> Pass:
        """The pass this record asks for, its track under the series folder ``root``."""
        return Pass(self.kind, self.model, self.words,
                    root / self.track if self.kind == "lipsync" else None, self.track_sha256,
                    own_editor=bool(self.editor), seconds=self.seconds)

    def said(self) -> str:
        """``edit of take 1``, ``lip-sync of take 2``, ``5 s extension of take 1``."""
        if self.kind == "extend":
            return f"{self.seconds} s extension of take {self.parent}"
        return f"{'edit' if self.kind == 'edit' else 'lip-sync'} of take {self.parent}"

    def same_pass(self, other: Derived) -> bool:
        """The same pass over the same parent (asking again renders that one)."""
        return (self.kind, self.parent_hash, self.words, self.track_sha256, self.model,
                self.seconds) == (other.kind, other.parent_hash, other.words,
                                  other.track_sha256, other.model, other.seconds)


def records(state: TakeState) -> list[Derived]:
    """A shot's derived takes as the lock keeps them, every version's (a malformed record is
    left out: it makes no take, and nothing is paid for it)."""
    given = state.get("derived")
    found = [_record(data) for data in (given if isinstance(given, list) else ())]
    return [d for d in found if d is not None]


def current(state: TakeState) -> dict[int, Derived]:
    """The derived takes of the shot's version its retakes are for now, by take number."""
    return {d.take: d for d in records(state) if d.version == state.get("extra_for")}


def _record(data: object) -> Derived | None:
    if not isinstance(data, Mapping) or data.get("kind") not in MODELS or \
            not all(_whole(data.get(k)) for k in ("take", "parent")):
        return None
    text = {k: str(data.get(k) or "") for k in ("parent_hash", "for", "hash", "words", "track",
                                                 "track_sha256", "model")}
    seconds = data.get("seconds", 0)
    return Derived(int(data["take"]), data["kind"], int(data["parent"]), text["parent_hash"],
                   text["for"], text["hash"], text["words"], text["track"],
                   text["track_sha256"], text["model"],
                   seconds if _whole(seconds) else 0)


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


# --- derived takes among the shot's takes -------------------------------------------------------


def with_derived(manifest: Manifest, lock: LockFile) -> Manifest:
    """``manifest`` (its retakes added) with each derived take in place of the retake its number
    names; a stale one (its parent changed, or never rendered) is left out, never rendered."""
    episodes = [replace(ep, shots=[_with_own(s, lock, manifest.root) for s in ep.shots])
                for ep in manifest.episodes]
    return replace(manifest, episodes=episodes)


def _with_own(shot: CompiledShot, lock: LockFile, root: Path) -> CompiledShot:
    own = current(lock.takes.get(state_key(shot), {}))
    if not own:
        return shot
    takes = {t.take: t for t in shot.all_takes()}
    others = []
    for take in shot.others:  # in number order: a parent comes before what is derived from it
        record = own.get(take.take)
        made = take if record is None else derived_take(shot, takes.get(record.parent), record,
                                                        lock, root)
        if made is not None:
            takes[take.take] = made
            others.append(made)
    return replace(shot, others=others)


def parent_file(parent: CompiledShot, lock: LockFile, root: Path) -> tuple[Path, str] | None:
    """The rendered file of ``parent`` as the lock records it (its path in the cache of the
    provider that made it, and its content's sha256); None when it never rendered."""
    entry = lock.shots.get(f"{parent.series}/{parent.episode}/{parent.id}") or {}
    sha, key = entry.get("output_sha256"), entry.get("cache_key")
    if entry.get("hash") != parent.hash or not sha or not key:
        return None
    return OutputCache(root, str(key)).path(parent.hash), str(sha)


def derived_take(shot: CompiledShot, parent: CompiledShot | None, record: Derived,
                 lock: LockFile, root: Path) -> CompiledShot | None:
    """The take ``record`` makes of ``parent`` (compiled by ``language.derived``); None when it
    is stale (the parent changed, or never rendered)."""
    if parent is None or parent.hash != record.parent_hash:
        return None
    found = parent_file(parent, lock, root)
    if found is None:
        return None
    video, sha = found
    return compiled(shot, parent, record.take, record.asked(root), video, sha)


# --- asking for one -----------------------------------------------------------------------------


def asked(state: TakeState, wanted: Derived, first: int, fields: dict[str, Any]
          ) -> tuple[Derived, dict[str, Any] | None]:
    """The take ``wanted`` is: the one the same pass over the same parent got before (no lock
    change: it renders, or is cached), else take ``first`` with the retake ``fields`` that
    number it and the record that makes it."""
    same = next((d for d in current(state).values() if d.same_pass(wanted)), None)
    if same is not None:
        return same, None
    made = replace(wanted, take=first, version=str(fields.get("extra_for") or ""))
    return made, {**fields, "derived": [*(d.record() for d in records(state)), made.record()]}


def refuse_length(model: str, seconds: float, low: float, high: float, shot: str) -> None:
    """A pass over a take its service does not take, refused before anything is asked."""
    if not low <= seconds <= high:
        raise StoryboardError(f"{shot}: {model} takes a video of {low:g} to {high:g} s; "
                              f"the take in use lasts {seconds:g} s")


def made_files(shot: CompiledShot, lock: LockFile, root: Path) -> dict[str, Path]:
    """The made files of the cast assets ``shot`` needs (a line's spoken audio), by asset id."""
    entry = lock.shots.get(f"{shot.series}/{shot.episode}/{shot.id}") or {}
    cache = OutputCache(root, cast_source(str(entry.get("cache_key") or CAST_MAKER)))
    return {asset: cache.path(h) for asset, h in shot.needs.items() if cache.has(h)}


def made_line(shot: CompiledShot, made: Mapping[str, Path]) -> tuple[Path, float] | None:
    """The shot's made line and where it starts: a line routed ``lipsync`` (the line made in the
    speaker's designed voice, ``lines/EP/SHOT``) at its window, else the shot's driving audio (a
    file of the series', or a made line) from the take's start; None when there is none made."""
    lines = [(line.audio, line.start) for scene in shot.request.scenes for line in scene.lines
             if line.route == "lipsync" and line.audio is not None]
    item = shot.request.item("driving_audio")
    found = lines or ([(item.ref, 0.0)] if item is not None and item.ref is not None else [])
    for ref, start in found:
        path = ref.path or made.get(ref.asset or "")
        if path is not None and path.is_file():
            return path, start
    return None


def routes_lipsync(shot: CompiledShot) -> bool:
    """Whether a line of ``shot`` reaches the lips by a lip-sync pass over its take."""
    return any(line.route == "lipsync" for scene in shot.request.scenes for line in scene.lines)


def first_line_start(shot: CompiledShot) -> float:
    """Where the shot's first spoken line starts (0 without lines)."""
    return min((line.start for scene in shot.request.scenes for line in scene.lines),
               default=0.0)


def heard_files(episode: CompiledEpisode, root: Path, cache_key: str) -> CompiledEpisode:
    """``episode`` with each line heard only (route none) naming its made file (in the cast
    cache of a render under ``cache_key``) in place of its ``lines/EP/SHOT/N`` asset (what the stitcher
    mixes in); a line not made yet keeps its name."""
    cast = OutputCache(root, cast_source(cache_key))
    return replace(episode, shots=[_heard_shot(s, {a: cast.path(h) for a, h in s.needs.items()
                                                   if cast.has(h)}) for s in episode.shots])


def _heard_shot(shot: CompiledShot, made: Mapping[str, Path]) -> CompiledShot:
    scenes = tuple(replace(scene, lines=tuple(_heard_line(line, made) for line in scene.lines))
                   for scene in shot.request.scenes)
    return replace(shot, request=replace(shot.request, scenes=scenes))


def _heard_line(line: Line, made: Mapping[str, Path]) -> Line:
    asset = line.audio.asset if line.audio is not None else None
    if line.route != "none" or asset is None or asset not in made:
        return line
    return replace(line, audio=MediaRef(path=made[asset]))
