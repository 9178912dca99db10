"""The examples' media are drawings of what they stand for, made by `examples/make_media.py` with
ffmpeg's drawing filters: the same bytes as the committed files on every run, tiny, and within the
model's reference limits. Pixels are read back with ffmpeg (raw RGB), never guessed."""

from __future__ import annotations

import hashlib
import importlib.util
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from storyboard.media import ffbinary, ffmpeg, samples
from storyboard.media.samples import Box, Oval

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
DRAWN = ["coffee-shop/media/cast/mia.png", "coffee-shop/media/cast/sam.mp4",
         "coffee-shop/media/props/guitar.png", "ad/media/cup.png", "ad/media/espresso.png",
         "ad/media/latte.png", "ad/media/barista.png", "long-take/media/cast/mia.png",
         "long-take/media/cast/sam.mp4", "long-take/media/props/guitar.png"]


def make_media() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_media", EXAMPLES / "make_media.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pixels(path: Path, *, at: float = 0.0) -> tuple[int, bytes]:
    """(width, the RGB bytes) of a picture, or of a clip's frame at ``at`` seconds."""
    video = ffmpeg.probe(path).video
    assert video is not None
    with tempfile.TemporaryDirectory() as folder:
        raw = Path(folder) / "frame.rgb"
        ffmpeg.run(["-ss", str(at), "-i", str(path), "-frames:v", "1", "-f", "rawvideo",
                    "-pix_fmt", "rgb24", "-y", str(raw)])
        return video.width, raw.read_bytes()


def color(image: tuple[int, bytes], x: int, y: int) -> int:
    width, data = image
    r, g, b = data[(y * width + x) * 3:(y * width + x) * 3 + 3]
    return r << 16 | g << 8 | b


def near(found: int, wanted: int, slack: int = 24) -> bool:
    """Channel by channel within ``slack`` (a clip's frame went through 4:2:0 and H.264)."""
    return all(abs((found >> s & 255) - (wanted >> s & 255)) <= slack for s in (16, 8, 0))


def test_shapes_are_painted_where_they_are_drawn(tmp_path: Path) -> None:
    path = samples.drawing(tmp_path / "d.png", 40, 30, "0x102030",
                           [Box(0, 0, 10, 10, "0xff0000"), Oval(30, 15, 6, 4, "0x00ff00")])
    image = pixels(path)
    assert color(image, 5, 5) == 0xFF0000 and color(image, 30, 15) == 0x00FF00
    assert color(image, 30, 22) == 0x102030 and color(image, 20, 25) == 0x102030


@pytest.fixture
def pinned_ffmpeg(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The bundled build the committed files were drawn with, whatever this machine prefers."""
    bundled = ffbinary.bundled_path()
    assert bundled is not None
    monkeypatch.setenv(ffbinary.ENV_VAR, bundled)
    ffbinary.reset()
    yield
    monkeypatch.undo()
    ffbinary.reset()


def drawn_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """``samples.animation`` asked again for the same clip copies the first one's bytes: both
    café series draw the same cast, and Sam's clip is its dearest file (its moving hand's ``geq``
    is evaluated per pixel of each frame). A different clip is drawn; the first of each is
    compared with the committed files all the same, so a drawing that changed still fails."""
    drawn: dict[str, Path] = {}
    animation = samples.animation

    def once(path: Path, *args: object, **kwargs: object) -> Path:
        key = repr((args, sorted(kwargs.items())))
        if key not in drawn:
            drawn[key] = animation(path, *args, **kwargs)  # type: ignore[arg-type]
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(drawn[key].read_bytes())
        return path

    monkeypatch.setattr(samples, "animation", once)


@pytest.mark.usefixtures("pinned_ffmpeg")
def test_make_media_redraws_the_committed_files_byte_for_byte(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    drawn_once(monkeypatch)
    module = make_media()
    module.coffee_shop(tmp_path / "coffee-shop")
    module.ad(tmp_path / "ad")
    module.long_take(tmp_path / "long-take")
    for name in DRAWN:
        made, committed = (tmp_path / name).read_bytes(), (EXAMPLES / name).read_bytes()
        assert hashlib.sha256(made).hexdigest() == hashlib.sha256(committed).hexdigest(), name
        assert len(committed) < 200_000, name


@pytest.mark.parametrize(("name", "x", "y", "wanted", "what"), [
    ("coffee-shop/media/cast/mia.png", 128, 240, 0x2E6B4F, "Mia's green apron"),
    ("coffee-shop/media/cast/mia.png", 128, 70, 0xB5361F, "Mia's red hair"),
    ("coffee-shop/media/props/guitar.png", 128, 151, 0x2A1A10, "the guitar's sound hole"),
    ("coffee-shop/media/props/guitar.png", 100, 190, 0xD08A3C, "the guitar's body"),
    ("ad/media/cup.png", 100, 200, 0xB22222, "the red paper cup"),
    ("ad/media/barista.png", 128, 240, 0x8B1A1A, "the barista's apron"),
])
def test_a_reference_shows_what_it_stands_for(name: str, x: int, y: int, wanted: int,
                                              what: str) -> None:
    assert color(pixels(EXAMPLES / name), x, y) == wanted, what


def test_sam_plays_the_guitar_and_his_hand_moves() -> None:
    clip = EXAMPLES / "coffee-shop/media/cast/sam.mp4"
    info = ffmpeg.probe(clip)
    assert info.video is not None and (info.video.width, info.video.height) == (320, 240)
    assert info.audio is not None and (info.duration or 0.0) >= 1.0
    first = pixels(clip)
    assert near(color(first, 115, 215), 0x3A6EA5), "Sam's blue shirt"
    assert near(color(first, 205, 185), 0xD08A3C), "the guitar's body"
    hands = {color(pixels(clip, at=t), 182, 172) for t in (0.0, 1 / 15, 2 / 15, 3 / 15)}
    assert any(near(c, 0xD9A066) for c in hands) and not all(near(c, 0xD9A066) for c in hands)
