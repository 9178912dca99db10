"""An approved shot whose request changed into its cause in the user's words, and the language
versions that stand on approvals.

A shot's hash moves when its YAML is edited, and also when what it wears changes with its YAML
untouched: a character's picture (a costume change), a look, another take of a sheet or board.
``changed_since`` says which, from what the lock described when the approved take was rendered
(``trip.changes.explain``). ``version render`` keeps the cut each made version's episode stands
on (``.storyboard/languages/<lang>/<EP>.cut.json``: each shot's approved take, its number and
hash); ``standing_on`` reads it, so a refusal can say which versions lifting an approval makes
stale (``run.versions.stale``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from storyboard.errors import Diagnostic, StoryboardError
from storyboard.language.read.series import load_source
from storyboard.language.request import CompiledShot, Manifest
from storyboard.language.versions import languages as langs
from storyboard.language.versions.versioncheck import measured_path
from storyboard.run.state.lock.lockfile import LockFile, describe, lock_path, read_lock, shot_key
from storyboard.run.state.takes import approved_changes, state_key, with_retakes
from storyboard.run.trip.changes import explain
from storyboard.stitch.series.episodes import output_dir

CODE = "approved-changed"  # check's warning: an approved shot that render refuses as it is


def cut_path(root: Path, language: str, episode: str, home: str | None = None) -> Path:
    """Where the cut a version's episode was made from is kept."""
    return measured_path(root, language, episode, home).with_suffix(".cut.json")


def made_from(manifest: Manifest, language: str, episode: str,
              home: str | None = None) -> dict[str, object] | None:
    """The cut the ``language`` version of ``episode`` was made from, by ``EP/SHOT`` ({} when it
    was stitched before the cut was kept); None when it was never made. ``home``: a matrix
    base's own folder of versions (its versions' cuts are always kept)."""
    try:
        data = json.loads(cut_path(manifest.root, language, episode, home).read_text(
            encoding="utf-8"))
        shots = data.get("shots") if isinstance(data, dict) else None
        return shots if isinstance(shots, dict) else {}
    except FileNotFoundError:
        pass
    except (OSError, ValueError):
        return {}
    if manifest.name != manifest.name.partition("/")[0]:  # a matrix's base: none kept, none made
        return None
    try:
        stitched = output_dir(manifest, None) / language / f"{episode}.mp4"
    except StoryboardError:
        return None
    return {} if stitched.is_file() else None


def standing_on(manifest: Manifest) -> dict[str, list[str]]:
    """Each shot (``EP/SHOT``) a made language version stands on, and those languages."""
    try:
        source = load_source(manifest.source)
    except StoryboardError:
        return {}
    shots = {e.id: [s.shot_id for s in e.shots] for e in manifest.episodes}
    found: dict[str, list[str]] = {}
    for episode, data in langs.episode_ids(source).items():
        for language in langs.versions_of(source.series.data, data):
            made = made_from(manifest, language, episode)
            for shot in (made or shots.get(episode, [])) if made is not None else ():
                found.setdefault(shot, []).append(language)
    return found


def versions_named(shots: Iterable[str], standing: Mapping[str, list[str]]) -> str:
    """The versions standing on ``shots``, in words ("the es version of ep03, ep04"), or ""."""
    by_language: dict[str, list[str]] = {}
    for shot in shots:
        for language in standing.get(shot, []):
            episode = shot.partition("/")[0]
            if episode not in by_language.setdefault(language, []):
                by_language[language].append(episode)
    return "; ".join(f"the {language} version of {', '.join(episodes)}"
                     for language, episodes in by_language.items())


def changed_since(take: CompiledShot, lock: LockFile, root: Path) -> tuple[str, bool]:
    """What moved ``take``'s hash since the lock described it, and whether only what it wears
    changed (a picture, a look, another take of a sheet or board), not its YAML."""
    entry = lock.shots.get(shot_key(take))
    if entry is None:
        return "its request", False
    changes = explain(entry, describe(take, root))
    worn = all(change.kind == "reference" for change in changes)
    return "; ".join(str(change) for change in changes), worn


def refusal(shot: CompiledShot, take: int, lock: LockFile, root: Path,
            standing: Mapping[str, list[str]]) -> str:
    """Why an approved shot is not rendered again without ``--replace-approved``, as it is: its
    YAML or what it wears, and the versions lifting its approval makes stale."""
    now = next((t for t in shot.all_takes() if t.take == take), shot)
    what, worn = changed_since(now, lock, root)
    cause = (f"what it wears changed since, not its YAML ({what})" if worn
             else f"its YAML changed since ({what})")
    back = "put back what it wears" if worn else "revert its YAML"
    versions = versions_named([shot.shot_id], standing)
    lifted = "lifts its approval" + (f", which {versions} stands on (stale until it is "
                                     "approved and made again)" if versions else "")
    return (f"{shot.shot_id} was approved (take {take}) and {cause}: pass --replace-approved "
            f"to render it again (it {lifted}), or {back}")


def approval_warnings(manifest: Manifest, free: bool) -> list[Diagnostic]:
    """Each approved shot whose request changed since, as ``check``'s warning at its line: the
    refusal ``render`` and ``season render`` would give it (the lock's picks and retakes applied
    as a render applies them; ``free``: a free provider's). None when the lock cannot be read
    (``render`` says why)."""
    try:
        lock = read_lock(lock_path(manifest.root))
    except StoryboardError:
        return []
    if not any("approved" in state for state in lock.takes.values()):
        return []
    picked = with_retakes(manifest, lock, free=free)
    changed = approved_changes(picked, lock)
    standing = standing_on(picked)
    source = load_source(manifest.source)
    documents = {str(d.file): d for d in (source.series, *(e.doc for e in source.episodes))}
    return [Diagnostic(shot.span, refusal(shot, changed[state_key(shot)], lock, manifest.root,
                                          standing), severity="warning",
                       source_line=(documents[shot.span.file].line_text(shot.span.line)
                                    if shot.span and shot.span.file in documents else None),
                       code=CODE)
            for shot in picked.shots() if state_key(shot) in changed]


def refusals(manifest: Manifest, approved: Mapping[str, int], lock: LockFile) -> str:
    """The approved shots a render is refused for (``approved``: each one's take state key and
    approved take), grouped by their cause, what ``--replace-approved`` lifts, and the way
    back."""
    shots = {f"{s.series}/{s.episode}/{s.name}": s for s in manifest.shots()}
    causes: dict[str, list[str]] = {}
    worn_only = True
    for key, number in sorted(approved.items()):
        shot = shots.get(key)
        take = next((t for t in shot.all_takes() if t.take == number), shot) if shot else None
        what, worn = changed_since(take, lock, manifest.root) if take else ("its request", False)
        worn_only = worn_only and worn
        cause = f"what they wear changed, not their YAML ({what})" if worn else \
            f"their YAML changed ({what})"
        causes.setdefault(cause, []).append(f"{key.split('/', 1)[1]} (take {number})")
    said = "; ".join(f"{', '.join(names)}: {cause}" for cause, names in causes.items())
    versions = versions_named([key.split("/", 1)[1] for key in approved], standing_on(manifest))
    stale = (f" ({versions} stands on them: stale until they are approved and it is made "
             "again)") if versions else ""
    back = "put back what they wear" if worn_only else "revert their YAML"
    return (f"approved shot(s) changed since they were approved: {said}; nothing was "
            "submitted. Their approved takes stay in the cache. Pass --replace-approved to "
            f"render the changed shots again, which lifts their approvals{stale}, or {back}.")
