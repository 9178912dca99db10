"""A shot's take in use and words or a line's audio into the derived take that renders them:
``retake --edit`` (an edit by words), ``retake --extend`` (an extension, Kling 4.0) and
``retake --lipsync`` (a lip-sync pass).

Nothing is written here but the pass's audio track (by content, under ``.storyboard/derived/``):
the render that makes the take records it in the lock (``Retake.changes``) once it has consent,
so a refused pass leaves the lock as it was; asked again, the same pass over the same take is the
same take (rendered once, or cached), never a second one.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from storyboard.errors import StoryboardError
from storyboard.files import state_folder
from storyboard.language.request import CompiledShot, Manifest, take_id
from storyboard.media.inputs.track import laid_track
from storyboard.media.probes.probe import sha256_file
from storyboard.run.state.lock.derived import (
    TRACKS,
    Derived,
    asked,
    derived_take,
    first_line_start,
    made_files,
    made_line,
    parent_file,
    refuse_length,
    routes_lipsync,
)
from storyboard.run.state.lock.lockfile import LockFile, lock_path, read_lock
from storyboard.run.state.takes import (
    Retake,
    find_shot,
    more_takes,
    rendered_takes,
    state_key,
    used_take,
    with_retakes,
)
from storyboard.targets.kinds import DASHSCOPE, EDIT_MODEL, LIPSYNC_MODEL, OWN_EDIT, passes
from storyboard.targets.video.models import model_of
from storyboard.targets.wire.gateways import DASHSCOPE_REGIONS, TARGETS

MAX_WORDS = 5000  # wan2.7-videoedit's prompt limit
Make = Callable[[CompiledShot, LockFile], Derived]


def ask_edit(manifest: Manifest, shot_id: str, words: str, *, base_url: str = "",
             provider: str = DASHSCOPE.name, region: str | None = None) -> Retake:
    """An edit of the shot's take in use by ``words``, as a derived take of the same shot: on
    DashScope by ``wan2.7-videoedit``, on Ark or ModelArk by the parent's own Seedance model's
    edit task (``base_url``: where the provider sends it, for the model's regions)."""
    words = words.strip()
    if not words or len(words) > MAX_WORDS:
        raise StoryboardError(f"--edit: expected the change in words (1 to {MAX_WORDS} "
                              f"characters), got {len(words)}")
    def editor(parent: CompiledShot) -> str:
        return seedance_editor(parent, provider) if passes(provider).edits == OWN_EDIT else ""
    return _ask(manifest, shot_id, lambda p: editor(p) or EDIT_MODEL, (base_url, region),
                lambda parent, _: Derived(0, "edit", parent.take, parent.hash, words=words,
                                          editor=editor(parent)))


def seedance_editor(parent: CompiledShot, provider: str, task: str = "edit") -> str:
    """The model that edits (or extends) ``parent`` on Ark, ModelArk or Kling: its own, when
    that host sells it and it has the task (Seedance 2.5, Kling 4.0); else refused before
    anything is asked."""
    model = model_of(parent.request.model)
    sold = TARGETS[provider].models
    if model is None or model.id not in sold or task not in model.task_types:
        edits = ", ".join(m for m in sold if task in getattr(model_of(m), "task_types", ()))
        other = ", or edit on DashScope (wan2.7-videoedit)" if task == "edit" else ""
        raise StoryboardError(
            f"{parent.episode}/{parent.name}: --{task} on {provider} works on a take of a model "
            f"with the {task} task ({edits}); the take in use is {parent.request.model}'s: "
            f"render the shot with that model first{other}")
    return model.id


def ask_extend(manifest: Manifest, shot_id: str, words: str, seconds: int, *,
               base_url: str = "", provider: str = DASHSCOPE.name) -> Retake:
    """An extension of the shot's take in use, ``seconds`` long, by ``words``: a derived take
    made by the parent's own model's extend task (Kling 4.0), billed on the parent's seconds
    and its own (priced, consented, journaled, never paid twice, as any take)."""
    words = words.strip()
    if not words or len(words) > MAX_WORDS:
        raise StoryboardError(f"--extend: expected what happens next in words (1 to "
                              f"{MAX_WORDS} characters), got {len(words)}")

    def make(parent: CompiledShot, _: LockFile) -> Derived:
        editor = seedance_editor(parent, provider, "extend")
        caps = model_of(editor).caps  # type: ignore[union-attr]
        if not caps.min_duration <= seconds <= caps.max_duration:
            raise StoryboardError(f"--seconds {seconds}: {editor} extends by {caps.min_duration}"
                                  f" to {caps.max_duration} s")
        return Derived(0, "extend", parent.take, parent.hash, words=words, editor=editor,
                       seconds=seconds)
    return _ask(manifest, shot_id, lambda p: seedance_editor(p, provider, "extend"),
                (base_url, None), make)


def ask_lipsync(manifest: Manifest, shot_id: str, audio: Path | None = None, *,
                at: float | None = None, base_url: str = "", region: str | None = None
                ) -> Retake:
    """A lip-sync pass (``videoretalk``) over the shot's take in use, to its made line (its
    driving audio) or to ``audio``, laid at ``at`` seconds (default: its first line's start)
    on a track as long as the take; ``region``: the DashScope region its provider renders in
    (else read from ``base_url``, a region's public host)."""
    def make(parent: CompiledShot, lock: LockFile) -> Derived:
        line = made_line(parent, made_files(parent, lock, manifest.root)) if audio is None \
            else (audio, at if at is not None else first_line_start(parent))
        if line is None or not line[0].is_file():
            raise StoryboardError(_no_line(parent, audio))
        track, sha = _track(manifest.root, *line, float(parent.request.duration))
        return Derived(0, "lipsync", parent.take, parent.hash, track=track, track_sha256=sha)
    if at is not None and not 0 <= at < float("inf"):
        raise StoryboardError(f"--at {at}: expected seconds from the take's start, 0 or more")
    return _ask(manifest, shot_id, lambda _: LIPSYNC_MODEL, (base_url, region), make)


def lipsync_after(manifest: Manifest, shot_id: str, *,
                  base_url: Callable[[], str] = str,
                  region: Callable[[], str | None] = lambda: None) -> Retake | None:
    """The lip-sync pass a shot whose line routes ``lipsync`` gets once its take is picked or
    approved (None for another shot, or when the take it uses is such a pass already);
    ``base_url`` and ``region``: where its provider sends it (asked only for such a shot)."""
    lock = read_lock(lock_path(manifest.root))
    shot = find_shot(with_retakes(manifest, lock, free=False), shot_id)
    if not routes_lipsync(shot):
        return None
    used = take_in_use(shot, lock, manifest.root)
    if used.request.model == LIPSYNC_MODEL:
        return None
    return ask_lipsync(manifest, shot_id, base_url=base_url(), region=region())


def _no_line(shot: CompiledShot, audio: Path | None) -> str:
    if audio is not None:
        return f"--audio {audio}: no such file"
    return (f"{shot.episode}/{shot.name} has no made line to lip-sync to (no driving audio, or "
            "its line is not made yet): render the shot's line first, or give --audio FILE")


def _track(root: Path, clip: Path, start: float, seconds: float) -> tuple[str, str]:
    """The pass's audio: ``clip`` at ``start`` on silence as long as the take, kept by its
    content (the same line on the same take is the same file)."""
    folder = state_folder(root / TRACKS)
    made = laid_track([(clip, start)], seconds, folder / f".track-{os.getpid()}.wav")
    sha = sha256_file(made)
    final = folder / f"{sha}.wav"
    made.replace(final)
    return final.relative_to(root).as_posix(), sha


def _ask(manifest: Manifest, shot_id: str, model: Callable[[CompiledShot], str],
         where: tuple[str, str | None], make: Make) -> Retake:
    lock = read_lock(lock_path(manifest.root))
    shot = find_shot(with_retakes(manifest, lock, free=False), shot_id)
    parent = take_in_use(shot, lock, manifest.root)
    check_pass(parent, model(parent), *where)
    wanted = make(parent, lock)
    built = derived_take(shot, parent, wanted, lock, manifest.root)
    assert built is not None  # its parent rendered: ``take_in_use``
    state = lock.takes.get(state_key(shot), {})
    first, fields = more_takes(state, find_shot(manifest, shot_id), 1)
    record, change = asked(state, replace(wanted, hash=built.hash), first, fields)
    again = " (asked for before: rendering it, or taking it from the cache)" if change is None \
        else ""
    return Retake(shot.shot_id, f"take {record.take}: the {record.said()}{again}",
                  (f"{shot.episode}/{take_id(shot.id, record.take)}",),
                  ((state_key(shot), change),) if change is not None else ())


def take_in_use(shot: CompiledShot, lock: LockFile, root: Path) -> CompiledShot:
    """The take the shot uses (approved, else picked, else its lowest rendered), rendered."""
    done = rendered_takes(shot, lock)
    ids = {t.id for t in shot.all_takes() if t.take in done}
    take = used_take(shot, lock.takes.get(state_key(shot), {}), ids)
    if take.take not in done or parent_file(take, lock, root) is None:
        raise StoryboardError(f"{shot.shot_id} has no rendered take to work on: render it "
                              "first (then pick or approve the take to fix)")
    return take


def check_pass(parent: CompiledShot, model_id: str, base_url: str, region: str | None) -> None:
    """A take its service does not take, or a region that does not serve it: refused before
    anything is asked."""
    model = model_of(model_id)
    assert model is not None
    rule = model.file_rules.get("source_video")
    low, high = (rule.min_seconds, rule.max_seconds) if rule is not None else \
        (1.0, model.max_reference_video_seconds or float(model.caps.max_duration))
    refuse_length(model_id, float(parent.request.duration), low, high,
                  f"{parent.episode}/{parent.name}")
    region = region or next((r for r, url in DASHSCOPE_REGIONS.items()
                             if base_url.rstrip("/") == url), None)
    if region is not None and model.regions and region not in model.regions:
        raise StoryboardError(
            f"{model.id} is served in DashScope's {', '.join(model.regions)} region only, and "
            f"this series renders in {region}: set provider.region: {model.regions[0]} (with "
            "that region's key)")
