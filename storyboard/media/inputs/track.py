"""Audio clips and their start times into one track of a given length: what a lip-sync pass
re-lips a take to (each line's made audio at its window, silence between, as long as the take).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from storyboard.media import ffmpeg

RATE = 24000  # the speech model's own rate: nothing is resampled twice


def laid_track(clips: Sequence[tuple[Path, float]], seconds: float, out: Path) -> Path:
    """A mono WAV of ``seconds`` with each clip starting at its time (cut at the end)."""
    if not clips or not seconds > 0:
        raise ValueError("a track needs at least one clip and a length over 0 s")
    inputs = [arg for path, _ in clips for arg in ("-i", str(path))]
    chains = [f"[{i}:a]aresample={RATE},aformat=channel_layouts=mono,"
              f"adelay={round(max(start, 0.0) * 1000)}:all=1[a{i}]"
              for i, (_, start) in enumerate(clips)]
    labels = "".join(f"[a{i}]" for i in range(len(clips)))
    mixed = f"{labels}amix=inputs={len(clips)}:duration=longest:dropout_transition=0," \
        if len(clips) > 1 else f"{labels}anull,"
    graph = ";".join([*chains, f"{mixed}apad,atrim=0:{seconds:.3f}[out]"])
    with ffmpeg.atomic_output(out) as tmp:
        ffmpeg.run([*inputs, "-filter_complex", graph, "-map", "[out]", "-c:a", "pcm_s16le",
                    "-f", "wav", str(tmp)], what=f"laying the lines of {out.name}")
    return out
