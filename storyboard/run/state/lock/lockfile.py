"""Rendered shots into ``storyboard.lock``: what was rendered from what, committed with the series.

JSON with sorted keys, two-space indents and one block per shot (keyed ``series/episode/shot``), so
a re-render shows up in ``git diff`` as a few changed lines. Besides the output (hash, sha256,
provider, task id, seed, billed seconds, cost) each entry keeps what ``plan`` needs to explain a
change later: a digest of the prompt, every reference file's sha256 by role and label, and the
parameters; and, when the same request was billed before for a result that could not be used,
what that cost (``failed_cost``, ``failed_tasks``: written by the runner).

Take k > 1 of a shot has an entry of its own (keyed ``series/episode/shot#k``). ``takes`` (written
only when some shot has one) keeps, per shot, the ``picked`` and ``approved`` take (with the hash
of its request, and for a picture its sha256 and the provider that drew it) and the ``extra`` takes
asked for by ``retake``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storyboard.errors import StoryboardError
from storyboard.files import write_atomic
from storyboard.language.request import CompiledShot, MediaItem, MediaRef, take_id
from storyboard.providers.base import Provider
from storyboard.run.state.cache import CacheEntry

LOCK_NAME = "storyboard.lock"
LOCK_VERSION = 1

LockEntry = dict[str, Any]


def spent(entry: LockEntry) -> float:
    """What a take cost in all: its render and the billed failures before it (``failed_cost``)."""
    return float(entry.get("cost") or 0.0) + float(entry.get("failed_cost") or 0.0)


def spent_under(lock: Mapping[str, LockEntry], prefix: str) -> float:
    """What the takes whose keys start with ``prefix`` (``series/``) cost in all."""
    return sum(spent(e) for k, e in sorted(lock.items()) if k.startswith(prefix))


def shot_key(shot: CompiledShot) -> str:
    return f"{shot.series}/{shot.episode}/{shot.id}"


def take_key(shot: CompiledShot) -> str:
    """The lock key of the take ``shot`` is, even under its shot's own id (as the stitch and the
    sheet see the take a shot uses): ``series/episode/shot#k``."""
    return f"{shot.series}/{shot.episode}/{take_id(shot.name, shot.take)}"


DRAFT_LOCK = Path(".storyboard") / "draft.lock"


def lock_path(series_dir: Path, proxy: bool = False) -> Path:
    """``storyboard.lock`` (committed); proxies (drafts) keep theirs in ``.storyboard/`` so a draft
    never rewrites the committed file yet ``plan --draft`` can still explain its changes."""
    return series_dir / (DRAFT_LOCK if proxy else LOCK_NAME)


def proxy(provider: Provider) -> bool:
    """Whether ``provider``'s renders are proxies (``traits.writes_lock`` off: local drafts)."""
    return not provider.traits.writes_lock


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _ref(ref: MediaRef | None, shot: CompiledShot, root: Path | None) -> dict[str, Any]:
    if ref is None:
        return {}
    if ref.asset is not None:  # a cast asset: the hash of the take the shot uses
        return {"asset": ref.asset, "asset_hash": shot.needs.get(ref.asset)}
    if ref.id is not None:  # an id made on the vendor (a Kling element or voice)
        return {"id": ref.id}
    if ref.url is not None:
        if ref.url.startswith("data:"):  # can be large: its digest is enough to notice a change
            return {"url": "data:…", "sha256": digest(ref.url)}
        return {"url": ref.url.split("?", 1)[0]}  # a query may be a signature: never store it
    assert ref.path is not None
    path = ref.path
    try:
        shown_path = path.relative_to(root).as_posix() if root else path.as_posix()
    except ValueError:
        shown_path = path.as_posix()
    return {"path": shown_path, "sha256": shot.inputs.get(str(path))}


def media_key(item: MediaItem, position: int) -> str:
    """A stable name for a media item: its label ("Image 1"), else its role and position."""
    if item.label:
        return item.label
    return "first frame" if item.role == "first_frame" else f"{item.role} {position + 1}"


def _canonical_media(shot: CompiledShot) -> list[Any]:
    form = shot.canonical.get("request", shot.canonical)
    media = form.get("media") if isinstance(form, dict) else None
    return media if isinstance(media, list) else []


def _dependency_hash(canonical_media: list[Any], position: int) -> str | None:
    """The hash of the shot a first frame comes from, as the compiler folded it into ours."""
    if position >= len(canonical_media) or not isinstance(canonical_media[position], dict):
        return None
    file = canonical_media[position].get("file")
    value = file.get("from_shot") if isinstance(file, dict) else None
    return str(value) if value else None


