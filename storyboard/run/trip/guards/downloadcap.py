"""A shot into the most bytes its result's download may hold, so an endless stream stops.

A video's limit is its model's longest, largest output (the longest duration it takes, its largest
frame) at a bitrate far above any delivery file's (1 bit a pixel a frame at 30 frames a second,
some ten times what an H.264 file of that size holds), plus room for the audio and the container:
wan2.7-r2v's 15 s at 1920x1080 comes to about 133 MB. A cast asset has its kind's own (a 4096x4096
RGBA image uncompressed is 64 MB; ten minutes of 48 kHz stereo WAV, 115 MB, gets 120). A series may set
one limit for every download instead (``provider.max_download_mb``).
"""

from __future__ import annotations

import re

from storyboard.language.request import CompiledShot, ShotRequest
from storyboard.targets.video.models import model_of

MB = 1_000_000
BITS_PER_PIXEL = 1.0  # a frame's bits per pixel: ~10x a delivery H.264 file's
FRAME_RATE = 30  # Wan renders 16 or 24 frames a second
HEADROOM = 16 * MB  # the audio track and the container
UNKNOWN_PIXELS = 3840 * 2160  # a resolution nobody declared: as if 4K
ASSET_LIMITS = {"image": 64 * MB, "voice": 120 * MB, "speech": 120 * MB}
HEIGHT = re.compile(r"^(\d{3,4})[Pp]$")


def download_limit(shot: CompiledShot, configured_mb: float | None = None) -> int:
    """The bytes ``shot``'s result may hold: ``configured_mb`` when the series sets it, else
    derived from what the shot's model can make at most."""
    if configured_mb is not None:
        return int(configured_mb * MB)
    if shot.asset is not None:
        return ASSET_LIMITS.get(shot.asset.kind, max(ASSET_LIMITS.values()))
    return video_limit(shot.request)


def video_limit(request: ShotRequest) -> int:
    model = model_of(request.model)
    seconds = max(float(request.duration), float(model.caps.max_duration) if model else 0.0)
    pixels = max(_pixels(request.resolution), *_model_pixels(request.model))
    return int(seconds * pixels * FRAME_RATE * BITS_PER_PIXEL / 8) + HEADROOM


def _model_pixels(model_id: str) -> list[int]:
    model = model_of(model_id)
    if model is None:
        return [0]
    caps = model.caps
    return [w * h for (res, _), (w, h) in caps.sizes.items() if res in caps.resolutions] or [0]


def _pixels(resolution: str) -> int:
    """A ``1080P`` frame's pixels at 16:9 (the widest ratio); an unknown name: 4K's."""
    match = HEIGHT.match(str(resolution))
    if match is None:
        return UNKNOWN_PIXELS
    height = int(match.group(1))
    return height * (height * 16 // 9)
