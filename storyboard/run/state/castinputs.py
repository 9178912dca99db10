"""Cast assets into what a shot is sent with: the made take's file, or a designed voice's id.

A shot names the assets it uses (``CompiledShot.needs``: ``cast/mia`` -> the hash of the take it
uses), and its media carry ``MediaRef(asset=...)`` until it is handed to a provider. The runner makes
the assets first (they are shots of their own: journaled, cached, shared, never paid twice), waits
for the takes a shot needs, and ``substituted`` puts each take's file in place of its name; a line
spoken in a designed voice gets that voice's id (the task id its design answered with), and a
character's element or voice made on Kling its id (the task id its create answered with), and a
portrait made in Ark's asset library ``asset://ID`` where its sheet's file went. The hash
is not touched: it already covers the take (its hash), so the bytes sent are the ones planned.
"""

from __future__ import annotations

import math
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from storyboard.files import state_folder
from storyboard.language.request import (
    CompiledShot,
    Line,
    MediaItem,
    MediaRef,
    Scene,
    is_portrait,
)
from storyboard.media.inputs.pad import pad_line
from storyboard.media.probes.probe import LIMITS
from storyboard.run.state.cache import OutputCache
from storyboard.targets.cast.arkassets import portrait_id
from storyboard.targets.video.kling4 import element_id, voice_id
from storyboard.targets.video.models import model_of
from storyboard.targets.wire.gateways import ARK_ASSET

VOICE_SECONDS = LIMITS["voice"].min_seconds  # the shortest reference voice a model takes


@dataclass(frozen=True)
class Made:
    """A made take of an asset: its file, and the task id that made it (a voice's id)."""

    path: Path
    task_id: str


def substituted(shot: CompiledShot, made: Mapping[str, Made]) -> CompiledShot:
    """``shot`` with every asset it names replaced by the made take's file (and a line's voice
    by the designed voice's id)."""
    if not made:
        return shot
    request = shot.request
    media = tuple(_item(item, made) for item in request.media)
    scenes = tuple(_scene(scene, made) for scene in request.scenes)
    asset = shot.asset
    if asset is not None and asset.voice in made:
        asset = replace(asset, voice=made[asset.voice].task_id)
    if asset is not None and asset.refs:
        asset = replace(asset, refs=tuple(_ref(r, made) or r for r in asset.refs))
    return replace(shot, request=replace(request, media=media, scenes=scenes), asset=asset)


def _ref(ref: MediaRef | None, made: Mapping[str, Made]) -> MediaRef | None:
    if ref is None or ref.asset is None or ref.asset not in made:
        return ref
    return MediaRef(path=made[ref.asset].path)


def _item(item: MediaItem, made: Mapping[str, Made]) -> MediaItem:
    asset = item.ref.asset if item.ref is not None else None
    if item.role == "element" and asset is not None and asset in made:
        return replace(item, ref=MediaRef(id=element_id(made[asset].task_id)))
    if item.role == "voice_id" and asset is not None and asset in made:  # a Kling voice made
        return replace(item, ref=MediaRef(id=voice_id(made[asset].task_id)))
    if asset is not None and is_portrait(asset) and asset in made:  # made in Ark's library
        return replace(item, ref=MediaRef(url=ARK_ASSET.format(
            asset=portrait_id(made[asset].task_id))), voice=_ref(item.voice, made))
    return replace(item, ref=_ref(item.ref, made), voice=_ref(item.voice, made))


def _scene(scene: Scene, made: Mapping[str, Made]) -> Scene:
    lines = tuple(_line(line, made) for line in scene.lines)
    return replace(scene, lines=lines) if lines != scene.lines else scene


def _line(line: Line, made: Mapping[str, Made]) -> Line:
    return replace(line, voice=_ref(line.voice, made))


