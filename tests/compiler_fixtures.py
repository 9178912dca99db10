"""Small series on disk for compiler tests: media made by ffmpeg, YAML written by the test."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

SERIES_HEAD = """\
storyboard: 1
title: Test
defaults: {resolution: 720P, duration: 5}
voices:
  mia-voice: {audio: media/mia.wav}
characters:
  mia: {image: media/mia.png, voice: mia-voice}
  sam: {video: media/sam.mp4}
  guitar: {image: media/guitar.png}
"""
# The smallest head a render needs: one character, 2 s shots at 720P (drafts render fast).
MIA_HEAD = """\
storyboard: 1
defaults: {resolution: 720P, ratio: "16:9", duration: 2}
characters:
  mia: {image: media/mia.png}
"""


def write_series(root: Path, make_media: Callable[..., Path], episodes: str,
                 head: str = SERIES_HEAD) -> Path:
    """A series folder with standard media; ``episodes`` is the YAML under ``episodes:``."""
    make_media("image", root / "media" / "mia.png", width=320, height=320)
    make_media("image", root / "media" / "guitar.png", width=256, height=256, color="brown")
    make_media("video", root / "media" / "sam.mp4", width=320, height=240, seconds=2.0)
    make_media("voice", root / "media" / "mia.wav", seconds=2.0)
    body = head + "episodes:\n" + textwrap.indent(textwrap.dedent(episodes), "  ")
    (root / "storyboard.yaml").write_text(body, encoding="utf-8")
    return root


BALLAD = """\
- id: ep01
  shots:
    - id: ballad
      duration: 10
      scenes:
        - at: 0-3s
          action: "@sam holds @guitar and plays a soothing country ballad"
        - at: 3-10s
          action: "@mia smiles, watches @sam and slowly walks towards him"
          say: {mia: "That was lovely."}
    - id: reply
      first_frame: {from: ballad}
      transition: {type: crossfade, duration: 0.5}
      prompt: "@sam looks up from @guitar and grins"
"""


def settled(problems: list[Any]) -> list[Any]:
    """``problems`` without the notes `init --from` leaves on cast words it could not settle
    (warnings for a person to settle: who speaks, a character's looks, and a voice sample too
    short when all a character says is short)."""
    return [problem for problem in problems
            if problem.code not in ("init-unsettled", "sample-length")]
