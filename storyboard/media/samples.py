"""ffmpeg test sources into small media files: for tests, benchmarks and the example series.

Nothing is downloaded: every image, video and voice clip is drawn by ffmpeg's lavfi sources.
"""

from __future__ import annotations

from pathlib import Path

from storyboard.media import ffmpeg


def image(path: Path, width: int = 320, height: int = 320, *, color: str | None = None,
          pattern: str = "testsrc2") -> Path:
    """A still image (format from the suffix: .png, .jpg, .bmp, .webp)."""
    source = f"color=c={color}:s={width}x{height}" if color else f"{pattern}=s={width}x{height}"
    with ffmpeg.atomic_output(path) as tmp:
        ffmpeg.run(["-f", "lavfi", "-i", source, "-frames:v", "1", "-update", "1",
                    "-pix_fmt", "rgb24" if path.suffix == ".png" else "yuvj420p"
                    if path.suffix in (".jpg", ".jpeg") else "bgr24" if path.suffix == ".bmp"
                    else "yuv420p", str(tmp)], what=f"making {path.name}")
    return path


def video(path: Path, width: int = 320, height: int = 240, seconds: float = 2.0, *,
          fps: int = 30, audio: bool = True, tone: int = 440, pattern: str = "testsrc2") -> Path:
    """A short H.264 clip (with an AAC tone unless ``audio`` is False)."""
    args = ["-f", "lavfi", "-i", f"{pattern}=s={width}x{height}:r={fps}:d={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency={tone}:sample_rate=48000:d={seconds}",
                 "-c:a", "aac", "-ac", "2", "-b:a", "64k"]
    args += ["-c:v", "libx264", "-preset", "ultrafast", "-crf", "35", "-pix_fmt", "yuv420p",
             "-t", str(seconds), "-movflags", "+faststart"]
    with ffmpeg.atomic_output(path) as tmp:
        ffmpeg.run([*args, str(tmp)], what=f"making {path.name}")
    return path


def voice(path: Path, seconds: float = 2.0, *, tone: int = 330) -> Path:
    """A voice-like clip (a warbling tone), WAV or MP3 by suffix."""
    source = (f"sine=frequency={tone}:sample_rate=24000:d={seconds},"
              f"vibrato=f=5:d=0.5,volume=0.6")
    with ffmpeg.atomic_output(path) as tmp:
        ffmpeg.run(["-f", "lavfi", "-i", source, "-ac", "1", str(tmp)], what=f"making {path.name}")
    return path