def with_made_files(shots: list[CompiledShot], cache: OutputCache) -> list[CompiledShot]:
    """``shots`` with each cast asset already in ``cache`` in place of its name (what a gateway
    will be sent, so its URLs can be checked before anything is paid)."""
    out = []
    for shot in shots:
        made = {asset: Made(cache.path(digest), entry.task_id) for asset, digest
                in shot.needs.items() if (entry := cache.get(digest)) is not None}
        out.append(substituted(shot, made))
    return out


def padded(shot: CompiledShot, made: Mapping[str, Made], root: Path) -> dict[str, Made]:
    """``made`` with each made line ``shot`` hands over as driving audio padded (silence or room
    tone, as the line declares) to the shortest its model takes, its words unchanged and where
    the line's scene puts them (``media.inputs.pad``); a line long enough is handed over as made."""
    out = dict(made)
    model = model_of(shot.request.model)
    for item in shot.request.media:
        asset = item.ref.asset if item.ref is not None else None
        if item.pad and model is not None and asset is not None and asset in made:
            folder = state_folder(root / ".storyboard" / "padded")
            line = pad_line(made[asset].path, folder, lead=item.lead,
                            minimum=model.min_driving_audio, kind=item.pad)
            out[asset] = replace(made[asset], path=line.path)
    return out


def sent_voices(shot: CompiledShot) -> list[str]:
    """The designed voices (``voices/NAME``) a video shot sends as reference audio."""
    if shot.asset is not None:
        return []  # a line is spoken by the voice's id, not its preview
    refs = [ref for item in shot.request.media for ref in (item.ref, item.voice)]
    refs += [line.voice for scene in shot.request.scenes for line in scene.lines]
    return sorted({ref.asset for ref in refs
                   if ref is not None and ref.asset and ref.asset.startswith("voices/")})


def short_voice(shot: CompiledShot, asset: str, seconds: float, root: Path) -> str | None:
    """Why ``shot`` waits when its designed voice ``asset`` lasts ``seconds`` (measured), too
    short to be a reference voice; None when it is long enough. The plan and the render say it
    alike: nothing is sent, and the command that fixes it."""
    if seconds >= VOICE_SECONDS:
        return None
    name = asset.partition("/")[2]
    return (f"waits: {asset}, the reference voice of {shot.episode}/{shot.name}, lasts "
            f"{seconds:.2f} s, and a reference voice lasts {VOICE_SECONDS:g} to 10 s: not sent, "
            f"nothing paid for it; lengthen its sample (voices: {name}: sample:), then "
            f"storyboard render {shown_folder(root)}")


def not_made(asset: str, shot: CompiledShot, why: str, root: Path,
             refused: float | None = None) -> str:
    """Why a shot cannot be sent: an asset it uses is not made (and how to make it: the command
    that renders the shot makes the assets it uses first; with a budget that holds the asset
    when the budget refused it, ``refused`` its cost)."""
    budget = "" if refused is None else f" --budget {math.ceil(round(refused * 100, 6)) / 100:.2f}"
    because = "" if refused is None else " (the budget does not hold it)"
    return (f"blocked: {asset} (used by {shot.episode}/{shot.name}) {why}{because}; make it "
            f"first: storyboard render {shown_folder(root)} {asset}{budget}")


def unsettled(asset: str, shot: CompiledShot, settle: str) -> str:
    """Why a shot cannot be sent: an asset it uses stopped on a submit whose answer was lost,
    which no render settles; ``settle``, the asset's own commands that do (``run.trip``)."""
    return (f"blocked: {asset} (used by {shot.episode}/{shot.name}) stopped on a submit whose "
            f"answer was lost, which no render settles by itself; {settle}, then render again")


def shown_folder(root: Path) -> str:
    """The series folder as a command names it: relative to the working folder when inside it."""
    try:
        relative = root.resolve().relative_to(Path.cwd().resolve())
    except (ValueError, OSError):
        return shlex.quote(str(root))
    return shlex.quote(str(relative)) if str(relative) != "." else "."
