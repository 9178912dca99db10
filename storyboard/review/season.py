"""A delivered series' stitched episodes into ``out/season/``: each episode's file and cover, and
``manifest.json`` + ``manifest.csv`` (episode, title, seconds, file, cover, hook line, cost).

Written by ``render`` when the series declares ``delivery:`` (``stitch/series/delivery.py``). An
episode's cover is its approved board (the first of its shots that has one), else a frame of the
episode (the middle of its first shot); a generated cover is never made, since it would be a paid
task outside the plan the render was consented to. The hook line is the episode's ``hook:``, else
its last spoken line; the cost is what the journal says its shots and their boards cost. The same
episodes give the same bytes: files hard-linked (else copied), stills taken bit-exact, the
manifest's rows in episode order with their numbers rounded.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from storyboard.errors import csv_text
from storyboard.files import made_series_folder, safe_to_delete, series_folder, write_atomic
from storyboard.language.picks import state_key
from storyboard.language.request import BOARDS, CompiledEpisode, CompiledShot, Manifest
from storyboard.media import ffmpeg
from storyboard.review import seasonversions as versioned
from storyboard.run.state.cache import OutputCache
from storyboard.run.state.lock.lockfile import TakeState
from storyboard.run.state.tasks.attempts import Attempt
from storyboard.stitch.series.delivery import Delivery, delivery_of, hook_of

SEASON_DIR = "season"
Journal = tuple[Sequence[Attempt], str]  # the journal's rows, the currency costs are counted in
COLUMNS = ("episode", "id", "title", "seconds", "file", "cover", "cover_from", "subtitles", "hook",
           "cost", "currency", "language")


@dataclass(frozen=True)
class Row:
    """One delivered episode, as the manifest lists it."""

    episode: int
    id: str
    title: str
    seconds: float
    file: str
    cover: str  # "" when the series asks for none
    cover_from: str  # "board boards/EP/SHOT" or "frame at 2.500 s"
    subtitles: str
    hook: str
    cost: float
    currency: str
    language: str = ""  # the series' original language, or a version's (its own row)


@dataclass(frozen=True)
class Season:
    """What ``write_season`` wrote: the folder, its rows, and the episodes it left out (why)."""

    folder: Path
    rows: tuple[Row, ...]
    left_out: tuple[tuple[str, str], ...]
    removed: tuple[str, ...] = ()  # files the manifest no longer lists, removed (their paths in it)
    versions: int = 0  # how many of ``rows`` are language versions (the rest are episodes)


def delivered(manifest: Manifest) -> Delivery | None:
    """The series' delivery, or None when it declares none (no season is written)."""
    return delivery_of(manifest.episodes[0].settings) if manifest.episodes else None


