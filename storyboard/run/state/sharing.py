"""The local cache and the shared store into each other: lookups before a submit, pushes after a
render, and the explicit ``storyboard push`` / ``pull``.

A ``StoreLink`` is one run's view of the store for one provider flavour (its ``cache_key``). It
is scanned once (two listings) for the plan; the runner then asks it, just before it would pay for
a shot, whether the store has the shot (a teammate may have pushed it since), and hands it every
shot that ends verified in the local cache, to push.

The rules about money live here:

- a stored copy that fails its sha256 check is refused and never enters the cache; the shot is
  rendered again only when the run has blanket consent (``--yes`` or a ``--budget``), and the new
  render replaces the bad copy in the store; otherwise the shot fails with a message saying so;
- when the store stops answering during a run, a shot the scan saw in the store is NOT paid for
  (it fails with a message; run again, or pass ``--offline``); a shot the scan did not see is
  rendered as the plan said. Pushes that fail leave the shot done locally and add a note.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from storyboard.errors import FFmpegError, MediaError, StoreCorrupt, StoreError, StoreUnreachable
from storyboard.language.request import CompiledShot
from storyboard.media import ffmpeg
from storyboard.media.probes.probe import sha256_file
from storyboard.run.state import measured
from storyboard.run.state.cache import CacheEntry, OutputCache, cast_source, is_asset
from storyboard.run.state.lock.lockfile import LockEntry, shot_key
from storyboard.run.state.people import records
from storyboard.run.team.store import PEOPLE, RenderStore

log = logging.getLogger("storyboard.store")

FROM_STORE = "in store: rendered by someone else, free"
FetchKind = Literal["pulled", "miss", "refused", "unreachable"]


@dataclass(frozen=True)
class Fetch:
    kind: FetchKind
    entry: CacheEntry | None = None
    message: str = ""


def locked_sha(shot: CompiledShot, locked: Mapping[str, LockEntry], cache_key: str
               ) -> str | None:
    """The output sha256 the lock file records for this very shot (same hash, same provider
    flavour: a draft or an animatic is no stand-in for a paid render), if any."""
    entry = locked.get(shot_key(shot)) or {}
    sha = entry.get("output_sha256")
    same = entry.get("hash") == shot.hash and entry.get("cache_key") == cache_key
    return str(sha) if same and sha else None


def media_facts(video: Path) -> dict[str, Any]:
    """What a teammate may want to know before pulling: length, size, rate, streams."""
    try:
        info = ffmpeg.probe(video)
    except (MediaError, FFmpegError):
        return {}
    picture, sound = info.video, info.audio
    facts: dict[str, Any] = {"duration": info.duration}
    if picture is not None:
        facts.update(width=picture.width, height=picture.height, fps=picture.fps,
                     video_codec=picture.codec)
    if sound is not None:
        facts.update(audio_codec=sound.codec, sample_rate=sound.sample_rate)
    return facts


def record_for(entry: CacheEntry, cache_key: str, video: Path) -> dict[str, Any]:
    """A shot's record in the store: the cache sidecar plus its flavour, size and media facts."""
    return {**asdict(entry), "cache_key": cache_key, "size": video.stat().st_size,
            "media": media_facts(video)}


def _entry(shot_hash: str, sha: str, source: Mapping[str, Any]) -> CacheEntry:
    def number(name: str) -> float:
        value = source.get(name)
        return float(value) if isinstance(value, int | float) else 0.0
    seed = source.get("seed")
    return CacheEntry(shot_hash, sha, str(source.get("provider") or ""),
                      str(source.get("task_id") or ""), seed if isinstance(seed, int) else None,
                      number("billed_seconds"), number("cost"), str(source.get("currency") or ""),
                      number("created_at"))


