"""A series' takes and its lock into the take each shot uses: pick, approve, retake, find a shot.

A shot of ``takes: N`` compiles into N takes, each a paid request of its own (``Manifest.takes``);
``retake`` asks for more, recorded in the lock as the shot's ``extra`` takes (for its request of then,
``extra_for``: an edit renders the declared takes only) so the same file and lock always ask for the
same takes. A pick never moves an approved shot off its approved take unasked (``ApprovedTake``).
Every stage that shows or stitches a shot's video (the stitch, the sheet, the exports, each
variation) asks ``used_take`` which take that is: the picked one, else the lowest-numbered take that
rendered, else take 1.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from storyboard.errors import StoryboardError
from storyboard.language.picks import as_picked, extras_hold
from storyboard.language.picks import state_key as state_key  # the lock's key, as before
from storyboard.language.read.schemacheck import shot_meant
from storyboard.language.request import (
    CompiledEpisode,
    CompiledShot,
    Manifest,
    is_board,
    take_id,
)
from storyboard.run.state.cache import OutputCache
from storyboard.run.state.lock.derived import records, with_derived
from storyboard.run.state.lock.lockfile import (
    DRAFT_LOCK,
    LockFile,
    TakeChange,
    TakeState,
    lock_path,
    read_lock,
    update_take_state,
)
from storyboard.run.state.lock.pictures import Drawer, drawer_of, pictures
from storyboard.run.state.measured import Thresholds, thresholds
from storyboard.run.state.people.findings import findings_of
from storyboard.run.state.tasks.journal import read_status
from storyboard.targets import Capabilities

MAX_RETAKES = 10  # takes one `retake` may ask for at once (as `takes:` allows at most 10)


def with_retakes(manifest: Manifest, lock: LockFile | None = None,
                 seed_max: int = Capabilities().seed_max, *, free: bool = True) -> Manifest:
    """``manifest`` as the lock's picks and retakes make it (``picks.as_picked``): each shot's
    extra takes (each derived take in its place: ``derived``), the picked take of every asset it
    needs and of every shot it starts from, through any chain of ``from:``. ``free``: for a free
    provider, whose own retakes (``extra_free``) a paid plan never buys."""
    lock = lock or read_lock(lock_path(manifest.root))
    return with_derived(as_picked(manifest, lock.takes, seed_max, free=free), lock)


def every_take(manifests: list[Manifest], lock: LockFile) -> list[CompiledShot]:
    """Every take of every shot of ``manifests`` as the lock makes them (``with_retakes``): a
    picked take 2 is as current as take 1 (``status``'s rows at their current version)."""
    return [take for manifest in manifests for shot in with_retakes(manifest, lock).shots()
            for take in shot.all_takes()]


# --- the take a shot uses -----------------------------------------------------------------------


def used_take(shot: CompiledShot, state: TakeState, rendered: set[str]) -> CompiledShot:
    """The take ``shot`` uses: the picked one, else the lowest-numbered take whose id is in
    ``rendered``, else take 1."""
    takes = shot.all_takes()
    picked = [t for t in takes if t.take == state.get("picked")]
    if picked:
        return picked[0]
    return next((t for t in takes if t.id in rendered), shot)


def episode_as_used(episode: CompiledEpisode, states: dict[str, TakeState],
                    outputs: dict[str, Path]) -> tuple[CompiledEpisode, dict[str, Path]]:
    """The episode with each shot replaced by the take it uses (under the shot's own id), and
    those takes' videos by shot id (``outputs``: every rendered take's video by take id)."""
    shots, done = [], {}
    for shot in episode.shots:
        take = used_take(shot, states.get(state_key(shot), {}), set(outputs))
        shots.append(replace(take, id=shot.id, others=[]))
        if take.id in outputs:
            done[shot.id] = outputs[take.id]
    return replace(episode, shots=shots), done


def cached_outputs(episode: CompiledEpisode, cache: OutputCache) -> dict[str, Path]:
    """Every take of ``episode`` the cache holds: its video by take id."""
    return {t.id: cache.path(t.hash) for s in episode.shots for t in s.all_takes()
            if cache.has(t.hash)}


def manifest_as_used(manifest: Manifest, cache_key: str) -> Manifest:
    """The manifest each shot of which is the take it uses (for the sheet and the exports)."""
    cache = OutputCache(manifest.root, cache_key)
    states = read_lock(lock_path(manifest.root)).takes
    manifest = with_retakes(manifest)
    episodes = [episode_as_used(ep, states, cached_outputs(ep, cache))[0]
                for ep in manifest.episodes]
    return replace(manifest, episodes=episodes)


# --- naming shots -------------------------------------------------------------------------------


def find_shot(manifest: Manifest, shot_id: str) -> CompiledShot:
    """The shot named ``episode/shot`` (or a shot id alone, when only one episode has it)."""
    shots = {s.shot_id: s for s in manifest.shots()}
    if shot_id in shots:
        return shots[shot_id]
    alone = [s for s in manifest.shots() if s.name == shot_id]
    if len(alone) == 1:
        return alone[0]
    episode = shot_id.rpartition("/")[0]
    example = next((s for s in shots if s.rpartition("/")[0] == episode),
                   next((s.shot_id for s in manifest.episode_shots()), "ep01/shot01"))
    raise StoryboardError(f"no shot {shot_id!r} in this series{shot_meant(shot_id, shots)}; "
                          f"expected EPISODE/SHOT, e.g. {example}")


def select_shots(manifest: Manifest, patterns: tuple[str, ...]) -> list[CompiledShot]:
    """The shots (each with every take) that ``patterns`` name: ``episode/shot``, globs allowed.
    In a matrix (every variation's shots in one manifest) ``episode/shot`` names the shot in
    every variation that has it, ``variation/episode/shot`` in that one."""
    chosen: list[CompiledShot] = []
    for pattern in map(board_episode, patterns):
        found = [s for s in manifest.shots()
                 if any(fnmatch.fnmatchcase(name, pattern) for name in shot_names(s))]
        if not found and not any(c in pattern for c in "*?["):
            found = [find_shot(manifest, pattern)]  # a shot id alone, or a "did you mean"
        if not found:
            raise StoryboardError(f"--shot {pattern!r} names no shot of this series")
        chosen += [s for s in found if s not in chosen]
    return chosen


def board_episode(pattern: str) -> str:
    """``boards/EP`` (an episode's boards) as the glob that names them, ``boards/EP/*``; any
    other pattern as it is."""
    if is_board(pattern) and pattern.count("/") == 1 and not pattern.endswith("/"):
        return f"{pattern}/*"
    return pattern


def shot_names(shot: CompiledShot) -> tuple[str, ...]:
    """What ``--shot`` may call a shot: ``episode/shot``, and in a matrix also
    ``variation/episode/shot``."""
    variation = shot.series.partition("/")[2]
    return (shot.shot_id, f"{variation}/{shot.shot_id}") if variation else (shot.shot_id,)


# --- pick, approve, retake ----------------------------------------------------------------------


def rendered_takes(shot: CompiledShot, lock: LockFile, provider: str | None = None
                   ) -> dict[int, str]:
    """The takes of ``shot`` the lock (or the drafts' lock beside it) has a video of, for its
    current request: take -> hash (``provider``: rendered by that one; its drafts when local)."""
    drafts = read_lock(lock.path.parent / DRAFT_LOCK).shots
    found: dict[int, str] = {}
    for take in shot.all_takes():
        key = f"{take.series}/{take.episode}/{take.id}"
        entries = [lock.shots.get(key, {}), drafts.get(key, {})]
        if any(entry.get("hash") == take.hash and provider in (None, entry.get("provider"))
               for entry in entries):
            found[take.take] = take.hash
    return found


class ApprovedTake(StoryboardError):
    """A pick that would move an approved shot off its approved take, without
    ``replace_approved`` (the studio asks, then sends it again with it)."""


def pick(manifest: Manifest, shot_id: str, take: int, *,
         replace_approved: bool = False) -> LockFile:
    """Write ``take`` as the shot's picked take (only that line of the lock changes). An
    approved shot keeps its approved take unless ``replace_approved``: the approval is then
    lifted with the pick (approve the new take when it is right), so the approved mark never
    points at a take the episode does not use."""
    shot = find_shot(with_retakes(manifest), shot_id)
    lock = read_lock(lock_path(manifest.root))
    numbers = [t.take for t in shot.all_takes()]
    if not rendered_takes(shot, lock):
        raise StoryboardError(f"{shot.shot_id} has never been rendered (no take of it has a "
                              f"video): render it first, then pick one of its takes")
    if take not in numbers:
        raise StoryboardError(f"{shot.shot_id} has no take {take}; expected one of: "
                              f"{', '.join(map(str, numbers))}")
    if take not in rendered_takes(shot, lock):
        raise StoryboardError(f"take {take} of {shot.shot_id} has not rendered (it failed or was "
                              f"never rendered); render it first, or pick one of: "
                              f"{_listed(rendered_takes(shot, lock))}")
    approved = lock.takes.get(state_key(shot), {}).get("approved")
    if approved is None or approved == take:
        return update_take_state(lock.path, state_key(shot), picked=take)
    if not replace_approved:
        raise ApprovedTake(
            f"{shot.shot_id} is approved (take {approved}); nothing was changed. Pass "
            f"--replace-approved to pick take {take} anyway (the approval is lifted: approve "
            "the new take when it is right), or keep the approved take.")
    return update_take_state(lock.path, state_key(shot), picked=take, approved=None,
                             approved_hash=None, approved_sha256=None, approved_on=None)


def followers(manifest: Manifest, shot_id: str) -> list[CompiledShot]:
    """The shots that start from ``shot_id``'s last frame (as the lock picks it now), and those
    that start from theirs, down every chain of ``from:``: a pick changes their input, so they
    render again."""
    shot = find_shot(manifest, shot_id)
    current = with_retakes(manifest)
    return _downstream(current, {shot.shot_id})


def users(manifest: Manifest, shot_id: str) -> list[CompiledShot]:
    """The shots (and lines) that use the cast asset ``shot_id`` (``cast/mia``), and the shots
    chained from them by ``from:``: a pick changes their input, so they render again. Empty for
    a shot."""
    asset = find_shot(manifest, shot_id)
    if asset.asset is None:
        return []
    current = with_retakes(manifest)
    direct = [s for s in current.shots() if asset.shot_id in s.needs]
    chained = _downstream(current, {s.shot_id for s in direct})
    return [*direct, *(s for s in chained if s not in direct)]


def _downstream(manifest: Manifest, sources: set[str]) -> list[CompiledShot]:
    """The shots that start, through any chain of ``from:``, from a shot in ``sources``."""
    found: list[CompiledShot] = []
    reached = set(sources)
    for shot in manifest.episode_shots():  # a shot starts only from an earlier one
        source = f"{shot.episode}/{(shot.depends_on or '').partition('#')[0]}"
        if shot.depends_on is not None and source in reached:
            found.append(shot)
            reached.add(shot.shot_id)
    return found


def to_approve(manifest: Manifest, shot_id: str, drawer: Drawer | None = None) -> int:
    """The take ``approve`` locks: the picked one, else the lowest-numbered that rendered
    (``drawer``: that ``drawer`` drew)."""
    shot = find_shot(with_retakes(manifest), shot_id)
    lock = read_lock(lock_path(manifest.root))
    done = pictures(shot, lock, drawer)
    picked = lock.takes.get(state_key(shot), {}).get("picked")
    take = picked if picked in done else min(done, default=None)
    if take is None:
        on = "" if drawer is None else f" on {drawer.name}"
        again = "" if drawer is None else f" (--provider {drawer.name})"
        raise StoryboardError(f"{shot.shot_id} has no take that rendered{on}; render it"
                              f"{again}, then pick and approve one")
    return int(take)


def approve(manifest: Manifest, shot_id: str, drawer: Drawer | None = None) -> int:
    """Lock the picked take (else the lowest-numbered take that rendered) as approved: its
    request's hash, and for a cast asset or a board the sha256 of the picture it rendered into
    and who drew it (``drawer``'s picture, else the one the lock records): what a board's file
    must still be for its video to go (``boardbytes``)."""
    take = to_approve(manifest, shot_id, drawer)
    shot = find_shot(with_retakes(manifest), shot_id)
    lock = read_lock(lock_path(manifest.root))
    approved = next(t for t in shot.all_takes() if t.take == take)
    picture = pictures(shot, lock, drawer)[take] if approved.asset is not None else None
    on = (drawer.name if drawer is not None else drawer_of(lock, approved)) if picture else ""
    update_take_state(lock.path, state_key(shot), picked=take, approved=take,
                      approved_hash=approved.hash, approved_sha256=picture,
                      approved_on=on or None)
    return take


@dataclass
class Retake:
    shot_id: str
    message: str
    takes: tuple[str, ...] = ()  # what to render: ``episode/shot#k`` of the takes asked for
    # the lock's change that asks for them: the render writes it once it has consent
    changes: tuple[TakeChange, ...] = ()


def ask_retakes(manifest: Manifest, shot_id: str, count: int, *,
                provider: str | None = None, free: bool = False) -> Retake:
    """Ask for ``count`` more takes of the shot, to render next: exactly those (a
    take the shot had before is never rendered again by a retake). When takes a retake asked
    for earlier have not rendered with ``provider`` yet (a retake stopped half-way), none are
    added: the same command renders those (so a re-run never pays for more takes than were
    asked for). A ``free`` provider's takes are its own (``extra_free``): a paid plan never
    buys them. Nothing is written here: the render that makes them records them in the lock
    (``changes``) once it has consent, so a refused retake leaves the lock as it was."""
    if not 1 <= count <= MAX_RETAKES:
        raise StoryboardError(f"-n {count}: expected 1 to {MAX_RETAKES} more takes")
    lock = read_lock(lock_path(manifest.root))
    shot = find_shot(with_retakes(manifest, lock, free=free), shot_id)
    own = find_shot(manifest, shot_id)  # take 1 as the YAML makes it, before any retake
    done = rendered_takes(shot, lock, provider)
    missing = [t for t in shot.all_takes() if t.take > len(own.all_takes()) and t.take not in done]
    if missing:
        return Retake(shot.shot_id, f"take(s) {', '.join(str(t.take) for t in missing)} asked "
                      "for earlier not rendered yet: rendering those, no new ones",
                      tuple(f"{t.episode}/{t.id}" for t in missing))
    state = _current_extras(lock.takes.get(state_key(shot), {}), own)
    first, fields = _more_takes(state, len(own.all_takes()), count, free)
    asked = [take_id(shot.id, k) for k in range(first, first + count)]
    return Retake(shot.shot_id, f"asking for take(s) {first}..{first + count - 1}",
                  tuple(f"{shot.episode}/{name}" for name in asked),
                  ((state_key(shot), {**fields, "extra_for": own.hash}),))


def more_takes(state: TakeState, own: CompiledShot, count: int, free: bool = False
               ) -> tuple[int, dict[str, Any]]:
    """The first number ``count`` more takes of ``own``'s shot (take 1 as the YAML makes it)
    get, and the lock fields that ask for them (an earlier version's extra takes left out)."""
    first, fields = _more_takes(_current_extras(state, own), len(own.all_takes()), count, free)
    return first, {**fields, "extra_for": own.hash}


def _current_extras(state: TakeState, own: CompiledShot) -> TakeState:
    """The shot's take state with the extra takes of an earlier version of its request left
    out (they stay as history: ``picks.extras_hold``)."""
    if extras_hold(state, own):
        return state
    return {k: v for k, v in state.items() if k not in ("extra", "extra_free")}


def _more_takes(state: TakeState, own: int, count: int, free: bool
                ) -> tuple[int, dict[str, Any]]:
    """The first take number ``count`` more takes get, and the lock fields that ask for them."""
    extra, extra_free = int(state.get("extra") or 0), int(state.get("extra_free") or 0)
    if free:
        return own + extra + extra_free + 1, {"extra": extra or None,
                                              "extra_free": extra_free + count}
    # the free takes numbered after the paid ones are these requests: now paid ones
    return own + extra + 1, {"extra": extra + count,
                             "extra_free": max(0, extra_free - count) or None}


def _listed(takes: dict[int, str]) -> str:
    return ", ".join(map(str, sorted(takes))) or "(none yet)"


# --- approved means protected -------------------------------------------------------------------


def approved_changes(manifest: Manifest, lock: LockFile | None = None) -> dict[str, int]:
    """Shot key -> approved take, for each approved shot whose approved take's request changed
    (``lock``: the lock as the caller read it, else it is read here)."""
    lock = lock or read_lock(lock_path(manifest.root))
    states = lock.takes
    manifest = with_retakes(manifest, lock)
    changed: dict[str, int] = {}
    for shot in manifest.shots():
        state = states.get(state_key(shot), {})
        if "approved" not in state:
            continue
        takes = {t.take: t for t in shot.all_takes()}
        now = takes.get(int(state["approved"]))
        if now is None or now.hash != state.get("approved_hash"):
            changed[state_key(shot)] = int(state["approved"])
    return changed


# --- every take ever rendered -------------------------------------------------------------------


@dataclass
class TakeRow:
    take: int
    seed: int | None
    task_id: str | None
    cost: float | None
    when: float | None
    state: str
    current: bool  # of the shot's current request (else an earlier version's)
    marks: str  # "picked", "approved", "picked, approved" or ""
    provider: str = ""  # who rendered it: "dashscope", "local (draft)"
    currency: str | None = None
    findings: list[dict[str, Any]] | None = None  # what measuring its file found (None: not)
    derived: str = ""  # a derived take: "edit of take 1", "lip-sync of take 2" ("": none)
    file: str | None = None  # its file in the series folder (relative), when it is kept there

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def take_rows(manifest: Manifest, shot_id: str) -> list[TakeRow]:
    """Every take of the shot the journal knows, earlier versions too, newest state per task."""
    shot = find_shot(with_retakes(manifest), shot_id)
    state = read_lock(lock_path(manifest.root)).takes.get(state_key(shot), {})
    current = {t.hash: t for t in shot.all_takes()}
    limits = thresholds(manifest.checks)
    passes = {d.hash: d.said() for d in records(state) if d.hash}
    rows = []
    for attempt in read_status(manifest.root):
        if attempt.series != shot.series or attempt.episode != shot.episode or \
                attempt.shot.partition("#")[0] != shot.name:
            continue
        number = int(attempt.shot.partition("#")[2] or 1)
        take = current.get(attempt.shot_hash)
        marks = [m for m in ("picked", "approved") if take is not None and
                 state.get(m) == number and _same(m, state, attempt.output_sha256)]
        rows.append(TakeRow(number, take.request.seed if take else None, attempt.task_id,
                            attempt.cost, attempt.submitted_at or attempt.intent_at,
                            attempt.state, take is not None, ", ".join(marks),
                            rendered_by(attempt.provider, attempt.cache_key), attempt.currency,
                            _found(manifest.root, attempt.output_sha256, take, limits),
                            passes.get(attempt.shot_hash, ""),
                            kept_file(manifest.root, attempt.cache_key, attempt.shot_hash)))
    known = {r.task_id for r in rows if r.task_id}
    rows += [row for row in _locked_rows(shot, state, manifest.root, manifest.checks)
             if row.task_id not in known]
    return sorted(rows, key=lambda r: (not r.current, r.take, r.when or 0.0))


def _found(root: Path, sha256: str | None, take: CompiledShot | None,
           limits: Thresholds) -> list[dict[str, Any]] | None:
    found = findings_of(root, sha256, take, limits)
    return None if found is None else [f.to_dict() for f in found]


def _locked_rows(shot: CompiledShot, state: TakeState, root: Path,
                 lock_checks: dict[str, Any]) -> list[TakeRow]:
    """Takes the lock records but this clone's journal does not (pulled from the store, or
    rendered by a teammate)."""
    lock = read_lock(lock_path(root))
    rows = []
    for take in shot.all_takes():
        entry = lock.shots.get(f"{take.series}/{take.episode}/{take.id}")
        if entry is None or entry.get("hash") != take.hash:
            continue
        marks = ", ".join(m for m in ("picked", "approved") if state.get(m) == take.take
                          and _same(m, state, entry.get("output_sha256")))
        rows.append(TakeRow(take.take, take.request.seed, entry.get("task_id"), entry.get("cost"),
                            None, "in lock", True, marks, str(entry.get("provider") or ""),
                            findings=_found(root, entry.get("output_sha256"), take,
                                            thresholds(lock_checks)),
                            file=kept_file(root, str(entry.get("cache_key") or ""), take.hash)))
    return rows


def _same(mark: str, state: TakeState, picture: str | None) -> bool:
    """Whether a take's row bears ``mark``: an approval is of one picture (the one whose sha256
    it recorded), not of every provider's picture of the take."""
    approved = state.get("approved_sha256")
    return mark != "approved" or not approved or not picture or picture == approved


def kept_file(root: Path, cache_key: str, shot_hash: str) -> str | None:
    """Where a take's file is kept in the series folder (relative to it), if it is there.
    ``cache_key`` is the cache's, or the journal's key of whose task it was
    (``dashscope@https://...#k3f9a``: ``protocol.endpoint_key``), whose cache is its first part."""
    if not cache_key or not shot_hash:
        return None
    path = OutputCache(root, cache_key.partition("@")[0]).path(shot_hash)
    return path.relative_to(root).as_posix() if path.is_file() else None


def rendered_by(provider: str, cache_key: str) -> str:
    """Who rendered a take, as every view says it: ``dashscope``, ``local (draft)``."""
    return f"{provider} (draft)" if cache_key.endswith("-draft") else provider


def spent(costs: list[tuple[float | None, str | None]]) -> dict[str, float]:
    """What tasks cost in all, by currency (the journal's record of what was billed)."""
    totals: dict[str, float] = {}
    for cost, currency in costs:
        if cost:
            totals[currency or "USD"] = round(totals.get(currency or "USD", 0.0) + cost, 6)
    return totals
