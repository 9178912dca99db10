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
with a problem located in another file is never kept. The result is what a cold check gives: the
same shots, hashes and problems, in the same order.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from storyboard.errors import Diagnostic
from storyboard.language import parsecache
from storyboard.language.cast import SpokenLine
from storyboard.language.document import Document, PathKey
from storyboard.language.request import CompiledEpisode, MediaRef
from storyboard.language.resolve import MediaUse, ResolvedEpisode, Resolver
from storyboard.language.series import EpisodeSource, Source
from storyboard.targets.capabilities import FileRule

if TYPE_CHECKING:
    from storyboard.language.compile import Compiler

MAX_KEPT = 2048  # episodes a process keeps
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


Identity = tuple[str, PathKey, str, str, str]
_KEPT: dict[Identity, list[Kept]] = {}
_KEEPING = threading.Lock()
# episodes resolved anew, taken as kept, compiled anew (of those kept) since forget()
STATS = {"resolved": 0, "reused": 0, "compiled": 0}


def forget() -> None:
    """Drop what this process keeps (parsed documents and episodes): the next check is cold."""
    with _KEEPING:
        _KEPT.clear()
    parsecache.forget()
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
        self._base = _digest([{k: v for k, v in series.items() if k not in CAST},
                              series.get("voices"), str(source.root), os.getcwd()])
        self.kept: dict[int, Kept] = {}  # by id() of each episode handed out

    def media_ref(self, doc: Document, path: PathKey, value: str, role: str,
                  rule: FileRule | None = None) -> MediaRef | None:
        ref = super().media_ref(doc, path, value, role, rule)
        if self._recording is not None and ref is not None and ref.path is not None:
            use = MediaUse(ref.path, role, doc, path, rule)
            self._recording.append(Use((ref.path, role), use, doc is self.source.series))
        return ref

    def _context(self, names: tuple[str, ...]) -> str:
        characters = _mapping(self.series.get("characters"))
        return _digest([self._base, names, [characters.get(n) for n in names if n != "\0all"],
                        sorted(characters) if "\0all" in names else None])

    def _episode(self, source: EpisodeSource) -> ResolvedEpisode | None:
        identity = _identity(source)
        if identity is None:
            return super()._episode(source)
        for kept in _KEPT.get(identity, []):
            if kept.context == self._context(kept.names):
                return self._replay(kept)
        before, self._recording, spoken = len(self.problems), [], set(self.lines)
        try:
            episode = super()._episode(source)
        finally:
            uses, self._recording = self._recording, None
        lines = {k: v for k, v in self.lines.items() if k not in spoken}
        STATS["resolved"] += 1
        problems = self.problems[before:]
        if episode is None or any(p.span is None or p.span.file != episode.doc.name
                                  for p in problems):
            return episode  # a problem in another file: its place there may move
        names = tuple(sorted({r.name for s in episode.shots for r in s.references}))
        names = (*names, "\0all") if problems else names
        kept = Kept(episode, self._context(names), names, problems, uses, lines=lines)
        _keep(identity, kept)
        self.kept[id(episode)] = kept
        return episode

    def _replay(self, kept: Kept) -> ResolvedEpisode:
        STATS["reused"] += 1
        self.problems += kept.problems
        self.lines.update(kept.lines)
        for item in kept.uses:
            use = replace(item.use, doc=self.source.series) if item.in_series else item.use
            self.media.setdefault(item.key, use)
        self.kept[id(kept.resolved)] = kept
        return kept.resolved


def _identity(source: EpisodeSource) -> Identity | None:
    if not source.doc.digest:
        return None
    return (source.doc.digest, source.path, source.default_id, str(source.doc.file),
            os.getcwd())


def _keep(identity: Identity, kept: Kept) -> None:
    with _KEEPING:  # checks in several threads (the MCP server's tools) keep one table
        if sum(map(len, _KEPT.values())) >= MAX_KEPT:
            _KEPT.clear()
        others = [k for k in _KEPT.get(identity, []) if k.context != kept.context]
        _KEPT[identity] = [*others[-7:], kept]  # a few variations of a matrix side by side


def compiled(compiler: Compiler, resolver: Resolver, episode: ResolvedEpisode,
             digests: dict[Path, str]) -> CompiledEpisode:
    """``episode`` compiled, or as compiled last time when it was resolved from what this process
    keeps and every file its requests name has the same content. A gateway's checks say some
    problems once per series, so with a gateway an episode is always compiled anew."""
    kept = resolver.kept.get(id(episode)) if isinstance(resolver, MemoResolver) else None
    if kept is None or compiler.gateway is not None:
        return compiler._episode(episode, digests)
    name = compiler.source.name
    if kept.compiled is not None and kept.compiled_as == name and all(
            digests.get(p) == d for p, d in kept.files.items()) and all(
            compiler.asset_hashes.get(a) == h for a, h in kept.assets.items()):
        compiler.problems += kept.compile_problems
        return kept.compiled
    before = len(compiler.problems)
    result = compiler._episode(episode, digests)
    STATS["compiled"] += 1
    kept.compiled, kept.compiled_as = result, name
    kept.compile_problems = compiler.problems[before:]
    kept.files = {p: digests.get(p) for p in _files(result)}
    kept.assets = {a: h for shot in result.shots for a, h in shot.needs.items()}
    return result


def _files(episode: CompiledEpisode) -> Iterator[Path]:
    for shot in episode.shots:
        for take in shot.all_takes():
            for item in take.request.media:
                for ref in (item.ref, item.voice):
                    if ref is not None and ref.path is not None:
                        yield ref.path


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
