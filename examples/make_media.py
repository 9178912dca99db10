"""Flat ffmpeg drawings into the example series' media: run it to recreate every file.

    python examples/make_media.py

Nothing is downloaded: each reference is drawn with ffmpeg's ``drawbox`` and ``geq`` filters from
the shapes below, so it reads as what it stands for (Mia the barista in her apron, Sam with his
guitar, the guitar, the café behind them). The files are tiny on purpose (they are committed) and
the same bytes on every run, yet within the reference limits of the model (each side at least
240 px, clips of 1 s or more).
"""

from __future__ import annotations

from pathlib import Path

from storyboard.media import ffmpeg, samples
from storyboard.media.samples import Box, Oval, Shape

HERE = Path(__file__).resolve().parent
WALL, WOOD, DARK_WOOD, SKIN, INK = "0xf0e2c6", "0x8b5a2b", "0x5b3a1e", "0xf2c9a0", "0x2b1b12"


def music_bed(path: Path, seconds: float = 20.0) -> Path:
    """A soft two-tone pad, low bitrate: a stand-in for a licensed music bed."""
    source = (f"sine=frequency=220:sample_rate=44100:d={seconds}[a];"
              f"sine=frequency=277:sample_rate=44100:d={seconds}[b];"
              "[a][b]amix=inputs=2,volume=0.5,tremolo=f=0.5:d=0.4")
    with ffmpeg.atomic_output(path) as tmp:
        ffmpeg.run(["-filter_complex", source, "-ac", "1", "-b:a", "24k", str(tmp)],
                   what="making the music bed")
    return path


def cafe(width: int, height: int) -> list[Shape]:
    """The café behind everyone: a window, a shelf of cups, a wooden counter along the bottom."""
    return [Box(width - 100, 24, 80, 70, DARK_WOOD), Box(width - 95, 29, 70, 60, "0xbfe3f0"),
            Box(width - 62, 29, 4, 60, DARK_WOOD), Box(width - 95, 57, 70, 4, DARK_WOOD),
            Box(14, 66, 92, 6, DARK_WOOD), Box(22, 48, 14, 18, "0xffffff"),
            Box(44, 48, 14, 18, "0xc0392b"), Box(66, 48, 14, 18, "0xffffff"),
            Box(88, 52, 12, 14, "0x2e6b4f"),
            Box(0, height - 34, width, 6, WOOD), Box(0, height - 28, width, 28, DARK_WOOD)]


def barista(hair: str, apron: str = "0x2e6b4f", pocket: str = "0x24573f") -> list[Shape]:
    """A barista (256x320): long hair, a white shirt, a green apron with a pocket, behind the
    counter with a cup on it."""
    return [*cafe(256, 320)[:-2],
            Oval(128, 120, 48, 62, hair),  # the hair, behind the head
            Oval(128, 206, 60, 30, "0xf7f7f7"), Box(68, 206, 120, 114, "0xf7f7f7"),  # shirt
            Box(116, 150, 24, 40, SKIN),  # neck
            Oval(128, 116, 35, 42, SKIN),  # face
            Oval(128, 80, 38, 18, hair), Oval(98, 110, 8, 30, hair), Oval(158, 110, 8, 30, hair),
            Oval(115, 116, 4, 5, INK), Oval(141, 116, 4, 5, INK),  # eyes
            Oval(128, 139, 10, 4, "0xa8323e"),  # smile
            Box(98, 188, 7, 30, apron), Box(151, 188, 7, 30, apron),  # apron straps
            Box(92, 214, 72, 106, apron), Box(108, 262, 40, 22, pocket),  # apron, pocket
            *cafe(256, 320)[-2:],
            Box(196, 266, 22, 20, "0xffffff"), Box(196, 266, 22, 5, "0x3b1f0e")]  # a cup


def guitar(cx: int, top: int, scale: float = 1.0) -> list[Shape]:
    """An acoustic guitar standing up: headstock at ``top``, body centred on ``cx``."""
    def s(value: float) -> int:
        return round(value * scale)
    body, edge = "0xd08a3c", "0x7a4a1e"
    return [Box(cx - s(14), top, s(28), s(24), DARK_WOOD),  # headstock
            Oval(cx - s(17), top + s(6), s(4), s(3), "0xdddddd"),
            Oval(cx + s(17), top + s(6), s(4), s(3), "0xdddddd"),
            Oval(cx - s(17), top + s(16), s(4), s(3), "0xdddddd"),
            Oval(cx + s(17), top + s(16), s(4), s(3), "0xdddddd"),
            Box(cx - s(8), top + s(22), s(16), s(100), DARK_WOOD),  # neck
            Oval(cx, top + s(185), s(65), s(54), edge), Oval(cx, top + s(120), s(51), s(43), edge),
            Oval(cx, top + s(185), s(62), s(51), body), Oval(cx, top + s(120), s(48), s(40), body),
            Box(cx - s(8), top + s(70), s(16), s(20), DARK_WOOD),  # the neck joins the body
            Oval(cx, top + s(142), s(17), s(17), "0x2a1a10"),  # sound hole
            Box(cx - s(24), top + s(200), s(48), s(8), DARK_WOOD),  # bridge
            *(Box(cx + s(dx), top + s(22), 1, s(182), "0xeeeeee") for dx in (-6, -2, 2, 6))]


