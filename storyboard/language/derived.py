"""A rendered take's file and a pass over it into the derived take's request: an edit by words, an
extension or a lip-sync pass, compiled as any take is.

The request of a derived take is a pass over its parent's file: the parent's length, size and
lines (measured against them), an edit's words (nothing else of the parent's prompt) or a
lip-sync pass's track, no seed. Its hash is the digest of both inputs (the parent's file by
content, and the words or the track by content), so the runner prices, asks consent, journals,
caches and never pays it twice, as any take. Which model makes it is the caller's word (the
kinds declare their passes, ``targets.kinds``); who asks, and where it is recorded, is the run's.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from storyboard.language.compile import canonical
from storyboard.language.hashing import digest
from storyboard.language.request import CompiledShot, MediaItem, MediaRef, ShotRequest, take_id

PassKind = Literal["edit", "lipsync", "extend"]
ADAPTIVE = "adaptive"  # a Seedance edit's ratio: the video's own


@dataclass(frozen=True)
class Pass:
    """What a pass over a take asks: its kind and model, an edit's words or a lip-sync pass's
    track (a file, by content), and whether the model is the parent's own editor (Seedance:
    the video's own ratio)."""

    kind: PassKind
    model: str
    words: str = ""
    track: Path | None = None
    track_sha256: str = ""
    own_editor: bool = False
    seconds: int = 0  # an extension's own length (its output seconds)


def derived_take(shot: CompiledShot, parent: CompiledShot, take: int, asked: Pass,
                 video: Path, video_sha256: str) -> CompiledShot:
    """Take ``take`` of ``shot``: ``asked`` over ``parent``'s rendered file ``video``."""
    files = {video: video_sha256}
    media = [MediaItem("source_video", MediaRef(path=video))]
    if asked.kind == "lipsync" and asked.track is not None:
        files[asked.track] = asked.track_sha256
        media.append(MediaItem("driving_audio", MediaRef(path=asked.track)))
    request = pass_request(parent.request, asked, tuple(media))
    form = {"derived": {"kind": asked.kind, "take": parent.take, "from": parent.hash},
            **canonical(request, files, {}, {})}
    return replace(parent, id=take_id(shot.id, take), request=request, hash=digest(form),
                   canonical=form, take=take, others=[], depends_on=None, needs={},
                   inputs={str(path): value for path, value in files.items()})


def pass_request(parent: ShotRequest, asked: Pass, media: tuple[MediaItem, ...]) -> ShotRequest:
    """The pass's request: the parent's length, size and lines (measured against them), the
    edit's words (nothing else of the parent's prompt), no seed; an extension its own length and
    words, no line, made by the parent's own model's task."""
    edit, extend = asked.kind == "edit", asked.kind == "extend"
    return ShotRequest(model=asked.model, prompt=asked.words if edit or extend else "",
                       media=media, resolution=parent.resolution,
                       ratio=ADAPTIVE if asked.own_editor else parent.ratio,
                       duration=asked.seconds if extend else parent.duration,
                       prompt_extend=False if edit else None, watermark=False,
                       scenes=() if extend else parent.scenes,  # the extension says no line
                       task=asked.kind if asked.own_editor else "")
