"""Media files into facts and verdicts: content type, size, dimensions, length, content hash.

The type of a file is read from its first bytes, never from its name (a PNG named ``.mp4`` is a
PNG). Dimensions and lengths come from ``ffmpeg.probe``, once an image's header has said it holds
no more pixels than any model takes (``imagehead``: a decompression bomb is refused undecoded); a
whole PNG's are read in Python (``pngcheck.whole``), as ffmpeg would give them. The
limits are spec section 3's. Facts and hashes are cached in ``.storyboard/media.json`` by path,
size and mtime, so a re-check reads nothing.
A PNG of a placeholder card's size is also held to the card's recipe (``initcard``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from stat import S_ISREG
from typing import Literal

from storyboard.errors import MediaError
from storyboard.files import LinkedStateFolder, state_folder, write_atomic
from storyboard.media import imagehead
from storyboard.media.imagehead import sniff
from storyboard.media.probes import initcard, pngcheck

Role = Literal["image", "video", "voice"]
MB = 1024 * 1024
CACHE_VERSION = 4  # 2: ``complete``; 3: ``init_card``; 4: ``damage`` (pictures decoded whole)
WHOLE_CHECK_BYTES = 64 * MB  # a larger picture is over every limit anyway: not decoded


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    min_side: int = 0
    max_side: int = 0
    max_aspect: float = 8.0
    min_seconds: float = 0.0
    max_seconds: float = 0.0


LIMITS: dict[Role, Limits] = {
    "image": Limits(20 * MB, 240, 8000),
    "video": Limits(100 * MB, 240, 4096, min_seconds=1, max_seconds=30),
    "voice": Limits(15 * MB, min_seconds=1, max_seconds=10),
}
ACCEPTED: dict[Role, tuple[str, ...]] = {
    "image": ("jpeg", "png", "bmp", "webp"),
    "video": ("mp4", "mov"),
    "voice": ("wav", "mp3"),
}
ROLE_WORDS = {"image": "an image (JPEG, PNG, BMP, WEBP)", "video": "a video (MP4, MOV)",
              "voice": "an audio clip (WAV, MP3)"}


@dataclass(frozen=True)
class Facts:
    kind: str  # sniffed content type: png, jpeg, bmp, webp, mp4, mov, wav, mp3, or "unknown"
    size: int
    sha256: str
    width: int = 0
    height: int = 0
    seconds: float = 0.0
    alpha: bool = False
    has_audio: bool = False
    complete: bool = True  # an MP4/MOV whose boxes all end inside the file (not cut short)
    init_card: bool = False  # a grey placeholder card an older ``init`` drew (``initcard``)
    damage: str = ""  # why a picture does not decode whole (cut short, a bad CRC), else ""


def boxes_complete(path: Path, size: int) -> bool:
    """Whether every top-level MP4/MOV box ends inside the file: a download or copy cut short
    keeps an intact header (ffmpeg probes it happily) but loses the end of its ``mdat``."""
    offset = 0
    with path.open("rb") as fh:
        while offset < size:
            fh.seek(offset)
            header = fh.read(16)
            if len(header) < 8:
                return False
            length = int.from_bytes(header[:4], "big")
            if length == 1 and len(header) == 16:
                length = int.from_bytes(header[8:16], "big")
            elif length == 0:  # "to the end of the file"
                return True
            if length < 8 or offset + length > size:
                return False
            offset += length
    return True


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def measure(path: Path) -> Facts:
    """Read a file's facts (no cache): sniff, hash, and probe with ffmpeg when it is media."""
    try:
        with path.open("rb") as fh:
            head = fh.read(32)
        size = path.stat().st_size
        digest = sha256_file(path)
    except OSError as exc:
        raise MediaError(f"{path}: cannot read ({exc.strerror})") from exc
    kind = sniff(head)
    if kind == "unknown":
        return Facts(kind, size, digest)
    declared = imagehead.too_many_pixels(path, kind) if kind in ACCEPTED["image"] else None
    if declared is not None:  # refused by its header: never decoded (a decompression bomb)
        return Facts(kind, size, digest, width=declared[0], height=declared[1])
    if kind == "png" and (header := pngcheck.whole(path)) is not None:  # no ffmpeg process
        return Facts(kind, size, digest, width=header.width, height=header.height,
                     alpha=header.alpha, init_card=(header.width, header.height) in initcard.SIZES
                     and initcard.is_init_card(path))
    from storyboard.media import ffmpeg  # only a file measured anew: a check of cached facts
    # never starts ffmpeg, nor imports its runner (about 25 ms of a new process's start)
    info = ffmpeg.probe(path)
    video, audio = info.video, info.audio
    width, height = (video.width, video.height) if video else (0, 0)
    return Facts(kind, size, digest, width=width, height=height,
                 seconds=info.duration or 0.0,
                 alpha=bool(video and kind == "png" and _has_alpha(video.pix_fmt)),
                 has_audio=audio is not None,
                 complete=kind not in ("mp4", "mov") or boxes_complete(path, size),
                 init_card=kind == "png" and (width, height) in initcard.SIZES
                 and initcard.is_init_card(path),
                 damage=picture_damage(path, kind, size) if video else "")


