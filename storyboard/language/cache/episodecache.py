"""Each episode's compiled requests into a signed entry on disk: a new process compiles what changed.

The whole compiled series (``checkcache``) is read back only when nothing changed; after a
one-line edit a new process (``storyboard plan`` after a save) would compile every shot again.
So each episode's compiled form is stored too, in ``.storyboard/checked-episodes/``: one file per
episode's place (series, provider, variation, the episode's file and path), holding its key, its
compiled episode, the problems its compile added, the digest of every file its requests name and
the hash of every cast asset they use. Nothing is stored or read while the series has an error,
and nothing is stored once a problem said once per series was said (a model served in another
region, say: whichever episode says it first). A process that keeps the episode's shots (the
studio) compiles from them and stores the episode when it compiled a shot anew, for the next
process.

The key covers what decides the compiled episode, as ``incremental`` keeps it in a process, and
more, since a new process has nothing else to go by:

- the code (``checkcache.code_digest``), the provider, whether media are checked, the series
  folder, its name and the working folder;
- the series file by its text (its settings, cast, looks, continuity, boards and identities) and
  the problems of loading the series;
- the episode's file by its text (the spans of its requests and problems), where it sits in it,
  its id and its place in the series (a look's range of episodes);
- the episode as resolved: each shot's parameters, references, scenes, frames, board (chained
  from the episode before), looks and the rest (``resolved_digest``), so whatever another
  episode or an include changed in it is seen.

When read back, every file its requests name must have the same digest now and every cast asset
(its boards among them) the same hash, else it is compiled anew. A templated or composed episode
(no ``Document.digest``) or one compiled for a gateway (whose checks say problems once per
series) is never stored. Entries are stored, signed and read like ``checkcache``'s (``storedform``:
marshal, never pickle; an entry this user on this machine did not write is compiled anew).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, fields
from operator import attrgetter
from pathlib import Path
from typing import Protocol

from storyboard.errors import Diagnostic
from storyboard.files import LinkedStateFolder, state_folder
from storyboard.language import storedform
from storyboard.language.cache import checkcache, incremental
from storyboard.language.request import CompiledEpisode, CompiledShot
from storyboard.language.resolving.resolve import ResolvedEpisode, ResolvedShot, Resolver
from storyboard.language.resolving.resolved import Reference
from storyboard.language.resolving.scenes import ResolvedScene

FORMAT = "4"  # 4: an element's face; 3: each reference and scene as a tuple, voiceovers sorted
FOLDER = "checked-episodes"
# a resolved shot's fields that are not what it says: its document (the episode file's text is
# keyed), where each parameter was set (problems only), the models table (the series file's)
_NOT_KEYED = frozenset({"doc", "origins", "models", "_model"})
_LISTS = ("references", "scenes")  # keyed apart: their items as tuples (``_shot_key``)
_KEYED = tuple(f.name for f in fields(ResolvedShot) if f.name not in _NOT_KEYED | set(_LISTS))
_keyed = attrgetter(*_KEYED)  # a shot's other keyed fields, as one tuple
_reference = attrgetter(*(f.name for f in fields(Reference)))
_SCENE = tuple(f.name for f in fields(ResolvedScene))
_scene = attrgetter(*_SCENE)
_VOICEOVER = _SCENE.index("voiceover")  # a set: its order differs from process to process
MEMORY_ENTRIES = 4096  # entries whose key a process remembers (written or read)
# each entry file this process wrote or read -> its key, files and cast assets
_KNOWN: dict[Path, tuple[str, dict[str, str | None], dict[str, str]]] = {}
# since the counters were last cleared: episodes read back from disk, compiled and stored
STATS = {"read": 0, "stored": 0}


@dataclass
class Stored:
    """One episode as a new process finds it."""

    episode: CompiledEpisode
    problems: list[Diagnostic]
    files: dict[str, str | None]  # each file its requests name: its digest
    assets: dict[str, str]  # each cast asset they use: its take's hash


def resolved_digest(episode: ResolvedEpisode) -> str:
    """All the resolver made of ``episode`` but its documents and where each value was set: the
    ``repr`` of it all, in one call, the same in every process (``_shot_key``)."""
    refs: dict[int, int] = {}  # id() of each picture or voice the shots name -> its number
    named: dict[str, int] = {}  # each one's ``repr`` -> its number (equal values, one number)
    shots = [_shot_key(shot, refs, named) for shot in episode.shots]
    text = repr([episode.id, episode.title, episode.settings, episode.path, episode.number,
                 shots, list(named)])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _shot_key(shot: ResolvedShot, refs: dict[int, int], named: dict[str, int]
              ) -> tuple[object, ...]:
    """A shot's keyed fields as one tuple, its references and scenes as tuples of their fields
    (plain tuples' ``repr``, not dataclasses'), each reference's picture and voice by its
    number in ``named`` (the shots share them: each written once), a scene's voiceover sorted (a
    set's ``repr`` follows the strings' hashes, salted anew in each process)."""
    references = []
    for reference in shot.references:
        name, role, ref, label, voice, face = _reference(reference)  # a new field: a ValueError
        number, said, shows = (_numbered(m, refs, named) for m in (ref, voice, face))
        references.append((name, role, number, label, said, shows))
    scenes = []
    for scene in shot.scenes:
        values = _scene(scene)
        if values[_VOICEOVER]:
            values = (*values[:_VOICEOVER], sorted(values[_VOICEOVER]), *values[_VOICEOVER + 1:])
        scenes.append(values)
    return (_keyed(shot), references, scenes)


def _numbered(media: object, refs: dict[int, int], named: dict[str, int]) -> int | None:
    """A reference's picture (voice, face) by its number in ``named`` (None: it has none)."""
    if media is None:
        return None
    number = refs.get(id(media))
    if number is None:
        number = refs[id(media)] = named.setdefault(repr(media), len(named))
    return number


