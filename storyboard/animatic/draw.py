"""Animatic specs into ffmpeg graphs, and into MP4 files drawn frame by frame: shots, bodies, cards.

An ``Animatic`` is a neutral description of one clip (size, length, backdrop, thumbnails,
timed texts, captions, sounds); ``video_chain`` and ``audio_chain`` build its ffmpeg graph, linear
in the number of elements, and ``render_frames`` draws every frame of it in one run (``clip.render``
draws a still one's distinct pictures only). Every clip is encoded by ``encoding_args``, so shots
and cards join by stream copy. User text reaches drawtext only through ``textfile=`` files with
``expansion=none``, so it is drawn literally.
"""

from __future__ import annotations

import math
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from storyboard.animatic.drift import FIGURE_SHARE, checked, costume_filters, grade_filters
from storyboard.animatic.graph import (
    GLYPH_WIDTH,
    Graph,
    TextFiles,
    block_height,
    centred_lines,
    drawtext_filter,
    filter_text,
    line_step,
    wrap,
)
from storyboard.errors import StoryboardError
from storyboard.media import ffmpeg, imagehead

# Bump when what an animatic looks like changes: the local provider's cache key carries it, so a
# new renderer draws every shot again instead of reusing the old pictures.
# 4: a portrait frame's captions sit above the platforms' bottom safe margin; 5: a still animatic
# is its distinct pictures held by skipped P-frames (``clip``): the same pictures, other bytes.
RENDERER_VERSION = 5
# A portrait (vertical) frame keeps its captions and its scene text above this share of its
# height: the platforms' bottom safe area, held equal to stitch's VERTICAL_SAFE_AREA.bottom by a
# test (the animatic sits below stitch in the layers and cannot import it).
PORTRAIT_SAFE_BOTTOM = 0.20
FPS = 30
DRAFT_FPS = 12
SAMPLE_RATE = 48000
BACKGROUND = "0x1e1e28"
THUMB_BACKGROUND = "0x3a3a46"
X264_THREADS = 4  # fixed, so the output does not depend on the machine's core count
TIMESCALE = 15360  # every clip's video track's: the stitch copies only clips that share one
_COLOR_RE = re.compile(r"^(?:#|0x)?[A-Za-z0-9]+(?:@(?:0?\.\d+|1(?:\.0+)?|0))?$")

Fit = Literal["contain", "cover"]


@dataclass(frozen=True)
class TimedText:
    """Text shown during [start, end) seconds."""

    text: str
    start: float
    end: float


@dataclass(frozen=True)
class Thumbnail:
    """A reference drawn in the top row: an image, or the first frame of a video."""

    path: Path
    label: str
    is_video: bool = False


@dataclass(frozen=True)
class Sound:
    """The audio of ``path`` played from ``start`` for at most ``length`` seconds."""

    path: Path
    start: float
    length: float


@dataclass(frozen=True)
class Animatic:
    """Everything one clip shows and plays; ``render`` draws it."""

    width: int
    height: int
    duration: float
    fps: int = FPS
    draft: bool = False
    color: str = BACKGROUND
    backdrop: Path | None = None  # a first frame or a card image
    backdrop_fit: Fit = "contain"
    # A first frame taken from an earlier animatic carries that shot's text: blur it away, so only
    # the new shot's text reads.
    backdrop_muted: bool = False
    thumbnails: tuple[Thumbnail, ...] = ()
    texts: tuple[TimedText, ...] = ()  # centred in the band between thumbnails and captions
    captions: tuple[TimedText, ...] = ()  # dialogue, along the bottom (or the top)
    # The captions along the top, under the thumbnails, the scene text below them: the
    # emulator's results, so a delivery's subtitles burnt in along the bottom never sit on them.
    captions_top: bool = False
    sounds: tuple[Sound, ...] = ()
    audio: bool = True  # False: no audio track at all (a model asked for a silent video)
    text_color: str = "white"
    text_size: float = 0.055  # font size as a fraction of the short side
    # A bar sweeping across the picture: a stand-in for a model's moving picture (the emulator's
    # takes), so a take's measurement does not find it frozen. The local animatic stays still.
    motion: bool = False
    # The references drawn large, as the people a model's take shows (the emulator's takes:
    # ``drift.FIGURE_SHARE`` of the height, the sweep bar behind them), and a drift on purpose.
    figures: bool = False
    drift: str = ""  # "costume" or "grade": ``drift.py``

    @property
    def frames(self) -> int:
        return max(1, round(self.duration * self.fps))

    @property
    def samples(self) -> int:
        """Audio samples matching the video's length exactly (frames / fps)."""
        return self.frames * SAMPLE_RATE // self.fps