def picture_damage(path: Path, kind: str, size: int) -> str:
    """Why a picture does not decode whole, or "": a PNG walked chunk by chunk (``pngcheck``:
    every CRC, the pixel stream inflated), any other picture decoded by ffmpeg to its last byte
    (a JPEG cut short still probes, and shows grey where its end was)."""
    if kind not in ACCEPTED["image"] or size > WHOLE_CHECK_BYTES:
        return ""
    if kind == "png":
        return pngcheck.problem(path) or ""
    from storyboard.media import ffmpeg  # as ``measure``: imported when first used
    return ffmpeg.decode_problem(path) or ""


def _has_alpha(pix_fmt: str) -> bool:
    return pix_fmt.startswith(("rgba", "bgra", "argb", "abgr", "ya", "yuva", "gbrap"))


def verdict(facts: Facts, role: Role, limits: Limits | None = None) -> list[str]:
    """What is wrong with a file of these facts used as ``role`` (empty when it is fine), by
    ``limits`` when a model has its own for that use (a first clip's 2..10 s), else the role's."""
    if facts.kind not in ACCEPTED[role]:
        found = "a file of unknown type" if facts.kind == "unknown" else f"a {facts.kind.upper()}"
        return [f"expected {ROLE_WORDS[role]}, but the content is {found}"]
    limits, problems = limits or LIMITS[role], []
    if not facts.complete:
        return [f"the {facts.kind.upper()} is cut short (its last box runs past the end of the "
                "file: an interrupted download or copy?); expected a complete file"]
    if facts.damage:
        return [f"the {facts.kind.upper()} is not whole ({facts.damage}: cut short or damaged, "
                "an interrupted download or copy?); expected a picture that decodes to its end"]
    if facts.size > limits.max_bytes:
        problems.append(f"{facts.size / MB:.1f} MB is over the {limits.max_bytes / MB:g} MB limit")
    if role in ("image", "video"):
        problems += _dimension_problems(facts, limits)
    if role == "image" and facts.alpha:
        problems.append("a PNG with an alpha channel is not accepted; expected no transparency")
    if limits.max_seconds and not limits.min_seconds <= facts.seconds <= limits.max_seconds:
        problems.append(f"lasts {facts.seconds:.2f} s; expected {limits.min_seconds:g} to "
                        f"{limits.max_seconds:g} s")
    return problems


def _dimension_problems(facts: Facts, limits: Limits) -> list[str]:
    w, h = facts.width, facts.height
    if not w or not h:
        return ["ffmpeg found no picture in it"]
    problems = []
    if min(w, h) < limits.min_side or max(w, h) > limits.max_side:
        problems.append(f"{w}x{h} pixels; expected each side between {limits.min_side} and "
                        f"{limits.max_side}")
    if max(w, h) / min(w, h) > limits.max_aspect:
        problems.append(f"aspect {w}:{h} is beyond 1:8..8:1")
    return problems


def _real(file: Path) -> bool:
    """Whether ``file`` and the state folders above it are no links: facts are neither read
    from nor written through a link (a planted file's facts would name other content)."""
    try:
        state_folder(file.parent)
    except LinkedStateFolder:
        return False
    return not file.is_symlink()


class MediaCache:
    """Facts by path, reused while a file's size and mtime are unchanged (kept in the series'
    ``.storyboard/media.json``, never read or written through a link)."""

    def __init__(self, file: Path | None) -> None:
        self.file = file if file is None or _real(file) else None  # never through a link
        self.entries: dict[str, dict[str, object]] = {}
        self.dirty = False
        file = self.file
        if file is not None and file.is_file():
            try:
                data = json.loads(file.read_text(encoding="utf-8"))
                if data.get("version") == CACHE_VERSION:
                    self.entries = data.get("files", {})
            except (OSError, ValueError):
                self.entries = {}  # a damaged cache is only a slower check

    def facts(self, path: Path) -> Facts:
        try:
            stat = path.stat()
        except OSError as exc:
            raise MediaError(f"{path}: cannot read ({exc.strerror})") from exc
        if not S_ISREG(stat.st_mode):  # a FIFO or a device would block or never end
            raise MediaError(f"{path}: not a regular file; expected a media file")
        key = str(path)
        entry = self.entries.get(key)
        if entry and entry.get("size") == stat.st_size and entry.get("mtime_ns") == stat.st_mtime_ns:
            return Facts(**entry["facts"])  # type: ignore[arg-type]
        facts = measure(path)
        self.entries[key] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
                             "facts": asdict(facts)}
        self.dirty = True
        return facts

    def save(self) -> None:
        if not self.dirty or self.file is None:
            return
        with contextlib.suppress(OSError):  # a read-only series still checks; it is just not cached
            write_atomic(self.file, json.dumps({"version": CACHE_VERSION, "files": self.entries}),
                         durable=False)
        self.dirty = False
