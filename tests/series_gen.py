"""Generated series for identity tests: many kinds of shot, made of the example's committed media.

Every shot kind the compiler treats apart (scenes with lines, prompts, ``first_frame: {from:}``,
``cast`` extras, voice overrides, wan3.0-video's audio items, wan2.7-i2v's frames and driving
audio, takes, shorthand scenes, located problems) appears in each episode, chosen by the shot's
index, so the output is the same on every machine: the media are the example's files (their bytes
are committed), not drawn by ffmpeg.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from storyboard.errors import Diagnostic
from storyboard.language.request import Manifest

EXAMPLE_MEDIA = Path(__file__).resolve().parent.parent / "examples" / "coffee-shop" / "media"
HEAD = """\
storyboard: 1
title: Generated
defaults: {resolution: 720P, ratio: '16:9', duration: 5, negative_prompt: blurry, seed: 7}
models:
  wan3.0-video: {max_duration: 12}
voices:
  mia-voice: {audio: media/voices/mia.wav}
  narrator: {design: "a calm low voice", sample: "Hello there."}
characters:
  mia: {image: media/cast/mia.png, voice: mia-voice}
  sam: {video: media/cast/sam.mp4}
  guitar: {image: media/props/guitar.png}
  bob: {image: media/cast/mia.png, voice: narrator}
  barista: {image: {generate: "a barista in an apron", refs: [media/cast/mia.png]}}
music: {file: media/music/bed.mp3, volume: -14}
episodes:
  - episodes/*.yaml
"""


def shot(index: int, word: str = "plays") -> list[str]:
    """Shot ``index``'s YAML lines (indented for an episode's ``shots:`` list)."""
    kind, name = index % 12, f"s{index:03d}"
    head = [f"  - id: {name}"]
    if kind == 0:
        return [*head, "    duration: 8", "    scenes:", "      - at: 0-3s",
                       f"        action: \"@sam holds @guitar and {word} take {index}\"",
                       "      - at: 3-8s", "        action: \"@mia smiles at @sam\"",
                       f"        say: {{mia: \"Line {index}.\", sam: \"Yes @mia.\"}}"]
    if kind == 1:
        return [*head, f"    prompt: \"@mia {word} with @@home and @guitar, take {index}\""]
    if kind == 2:
        return [*head, f"    first_frame: {{from: s{index - 1:03d}}}",
                       "    transition: {type: crossfade, duration: 0.5}",
                       f"    prompt: \"@sam {word} on\""]
    if kind == 3:
        return [*head, "    cast: [guitar, bob]", "    voices: {mia: narrator}", "    scenes:",
                       f"      - \"[0-2s] @mia {word}\"", "      - at: 2-5s",
                       f"        say: {{mia: \"Hi {index}\", bob: \"Hello.\"}}"]
    if kind == 4:
        return [*head, "    model: wan3.0-video", "    resolution: 720P", "    duration: 6",
                       "    audio: false", "    scenes:",
                       "      - at: 0-6s", f"        action: \"@bob and @mia {word}\"",
                       "        say: {bob: \"One.\", mia: \"Two.\"}"]
    if kind == 5:
        return [*head, "    model: wan2.7-i2v", "    first_frame: media/cast/mia.png",
                       f"    prompt: \"she {word} {index}\"",
                       "    driving_audio: {voice: mia-voice}"]
    if kind == 6:
        return [*head, "    takes: 3", "    seed: 99",
                       f"    prompt: \"@barista {word} coffee for @mia\""]
    if kind == 7:
        return [*head, "    transition: fade", "    scenes:",
                       f"      - \"[0-2.5s] @guitar rests, {word}\"", "      - \"[2.5-4s]\""]
    if kind == 8:
        return [*head, f"    prompt: \"@mai {word}\"", "    transition: {type: wipeleft, "
                       "duration: 9}"]
    if kind == 9:
        return [*head, "    duration: 40", f"    prompt: \"@sam {word} a long song\""]
    if kind == 10:
        return [*head, "    model: wan2.7-i2v", "    first_frame: media/cast/mia.png",
                       f"    prompt: \"she {word} in the shop\"",
                       "    driving_audio: {say: \"Welcome back to the shop.\", voice: narrator}"]
    return [*head, "    model: wan3.0-video", "    duration: 10",
                   f"    prompt: \"@sam and @mia {word}\"", "    cast: [guitar]"]


def episode(number: int, shots: int, edits: dict[int, str] | None = None,
            dropped: frozenset[int] = frozenset(), comments: int = 0) -> str:
    """Episode ``number`` with ``shots`` shots; ``edits`` changes some shots' verb, ``dropped``
    leaves some out, ``comments`` lines of comment come first."""
    lines = ["# a note"] * comments + [f"id: ep{number:02d}", f"title: Episode {number}"]
    if number % 3 == 1:
        lines += ["title_card: {text: \"Part " + str(number) + "\", duration: 2}",
                  "defaults: {duration: 6}"]
    if number % 4 == 2:
        lines += ["takes: 2"]
    lines += ["shots:"]
    for index in range(shots):
        if index not in dropped:
            lines += shot(index, (edits or {}).get(index, "plays"))
    return "\n".join(lines) + "\n"


def make_series(root: Path, episodes: int = 4, shots: int = 24) -> Path:
    """A generated series at ``root`` (a folder that does not exist yet)."""
    shutil.copytree(EXAMPLE_MEDIA, root / "media")
    (root / "storyboard.yaml").write_text(HEAD, encoding="utf-8")
    (root / "episodes").mkdir()
    for number in range(episodes):
        (root / "episodes" / f"{number:02d}.yaml").write_text(episode(number, shots),
                                                              encoding="utf-8")
    return root


def fingerprint(manifest: Manifest, problems: list[Diagnostic], root: Path) -> str:
    """Everything a compile gave, as text without the machine's paths: every episode, shot,
    take, request, canonical form, hash and problem, in order."""
    text = repr((manifest.episodes, manifest.cast, manifest.warnings, problems,
                 manifest.output_problem))
    return text.replace(str(root), "<root>")


def digest_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
