"""A series, its lock and a language's version files into the version's approved cut: each shot's
approved take and file, each speaker's designed voice as used, and the version's lines as assets.

A version is of the approved cut: every shot of a dubbed episode must have an approved take whose
request is the one approved (the take the person saw), rendered and in the cache; otherwise the
version of that episode is refused with the shots named, before anything is planned or paid.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storyboard.errors import ProblemsFound, StoryboardError
from storyboard.language.read.series import load_source
from storyboard.language.request import CompiledEpisode, CompiledShot, Manifest
from storyboard.language.resolving.cast import asset_id, speech_model
from storyboard.language.versions import languages as langs
from storyboard.language.versions.speech import SpokenLine, version_lines
from storyboard.language.versions.versionfile import Version, read_version, version_path
from storyboard.run.state.cache import OutputCache, cast_source
from storyboard.run.state.castinputs import shown_folder
from storyboard.run.state.lock.derived import parent_file
from storyboard.run.state.lock.lockfile import LockFile, lock_path, read_lock
from storyboard.run.state.takes import state_key, used_take, with_retakes


@dataclass(frozen=True)
class Approved:
    """A shot of the cut: the shot (as compiled), its approved take, and that take's file."""

    shot: CompiledShot
    take: CompiledShot
    video: Path
    sha256: str


@dataclass
class VersionCut:
    """What a version of ``language`` is made from: the series (its takes added), the dubbed
    episodes, their shots' approved takes (by ``EP/SHOT``), the version's lines and the voices
    they are spoken in (the voices' takes in use, made already)."""

    language: str
    manifest: Manifest
    lock: LockFile
    episodes: list[CompiledEpisode]
    versions: list[Version]
    approved: dict[str, Approved] = field(default_factory=dict)
    lines: list[SpokenLine] = field(default_factory=list)
    voices: list[CompiledShot] = field(default_factory=list)
    made_as: str | None = None  # a matrix's language variation it is made as (``SERIES/NAME``)
    home: str | None = None  # its base's own folder of version files (``versions.version_path``)

    @property
    def name(self) -> str:
        """The name its passes are kept under: ``SERIES/LANG``, or the variation's it is made
        as (so a matrix keeps them as that variation's)."""
        return self.made_as or f"{self.manifest.name}/{self.language}"

    def lines_of(self, episode: str, shot: str) -> list[SpokenLine]:
        return [d for d in self.lines if d.episode == episode and d.line.shot == shot]


def approved_cut(manifest: Manifest, language: str) -> bool:
    """Whether every shot of the episodes versioned into ``language`` has its approved take,
    rendered as approved (what a version is made from)."""
    source = load_source(manifest.source)
    lock = read_lock(lock_path(manifest.root))
    versioned = langs.episodes_in(source, language)
    shots = [shot for e in with_retakes(manifest, lock, free=False).episodes
             if e.id in versioned for shot in e.shots]
    return bool(shots) and all(approved_take(s, lock, manifest.root) is not None for s in shots)


def version_cut(manifest: Manifest, language: str, cache_key: str,
                episode: str | None = None, made_as: str | None = None,
                home: str | None = None) -> VersionCut:
    """The approved cut of ``manifest``'s episodes versioned into ``language`` (or its
    ``episode``): refused for a language the series does not version into (at its
    ``languages`` line), with every shot whose take is not approved, and every version file
    missing or wrong (at its line). ``made_as``: the matrix's language variation it is made as;
    ``home``: its base's own folder of version files, in a matrix of several bases."""
    source = load_source(manifest.source)
    unknown = langs.unknown_language(source, language)
    if unknown is not None:
        raise ProblemsFound([unknown])
    lock = read_lock(lock_path(manifest.root))
    used = with_retakes(manifest, lock, free=False)
    versioned = langs.episodes_in(source, language)
    episodes = [e for e in used.episodes if e.id in versioned and episode in (None, e.id)]
    if not episodes:
        raise StoryboardError(f"no episode {episode or ''} of this series is versioned into "
                              f"{language}; expected one of: {', '.join(versioned) or '(none)'}")
    versions = [_version(manifest.root, language, e.id, home) for e in episodes]
    cut = VersionCut(language, used, lock, episodes, versions, made_as=made_as, home=home)
    _approve(cut)
    voices = _voices(used, lock, cache_key)
    cut.voices = [shot for shot, _ in voices.values()]
    speakers = {speaker: (asset_id("voices", shot.name), shot.hash)
                for speaker, (shot, _) in _speakers(source.series.data, voices).items()}
    cut.lines = version_lines(manifest.name, language, versions,
                              {e.id: e for e in episodes}, speakers,
                              speech_model(_series_data(source.series.data)))
    return cut