def media_entries(shot: CompiledShot, root: Path | None) -> dict[str, dict[str, Any]]:
    entries: dict[str, dict[str, Any]] = {}
    canonical_media = _canonical_media(shot)
    for position, item in enumerate(shot.request.media):
        entry: dict[str, Any] = {"role": item.role, **_ref(item.ref, shot, root)}
        if item.character:
            entry["character"] = item.character
        if item.from_shot:
            entry["from_shot"] = item.from_shot
            entry["from_hash"] = _dependency_hash(canonical_media, position)
        if item.voice is not None:
            entry["voice"] = _ref(item.voice, shot, root)
        entries[media_key(item, position)] = entry
    return entries


def parameters(shot: CompiledShot) -> dict[str, Any]:
    request = shot.request
    return {
        "model": request.model,
        "resolution": request.resolution,
        "ratio": request.ratio,
        "duration": request.duration,
        "prompt_extend": request.prompt_extend,
        "watermark": request.watermark,
        "seed": request.seed,
        "negative_prompt_sha256": digest(request.negative_prompt) if request.negative_prompt
        else None,
        **({"audio": request.audio} if request.audio is not None else {}),
    }


def describe(shot: CompiledShot, root: Path | None) -> LockEntry:
    """What a shot was compiled from: the part of an entry ``plan`` compares."""
    return {
        "series": shot.series,
        "episode": shot.episode,
        "id": shot.id,
        "hash": shot.hash,
        "prompt_sha256": digest(shot.request.prompt),
        "timing_sha256": digest(repr([(s.start, s.end, [(ln.label, ln.text) for ln in s.lines])
                                      for s in shot.request.scenes])),
        "media": media_entries(shot, root),
        "parameters": parameters(shot),
    } | ({"take": shot.take} if shot.take > 1 else {})


def entry_for(shot: CompiledShot, cached: CacheEntry, root: Path | None,
              provider: str, cache_key: str) -> LockEntry:
    entry = describe(shot, root)
    entry.update({
        "output_sha256": cached.sha256,
        "provider": cached.provider or provider,
        "cache_key": cache_key,
        "task_id": cached.task_id,
        "seed": cached.seed,
        "billed_seconds": cached.billed_seconds,
        "cost": cached.cost,
        "currency": cached.currency,
    })
    return entry


TakeState = dict[str, Any]  # per shot: picked, approved, approved_hash, approved_sha256,
# approved_on (who drew the approved picture), extra
TakeChange = tuple[str, dict[str, Any]]  # a shot's take state key, the fields to set (None: remove)


@dataclass
class LockFile:
    path: Path
    shots: dict[str, LockEntry]
    takes: dict[str, TakeState] = field(default_factory=dict)  # keyed series/episode/shot


def read_lock(path: Path) -> LockFile:
    """The lock file at ``path``; an empty one when there is none yet."""
    return _read_lock(path)[0]


def _read_lock(path: Path) -> tuple[LockFile, str | None]:
    """The lock file at ``path`` and its text (None when there is none yet)."""
    try:
        text = path.read_text("utf-8")
    except (FileNotFoundError, NotADirectoryError):  # none there (no state folder: none)
        return LockFile(path, {}), None
    except OSError as exc:
        raise StoryboardError(f"cannot read {path}: {exc}") from exc
    try:
        data = json.loads(text)
        shots, takes = data.get("shots", {}), data.get("takes", {})
        if not isinstance(shots, dict) or not isinstance(takes, dict):
            raise ValueError("'shots' or 'takes' is not a mapping")
    except (ValueError, AttributeError) as exc:
        raise StoryboardError(f"{path} is not a storyboard lock file ({exc}); "
                              "delete it and run render again to rebuild it") from exc
    return LockFile(path, shots, takes), text


def render_lock(shots: Mapping[str, LockEntry],
                takes: Mapping[str, TakeState] | None = None) -> str:
    data: dict[str, Any] = {"storyboard_lock": LOCK_VERSION, "shots": _SHOTS}
    kept = {key: state for key, state in (takes or {}).items() if state}
    if kept:  # a lock without picks, approvals or retakes reads as before takes existed
        data["takes"] = kept
    text = json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    return text.replace(json.dumps(_SHOTS), _shots_text(shots), 1)


