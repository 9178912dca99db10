"""ffmpeg test sources into the example series' media: run it to recreate every file.

    python examples/make_media.py

Nothing is downloaded. The files are tiny on purpose (they are committed), yet within the
reference limits of the model (each side at least 240 px, clips of 1 s or more).
"""

from __future__ import annotations

from pathlib import Path

from storyboard.media import ffmpeg, samples

HERE = Path(__file__).resolve().parent


def music_bed(path: Path, seconds: float = 20.0) -> Path:
    """A soft two-tone pad, low bitrate: a stand-in for a licensed music bed."""
    source = (f"sine=frequency=220:sample_rate=44100:d={seconds}[a];"
              f"sine=frequency=277:sample_rate=44100:d={seconds}[b];"
              "[a][b]amix=inputs=2,volume=0.5,tremolo=f=0.5:d=0.4")
    with ffmpeg.atomic_output(path) as tmp:
        ffmpeg.run(["-filter_complex", source, "-ac", "1", "-b:a", "24k", str(tmp)],
                   what="making the music bed")
    return path


def coffee_shop(root: Path) -> None:
    media = root / "media"
    samples.image(media / "cast" / "mia.png", 256, 320, pattern="smptebars")
    samples.video(media / "cast" / "sam.mp4", 320, 240, seconds=3.0, fps=15, tone=196)
    samples.image(media / "props" / "guitar.png", 256, 256, pattern="rgbtestsrc")
    samples.voice(media / "voices" / "mia.wav", seconds=2.0, tone=330)
    music_bed(media / "music" / "bed.mp3")


def ad(root: Path) -> None:
    media = root / "media"
    samples.image(media / "cup.png", 256, 256, color="firebrick")
    samples.image(media / "espresso.png", 256, 256, color="saddlebrown")
    samples.image(media / "latte.png", 256, 256, color="wheat")
    samples.image(media / "barista.png", 256, 320, pattern="smptebars")
    samples.voice(media / "voices" / "barista-en.wav", seconds=2.0, tone=300)
    samples.voice(media / "voices" / "barista-es.wav", seconds=2.0, tone=360)


if __name__ == "__main__":
    coffee_shop(HERE / "coffee-shop")
    ad(HERE / "ad")
    for file in sorted(HERE.rglob("media/**/*.*")):
        print(f"{file.relative_to(HERE)}: {file.stat().st_size // 1024} KB")
