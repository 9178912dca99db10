"""Cast assets into local stand-ins: a labelled PNG card for an image, a tone WAV for a voice or line.

What the ``local`` provider makes for a generated image, a designed voice and a spoken line, offline
and free: a 16:9 card with the asset's name and the first of the user's words drawn in the package's
font, on a tint taken from the asset's hash (so each take, with its own seed, looks different), its
take's number drawn large in a corner when the asset has several (``take 2``: told apart at a
glance, not by colour alone), and a mono 24 kHz tone whose length follows the text (a voice's
preview about 0.07 s a character; a spoken line as ``targets.cast.assets.spoken_seconds`` says, as the
emulator's) and whose pitch follows the hash. Both are drawn by ffmpeg on its C reference paths
with bit-exact flags: the same inputs give the same bytes on one ffmpeg build.
"""

from __future__ import annotations

import re
from pathlib import Path

from storyboard.media import ffmpeg
from storyboard.targets.cast.assets import spoken_seconds

CARD_SIZE = (1024, 576)  # 16:9, within every image model's limits for a reference
SAMPLE_RATE = 24000
SECONDS_PER_CHARACTER = 0.07
VOICE_SECONDS = (1.0, 10.0)  # wan2.7-r2v takes 1-10 s reference voices
SPEECH_SECONDS = (2.0, 30.0)  # wan2.7-i2v takes 2-30 s driving audio
WORDS = 60  # characters of the user's words drawn on a card
NAME_LONGEST = 32


def user_words(prompt: str) -> str:
    """The user's words in a recipe prompt (``Character design sheet of Mia: WORDS. ...``), or the
    prompt's start when it follows no recipe; cut to about ``WORDS`` characters at a word."""
    head, colon, rest = prompt.partition(": ")
    words = rest if colon and len(head) < 80 else prompt
    words = re.split(r"\.\s", words, maxsplit=1)[0].strip().rstrip(".")
    if len(words) <= WORDS:
        return words
    cut = words[:WORDS].rsplit(" ", 1)[0] or words[:WORDS]
    return cut + "..."


def tint(content_hash: str) -> str:
    """A dark background colour from the hash: readable under white text, different per take."""
    digits = re.sub(r"[^0-9a-f]", "", content_hash.lower()).ljust(6, "0")
    channels = [40 + int(digits[i:i + 2], 16) * 80 // 255 for i in (0, 2, 4)]
    return "0x" + "".join(f"{c:02x}" for c in channels)


def _text(text: str, size: int, y: str) -> str:
    font = ffmpeg.filter_value(str(ffmpeg.font_path()))
    return (f"drawtext=fontfile={font}:expansion=none:text={ffmpeg.filter_value(text)}"
            f":fontsize={size}:fontcolor=white:x=(w-text_w)/2:y={y}")


def draw_card(out: Path, *, name: str, prompt: str, content_hash: str, take: int = 0) -> Path:
    """A PNG card for a generated image: the name, the first of the user's words, a tint, and
    ``take N`` when ``take`` is set (an asset of several takes)."""
    width, height = CARD_SIZE
    name = name if len(name) <= NAME_LONGEST else name[:NAME_LONGEST - 3] + "..."
    lines = [_text(name, 64, "(h/2)-text_h-8")]
    if take:
        lines.append(_text(f"take {take}", 48, "24").replace("x=(w-text_w)/2", "x=w-text_w-32"))
    words = user_words(prompt)
    if words:
        lines.append(_text(words, 24, "(h/2)+16"))
    lines.append(_text("storyboard local stand-in", 16, "h-text_h-16"))
    graph = (f"color=c={tint(content_hash)}:s={width}x{height}:d=1,"
             + ",".join(lines) + ",format=rgb24")
    with ffmpeg.atomic_output(out) as tmp:
        ffmpeg.run([*ffmpeg.PORTABLE_ARGS, "-filter_complex", ffmpeg.GRAPH_PREFIX + graph,
                    "-frames:v", "1", "-update", "1", "-fflags", "+bitexact", "-flags",
                    "+bitexact", "-f", "image2", "-c:v", "png", str(tmp)],
                   what=f"drawing the stand-in for {name}")
    return out


def seconds_for(text: str, limits: tuple[float, float]) -> float:
    """About ``SECONDS_PER_CHARACTER`` a character, within ``limits``, to the millisecond."""
    low, high = limits
    return round(min(max(len(text.strip()) * SECONDS_PER_CHARACTER, low), high), 3)


def line_seconds(text: str) -> float:
    """How long the stand-in of a spoken line lasts: as the emulator speaks it and ``check``
    estimates it (``targets.cast.assets.spoken_seconds``), never stretched to a model's minimum, so a
    line too short for its shot is found by a free render too."""
    return min(max(spoken_seconds(text), 0.1), SPEECH_SECONDS[1])


def pitch(content_hash: str) -> int:
    """A voice-like pitch (Hz) from the hash: 110 to 329."""
    digits = re.sub(r"[^0-9a-f]", "", content_hash.lower()).ljust(4, "0")
    return 110 + int(digits[:4], 16) % 220


def draw_tone(out: Path, *, seconds: float, content_hash: str) -> Path:
    """A mono 24 kHz 16-bit WAV: a tone at the hash's pitch, pulsing like syllables."""
    hz = pitch(content_hash)
    expr = f"0.3*sin(2*PI*{hz}*t)*(0.55+0.45*sin(2*PI*4*t))"
    source = f"aevalsrc=exprs={ffmpeg.filter_value(expr)}:s={SAMPLE_RATE}:d={seconds:g}"
    with ffmpeg.atomic_output(out) as tmp:
        ffmpeg.run([*ffmpeg.PORTABLE_ARGS, "-filter_complex", source, "-ac", "1",
                    "-c:a", "pcm_s16le", "-fflags", "+bitexact", "-flags", "+bitexact",
                    "-f", "wav", str(tmp)], what="drawing a stand-in voice")
    return out
