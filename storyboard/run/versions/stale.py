"""A series, its lock and the cut each language version was made from into the versions gone stale.

``version render`` keeps, for each episode it stitches, the cut it was made from
(``.storyboard/languages/<lang>/<EP>.cut.json``: each shot's approved take, its number and hash).
A version of an episode is **stale** when that cut changed since: a shot of the episode has no
approved take as it is now (its YAML, a look or a picture it wears changed since it was approved,
or its approval was lifted by ``--replace-approved``), a shot is approved at another take than the
one the version was made from, or the episode's shots are not those it was made from. A version
stitched before this record was kept is held to the first rule alone. What brings it back is said
with it: approve its shots as they are now, then ``version render SERIES LANG``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

from storyboard.errors import Diagnostic, Span, StoryboardError
from storyboard.files import made_series_folder, write_atomic
from storyboard.language.document import Document
from storyboard.language.read.series import load_source
from storyboard.language.request import CompiledShot, Manifest
from storyboard.language.variations import Variants, language_versions
from storyboard.language.versions import languages as langs
from storyboard.run.state.castinputs import shown_folder
from storyboard.run.state.lock.lockfile import LockFile, lock_path, read_lock
from storyboard.run.state.takes import state_key, with_retakes
from storyboard.run.trip.approvals import changed_since, cut_path, made_from
from storyboard.run.versions.cut import VersionCut, approved_take
from storyboard.run.versions.worn import Worn, recorded, worn_change

CODE = "version-stale"


@dataclass(frozen=True)
class Stale:
    """One language version of one episode whose cut changed since it was made."""

    language: str
    episode: str
    shots: tuple[tuple[str, str], ...]  # each changed shot (EP/SHOT) and why
    to_approve: tuple[str, ...]  # the shots to approve again before the version can be made
    span: Span | None  # the look's or picture's line when it is what changed, else the shot's
    worn: str = ""  # a character's look or picture changed what a shot wears (``worn.Worn``)
    variation: str = ""  # a matrix's language variation made as this version ("": a series')
    base: str = ""  # that variation's base (the variation whose shots are approved)

    @property
    def what(self) -> str:
        made = f" (variation {self.variation})" if self.variation else ""
        return f"the {self.language} version of {self.episode}{made}"

    @property
    def why(self) -> str:
        return "; ".join(f"{shot} {why}" for shot, why in self.shots)

    def command(self, root: Path) -> str:
        """The one command that brings it back (after the approvals it waits on)."""
        folder = shown_folder(root)
        if self.variation:  # a matrix makes it in ``render`` once its base's shots are approved
            again = f"storyboard render {folder}"
            shots = [f"{self.base}/{shot}" for shot in self.to_approve]
            return again if not shots else (
                f"approve {', '.join(shots)} as they are now (storyboard approve {folder} "
                f"SHOT, each), then {again}")
        again = f"storyboard version render {folder} {self.language}"
        if not self.to_approve:
            return again
        return (f"approve {', '.join(self.to_approve)} as they are now (storyboard approve "
                f"{folder} {self.episode}), then {again}")

    def message(self, root: Path) -> str:
        return (f"{self.what} is stale: its cut changed since it was made ({self.why}); bring "
                f"it back: {self.command(root)}")

    def to_dict(self, root: Path) -> dict[str, object]:
        return {"language": self.language, "episode": self.episode, "why": self.why,
                "variation": self.variation,
                "shots": [shot for shot, _ in self.shots], "to_approve": list(self.to_approve),
                "command": self.command(root)}


def keep_cut(cut: VersionCut, episodes: list[str]) -> None:
    """The cut each of ``episodes`` (stitched) was made from: each shot's approved take."""
    for episode in (e for e in cut.episodes if e.id in episodes):
        shots = {shot.shot_id: {"take": cut.approved[shot.shot_id].take.take,
                                "hash": cut.approved[shot.shot_id].take.hash,
                                "entry": recorded(cut.approved[shot.shot_id].take,
                                                  cut.manifest.root)}
                 for shot in episode.shots}
        path = cut_path(cut.manifest.root, cut.language, episode.id, cut.home)
        made_series_folder(cut.manifest.root, path.parent)
        write_atomic(path, json.dumps({"shots": shots}, indent=1, sort_keys=True) + "\n",
                     durable=False)