_SHOTS = "\0shots\0"  # where the shots go in the indented text (no key or value holds a NUL)
_ENTRIES: dict[str, str] = {}  # an entry's indented text by its compact text
_ENTRIES_MAX = 50_000


def _shots_text(shots: Mapping[str, LockEntry]) -> str:
    """The ``shots`` block exactly as ``json.dumps(..., sort_keys=True, indent=2)`` writes it at
    its depth, each entry indented once and reused while it is the same: Python's indented JSON is
    pure Python, and the studio writes a many-shot lock on every save."""
    if not shots:
        return "{}"
    blocks = []
    for key in sorted(shots):
        entry = shots[key]
        compact = json.dumps(entry, sort_keys=True, ensure_ascii=False)  # C: quick
        text = _ENTRIES.get(compact)
        if text is None:
            if len(_ENTRIES) >= _ENTRIES_MAX:
                _ENTRIES.clear()
            text = _ENTRIES[compact] = json.dumps(entry, sort_keys=True, indent=2,
                                                  ensure_ascii=False).replace("\n", "\n    ")
        blocks.append(f"    {json.dumps(key, ensure_ascii=False)}: {text}")
    return "{\n" + ",\n".join(blocks) + "\n  }"


def update_lock(path: Path, entries: Iterable[LockEntry], *,
                prune_series: Mapping[str, set[str]] | None = None) -> LockFile:
    """Merge ``entries`` into the lock file and write it atomically.

    ``prune_series`` maps a series name to the shot keys it has now: entries of that series that are
    not among them (shots deleted from the storyboard) are dropped. Other series are left alone, so
    rendering one variation keeps the others' entries.
    """
    lock, before = _read_lock(path)
    shots = dict(lock.shots)
    for series, keep in (prune_series or {}).items():
        for key in [k for k, v in shots.items() if v.get("series") == series and k not in keep]:
            del shots[key]
    for entry in entries:
        shots[f"{entry['series']}/{entry['episode']}/{entry['id']}"] = entry
    text = render_lock(shots, lock.takes)
    # written when it changed: the text read is what the last write rendered, and entries that
    # differ render differently (one rendering, not two: the studio writes a many-shot lock on
    # every save)
    if text != before and (before is None or shots != lock.shots
                           or text != render_lock(lock.shots, lock.takes)):
        write_atomic(path, text, durable=True)
    return LockFile(path, shots, lock.takes)


def recorded_output(lock: LockFile, take: CompiledShot) -> str | None:
    """The sha256 of the file ``take`` rendered into, as the lock (or the drafts' lock) says."""
    drafts = read_lock(lock.path.parent / DRAFT_LOCK).shots
    for entries in (lock.shots, drafts):
        entry = entries.get(take_key(take), {})
        if entry.get("hash") == take.hash and entry.get("output_sha256"):
            return str(entry["output_sha256"])
    return None


def update_take_state(path: Path, key: str, **changes: Any) -> LockFile:
    """Set (or, with None, remove) fields of one shot's take state and write the lock; every
    other line stays as it was."""
    return write_take_changes(path, [(key, changes)])


def with_take_changes(lock: LockFile, changes: Iterable[TakeChange]) -> LockFile:
    """``lock`` as ``write_take_changes`` would leave it, in memory only: nothing is written
    (what a run decided before it has consent, a retake's takes or a lifted approval)."""
    takes = dict(lock.takes)
    for key, fields in changes:
        state = {**takes.get(key, {}), **fields}
        takes[key] = {k: v for k, v in state.items() if v is not None}
    return LockFile(lock.path, lock.shots, takes)


def write_take_changes(path: Path, changes: Iterable[TakeChange]) -> LockFile:
    """Set (or, with None, remove) fields of shots' take states and write the lock once; every
    other line stays as it was."""
    lock = with_take_changes(read_lock(path), changes)
    write_atomic(path, render_lock(lock.shots, lock.takes), durable=True)
    return lock


def prune_variations(path: Path, series: str, variations: Collection[str]) -> list[str]:
    """Drop the entries of ``series``' variations that are not among ``variations`` (removed
    from the matrix); returns the keys dropped. The file is rewritten only when some were."""
    lock = read_lock(path)
    prefix = f"{series}/"
    gone = [key for key, entry in lock.shots.items()
            if str(entry.get("series", "")).startswith(prefix)
            and str(entry["series"])[len(prefix):] not in variations]
    if gone:
        kept = {k: v for k, v in lock.shots.items() if k not in gone}
        write_atomic(path, render_lock(kept, lock.takes), durable=True)
    return gone
