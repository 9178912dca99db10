"""Failures and downloads into verdicts: may a failed submit have created a task, may it be
retried, and is a downloaded video fit for the cache (if not, it is kept aside: it was paid for).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from storyboard.errors import (
    ConnectFailed,
    FFmpegError,
    JournalError,
    MediaError,
    ProviderError,
    RateLimited,
    ServerError,
    TransportError,
)
from storyboard.files import safe_to_delete
from storyboard.language.request import CompiledShot
from storyboard.media import ffmpeg
from storyboard.media.probes import pngcheck, probe
from storyboard.run.state.castinputs import sent_voices, short_voice
from storyboard.targets.video.models import model_of

AMBIGUOUS_STATUSES = (502, 504)  # a gateway answered: the service behind it may have the request
# What ``.storyboard/rejected/`` holds at most; past either, the oldest files go first (the newest
# always stays: a person is told where it is).
REJECTED_FILES = 20
REJECTED_BYTES = 1_000_000_000


class InvalidOutput(MediaError):
    """A downloaded video that fails verification."""


def is_ambiguous(exc: BaseException) -> bool:
    """True when a failed submit may still have created a task (so reconcile before resending)."""
    if isinstance(exc, ConnectFailed):
        return False
    if isinstance(exc, TransportError | TimeoutError):
        return True
    if isinstance(exc, ServerError):
        return exc.status in AMBIGUOUS_STATUSES
    # Any other ProviderError is an answer from the service: nothing was created. An unexpected
    # exception tells us nothing, so assume the worst.
    return not isinstance(exc, ProviderError)


def may_have_made(exc: BaseException) -> bool:
    """True when a retryable error answer may have come after the task was made (a 500, MiniMax's
    1000): a vendor that lists its tasks is asked before the submit is sent again. A rate limit
    is an answer that takes nothing in; a failure to connect sent nothing."""
    return isinstance(exc, ProviderError) and not isinstance(exc, RateLimited | TransportError)


def retryable(exc: BaseException) -> bool:
    if isinstance(exc, ProviderError):
        return exc.retryable
    # A ledger that stayed away past its own patience (it reconnects by itself): asking again
    # would only wait as long again.
    return not isinstance(exc, JournalError)  # else timeouts and unexpected transport failures


def describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    return str(exc) or type(exc).__name__


def verify_video(path: Path, duration: float, tolerance: float, require_audio: bool) -> None:
    """The checks a downloaded video passes before it enters the cache."""
    try:
        info = ffmpeg.probe(path)
    except (MediaError, FFmpegError) as exc:
        raise InvalidOutput(f"the video cannot be read: {exc}") from exc
    verify_info(info, duration, tolerance, require_audio)


ASSET_KINDS = {"image": ("png", "jpeg", "webp", "bmp"), "voice": ("wav", "mp3"),
               "speech": ("wav", "mp3")}
ASSET_KINDS["element"] = ASSET_KINDS["image"]  # an element's file: its picture
ASSET_KINDS["kvoice"] = ASSET_KINDS["voice"]  # a voice made on Kling's: its audition clip
ASSET_KINDS["portrait"] = ASSET_KINDS["image"]  # a portrait's: the sheet it was made from


def verify_asset(path: Path, kind: str) -> None:
    """The checks a made cast asset passes before it enters the cache: an image or audio that
    ffmpeg reads (a voice's and a line's of some length); a PNG checked whole in Python
    (``pngcheck``), without an ffprobe process."""
    kind = "image" if kind in ("element", "portrait") else kind  # its file is a picture
    if kind == "image" and pngcheck.is_png(path):
        problem = pngcheck.problem(path)
        if problem is not None:
            raise InvalidOutput(f"the image cannot be read: {problem}")
        return
    try:
        facts = probe.measure(path)
    except (MediaError, FFmpegError) as exc:
        raise InvalidOutput(f"the {kind} cannot be read: {exc}") from exc
    if facts.kind not in ASSET_KINDS[kind]:
        raise InvalidOutput(f"expected {' or '.join(ASSET_KINDS[kind]).upper()} for a {kind}, "
                            f"but the content is {facts.kind}")
    if kind != "image" and facts.seconds <= 0:
        raise InvalidOutput(f"the {kind} has no sound in it")


def verify_info(info: ffmpeg.MediaInfo, duration: float, tolerance: float,
                require_audio: bool) -> None:
    """``verify_video``'s checks of what a probe read."""
    if info.video is None:
        raise InvalidOutput("the file has no video stream")
    if info.duration is None or abs(info.duration - duration) > tolerance:
        raise InvalidOutput(f"it lasts {info.duration} s, the request asked for {duration} s")
    if require_audio and info.audio is None:
        raise InvalidOutput("the video has no audio track")


def keep_rejected(root: Path, shot: CompiledShot, task_id: str, tmp: Path) -> Path:
    """Move a download that failed verification aside, for a person to look at."""
    suffix = shot.asset.suffix if shot.asset is not None else ".mp4"
    kept = root / ".storyboard" / "rejected" / f"{shot.hash[:16]}-{task_id}{suffix}"
    kept.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, kept)
    bound_rejected(kept.parent, kept)
    return kept


def made_input_problem(shot: CompiledShot, made: Mapping[str, Path]) -> str | None:
    """What a made cast asset breaks of the rule ``shot``'s model holds its role to (a spoken
    line too short for a driving audio), measured before the shot is sent; None when all fit."""
    model = model_of(shot.request.model)
    rules = model.file_rules if model is not None else {}
    for item in shot.request.media:
        rule = rules.get(item.role)
        asset = item.ref.asset if item.ref is not None else None
        if rule is None or asset is None or asset not in made:
            continue
        try:
            seconds = probe.measure(made[asset]).seconds
        except (MediaError, FFmpegError) as exc:
            return f"{asset} cannot be read: {exc}"
        problem = rule.problem(seconds, made[asset].stat().st_size)
        if problem is not None:
            return (f"{asset}, this shot's {item.role.replace('_', ' ')}, {problem} on "
                    f"{shot.request.model}: not sent, nothing paid for it; change the line "
                    "(its say:) and render again")
    return None


def made_voice_problem(shot: CompiledShot, made: Mapping[str, Path], root: Path) -> str | None:
    """Why ``shot`` waits: a designed voice it sends, measured now, too short to be a reference
    voice (``assets.short_voice``, as the plan says it); None when each is long enough. A voice
    that cannot be read is ``made_input_problem``'s or the provider's to refuse."""
    for asset in sent_voices(shot):
        if asset not in made:
            continue
        try:
            seconds = probe.measure(made[asset]).seconds
        except (MediaError, FFmpegError):
            continue
        problem = short_voice(shot, asset, seconds, root)
        if problem is not None:
            return problem
    return None


def bound_rejected(folder: Path, newest: Path) -> None:
    """Remove the oldest kept files until ``folder`` holds at most ``REJECTED_FILES`` files and
    ``REJECTED_BYTES`` bytes; ``newest`` stays whatever its size."""
    files = [(st.st_mtime, path.name, st.st_size, path) for path in folder.iterdir()
             if path != newest and path.is_file() and not path.is_symlink()
             for st in (path.stat(),)]
    count, total = len(files) + 1, sum(f[2] for f in files) + newest.stat().st_size
    for _, _, size, path in sorted(files):
        if count <= REJECTED_FILES and total <= REJECTED_BYTES:
            return
        safe_to_delete(path).unlink(missing_ok=True)
        count, total = count - 1, total - size