@dataclass
class StoreLink:
    """One run's use of the store for one provider flavour."""

    store: RenderStore
    cache_key: str
    known: set[str] = field(default_factory=set)  # hashes with a record (scan, pulls, pushes)
    videos: set[str] = field(default_factory=set)  # sha256 of the stored videos, at scan time
    seen: set[str] = field(default_factory=set)  # hashes the plan counted as "in store"
    refused: set[str] = field(default_factory=set)  # hashes whose stored copy was refused
    problem: str | None = None  # why the scan could not reach the store
    down: bool = False  # the store stopped answering during this run
    rerender_refused: bool = False  # blanket consent: a refused copy may be paid for again
    notes: list[str] = field(default_factory=list)
    root: Path | None = None  # the series folder, whose takes' measurements go with the videos
    shared: set[str] = field(default_factory=set)  # sha256 whose measurement the store has
    shared_people: set[str] = field(default_factory=set)  # sha256 whose people the store has
    _claimed: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def shown(self) -> str:
        return self.store.shown

    # --- the plan ---------------------------------------------------------------------------

    def key_for(self, shot_hash: str) -> str:
        """The flavour a hash's record is kept under: a cast asset's is the cast's maker's
        (``cast_source``: a gateway's cast is DashScope's), a video's this one's."""
        return cast_source(self.cache_key) if is_asset(shot_hash) else self.cache_key

    def scan(self) -> None:
        """Two listings (three when the cast is another flavour's): the shot records of this
        flavour (and the cast's) and the stored videos."""
        try:
            self.known = self.store.hashes(self.cache_key)
            if cast_source(self.cache_key) != self.cache_key:
                self.known = {h for h in self.known if not is_asset(h)} | {
                    h for h in self.store.hashes(cast_source(self.cache_key)) if is_asset(h)}
            self.videos = self.store.videos()
        except StoreUnreachable as exc:
            self.problem = str(exc)

    def available(self, shots: Sequence[CompiledShot],
                  locked: Mapping[str, LockEntry]) -> set[str]:
        """Hashes of ``shots`` the store can give: by record, or by the lock file's sha256."""
        found = {s.hash for s in shots if s.hash in self.known
                 or locked_sha(s, locked, self.key_for(s.hash)) in self.videos}
        self.seen |= found
        return found

    # --- before a submit ----------------------------------------------------------------------

    def fetch(self, shot: CompiledShot, cache: OutputCache,
              locked: Mapping[str, LockEntry]) -> Fetch:
        """Pull ``shot`` into the cache if the store has it (blocking: run it on a thread)."""
        if self.down:
            return Fetch("unreachable", message=f"store {self.shown} stopped answering earlier "
                         "in this run")
        try:
            return self._fetch(shot, cache, locked)
        except StoreCorrupt as exc:
            self.refused.add(shot.hash)
            return Fetch("refused", message=str(exc))
        except StoreUnreachable as exc:
            self.down = True
            return Fetch("unreachable", message=str(exc))

    def _fetch(self, shot: CompiledShot, cache: OutputCache,
               locked: Mapping[str, LockEntry]) -> Fetch:
        """The lock file's video first (what the team committed), else the store's record's;
        a candidate that fails its sha256 check is refused and the next one tried."""
        record = self.store.record(self.key_for(shot.hash), shot.hash)
        candidates: list[tuple[str | None, Mapping[str, Any]]] = [
            (locked_sha(shot, locked, self.key_for(shot.hash)), locked.get(shot_key(shot), {}))]
        if record is not None:
            candidates.append((record.sha256, record.data))
        refusal: StoreCorrupt | None = None
        tried: set[str] = set()
        for sha, source in candidates:
            if not sha or sha in tried:
                continue
            tried.add(sha)
            recorded = record is not None and sha == record.sha256  # its video went up first
            if not recorded and not self.store.has_video(sha):
                continue
            try:
                entry = self._pull(shot.hash, sha, source, cache)
            except StoreCorrupt as exc:
                refusal = refusal or exc
                continue
            return Fetch("pulled", entry)
        if refusal is not None:
            raise refusal
        return Fetch("miss")

    def _pull(self, shot_hash: str, sha: str, source: Mapping[str, Any],
              cache: OutputCache) -> CacheEntry:
        entry = _entry(shot_hash, sha, source)
        tmp = cache.temp_path(shot_hash)
        try:
            self.store.pull(sha, tmp)
            cache.put(entry, tmp)
        finally:
            tmp.unlink(missing_ok=True)
        self.known.add(shot_hash)
        self._adopt(sha)
        return entry

    def _adopt(self, sha: str) -> None:
        """The store's measurements of a video just pulled (its facts, its people), kept as
        this clone's so the video is not decoded again; none, one not whole, or a store that
        fails here leaves it to be measured as before (the video is pulled: nothing is lost)."""
        self.adopt_people(sha, faces=False)  # as measured: a render looks again if it must
        if self.root is None or measured.current(self.root, sha):
            return
        try:
            data = self.store.measurement(sha)
        except StoreError:
            return
        if measured.adopt(self.root, sha, data):
            self.shared.add(sha)

    def adopt_people(self, sha: str, *, faces: bool = True) -> bool:
        """The store's people of the file ``sha`` (a take, a board, a character's picture) kept
        as this clone's unless it has them (``faces``: looked for): True when it has them now.
        None there, one not whole or a store that fails: False (measure it here)."""
        if self.root is None:
            return False
        if records.current(records.recorded_people(self.root, sha), faces=faces):
            return True
        if self.down:
            return False
        try:
            data = self.store.measurement(sha, PEOPLE)
        except StoreError:
            return False
        kept = records.adopt_people(self.root, sha, data, faces=faces)
        if kept:
            self.shared_people.add(sha)
        return kept

    def must_not_pay(self, shot: CompiledShot, fetched: Fetch) -> str | None:
        """Why a shot whose lookup went wrong must not be submitted; None when it may be."""
        if fetched.kind == "refused" and not self.rerender_refused and shot.hash in self.seen:
            return (f"{fetched.message}; not rendered again, since the plan counted it as free: "
                    "pass --yes (or --budget) to render it and repair the store")
        if fetched.kind == "unreachable" and shot.hash in self.seen:
            return (f"{fetched.message}; the store has this shot, so it is not paid for again: "
                    "run again when the store is back, or render it anyway: render --set "
                    "offline=true (season, version and queue render: --offline)")
        self.note(f"{shot_key(shot)}: {fetched.message}; rendering it")
        return None

    # --- after a render ------------------------------------------------------------------------

    def claim(self, shot_hash: str) -> bool:
        """True once per hash that the store lacks (or holds a refused copy of): push it."""
        with self._lock:
            if shot_hash in self._claimed or (
                    shot_hash in self.known and shot_hash not in self.refused):
                return False
            self._claimed.add(shot_hash)
            return True

    def push(self, shot: CompiledShot, cache: OutputCache) -> bool:
        """Push a cached shot (blocking); a failure is a note, never a failed shot."""
        if self.down:
            self.note(f"{shot_key(shot)}: not pushed (store {self.shown} stopped answering in "
                      "this run); `storyboard push` sends it later")
            return False
        try:
            wrote = self.push_cached(shot.hash, cache)
        except (StoreUnreachable, StoreCorrupt, OSError) as exc:
            self.down = self.down or isinstance(exc, StoreUnreachable)
            self.note(f"{shot_key(shot)}: not pushed ({exc}); `storyboard push` sends it later")
            return False
        return wrote

    def push_cached(self, shot_hash: str, cache: OutputCache) -> bool:
        """Verify the cached video against its sidecar, then push it and its record."""
        entry, video = cache.get(shot_hash), cache.path(shot_hash)
        if entry is None:
            return False
        if sha256_file(video) != entry.sha256:
            raise StoreCorrupt(f"the cached video {video} does not match its recorded sha256; "
                               "delete it and render again")
        wrote = self.store.push(record_for(entry, self.key_for(shot_hash), video), video,
                                force=shot_hash in self.refused)
        self.known.add(shot_hash)
        self.refused.discard(shot_hash)
        self.share(entry.sha256, check=True)
        return wrote

    def share(self, sha: str, *, check: bool = False) -> None:
        """Put this folder's measurements of the video ``sha`` (its facts, its people) into the
        store (``check``: unless the store has them), those of this version; a failure is a
        note."""
        self.share_people(sha, check=check)
        if self.root is None or self.down or sha in self.shared:
            return
        found = measured.recorded(self.root, sha)
        if found is None or not measured.current(self.root, sha):
            return
        try:
            if not (check and self.store.has_measurement(sha)):
                self.store.put_measurement(sha, found.to_dict())
        except StoreError as exc:
            self.note(f"the measurement of {sha[:12]}… was not shared ({exc})")
            return
        self.shared.add(sha)

    def share_people(self, sha: str, *, check: bool = False) -> None:
        """Put this folder's people of the file ``sha`` into the store (``check``: unless the
        store has them), if it has them of this version; a failure is a note."""
        if self.root is None or self.down or sha in self.shared_people:
            return
        found = records.recorded_people(self.root, sha)
        if not records.current(found, faces=False) or found is None:
            return
        try:
            if not (check and self.store.has_measurement(sha, PEOPLE)):
                self.store.put_measurement(sha, found.to_dict(), PEOPLE)
        except StoreError as exc:
            self.note(f"the people of {sha[:12]}… were not shared ({exc})")
            return
        self.shared_people.add(sha)

    def note(self, message: str) -> None:
        log.warning("%s", message)
        with self._lock:
            self.notes.append(message)