def draft_size(width: int, height: int) -> tuple[int, int]:
    """A quarter of the linear size, rounded to even numbers (yuv420p needs them)."""
    return max(2, 2 * round(width / 8)), max(2, 2 * round(height / 8))


def closest_ratio(width: int, height: int, ratios: tuple[str, ...]) -> str:
    """The ratio (``"W:H"``) nearest to width/height, compared on a log scale so 2:1 and 1:2 are
    equally far from 1:1."""
    aspect = math.log(width / height)

    def distance(ratio: str) -> float:
        w, h = ratio.split(":")
        return abs(math.log(int(w) / int(h)) - aspect)

    return min(ratios, key=distance)


def check_color(color: str) -> str:
    """Refuse anything but a colour name, ``#RRGGBB``/``0xRRGGBB`` and an ``@alpha``: the value
    goes into a lavfi source string."""
    if not _COLOR_RE.match(color):
        raise StoryboardError(f"{color!r} is not a colour (a name like 'black' or '#102030')")
    return color


def encoding_args(fps: int, draft: bool) -> list[str]:
    """The codec parameters of every clip storyboard renders (shots and cards alike)."""
    return [*video_encoding(fps, draft), "-video_track_timescale", str(TIMESCALE),
            *audio_encoding(), "-movflags", "+faststart", "-map_metadata", "-1",
            "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact"]


def video_encoding(fps: int, draft: bool) -> list[str]:
    """``encoding_args``' picture: x264's settings, the same for every clip."""
    return [
        # ultrafast in both modes: an animatic is flat colour and text, and renders run in tests
        "-c:v", "libx264", "-preset", "ultrafast", "-crf", "28" if draft else "23",
        "-pix_fmt", "yuv420p", "-r", str(fps),
        # stitchable: headers do not depend on content, so clips concatenate by stream copy
        "-x264-params", "stitchable=1", "-threads", str(X264_THREADS),
    ]


def audio_encoding() -> list[str]:
    """``encoding_args``' sound."""
    return ["-c:a", "aac", "-b:a", "128k", "-ar", str(SAMPLE_RATE), "-ac", "2"]


# --- layout ----------------------------------------------------------------------------------


def _even(value: float) -> int:
    return max(2, 2 * round(value / 2))


@dataclass(frozen=True)
class Layout:
    margin: int
    thumb_w: int
    thumb_h: int
    label_h: int
    label_font: int
    text_font: int
    caption_font: int
    band_top: int  # where the scene text band starts
    band_bottom: int
    floor: int  # the captions' bottom edge: above the safe margin on a portrait frame
    caption_top: int | None = None  # the captions' top edge when they go along the top

    def thumb_x(self, index: int, count: int, width: int) -> int:
        row = count * self.thumb_w + (count - 1) * self.margin
        return (width - row) // 2 + index * (self.thumb_w + self.margin)