def stale_of(variants: Variants) -> list[Stale]:
    """Every stale version of a plain series, or of a matrix's language variations made as
    their bases' versions (``dub.matrix``): each base's versions held to its cut."""
    if not variants.matrix:
        return stale_versions(variants.manifests[0]) if variants.manifests else []
    found = []
    for name, made in language_versions(variants).items():
        base = made.base.manifest
        if base is None:
            continue
        found += [replace(s, variation=name, base=made.base.name or "")
                  for s in stale_versions(base, home=made.home) if s.language == made.language]
    return found


def stale_versions(manifest: Manifest, lock: LockFile | None = None,
                   home: str | None = None) -> list[Stale]:
    """Every made language version of a plain series' episodes (or a matrix base's, its
    version files in ``home``) whose cut changed, in the series' order (none for a series that
    cannot be read: it says why elsewhere)."""
    try:
        source = load_source(manifest.source)
        lock = lock or read_lock(lock_path(manifest.root))
    except StoryboardError:
        return []
    series = source.series.data
    used = {e.id: e for e in with_retakes(manifest, lock, free=False).episodes}
    found = []
    for episode, data in langs.episode_ids(source).items():
        for language in langs.versions_of(series, data):
            made = made_from(manifest, language, episode, home)
            if made is None or episode not in used:
                continue
            stale = _stale(language, episode, used[episode].shots, made, lock,
                           (manifest.root, source.series))
            if stale is not None:
                found.append(stale)
    return found


def warnings(manifest: Manifest, lock: LockFile | None = None,
             found: list[Stale] | None = None) -> list[Diagnostic]:
    """Each stale version (``found``, else the series') as ``check``'s warning: at the line of
    the look or picture whose change alone moved a shot (and saying so), else at the first
    changed shot's line."""
    found = stale_versions(manifest, lock) if found is None else found
    return [Diagnostic(s.span, (f"{s.worn}: " if s.worn else "") + s.message(manifest.root),
                       severity="warning", code=CODE) for s in found]


def _stale(language: str, episode: str, shots: list[CompiledShot], made: dict[str, object],
           lock: LockFile, where: tuple[Path, Document]) -> Stale | None:
    root, doc = where
    changed: list[tuple[CompiledShot | None, str, str]] = []
    to_approve = []
    worn: list[tuple[str, Worn]] = []  # each shot whose look or picture alone changed
    for shot in shots:
        now = approved_take(shot, lock, root)
        was = made.get(shot.shot_id)
        moved = isinstance(was, dict) and now is not None and was.get("hash") != now.take.hash
        if now is None or moved:
            found = worn_change(doc, now.take if now is not None else shot, was, root)
            worn += [(shot.shot_id, found)] if found is not None else []
        if now is None:
            to_approve.append(shot.shot_id)
            changed.append((shot, shot.shot_id, unapproved(shot, lock, root, was is not None)))
        elif made and was is None:
            changed.append((shot, shot.shot_id, "is new in the episode"))
        elif moved:
            changed.append((shot, shot.shot_id, f"was approved anew since (take "
                            f"{now.take.take} as it is now; the version is of take "
                            f"{was.get('take') if isinstance(was, dict) else '?'} as it was)"))
    ids = {shot.shot_id for shot in shots}
    changed += [(None, gone, "is no longer in the episode") for gone in made if gone not in ids]
    if not changed:
        return None
    span = next((shot.span for shot, _, _ in changed if shot is not None), None)
    return Stale(language, episode, tuple((name, why) for _, name, why in changed),
                 tuple(to_approve), worn[0][1].span if worn else span, said_worn(worn))


def said_worn(worn: list[tuple[str, Worn]]) -> str:
    """Each look or picture that changed, with the shots it changed: "mia's look coat changed
    what ep02/a, ep02/b wear (...)"."""
    by: dict[tuple[str, str], list[str]] = {}
    for shot, found in worn:
        by.setdefault((found.what, found.changes), []).append(shot)
    return "; ".join(f"{what} changed what {', '.join(shots)} "
                     f"{'wears' if len(shots) == 1 else 'wear'} ({changes})"
                     for (what, changes), shots in by.items())


def unapproved(shot: CompiledShot, lock: LockFile, root: Path, was_approved: bool) -> str:
    """Why ``shot`` has no approved take as it is now, in the user's words."""
    state = lock.takes.get(state_key(shot), {})
    if state.get("approved") is None:
        return ("is no longer approved (rendered again since, its approval lifted)"
                if was_approved else "has no approved take")
    take = next((t for t in shot.all_takes() if t.take == state.get("approved")), None)
    if take is None or take.hash == state.get("approved_hash"):
        return f"has no approved take rendered (take {state.get('approved')}'s file is gone)"
    what = changed_since(take, lock, root)[0]
    return f"changed since take {state.get('approved')} was approved ({what})"