def slot(compiler: incremental.Compiler, episode: ResolvedEpisode,
         provider: str | None, check_media: bool) -> checkcache.Slot | None:
    """Where ``episode``'s entry is and the key it must have; None when it is never stored."""
    source = compiler.source
    folder = source.cache.folder
    if folder is None or compiler.gateway is not None or not episode.doc.digest \
            or not source.series.digest:
        return None
    place = json.dumps([str(source.series.file), source.name, provider, check_media,
                        str(episode.doc.file), repr(episode.path)])
    name = hashlib.sha256(place.encode("utf-8")).hexdigest()[:24]
    parts = [FORMAT, checkcache.code_digest(), str(source.root), source.name, provider,
             check_media, os.getcwd(), str(source.series.file), source.series.digest,
             [str(p) for p in source.problems], str(episode.doc.file), episode.doc.digest,
             resolved_digest(episode)]
    wanted = hashlib.sha256(json.dumps(parts).encode("utf-8")).hexdigest()
    try:
        return wanted, state_folder(folder.parent / FOLDER) / f"{name}.entry"
    except (LinkedStateFolder, OSError):
        return None


def read(where: checkcache.Slot, digests: dict[Path, str],
         asset_hashes: dict[str, str]) -> Stored | None:
    """The entry at ``where`` when its key is the one wanted, and every file and cast asset its
    requests use is the same."""
    wanted, file = where
    found = storedform.load(file, wanted, checkcache.COMPRESSION)
    try:
        key, episode, problems, files, assets = found
        stored = Stored(episode, problems, dict(files), dict(assets))
    except (ValueError, TypeError):
        return None  # missing, damaged, foreign or of another key: compiled anew
    if key != wanted or not _well_formed(stored):
        return None
    if any(digests.get(Path(p)) != d for p, d in stored.files.items()) or any(
            asset_hashes.get(a) != h for a, h in stored.assets.items()):
        return None
    _remember(file, wanted, stored)
    return stored


def _well_formed(stored: Stored) -> bool:
    episode = stored.episode
    return isinstance(episode, CompiledEpisode) and isinstance(episode.shots, list) and all(
        isinstance(s, CompiledShot) for s in episode.shots) and isinstance(
        stored.problems, list) and all(isinstance(p, Diagnostic) for p in stored.problems) and all(
        isinstance(k, str) and (v is None or isinstance(v, str))
        for k, v in stored.files.items()) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in stored.assets.items())