def layout(spec: Animatic) -> Layout:
    short = min(spec.width, spec.height)
    margin = _even(short * 0.03)
    count = len(spec.thumbnails)
    label_font = max(8, round(short * 0.032))
    label_h = _even(label_font * 1.6)
    thumb_h = _even(spec.height * (FIGURE_SHARE if spec.figures else 0.2))
    thumb_w = _even(min(thumb_h * 4 / 3, (spec.width - (count + 1) * margin) / max(count, 1)))
    caption_font = max(8, round(short * 0.045))
    band_top = margin + thumb_h + label_h + margin if count else margin
    floor = spec.height - bottom_margin(spec.width, spec.height, margin, caption_font // 3)
    caption_band = round(caption_font * 2.6) if spec.captions else 0
    caption_top = band_top if spec.captions_top else None
    if spec.captions_top:  # the captions under the thumbnails, the scene text below them
        band_top, band_bottom = band_top + caption_band, floor
    else:
        band_bottom = floor - caption_band
    return Layout(margin, thumb_w, thumb_h, label_h, label_font,
                  max(8, round(short * spec.text_size)), caption_font, band_top, band_bottom,
                  floor, caption_top)


def bottom_margin(width: int, height: int, margin: int, border: int) -> int:
    """What a frame keeps free under its texts: ``margin``, or on a portrait frame the platforms'
    bottom safe area (``PORTRAIT_SAFE_BOTTOM`` of its height, where their buttons sit) and the
    caption box's ``border`` above it."""
    if height <= width:
        return margin
    return max(margin, round(height * PORTRAIT_SAFE_BOTTOM) + border)


def window(item: TimedText, duration: float) -> tuple[str, str] | None:
    """[start, end) as the ``enable`` option writes them (``%g``: what drawtext compares the
    frame's time with); None when the text covers the whole clip."""
    if item.start <= 0 and item.end >= duration:
        return None
    return f"{item.start:g}", f"{item.end:g}"


def _window(item: TimedText, duration: float) -> dict[str, str]:
    """The ``enable`` option for [start, end); none when the text covers the whole clip."""
    bounds = window(item, duration)
    return {} if bounds is None else {"enable": f"gte(t,{bounds[0]})*lt(t,{bounds[1]})"}


def _backdrop(spec: Animatic, g: Graph, base: str) -> str:
    if spec.backdrop is None:
        return base
    size = (spec.width, spec.height)
    if spec.backdrop_fit == "cover":
        fit = [filter_text("scale", *size, force_original_aspect_ratio="increase", flags=ffmpeg.SWS_FLAGS),
               filter_text("crop", *size)]
    else:
        fit = [filter_text("scale", *size, force_original_aspect_ratio="decrease",
                       flags=ffmpeg.SWS_FLAGS)]
    if spec.backdrop_muted:
        # Blurred far past legibility (a radius of a tenth of the picture, three passes): the
        # earlier shot's colours carry over, its text does not show through.
        fit += [filter_text("boxblur", luma_radius="min(w,h)/10", luma_power=3,
                        chroma_radius="min(cw,ch)/10", chroma_power=3),
                filter_text("eq", brightness=-0.2)]
    picture = g.chain([g.input(str(spec.backdrop), *imagehead.demuxer(spec.backdrop))], *fit)
    # A video backdrop (a clip to continue, a video to edit) at another frame rate would make
    # the overlay run past the clip's length: cut it at exactly ``frames``.
    return g.chain([base, picture], filter_text("overlay", x="(main_w-overlay_w)/2",
                                            y="(main_h-overlay_h)/2", eof_action="repeat"),
                   filter_text("trim", end_frame=spec.frames))


def label_font(label: str, box: Layout) -> int:
    """The label's font size: the layout's, smaller for a label too long for its panel."""
    fits = box.thumb_w * 0.94 / (max(len(label), 1) * GLYPH_WIDTH)
    return max(6, min(box.label_font, int(fits)))


def _thumbnail(thumb: Thumbnail, box: Layout, g: Graph, textfile: str, color: str,
               drift: str = "") -> str:
    def picture(*more: str) -> str:
        source = g.input(str(thumb.path), *(("-t", "1") if thumb.is_video else
                                             imagehead.demuxer(thumb.path)))
        return g.chain(
            [source],
            filter_text("trim", end_frame=1),  # a still: a reference video shows its first frame
            filter_text("scale", box.thumb_w, box.thumb_h, force_original_aspect_ratio="decrease",
                        flags=ffmpeg.SWS_FLAGS, force_divisible_by=2), *more)

    still = picture()
    if drift == "costume":  # its lower part again, hue turned, over it
        still = g.chain([still, picture(*costume_filters())],
                        filter_text("overlay", x=0, y="main_h-overlay_h"))
    return g.chain(
        [still],
        filter_text("pad", box.thumb_w, box.thumb_h + box.label_h, "(ow-iw)/2",
                f"({box.thumb_h}-ih)/2", color=THUMB_BACKGROUND),
        # drawn once on the still, not on every output frame
        drawtext_filter(textfile, fontsize=label_font(thumb.label, box), fontcolor=color, x="(w-text_w)/2",
                  y=f"{box.thumb_h}+({box.label_h}-max_glyph_h)/2"))  # one baseline for all


def video_chain(spec: Animatic, g: Graph, texts: TextFiles,
                pictures: tuple[int, ...] | None = None, pix_fmt: str = "yuv420p") -> str:
    """``spec``'s picture: every frame, or with ``pictures`` only those frames (their numbers,
    rising), one after the other. The texts see each frame's own time, ``k / fps`` (whatever
    time base the overlays chose), so a picture is the frame it stands for."""
    frames_time = (spec.frames - 0.5) / spec.fps  # the source stops after exactly `frames` frames
    video = g.input(f"color=c={check_color(spec.color)}:s={spec.width}x{spec.height}"
                    f":r={spec.fps}:d={frames_time:.6f}", "-f", "lavfi")
    if pictures is not None:
        video = g.chain([video], filter_text("select", "+".join(f"eq(n,{k})" for k in pictures)))
    video = _backdrop(spec, g, video)
    box = layout(spec)
    if spec.motion and spec.figures:  # behind the figures: their pixels are the references'
        video = _sweep(spec, g, video)
    for index, thumb in enumerate(spec.thumbnails):
        still = _thumbnail(thumb, box, g, texts(thumb.label), spec.text_color,
                           checked(spec.drift))
        video = g.chain([video, still], filter_text(
            "overlay", x=box.thumb_x(index, len(spec.thumbnails), spec.width), y=box.margin,
            eof_action="repeat"))
    if spec.motion and not spec.figures:
        video = _sweep(spec, g, video)
    graded = grade_filters() if checked(spec.drift) == "grade" else []
    filters = [filter_text("settb", f"1/{spec.fps}"), *_scene_texts(spec, box, texts),
               *_captions(spec, box, texts), *graded, filter_text("format", pix_fmt)]
    if pictures is not None:  # numbered on, for the encoder: one picture a frame
        filters.append(filter_text("setpts", "N"))
    return g.chain([video], *filters)


def _sweep(spec: Animatic, g: Graph, video: str) -> str:
    """A translucent bar swinging smoothly across the picture (no jump a scene score would read as a cut)."""
    bar = g.input(f"color=c=white@0.5:s={_even(spec.width / 12)}x{spec.height}:r={spec.fps}",
                  "-f", "lavfi")
    return g.chain([video, bar], filter_text("overlay", x="(W-w)/2*(1+sin(2*t))", y=0, shortest=1))


def _scene_texts(spec: Animatic, box: Layout, texts: TextFiles) -> list[str]:
    band = box.band_bottom - box.band_top
    spacing = box.text_font // 4
    max_lines = max(1, int((band + spacing) / line_step(box.text_font, spacing)))
    filters = []
    for item in spec.texts:
        text = wrap(item.text, spec.width - 2 * box.margin, box.text_font, max_lines)
        if text.strip():
            top = box.band_top + (band - block_height(text, box.text_font, spacing)) // 2
            filters += centred_lines(text, texts, top, box.text_font, spacing,
                              fontcolor=spec.text_color, borderw=max(1, box.text_font // 16),
                              bordercolor="black@0.7", **_window(item, spec.duration))
    return filters


def _captions(spec: Animatic, box: Layout, texts: TextFiles) -> list[str]:
    filters = []
    spacing = box.caption_font // 5
    for item in spec.captions:
        text = wrap(item.text, spec.width - 4 * box.margin, box.caption_font, 2)
        if text.strip():
            top = (box.caption_top if box.caption_top is not None
                   else box.floor - block_height(text, box.caption_font, spacing))
            filters += centred_lines(text, texts, top, box.caption_font, spacing, fontcolor="white",
                              box=1, boxcolor="black@0.6", boxborderw=box.caption_font // 3,
                              **_window(item, spec.duration))
    return filters


def audio_chain(spec: Animatic, g: Graph) -> str:
    silence = g.input(f"anullsrc=r={SAMPLE_RATE}:cl=stereo", "-f", "lavfi", kind="a")
    voices = [_sound(sound, spec.duration, g) for sound in spec.sounds
              if sound.start < spec.duration and sound.length > 0]
    # normalize=0: a voice keeps its level instead of being divided by the number of inputs
    mix = [filter_text("amix", inputs=len(voices) + 1, duration="first", normalize=0)] if voices else []
    return g.chain([silence, *voices], *mix, filter_text("atrim", end_sample=spec.samples))


def _sound(sound: Sound, duration: float, g: Graph) -> str:
    length = min(sound.length, duration - sound.start)
    delay = round(max(sound.start, 0.0) * SAMPLE_RATE)
    return g.chain(
        [g.input(str(sound.path), kind="a")],
        filter_text("atrim", duration=f"{length:.6f}"),
        filter_text("asetpts", "PTS-STARTPTS"),
        filter_text("aformat", sample_fmts="fltp", sample_rates=SAMPLE_RATE,
                channel_layouts="stereo"),
        filter_text("adelay", delays=f"{delay}S", all=1))


def render_frames(spec: Animatic, out: Path) -> None:
    """Draw every frame of ``spec`` into ``out`` (MP4), atomically, in one ffmpeg run; raise
    FFmpegError if ffmpeg fails. ``clip.render`` draws a still one's distinct pictures only."""
    with tempfile.TemporaryDirectory(prefix="storyboard-animatic-") as folder, \
            ffmpeg.atomic_output(out) as tmp:
        g = Graph()
        video = video_chain(spec, g, TextFiles(Path(folder)))
        streams = (video, audio_chain(spec, g)) if spec.audio else (video,)
        silent = () if spec.audio else ("-an",)
        ffmpeg.run([*ffmpeg.PORTABLE_ARGS, *g.args(*streams),
                    *encoding_args(spec.fps, spec.draft), *silent, "-f", "mp4", str(tmp)],
                   what=f"rendering {out.name}")
