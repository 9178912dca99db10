"""Accepted submit bodies into result videos, rendered once per distinct request.

Results are drawn by the ``local`` provider's ``render_body``, imported when the first task
finishes. Rendering runs in a worker thread, never on the event loop, and is cached by a hash of
what shapes the picture (size, duration, prompts unless plain, media content, sound, seed, plain
mode): a bench of hundreds of tasks that differ only by their words renders one file, and
concurrent identical tasks wait on the same render. ``STORYBOARD_EMULATOR_DRAWINGS`` may name a
folder that emulators share: a drawing of the local renderer is then made once per folder (a
plain result's by what it shows, any other by key; and by ffmpeg) and copied from there (the test
suite sets it for a session).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from storyboard.emulator.state import Stats
from storyboard.emulator.validate import Submission
from storyboard.files import write_atomic
from storyboard.media import ffmpeg, samples

if TYPE_CHECKING:
    from storyboard.animatic.draw import Animatic

DRAWINGS_ENV = "STORYBOARD_EMULATOR_DRAWINGS"  # a folder of drawings shared by emulators
# Bump when what a result looks like changes: a shared folder's older drawings are not reused.
# 2: the dialogue captions along the top, clear of a delivery's burnt-in subtitles; 3: the
# references drawn large, as the people the take shows (``Animatic.figures``).
DRAWING_VERSION = 3
# The face a ``task:swap`` puts in the place of a shot's only character (Grace Hopper's US Navy
# portrait, in the public domain: its source is in ``other-face.md`` beside it).
OTHER_FACE = Path(__file__).with_name("other-face.jpg")


class RenderFn(Protocol):
    """Draws a body's result; ``drift`` (a ``task:`` fault: swap, costume, grade) is passed only
    when one is asked for."""

    def __call__(self, body: dict[str, Any], out: Path, *,
                 media: Mapping[str, Path] | None = None, plain: bool = False) -> None: ...


@dataclass(frozen=True)
class Rendered:
    path: Path
    width: int
    height: int
    seconds: float


def local_spec(body: dict[str, Any], *, media: Mapping[str, Path] | None = None,
               plain: bool = False, drift: str = "") -> Animatic:
    """What the local renderer draws for ``body``: a request with a seed gets a backdrop colour
    of that seed's own, so takes of one shot differ visibly (and byte for byte, even in plain
    mode); one without a seed is drawn as the provider draws it. A bar sweeps across every take,
    as a model's picture moves, so measuring a take does not find it frozen. The dialogue's
    captions go along the top (``Animatic.captions_top``): a delivery burns its subtitles in
    along the bottom, and a model's picture has no captions of its own. The references are drawn
    large (``Animatic.figures``), as the people the take shows, and a ``drift`` draws them wrong
    on purpose (``swapped``, ``animatic.drift``)."""
    from storyboard.animatic.shots import body_animatic

    if drift == "swap":
        media = swapped(body, media or {})
    spec = replace(body_animatic(body, media=media, plain=plain), motion=True,
                   captions_top=True, figures=True, drift="" if drift == "swap" else drift)
    seed = seed_of(body)
    return spec if seed is None else replace(spec, color=seed_color(seed))


def local_render_body() -> RenderFn:
    """The local provider's renderer (``local_spec`` drawn), imported late: only finishing tasks
    need it."""
    from storyboard.animatic.clip import render

    def draw(body: dict[str, Any], out: Path, *, media: Mapping[str, Path] | None = None,
             plain: bool = False, drift: str = "") -> None:
        render(local_spec(body, media=media, plain=plain, drift=drift), out)

    return draw


def drawn_name(spec: Animatic) -> str | None:
    """A shared drawing's name from what it shows, when that holds no file (a plain result's):
    requests that differ only in what is not drawn (a plain result's words and references)
    share one drawing. ``None`` where a file is drawn: the request's key names it, its files
    counted by content."""
    if spec.backdrop is not None or spec.thumbnails or spec.sounds:
        return None
    return hashlib.sha256(f"{spec!r} {ffmpeg.binary()} {DRAWING_VERSION}".encode()).hexdigest()


def swapped(body: Mapping[str, Any], media: Mapping[str, Path]) -> dict[str, Path]:
    """``media`` with the first reference picture's file replaced: by the second's (the first
    character's place shows the second character), or by ``OTHER_FACE`` when it is the only
    one; unchanged when the body sends none that is at hand."""
    urls = [str(m.get("url", "")) for m in (body.get("input") or {}).get("media") or []
            if isinstance(m, dict) and m.get("type") == "reference_image"]
    at_hand = [url for url in urls if url in media]
    if not at_hand:
        return dict(media)
    return {**media, at_hand[0]: swapped_pictures([media[url] for url in at_hand])[0]}


def swapped_pictures(pictures: Sequence[Path]) -> list[Path]:
    """``pictures`` with the first replaced by the second, or by ``OTHER_FACE`` when alone."""
    found = list(pictures)
    if found:
        found[0] = found[1] if len(found) > 1 else OTHER_FACE
    return found


def draw_figures(base: Path, size: tuple[int, int], pictures: Sequence[Path], out: Path,
                 drift: str = "") -> None:
    """A generated picture (``base``, of ``size``) with the references it was sent drawn on it
    as figures, as a take draws them (``Animatic.figures``): an image task's board or sheet
    shows who it was given; ``drift`` (swap, costume, grade) draws them wrong on purpose."""
    from storyboard.animatic.clip import render_picture
    from storyboard.animatic.draw import Animatic, Thumbnail

    shown = swapped_pictures(pictures) if drift == "swap" else list(pictures)
    spec = Animatic(*size, 1.0, backdrop=base, backdrop_fit="cover", figures=True,
                    thumbnails=tuple(Thumbnail(path, f"Image {n}")
                                     for n, path in enumerate(shown, 1)),
                    drift="" if drift == "swap" else drift)
    render_picture(spec, out)


def shared_drawings() -> Path | None:
    """The folder of drawings emulators share (``STORYBOARD_EMULATOR_DRAWINGS``), if one is set."""
    folder = os.environ.get(DRAWINGS_ENV, "")
    return Path(folder) if folder else None


def seed_of(body: Mapping[str, Any]) -> int | None:
    seed = (body.get("parameters") or {}).get("seed")
    return seed if isinstance(seed, int) and not isinstance(seed, bool) else None


def seed_color(seed: int) -> str:
    """A colour of the seed's own, ``0xRRGGBB``, never too dark to tell apart."""
    value = hashlib.sha256(str(seed).encode()).digest()
    return "0x" + "".join(f"{64 + b % 192:02x}" for b in value[:3])


def normalized_body(body: Mapping[str, Any], sub: Submission) -> dict[str, Any]:
    """The body with the service's defaults written in, so the renderer never guesses them."""
    params = dict(body.get("parameters") or {})
    params.update(resolution=sub.resolution, ratio=sub.ratio, duration=sub.duration,
                  watermark=sub.watermark)
    # The media as validated, by neutral role: a model's own wire names are the service's.
    data = {**(body.get("input") or {}), "media": [dict(item) for item in sub.media]}
    return {**body, "model": sub.model, "input": data, "parameters": params}


def render_key(body: Mapping[str, Any], sub: Submission, digests: Mapping[str, str],
               plain: bool, drift: str = "") -> str:
    """What the picture depends on, hashed: uploaded files count by content, not by URL."""
    def ident(url: str | None) -> str:
        return digests.get(url, url) if url else ""

    negative = body.get("input", {}).get("negative_prompt")
    media = [[m["type"], ident(m["url"]), ident(m.get("reference_voice"))] for m in sub.media]
    doc: dict[str, Any] = {"size": [sub.resolution, sub.ratio], "duration": sub.duration,
                           "media": media, "plain": plain}
    if not plain:  # a plain result draws no words: shots that differ only by them share it
        doc |= {"prompt": sub.prompt, "negative": negative}
    seed = seed_of(body)
    if seed is not None:  # only then: the key of a request without a seed stays as it was
        doc["seed"] = seed
    if not sub.audio:  # likewise: a silent video is another file
        doc["audio"] = False
    if sub.watermark:  # and a watermarked one
        doc["watermark"] = True
    if drift:  # and one drawn wrong on purpose
        doc["drift"] = drift
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


class Renderer:
    """Renders results into ``out_dir``, one worker thread per distinct request."""

    def __init__(self, out_dir: Path, stats: Stats, *, plain: bool,
                 render: RenderFn | None = None) -> None:
        self.out_dir = out_dir
        self.stats = stats
        self.plain = plain
        self._render = render
        self._local = render is None  # only the local drawing is shared between emulators
        self._jobs: dict[str, asyncio.Future[Rendered]] = {}
        self._seconds: dict[Path, float] = {}

    def _function(self) -> RenderFn:
        if self._render is None:
            self._render = local_render_body()
        return self._render

    def _render_sync(self, key: str, body: dict[str, Any], media: dict[str, Path],
                     drift: str) -> Rendered:
        out = self.out_dir / f"{key}.mp4"
        same = self._draw(key, body, media, out, drift) if not out.exists() else out
        info = ffmpeg.probe(same)  # a shared drawing's probe: once a process, not once a copy
        video = info.video
        return Rendered(out, video.width if video else 0, video.height if video else 0,
                        info.duration or 0.0)

    def _draw(self, key: str, body: dict[str, Any], media: dict[str, Path], out: Path,
              drift: str) -> Path:
        """Draws ``out``, or copies it from the shared folder (drawing it there first): the file
        ``out`` is a byte-for-byte copy of (itself, or the shared drawing)."""
        shared = shared_drawings() if self._local else None
        asked: dict[str, Any] = {"drift": drift} if drift else {}
        if shared is None:
            with ffmpeg.atomic_output(out) as tmp:
                self._function()(body, tmp, media=media, plain=self.plain, **asked)
            return out
        # a plain result is named by what it shows (its spec holds no file); any other by its
        # key, so a drawing already shared costs no spec (a first frame's probe) to find
        spec = local_spec(body, media=media, plain=True, drift=drift) if self.plain else None
        name = (drawn_name(spec) if spec else None) or hashlib.sha256(
            f"{key} {ffmpeg.binary()} {DRAWING_VERSION}".encode()).hexdigest()
        drawing = shared / f"{name}.mp4"
        if not drawing.exists():
            with ffmpeg.atomic_output(drawing) as tmp:
                self._function()(body, tmp, media=media, plain=self.plain, **asked)
        with ffmpeg.atomic_output(out) as tmp:
            shutil.copyfile(drawing, tmp)
        return drawing

    async def render(self, body: Mapping[str, Any], sub: Submission,
                     media: Mapping[str, Path], digests: Mapping[str, str],
                     drift: str = "") -> Rendered:
        """The body's result, drawn once per distinct key; ``drift`` (a ``task:`` fault: swap,
        costume, grade) draws it wrong on purpose, as a file of its own."""
        key = render_key(body, sub, digests, self.plain, drift)
        job = self._jobs.get(key)
        if job is None:
            self.stats.renders += 1
            job = asyncio.ensure_future(asyncio.to_thread(
                self._render_sync, key, normalized_body(body, sub), dict(media), drift))
            self._jobs[key] = job
        else:
            self.stats.render_hits += 1
        try:
            # shield: a task cancelled while waiting must not cancel the render others share.
            return await asyncio.shield(job)
        except Exception:
            if self._jobs.get(key) is job:
                del self._jobs[key]  # a failed render is retried by the next task, not cached
            raise

    async def flawed(self, rendered: Rendered, flaw: str) -> Rendered:
        """``rendered`` with ``flaw`` (a ``task:`` fault: a cut, a black or frozen second...)."""
        out = rendered.path.with_name(f"{rendered.path.stem}-{flaw}.mp4")

        def make() -> Rendered:
            if not out.exists():
                samples.flawed(rendered.path, out, flaw, rendered.seconds)
            return replace(rendered, path=out, seconds=ffmpeg.probe(out).duration or 0.0)
        return await asyncio.to_thread(make)

    async def unusable(self, rendered: Rendered, kind: str) -> Rendered:
        """``rendered`` as a result the service bills but nobody can use (a ``task:`` fault:
        ``unusable_bytes``)."""
        out = rendered.path.with_name(f"{rendered.path.stem}-{kind}.bin")

        def make() -> Rendered:
            if not out.exists():
                write_atomic(out, unusable_bytes(rendered.path.read_bytes(), kind), durable=False)
            return replace(rendered, path=out)
        return await asyncio.to_thread(make)

    async def seconds(self, path: Path) -> float:
        """A reference video's length (probed once per file, in a worker thread)."""
        if path not in self._seconds:
            info = await asyncio.to_thread(ffmpeg.probe, path)
            self._seconds[path] = info.duration or 0.0
        return self._seconds[path]

    async def pixels(self, path: Path) -> tuple[int, int]:
        """A picture's width and height (0 x 0 when it holds none), probed in a worker thread."""
        video = (await asyncio.to_thread(ffmpeg.probe, path)).video
        return (video.width, video.height) if video is not None else (0, 0)



HTML_PAGE = (b"<!DOCTYPE html>\n<html><head><title>403 Forbidden</title></head>\n"
             b"<body><h1>Forbidden</h1><p>Request has expired.</p></body></html>\n")


def unusable_bytes(video: bytes, kind: str) -> bytes:
    """A result file as a service may send it, billed and unusable: an HTML error page
    (``html``), nothing (``empty``), the video's first 512 bytes (``corrupt``), or the video
    whose header declares 89,478 s (``long``: a movie of 2**32 - 1 ticks at 48 kHz, its tracks
    of as many ticks: ffprobe reads 89,478 s, ffmpeg's log no length at all)."""
    if kind == "html":
        return HTML_PAGE
    if kind == "empty":
        return b""
    if kind == "corrupt":
        return video[:512]
    data = bytearray(video)
    if kind != "long" or not _declare(data, b"mvhd", 16, 48_000):
        raise ValueError(f"cannot make a {kind!r} result of this video")
    _declare(data, b"mdhd", 20)
    _declare(data, b"tkhd", 24)
    return bytes(data)


def _declare(data: bytearray, box: bytes, at: int, timescale: int | None = None) -> bool:
    """Each version-0 ``box`` of ``data`` declaring the longest duration its field holds (at
    ``at`` bytes past the box's name; ``timescale``: written just before it); whether any was."""
    found, start = False, 0
    while (name := data.find(box, start)) >= 0:
        start = name + 4
        if data[name + 4] != 0:
            continue
        if timescale is not None:
            struct.pack_into(">I", data, name + at, timescale)
        struct.pack_into(">I", data, name + at + (4 if timescale is not None else 0), 0xFFFFFFFF)
        found = True
    return found
