"""Unchanged episodes into what they resolved and compiled to last time: a save redoes what it touched.

A process that checks the same series again (the studio on every save, an editor's re-check)
keeps each episode's resolved shots, compiled requests and problems, keyed by all that decides them:

- the episode's document, by its text (``Document.digest``; a templated episode, rendered anew for
  each check, has none and is never kept), where it sits in it and its default id;
- the series' settings (all of the series file but its cast, title and episode list), its voices,
  and the entries of the characters the episode's shots use (every character's name too when the
  episode has a problem: "unknown character" lists them), the series folder and the working folder
  (problems are shown relative to it);
- for the compiled requests: the series' name and the content digest of every file they name.

So an edit to one episode re-resolves that episode; an edit to one character re-resolves the
episodes whose shots use it; a new media file's bytes recompile the episodes naming it. An episode
with a problem located in another file is never kept. Only the last text checked at each place
(file and path) is kept: an edited episode's earlier texts, and the documents they hold, are let
go.

Inside an episode that changed, each shot is kept too (``KeptShot``), keyed by its own entry (its
data and its place in the file), the episode's id and defaults (and where each was set), whether
the shot its ``first_frame: {from: ...}`` names comes earlier, the previous shot's duration when it
has a transition, the series' settings and the entries of the characters it uses. Its compiled
form is reused while the files it names have the same content, the cast's takes it uses the same
hashes and the shot its first frame comes from the same hash. So an edit to one shot of a
100-shot episode resolves and compiles that shot (and a shot whose first frame or transition
depends on it); a shot that had a problem (or a problem said once for several shots), speaks a
designed voice's line, or is compiled for a gateway is always done anew: its problems are located
by line, and the file's lines may have moved. Shots are kept by place (file and path), the last
version at each, holding the document as it is now. The result is what a cold check gives: the
same shots, hashes and problems, in the same order.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from storyboard.errors import Diagnostic
from storyboard.language.cache import checkcache
from storyboard.language.document import Document, PathKey
from storyboard.language.read import parsecache
from storyboard.language.read.series import EpisodeSource, Source
from storyboard.language.request import CompiledEpisode, CompiledShot, MediaRef
from storyboard.language.resolving import looks
from storyboard.language.resolving.cast import SpokenLine
from storyboard.language.resolving.modelcheck import Origin
from storyboard.language.resolving.resolve import PARAMS, MediaUse, ResolvedEpisode, ResolvedShot, Resolver
from storyboard.targets.capabilities import FileRule


class Compiler(Protocol):
    """What this module needs of ``compile.Compiler`` (declared here, so neither module imports
    the other): the source it compiles, its gateway, its problems, each cast asset's hash, and
    one episode compiled (with ``memo`` keeping its shots)."""

    source: Source
    gateway: Any
    problems: list[Diagnostic]
    asset_hashes: dict[str, str]

    def compile_episode(self, episode: ResolvedEpisode, digests: dict[Path, str],
                 memo: ShotMemo | None = None) -> CompiledEpisode: ...

MAX_KEPT = 2048  # episodes a process keeps
MAX_SHOTS = 50_000  # places of shots a process keeps
CAST = frozenset({"characters", "voices", "episodes", "title"})  # keyed apart, or not read


@dataclass
class Use:
    """A media file an episode named: what the resolver registers for it."""

    key: tuple[Path, str]
    use: MediaUse
    in_series: bool  # named by the series file (its music): registered with the current one


@dataclass
class Kept:
    """One episode as a check left it."""

    resolved: ResolvedEpisode
    context: str
    names: tuple[str, ...]
    problems: list[Diagnostic]
    uses: list[Use]
    compiled: CompiledEpisode | None = None
    compiled_as: str = ""  # the series' name it was compiled under
    compile_problems: list[Diagnostic] = field(default_factory=list)
    files: dict[Path, str | None] = field(default_factory=dict)  # digests the requests were made of
    lines: dict[str, SpokenLine] = field(default_factory=dict)  # lines its shots speak (``say``)
    assets: dict[str, str] = field(default_factory=dict)  # the cast's takes its requests use
    number: int = 0  # its place in the series, where a look's range makes it count (else 0)


@dataclass
class KeptShot:
    """One shot of an episode as a check left it (a shot with no problem)."""

    resolved: ResolvedShot
    context: str
    names: tuple[str, ...]
    uses: list[Use]
    compiled: CompiledShot | None = None
    compiled_as: str = ""  # the series' name it was compiled under
    files: dict[Path, str | None] = field(default_factory=dict)  # digests its requests name
    assets: dict[str, str] = field(default_factory=dict)  # the cast's takes its requests use
    depends: str | None = None  # the hash of the shot its first frame comes from
    board: Any = None  # its board as compiled (its links to the shots around it may change)


Identity = tuple[str, PathKey, str, str, str]
ShotKey = tuple[str, PathKey, str, str, str, Any, Any, str]
_KEPT: dict[Identity, list[Kept]] = {}
_PLACES: dict[tuple[Any, ...], Identity] = {}  # each episode's place -> its text kept there
# by the shot's place (its file and path): the last version of each series' settings there, so
# an edited shot's earlier versions (and the documents they hold) are let go
_SHOTS: dict[tuple[str, PathKey], list[tuple[ShotKey, KeptShot]]] = {}
_KEEPING = threading.Lock()
# since forget(): episodes resolved anew, taken as kept, compiled anew (of those kept); shots
# resolved anew and taken as kept (in episodes resolved anew), compiled anew and taken as kept
# (in episodes compiled anew, without a gateway)
STATS = {"resolved": 0, "reused": 0, "compiled": 0, "shots_resolved": 0, "shots_reused": 0,
         "shots_compiled": 0, "shots_kept": 0}


def forget() -> None:
    """Drop what this process keeps (parsed documents, episodes, shots): the next check is cold."""
    with _KEEPING:
        _KEPT.clear()
        _PLACES.clear()
        _SHOTS.clear()
    parsecache.forget()
    checkcache.forget()
    for name in STATS:
        STATS[name] = 0


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class MemoResolver(Resolver):
    """The resolver, with each episode taken from what this process keeps when nothing that
    decides it changed, and kept after it is resolved."""

    def __init__(self, source: Source) -> None:
        self._recording: list[Use] | None = None
        super().__init__(source)
        series = self.series
        self._cwd = os.getcwd()  # once per check, not once per shot
        self._base = _digest([{k: v for k, v in series.items() if k not in CAST},
                              series.get("voices"), str(source.root), self._cwd])
        self.kept: dict[int, Kept] = {}  # by id() of each episode handed out
        # by id() of each shot handed out (with the shot: an id is unique only while it lives)
        self.kept_shots: dict[int, tuple[ResolvedShot, KeptShot]] = {}
        self._contexts: dict[tuple[str, ...], str] = {}
        self._facts: tuple[dict[str, Any], dict[str, Origin], str] | None = None

    def media_ref(self, doc: Document, path: PathKey, value: str, role: str,
                  rule: FileRule | None = None) -> MediaRef | None:
        ref = super().media_ref(doc, path, value, role, rule)
        if self._recording is not None and ref is not None and ref.path is not None:
            use = MediaUse(ref.path, role, doc, path, rule)
            self._recording.append(Use((ref.path, role), use, doc is self.source.series))
        return ref

    def _context(self, names: tuple[str, ...]) -> str:
        found = self._contexts.get(names)
        if found is None:
            characters = _mapping(self.series.get("characters"))
            found = _digest([self._base, names,
                             [characters.get(n) for n in names if n != "\0all"],
                             sorted(characters) if "\0all" in names else None])
            self._contexts[names] = found
        return found

    def _episode(self, source: EpisodeSource) -> ResolvedEpisode | None:
        identity = _identity(source)
        if identity is None:
            return super()._episode(source)
        number = self._number()
        for kept in _KEPT.get(identity, []):
            if kept.context == self._context(kept.names) and kept.number == number:
                return self._replay(kept)
        before, self._recording, spoken = len(self.problems), [], set(self.lines)
        repeats = self.repeats
        try:
            episode = super()._episode(source)
        finally:
            uses, self._recording = self._recording, None
        lines = {k: v for k, v in self.lines.items() if k not in spoken}
        STATS["resolved"] += 1
        problems = self.problems[before:]
        if episode is None or self.repeats != repeats or any(
                p.span is None or p.span.file != episode.doc.name for p in problems):
            return episode  # a problem in another file (its place there may move), or one
            # said once for several episodes (another episode may stop saying it)
        names = tuple(sorted({r.name for s in episode.shots for r in s.references}))
        names = (*names, "\0all") if problems else names
        kept = Kept(episode, self._context(names), names, problems, uses, lines=lines,
                    number=number)
        _keep(identity, kept)
        self.kept[id(episode)] = kept
        return episode

    def _number(self) -> int:
        """The episode's place in the series where a look's range makes it count, else 0 (an
        episode moved in the list is then still the same)."""
        return self.episode_number if looks.ranged(self.looks) else 0

    # --- shots --------------------------------------------------------------------------------

    def _shot(self, doc: Document, path: PathKey, raw: dict[str, Any], shot_id: str,
              episode: str, defaults: dict[str, Any], earlier: list[ResolvedShot],
              origins: dict[str, Origin]) -> ResolvedShot | None:
        key = self._shot_key(doc, path, raw, episode, defaults, earlier, origins)
        if key is None or self._recording is None:
            return super()._shot(doc, path, raw, shot_id, episode, defaults, earlier, origins)
        kept = next((k for found, k in _SHOTS.get(key[:2], ()) if found == key), None)
        if kept is not None and kept.context == self._context(kept.names):
            return self._replay_shot(kept, doc, path, raw, origins)
        before, repeats, mark = len(self.problems), self.repeats, len(self._recording)
        spoken = len(self.lines)
        shot = super()._shot(doc, path, raw, shot_id, episode, defaults, earlier, origins)
        STATS["shots_resolved"] += 1
        if shot is None or len(self.problems) != before or self.repeats != repeats or \
                len(self.lines) != spoken:  # a line it speaks: kept with its episode
            return shot
        names = tuple(sorted({r.name for r in shot.references}))
        kept = KeptShot(shot, self._context(names), names, self._recording[mark:])
        _keep_shot(key, kept)
        self.kept_shots[id(shot)] = (shot, kept)
        return shot

    def _shot_key(self, doc: Document, path: PathKey, raw: dict[str, Any], episode: str,
                  defaults: dict[str, Any], earlier: list[ResolvedShot],
                  origins: dict[str, Origin]) -> ShotKey | None:
        """All that decides a shot but the characters it uses (checked by ``_context``)."""
        if not doc.digest:
            return None
        facts = self._facts
        if facts is None or facts[0] is not defaults or facts[1] is not origins:
            where = sorted((k, o.level, o.path, str(o.doc.file)) for k, o in origins.items())
            boards = [doc.get(path) for doc, path in self.board_layers]  # ``boards:`` blocks
            facts = (defaults, origins, _safe_digest([episode, defaults, where, boards,
                                                      self._number()]))
            self._facts = facts
        own = repr(raw)  # plain data (the loader makes nothing else): equal texts, equal data
        if not facts[2]:
            return None
        frame = raw.get("first_frame")
        target = frame.get("from") if isinstance(frame, dict) else None
        follows = any(s.id == target for s in reversed(earlier)) if isinstance(target, str) \
            else None
        previous = earlier[-1].params.get("duration", 0) if earlier and "transition" in raw \
            else None
        return (str(doc.file), path, self._base, facts[2], own, follows, previous, self._cwd)

    def _replay_shot(self, kept: KeptShot, doc: Document, path: PathKey, raw: dict[str, Any],
                     origins: dict[str, Origin]) -> ResolvedShot:
        """The kept shot, placed in the document as it is now (its lines may have moved)."""
        STATS["shots_reused"] += 1
        assert self._recording is not None
        mark = len(self._recording)
        for item in kept.uses:
            use = replace(item.use, doc=self.source.series if item.in_series else doc)
            self.media.setdefault(item.key, use)
            self._recording.append(Use(item.key, use, item.in_series))
        own = {k: Origin(doc, (*path, k), 2) for k in PARAMS if k in raw}
        shot = replace(kept.resolved, doc=doc, origins={**origins, **own}, models=self.models,
                       _model=None)
        kept.resolved = shot  # the document as it is now: the earlier one is let go
        kept.uses = self._recording[mark:]
        self.kept_shots[id(shot)] = (shot, kept)
        return shot

    def _replay(self, kept: Kept) -> ResolvedEpisode:
        STATS["reused"] += 1
        self.problems += kept.problems
        self.lines.update(kept.lines)
        for item in kept.uses:
            use = replace(item.use, doc=self.source.series) if item.in_series else item.use
            self.media.setdefault(item.key, use)
        self.kept[id(kept.resolved)] = kept
        return kept.resolved


def _safe_digest(value: Any) -> str:
    """``_digest``, or "" for data JSON cannot sort (keys of mixed types: the schema refuses
    them, and such a shot is never kept)."""
    try:
        return _digest(value)
    except (TypeError, ValueError):
        return ""


def _keep_shot(key: ShotKey, kept: KeptShot) -> None:
    with _KEEPING:
        if len(_SHOTS) >= MAX_SHOTS:
            _SHOTS.clear()
        place = key[:2]
        others = [(k, v) for k, v in _SHOTS.get(place, ()) if k[2] != key[2]]
        _SHOTS[place] = [*others[-7:], (key, kept)]  # a few variations of a matrix side by side


def _identity(source: EpisodeSource) -> Identity | None:
    if not source.doc.digest:
        return None
    return (source.doc.digest, source.path, source.default_id, str(source.doc.file),
            os.getcwd())


def warm(source: Source) -> bool:
    """This process keeps an episode of ``source`` as it is now (a check here reuses it)."""
    return any((identity := _identity(ep)) is not None and identity in _KEPT
               for ep in source.episodes)


def _keep(identity: Identity, kept: Kept) -> None:
    with _KEEPING:  # checks in several threads (the MCP server's tools) keep one table
        if sum(map(len, _KEPT.values())) >= MAX_KEPT:
            _KEPT.clear()
            _PLACES.clear()
        place = identity[1:]  # where the episode is: its earlier texts there are let go
        earlier = _PLACES.get(place)
        if earlier is not None and earlier != identity:
            _KEPT.pop(earlier, None)
        _PLACES[place] = identity
        others = [k for k in _KEPT.get(identity, []) if k.context != kept.context]
        _KEPT[identity] = [*others[-7:], kept]  # a few variations of a matrix side by side


def compiled(compiler: Compiler, resolver: Resolver, episode: ResolvedEpisode,
             digests: dict[Path, str]) -> CompiledEpisode:
    """``episode`` compiled, or as compiled last time when it was resolved from what this process
    keeps and every file its requests name has the same content. A gateway's checks say some
    problems once per series, so with a gateway an episode is always compiled anew."""
    memo = ShotMemo(resolver) if isinstance(resolver, MemoResolver) and \
        compiler.gateway is None else None
    kept = resolver.kept.get(id(episode)) if isinstance(resolver, MemoResolver) else None
    if kept is None or compiler.gateway is not None:
        return compiler.compile_episode(episode, digests, memo)
    name = compiler.source.name
    if kept.compiled is not None and kept.compiled_as == name and all(
            digests.get(p) == d for p, d in kept.files.items()) and all(
            compiler.asset_hashes.get(a) == h for a, h in kept.assets.items()):
        compiler.problems += kept.compile_problems
        return kept.compiled
    before = len(compiler.problems)
    result = compiler.compile_episode(episode, digests, memo)
    STATS["compiled"] += 1
    kept.compiled, kept.compiled_as = result, name
    kept.compile_problems = compiler.problems[before:]
    kept.files = _digests_named(result, digests)
    kept.assets = {a: h for shot in result.shots for a, h in shot.needs.items()}
    return result


class ShotMemo:
    """Each shot's compiled form as kept with it, while all that decides it is the same."""

    def __init__(self, resolver: MemoResolver) -> None:
        self.resolver = resolver

    def _kept(self, shot: ResolvedShot) -> KeptShot | None:
        entry = self.resolver.kept_shots.get(id(shot))
        return entry[1] if entry is not None and entry[0] is shot else None

    def compiled(self, compiler: Compiler, shot: ResolvedShot, digests: dict[Path, str],
                 hashes: dict[str, str]) -> CompiledShot | None:
        kept = self._kept(shot)
        if kept is None or kept.compiled is None or kept.compiled_as != compiler.source.name \
                or kept.depends != _dependency(shot, hashes) or kept.board != shot.board or any(
                digests.get(p) != d for p, d in kept.files.items()) or any(
                compiler.asset_hashes.get(a) != h for a, h in kept.assets.items()):
            STATS["shots_compiled"] += 1
            return None
        STATS["shots_kept"] += 1
        first, span = kept.compiled, shot.doc.span(shot.path)
        if first.span == span:
            return first
        moved = replace(first, span=span, others=[replace(o, span=span) for o in first.others])
        kept.compiled = moved
        return moved

    def keep_compiled(self, compiler: Compiler, shot: ResolvedShot, first: CompiledShot,
                      digests: dict[Path, str], hashes: dict[str, str]) -> None:
        """``first`` (compiled with no problem) kept with its shot."""
        kept = self._kept(shot)
        if kept is None:
            return
        kept.compiled, kept.compiled_as = first, compiler.source.name
        kept.files = {p: digests.get(p) for p in _request_files(first)}
        kept.assets = dict(first.needs)
        kept.depends = _dependency(shot, hashes)
        kept.board = shot.board


def _dependency(shot: ResolvedShot, hashes: dict[str, str]) -> str | None:
    """The hash of the shot ``shot``'s first frame comes from (its hash covers it)."""
    return hashes.get(shot.first_frame_from) if shot.first_frame_from is not None else None


def _request_files(shot: CompiledShot) -> list[Path]:
    """The files ``shot``'s request names (its other takes differ only by their seed)."""
    return [ref.path for item in shot.request.media for ref in (item.ref, item.voice)
            if ref is not None and ref.path is not None]


def _digests_named(episode: CompiledEpisode, digests: dict[Path, str]
                   ) -> dict[Path, str | None]:
    """Each file the episode's requests (every take's) name, with its digest (each picture
    the shots share looked at once: by identity, no path hashed a shot)."""
    refs = {id(ref): ref for shot in episode.shots for take in shot.all_takes()
            for item in take.request.media for ref in (item.ref, item.voice) if ref is not None}
    return {ref.path: digests.get(ref.path) for ref in refs.values() if ref.path is not None}


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
