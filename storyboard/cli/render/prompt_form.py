"""Compiled shots into their prompt form: the prompt and its media list, as a person reads them.

What ``storyboard compile --format prompt`` prints: for each shot, the prompt (one scene a line)
and the media in the order the prompt's labels count them (``Image 1``, ``Video 1``, ...), each
file relative to the series folder, then each spoken line with its route to the lips. It is the
neutral request, before a provider's dialect names its fields.
"""

from __future__ import annotations

from pathlib import Path

from storyboard.dialects import wording
from storyboard.language.request import CompiledShot, Line, Manifest, MediaItem, MediaRef

PROMPT = "prompt: "
MEDIA = "media:  "
LINES = "lines:  "
LOOKS = "looks:  "
INDENT = " " * len(PROMPT)


def _where(ref: MediaRef, root: Path) -> str:
    if ref.asset is not None:  # made by the cast: named by its asset id
        return f"{{asset: {ref.asset}}}"
    if ref.id is not None:  # made on the vendor: its id
        return ref.id
    if ref.path is None:
        return str(ref.url)
    try:
        return ref.path.relative_to(root).as_posix()
    except ValueError:
        return ref.path.as_posix()


def media_item(item: MediaItem, root: Path) -> str:
    """One item as ``{type: ROLE, url: PATH[, reference_voice: PATH]}``; an element or a voice
    made on the vendor as ``{type: ROLE, id: ID}``, its id as the request sends it."""
    fields = [f"type: {item.role}"]
    if item.ref is not None and item.ref.id is not None:
        fields.append(f"id: {item.ref.id}")
    elif item.ref is not None:
        fields.append(f"url: {_where(item.ref, root)}")
    elif item.from_shot is not None:
        fields.append(f"from: {item.from_shot}")
    if item.voice is not None:
        fields.append(f"reference_voice: {_where(item.voice, root)}")
    return "{" + ", ".join(fields) + "}"


def line_form(line: Line, root: Path) -> str:
    """One spoken line and how it reaches the lips: ``[0-2s] mia "Morning!": voice_reference``."""
    how = [ROUTE_WORDS.get(line.route, "")]
    if line.audio is not None and line.route == "none":
        how.append(f"{_where(line.audio, root)}, mixed into the episode at its window")
    elif line.audio is not None:
        how.append(f"{_where(line.audio, root)}, padded with {line.pad.replace('_', ' ')} "
                   "when short")
    return f'[{line.start:g}-{line.end:g}s] {line.speaker} "{line.text}": {line.route} ' \
           f'({"; ".join(how)})'


ROUTE_WORDS = {"voice_reference": "the model speaks it",
               "driving_audio": "it drives the first frame's mouth",
               "lipsync": "a pass re-lips the approved take",
               "none": "heard, never lip-synced"}


def shot_form(shot: CompiledShot, root: Path) -> str:
    """The prompt form of one shot (ends with a newline): the prompt, the media, and each
    spoken line's route to the lips; the timed scenes worded as its model follows them."""
    request = shot.request
    worded = wording.for_model(request.prompt, request.scenes, request.model)
    prompt = f"\n{INDENT}".join(worded.splitlines() or [""])
    items = [media_item(item, root) for item in shot.request.media]
    media = f",\n{INDENT} ".join(items)
    spoken = [line_form(line, root) for scene in shot.request.scenes for line in scene.lines]
    lines = f"{LINES}{f'{chr(10)}{INDENT}'.join(spoken)}\n" if spoken else ""
    worn = ", ".join(f"{name}: {look}" for name, look in shot.looks.items())
    looks = f"{LOOKS}{worn}\n" if worn else ""
    return f"{PROMPT}{prompt}\n{MEDIA}[{media}]\n{looks}{lines}"


def asset_form(asset: CompiledShot, root: Path) -> str:
    """The prompt form of one cast asset's take: what its service is asked (ends with a newline)."""
    assert asset.asset is not None
    request = asset.asset
    prompt = f"\n{INDENT}".join(request.prompt.splitlines() or [""])
    lines = [f"{PROMPT}{prompt}", f"{'model:':<{len(PROMPT)}}{request.model}"]
    extra = {"sample:": request.sample, "voice:": request.voice, "size:": request.size,
             "seed:": request.seed}
    lines += [f"{key:<{len(PROMPT)}}{value}" for key, value in extra.items()
              if value not in (None, "")]
    if request.refs:
        refs = ", ".join(_where(r, root) for r in request.refs)
        lines.append(f"{MEDIA}[{refs}]")
    return "\n".join(lines) + "\n"


def manifest_form(manifest: Manifest, *, episode: str | None = None,
                  shot: str | None = None) -> str:
    """Every selected shot's prompt form (``shot``: a shot, or a cast asset's takes by its id,
    ``cast/mia``); a ``# episode/shot`` line heads each when there are several."""
    forms = [(f"{a.episode}/{a.id}", asset_form(a, manifest.root)) for asset in manifest.cast
             if shot == f"{asset.episode}/{asset.name}" for a in asset.all_takes()]
    forms += [(f"{s.episode}/{s.id}", shot_form(s, manifest.root))
              for ep in manifest.episodes if episode is None or ep.id == episode
              for s in ep.shots if shot in (None, s.id, s.shot_id)]
    if len(forms) == 1:
        return forms[0][1]
    return "\n".join(f"# {name}\n{form}" for name, form in forms)