def write_season(manifest: Manifest, out_dir: Path, cache: OutputCache,
                 states: Mapping[str, TakeState], journal: Journal,
                 not_ready: Mapping[str, str] | None = None,
                 stale: Mapping[tuple[str, str], str] | None = None) -> Season | None:
    """``out_dir/season/`` for every episode stitched in ``out_dir``; None without delivery.
    ``journal``: its rows and the provider's currency (what each episode's cost is counted in);
    ``not_ready``: the episodes this render could not stitch (why): an older file of theirs is
    not delivered as if it were current; ``stale``: the language versions (language, episode)
    whose cut changed since they were made (why, and what brings them back), left out so."""
    delivery = delivered(manifest)
    if delivery is None:
        return None
    folder = series_folder(manifest.root, out_dir / SEASON_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    boards = {asset.shot_id: asset for asset in manifest.cast}
    original, versions = versioned.languages(manifest)
    rows: list[Row] = []
    left_out: list[tuple[str, str]] = []
    for number, episode in enumerate(manifest.episodes, 1):
        video = out_dir / f"{episode.id}.mp4"
        if episode.id in (not_ready or {}):
            left_out.append((episode.id, (not_ready or {})[episode.id]))
            continue
        if not video.is_file():
            left_out.append((episode.id, "not stitched yet"))
            continue
        changed = unmade(episode, cache)
        if changed:  # outside the rendered range: its file is of the cut before the edit
            left_out.append((episode.id, f"its shots changed since it was stitched ("
                             f"{', '.join(changed)}): render it again (storyboard render SERIES {number})"))
            continue
        board = approved_board(episode, boards, states, cache)
        row = replace(_deliver(folder, number, episode, video, board, delivery, journal),
                      language=original)
        made = versioned.delivered(manifest, out_dir, episode, versions.get(episode.id, ()),
                                   journal)
        left_out += [(f"{episode.id} ({v.language})", (stale or {})[v.language, episode.id])
                     for v in made if (v.language, episode.id) in (stale or {})]
        rows += [row, *_versions(folder, row, [v for v in made
                                               if (v.language, episode.id) not in (stale or {})])]
    write_atomic(folder / "manifest.json", manifest_json(rows), durable=False)
    write_atomic(folder / "manifest.csv", manifest_csv(rows), durable=False)
    return Season(folder, tuple(rows), tuple(left_out), unlisted(folder, rows),
                  sum(1 for row in rows if row.language and row.language != original))


def unlisted(folder: Path, rows: Sequence[Row]) -> tuple[str, ...]:
    """Remove every file of ``folder`` (and of its language folders) its manifest does not list:
    an episode left out takes its files with its row, and no hidden temporary stays. Returns
    their paths in the folder, sorted."""
    kept = {"manifest.json", "manifest.csv"} | {
        name for row in rows for name in (row.file, row.subtitles, row.cover) if name}
    removed = []
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if name not in kept and (path.is_symlink() or path.is_file()):
            safe_to_delete(path).unlink(missing_ok=True)
            removed.append(name)
    return tuple(removed)


def unmade(episode: CompiledEpisode, cache: OutputCache) -> list[str]:
    """The episode's shots none of whose takes, as they are now, is made: its stitched file
    cannot be of its cut as it is now."""
    return [shot.shot_id for shot in episode.shots
            if not any(cache.has(take.hash) for take in shot.all_takes())]


def _deliver(folder: Path, number: int, episode: CompiledEpisode, video: Path,
             board: tuple[str, Path] | None, delivery: Delivery, journal: Journal) -> Row:
    seconds = ffmpeg.probe(video).duration or 0.0
    _place(video, folder / video.name)
    subtitles = video.with_suffix(".srt")
    if subtitles.is_file():
        _place(subtitles, folder / subtitles.name)
    cover, cover_from = "", ""
    if delivery.cover:
        cover, cover_from = _cover(folder, episode, video, board, delivery, seconds)
    rows, currency = journal
    return Row(number, episode.id, episode.title, round(seconds, 3), video.name, cover,
               cover_from, subtitles.name if subtitles.is_file() else "", hook_line(episode),
               episode_cost(episode.id, rows, currency), currency)


def _versions(folder: Path, row: Row, found: list[versioned.Delivered]) -> list[Row]:
    """Each stitched version of ``row``'s episode as its own row: its files in ``<lang>/``, the
    episode's cover (the same picture)."""
    out = []
    for version in found:
        made_series_folder(folder, folder / version.language)  # a link there: refused
        _place(version.video, folder / version.language / version.video.name)
        subtitles = version.video.with_suffix(".srt")
        if subtitles.is_file():
            _place(subtitles, folder / version.language / subtitles.name)
        out.append(replace(row, title=version.title, language=version.language,
                           seconds=round(ffmpeg.probe(version.video).duration or 0.0, 3),
                           file=f"{version.language}/{version.video.name}",
                           subtitles=f"{version.language}/{subtitles.name}"
                           if subtitles.is_file() else "", hook=version.hook, cost=version.cost))
    return out


def _cover(folder: Path, episode: CompiledEpisode, video: Path, board: tuple[str, Path] | None,
           delivery: Delivery, seconds: float) -> tuple[str, str]:
    """The cover still (a JPEG as wide as the preset): the approved board, else a frame."""
    out = folder / f"{episode.id}.jpg"
    if board is not None:
        ffmpeg.still(board[1], out, at=None, width=delivery.preset.width)
        return out.name, f"board {board[0]}"
    at = min(cover_seconds(episode, delivery), max(0.0, seconds - 0.05))
    ffmpeg.still(video, out, at=at, width=delivery.preset.width)
    return out.name, f"frame at {at:.3f} s"


def cover_seconds(episode: CompiledEpisode, delivery: Delivery) -> float:
    """Where the frame cover is taken: the middle of the first shot, after the title card."""
    card = episode.settings.get("title_card")
    head = 0.0
    if isinstance(card, dict):
        head = float(card.get("duration", 2.0))
    elif delivery.title_card:
        head = delivery.card_seconds
    first = episode.shots[0].request.duration if episode.shots else 0
    return round(head + first / 2, 3)


def approved_board(episode: CompiledEpisode, boards: Mapping[str, CompiledShot],
                   states: Mapping[str, TakeState], cache: OutputCache) -> tuple[str, Path] | None:
    """The first of the episode's shots whose board has an approved take made: its name and
    file (a still the series gives as its own board is no approved take)."""
    for shot in episode.shots:
        ref = shot.board
        asset = boards.get(ref.asset or "") if ref is not None else None
        if asset is None:
            continue
        approved = states.get(state_key(asset), {}).get("approved")
        for take in asset.all_takes():
            if take.take == approved and cache.has(take.hash):
                return asset.shot_id, cache.path(take.hash)
    return None


def hook_line(episode: CompiledEpisode) -> str:
    """The episode's ``hook:``, else its last spoken line (as written), else ""."""
    return hook_of(episode)


def episode_cost(episode: str, journal: Sequence[Attempt], currency: str) -> float:
    """What the journal says the episode's shots and their boards cost, in ``currency`` (the
    provider's: a cast made by another, in its own, is the series', not an episode's; a
    version's work is the version's own row)."""
    return round(sum(row.cost for row in journal
                     if row.cost and (row.currency or currency) == currency
                     and not versioned.is_version(row)
                     and (row.episode == episode or (row.episode == BOARDS and
                                                     row.shot.split("/")[0] == episode))), 4)


def manifest_json(rows: Sequence[Row]) -> str:
    return json.dumps({"episodes": [asdict(r) for r in rows]}, indent=2, sort_keys=True,
                      ensure_ascii=False) + "\n"


def manifest_csv(rows: Sequence[Row]) -> str:
    """The rows as CSV, its text cells safe in a spreadsheet (``errors.csv_text``)."""
    return csv_text(COLUMNS, ([values[c] for c in COLUMNS] for values in map(asdict, rows)))


def _place(source: Path, target: Path) -> None:
    """``target`` as ``source``'s bytes: a hard link (no second copy), else a copy."""
    if target.is_file() and not target.is_symlink() and os.path.samefile(source, target):
        return  # linked already (a rename onto the same file would leave the temporary)
    temporary = target.with_name(f".{target.name}.part")
    temporary.unlink(missing_ok=True)
    try:
        os.link(source, temporary)
    except OSError:
        shutil.copyfile(source, temporary)
    try:
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