def _version(root: Path, language: str, episode: str, home: str | None) -> Version:
    path = version_path(root, language, episode, home)
    if not path.is_file():
        raise StoryboardError(
            f"{path.relative_to(root).as_posix()}: no {language} version of episode {episode} "
            f"yet: translate it first (storyboard translate {shown_folder(root)} --language "
            f"{language}), or write the file by hand (docs/languages.md)")
    version = read_version(path, root)
    if version.episode != episode or version.language != language:
        raise StoryboardError(f"{path.relative_to(root).as_posix()}: it says episode "
                              f"{version.episode!r} in {version.language!r}; expected episode "
                              f"{episode!r} in {language!r}")
    return version


def _approve(cut: VersionCut) -> None:
    """Each shot's approved take and its file; every shot that has none named at once."""
    root, missing = cut.manifest.root, []
    for episode in cut.episodes:
        for shot in episode.shots:
            found = approved_take(shot, cut.lock, root)
            if found is None:
                missing.append(shot.shot_id)
            else:
                cut.approved[shot.shot_id] = found
    if missing:
        raise StoryboardError(
            f"a {cut.language} version is of the approved cut, and these shots have no approved "
            f"take (rendered, as approved): {', '.join(missing)}; approve them first "
            f"(storyboard approve {shown_folder(root)} EP/SHOT, or EP for an episode's)")


def approved_take(shot: CompiledShot, lock: LockFile, root: Path) -> Approved | None:
    """``shot``'s approved take as it is now, rendered as approved and kept; None without."""
    state = lock.takes.get(state_key(shot), {})
    number = state.get("approved")
    take = next((t for t in shot.all_takes() if t.take == number), None)
    if take is None or take.hash != state.get("approved_hash"):
        return None
    found = parent_file(take, lock, root)
    if found is None or not found[0].is_file():
        return None
    return Approved(shot, take, *found)


def _voices(manifest: Manifest, lock: LockFile, cache_key: str
            ) -> dict[str, tuple[CompiledShot, bool]]:
    """Each designed voice's take in use (picked, else the lowest made), by voice name, and
    whether it is made."""
    cache = OutputCache(manifest.root, cast_source(cache_key))
    found = {}
    for voice in (a for a in manifest.cast if a.episode == "voices"):
        made = {t.id for t in voice.all_takes() if cache.has(t.hash)}
        take = used_take(voice, lock.takes.get(state_key(voice), {}), made)
        found[voice.name] = (take, take.id in made)
    return found


def _speakers(series: Any, voices: Mapping[str, tuple[CompiledShot, bool]]
              ) -> dict[str, tuple[CompiledShot, bool]]:
    """Each character with a designed voice, and that voice."""
    characters = _series_data(series).get("characters")
    found = {}
    for name, character in (characters.items() if isinstance(characters, dict) else ()):
        voice = character.get("voice") if isinstance(character, dict) else None
        if isinstance(voice, str) and voice in voices:
            found[str(name)] = voices[voice]
    return found


def _series_data(data: Any) -> dict[str, Any]:
    return data if isinstance(data, dict) else {}