def write(where: checkcache.Slot, stored: Stored) -> bool:
    """``stored`` kept for the next process (nothing when a value is not one ``storedform``
    holds); whether its entry is on disk."""
    wanted, file = where
    if _KNOWN.get(file) == (wanted, stored.files, stored.assets) and file.exists():
        return True  # the same episode compiled again in this process (a shot never kept),
        # its entry still there (not removed since: ``storyboard cache prune``)
    value = [wanted, stored.episode, stored.problems, sorted(stored.files.items()),
             sorted(stored.assets.items())]  # its key and episode first (``checkcache``)
    if not storedform.store(file, wanted, value, checkcache.COMPRESSION):
        return False
    STATS["stored"] += 1
    _remember(file, wanted, stored)
    return True


def _remember(file: Path, wanted: str, stored: Stored) -> None:
    if len(_KNOWN) >= MEMORY_ENTRIES:
        _KNOWN.clear()
    _KNOWN[file] = (wanted, stored.files, stored.assets)


def forget() -> None:
    """Drop what this process remembers of the entries, and its counters."""
    _KNOWN.clear()
    for name in STATS:
        STATS[name] = 0


class Compiler(incremental.Compiler, Protocol):
    """``incremental.Compiler``, the problems it says once per series (``shotchecks``), and the
    episodes it compiled that have an entry of their own (the series' entry names them)."""

    said: set[str]
    entries: dict[int, checkcache.Slot]  # by id() of each compiled episode with an entry on disk


def episode_compiled(compiler: Compiler, resolver: Resolver, episode: ResolvedEpisode,
                     digests: dict[Path, str], provider: str | None,
                     check_media: bool) -> CompiledEpisode:
    """``episode`` compiled: as this process keeps it (``incremental``), else as a process left
    it on disk when nothing that decides it changed, else anew (and stored)."""
    kept = resolver.kept.get(id(episode)) if isinstance(resolver, incremental.MemoResolver) \
        else None
    was = kept.compiled if kept is not None else None
    if any(p.severity == "error" for p in compiler.problems):
        return incremental.compiled(compiler, resolver, episode, digests)  # never stored
    where = None if was is not None or _warm(resolver, episode) else \
        slot(compiler, episode, provider, check_media)
    if where is not None:
        stored = read(where, digests, compiler.asset_hashes)
        if stored is not None:
            STATS["read"] += 1
            compiler.problems += stored.problems
            if kept is not None:  # this process keeps it from now on
                kept.compiled, kept.compiled_as = stored.episode, compiler.source.name
                kept.compile_problems = list(stored.problems)
                kept.files = {Path(p): d for p, d in stored.files.items()}
                kept.assets = dict(stored.assets)
            compiler.entries[id(stored.episode)] = where
            return stored.episode
    before, fresh = len(compiler.problems), incremental.STATS["shots_compiled"]
    result = incremental.compiled(compiler, resolver, episode, digests)
    problems = compiler.problems[before:]
    anew = not isinstance(resolver, incremental.MemoResolver) or \
        incremental.STATS["shots_compiled"] != fresh  # without a memo, every shot is compiled
    if result is was or not anew or compiler.said or any(p.severity == "error" for p in problems):
        return result  # as this process kept it (stored when it was compiled), an error, or a
        # problem said once per series so far (another episode might have said it instead)
    if where is None:
        where = slot(compiler, episode, provider, check_media)
    if where is None:
        return result
    if kept is not None and kept.compiled is result:  # its files and assets, as kept with it
        files = {str(path): found for path, found in kept.files.items()}
        assets = dict(kept.assets)
    else:
        files, assets = _files(result, digests), _assets(result)
    if write(where, Stored(result, problems, files, assets)):
        compiler.entries[id(result)] = where
    return result


def _warm(resolver: Resolver, episode: ResolvedEpisode) -> bool:
    """This process keeps a shot of ``episode`` compiled (quicker than reading it back, and
    kept shot by shot)."""
    if not isinstance(resolver, incremental.MemoResolver):
        return False
    found = (resolver.kept_shots.get(id(shot)) for shot in episode.shots)
    return any(e is not None and e[1].compiled is not None for e in found)


def _files(episode: CompiledEpisode, digests: dict[Path, str]) -> dict[str, str | None]:
    """Each file the episode's requests (every take's) name, with its digest."""
    return {str(ref.path): digests.get(ref.path) for shot in episode.shots
            for take in shot.all_takes() for item in take.request.media
            for ref in (item.ref, item.voice) if ref is not None and ref.path is not None}


def _assets(episode: CompiledEpisode) -> dict[str, str]:
    return {a: h for shot in episode.shots for take in shot.all_takes()
            for a, h in take.needs.items()}