def guitarist() -> list[Shape]:
    """Sam (320x240): brown hair and beard, a blue shirt, playing a guitar held across him; his
    strumming hand moves."""
    shirt, hair = "0x3a6ea5", "0x4a3020"
    neck_y = 150
    return [*cafe(320, 240)[:9],
            Box(0, 206, 320, 34, DARK_WOOD),  # the floor of the little stage
            Oval(150, 58, 30, 26, hair), Oval(150, 72, 25, 30, "0xd9a066"),  # hair, face
            Oval(150, 92, 20, 12, hair),  # beard
            Oval(141, 70, 3, 4, INK), Oval(159, 70, 3, 4, INK),
            Oval(150, 124, 44, 20, shirt), Box(106, 124, 88, 116, shirt),  # shoulders, body
            Box(146, 96, 8, 18, "0xd9a066"),  # neck
            Box(40, neck_y - 4, 10, 18, DARK_WOOD),  # headstock
            Box(48, neck_y, 90, 10, DARK_WOOD),  # the guitar's neck, to the left
            Oval(185, 180, 44, 36, "0x7a4a1e"), Oval(148, 168, 32, 27, "0x7a4a1e"),
            Oval(185, 180, 41, 33, "0xd08a3c"), Oval(148, 168, 29, 24, "0xd08a3c"),
            Oval(165, 172, 10, 10, "0x2a1a10"),  # sound hole
            *(Box(48, neck_y + dy, 170, 1, "0xeeeeee") for dy in (2, 4, 6, 8)),
            Box(84, 128, 30, 14, shirt), Box(74, neck_y - 12, 16, 24, shirt),  # the arm
            Oval(81, neck_y + 4, 8, 8, "0xd9a066"),
            Oval(182, 166, 9, 9, "0xd9a066", dy="7*sin(2*PI*3*T)")]  # the strumming hand


def strum(seconds: float) -> str:
    """A plucked G chord three times a second (``aevalsrc``): decaying sines."""
    notes = "+".join(f"0.2*sin(2*PI*{f}*t)" for f in (196, 247, 294))
    return f"({notes})*exp(-5*mod(t,0.3333))"


def cast(media: Path) -> None:
    """Mia, Sam with his guitar, the guitar, and Mia's voice: the cast of both café series."""
    samples.drawing(media / "cast" / "mia.png", 256, 320, WALL, barista("0xb5361f"))
    samples.animation(media / "cast" / "sam.mp4", 320, 240, WALL, guitarist(), seconds=3.0,
                      fps=15, sound=strum(3.0))
    samples.drawing(media / "props" / "guitar.png", 256, 256, "0xf6efe2", guitar(128, 12, 0.98))
    samples.voice(media / "voices" / "mia.wav", seconds=2.0, tone=330)


def coffee_shop(root: Path) -> None:
    cast(root / "media")
    music_bed(root / "media" / "music" / "bed.mp3")


def long_take(root: Path) -> None:
    """The same cast for the wan3.0-video example; Sam gets a voice of his own there."""
    cast(root / "media")
    samples.voice(root / "media" / "voices" / "sam.wav", seconds=2.0, tone=220)


def paper_cup() -> list[Shape]:
    red = "0xb22222"
    return [Box(84, 58, 88, 10, "0xeeeeee"), Box(78, 66, 100, 16, "0xffffff"),  # lid
            Box(88, 82, 80, 150, red), Box(88, 128, 80, 44, "0x8b5a2b"),  # cup, sleeve
            Oval(128, 150, 14, 14, "0xf0e2c6"), Box(0, 232, 256, 24, "0xd8c6a4")]


def espresso_cup() -> list[Shape]:
    white, crema = "0xffffff", "0xc68642"
    return [Oval(128, 196, 84, 18, "0xbbbbbb"), Oval(128, 194, 80, 15, white),  # saucer
            Oval(176, 150, 18, 20, white), Oval(176, 150, 9, 11, "0xf6efe2"),  # handle
            Box(88, 118, 80, 68, white), Oval(128, 186, 40, 10, white),
            Oval(128, 118, 40, 10, "0x3b1f0e"), Oval(128, 118, 33, 7, crema)]


def latte_glass() -> list[Shape]:
    return [Box(84, 90, 88, 120, "0xf3e5d0"), Box(84, 170, 88, 40, "0x6f4e37"),
            Box(84, 150, 88, 20, "0xb98a5e"), Oval(128, 90, 44, 10, "0xfffaf0"),
            Oval(128, 90, 14, 6, "0xa0704c"), Oval(128, 90, 6, 3, "0xfffaf0"),
            Box(0, 210, 256, 46, "0xd8c6a4")]


def ad(root: Path) -> None:
    media = root / "media"
    samples.drawing(media / "cup.png", 256, 256, "0xf6efe2", paper_cup())
    samples.drawing(media / "espresso.png", 256, 256, "0xf6efe2", espresso_cup())
    samples.drawing(media / "latte.png", 256, 256, "0xf6efe2", latte_glass())
    samples.drawing(media / "barista.png", 256, 320, WALL, barista("0x3b2a1e", "0x8b1a1a", "0x6e1414"))
    samples.voice(media / "voices" / "barista-en.wav", seconds=2.0, tone=300)
    samples.voice(media / "voices" / "barista-es.wav", seconds=2.0, tone=360)


if __name__ == "__main__":
    coffee_shop(HERE / "coffee-shop")
    ad(HERE / "ad")
    long_take(HERE / "long-take")
    for file in sorted(HERE.rglob("media/**/*.*")):
        print(f"{file.relative_to(HERE)}: {file.stat().st_size // 1024} KB")
