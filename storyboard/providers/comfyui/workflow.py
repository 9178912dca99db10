"""Workflow files and compiled shots into ComfyUI graphs: the typed placeholders and their checks.

A workflow is a graph exported from ComfyUI in API format ("Save (API)"): ``{node_id:
{"class_type": ..., "inputs": {name: value or [node_id, output]}}}``. Where storyboard's values go,
the user writes a placeholder as the whole string value of an input: ``"{{prompt}}"``,
``"{{seed}}"``, ``"{{image1}}"`` ... A placeholder becomes the typed value (an int for ``{{seed}}``,
the uploaded file's name for ``{{image1}}``).

Every check here runs before anything is sent: a misspelt placeholder (located in the JSON file),
a placeholder on a node or input the server does not have (``/object_info``), and a shot that
needs an input its workflow has no placeholder for, or a workflow placeholder the shot cannot fill
(located at the shot). Nothing is dropped silently.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storyboard.errors import Diagnostic, ProblemsFound, Span, StoryboardError
from storyboard.language.request import CompiledShot, MediaItem, MediaRef
from storyboard.targets import NATIVE_SIZES
from storyboard.targets.video.models import SIZES_480, model_of

SIZES = {**NATIVE_SIZES, **SIZES_480}
SCALARS = ("prompt", "negative_prompt", "seed", "width", "height", "frames", "fps", "duration")
MEDIA_SINGLE = ("first_frame", "last_frame", "driving_audio")
NUMBERED = ("image", "video", "audio")
MAX_NUMBERED = 9
PLACEHOLDER_RE = re.compile(r"^\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$")
LOOSE_RE = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
SEED_MAX = 2**32 - 1  # what ComfyUI's samplers take is wider; this fits every one


def known_names() -> list[str]:
    """Every placeholder a workflow may hold."""
    numbered = [f"{kind}{n}" for kind in NUMBERED for n in range(1, MAX_NUMBERED + 1)]
    return [*SCALARS, *MEDIA_SINGLE, *numbered]


KNOWN = frozenset(known_names())


@dataclass(frozen=True)
class Slot:
    """One placeholder in a workflow: which node's which input holds it."""

    name: str
    node: str
    class_type: str
    input: str
    span: Span | None

    def where(self) -> str:
        return f"node {self.node} ({self.class_type}) input {self.input!r}"


@dataclass(frozen=True)
class Workflow:
    """A loaded API-format graph and its placeholders."""

    path: Path
    graph: dict[str, Any]
    slots: tuple[Slot, ...]

    @property
    def names(self) -> set[str]:
        return {slot.name for slot in self.slots}

    def fill(self, values: Mapping[str, Any], info: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of the graph with every placeholder replaced by its value; a node whose media
        placeholder has no value is cut, with the optional inputs it fed (``prune``)."""
        graph: dict[str, Any] = json.loads(json.dumps(self.graph))
        missing = {slot.node for slot in self.slots if slot.name not in values}
        for slot in self.slots:
            if slot.node not in missing:
                graph[slot.node]["inputs"][slot.input] = values[slot.name]
        prune(graph, missing, info)
        return graph


def prune(graph: dict[str, Any], cut: set[str], info: Mapping[str, Any]) -> list[str]:
    """Remove the nodes ``cut``, each node one of whose required inputs they feed (in turn),
    and every optional input they feed. Reaching an output node's required input is a problem
    (returned; that node is kept)."""
    cut, problems = set(cut), []
    changed = True
    while changed:
        changed = False
        for node_id, node in graph.items():
            if node_id in cut:
                continue
            for name, value in list(node["inputs"].items()):
                if not (isinstance(value, list) and value and str(value[0]) in cut):
                    continue
                if name not in required_inputs(info, node["class_type"]):
                    del node["inputs"][name]
                elif is_output(info, node["class_type"]):
                    problems.append(f"node {node_id} ({node['class_type']}) input {name!r} "
                                    f"is required and fed by node {value[0]}")
                else:
                    cut.add(node_id)
                    changed = True
                    break
    for node_id in cut:
        graph.pop(node_id, None)
    return problems


def is_output(info: Mapping[str, Any], class_type: str) -> bool:
    node = info.get(class_type)
    return bool(node.get("output_node")) if isinstance(node, dict) else True


def required_inputs(info: Mapping[str, Any], class_type: str) -> set[str]:
    node = info.get(class_type)
    inputs = node.get("input") if isinstance(node, dict) else None
    return set((inputs or {}).get("required") or {}) if isinstance(inputs, dict) else set()


# --- loading ---------------------------------------------------------------------------------


def position(text: str, needle: str, start: int = 0) -> tuple[int, int]:
    """1-based line and column of ``needle`` in ``text`` (from ``start``), else of ``start``."""
    at = text.find(needle, start)
    at = start if at < 0 else at
    line = text.count("\n", 0, at) + 1
    return line, at - (text.rfind("\n", 0, at) + 1) + 1


def load_workflow(path: Path) -> Workflow:
    """Read an API-format workflow; every problem in it is reported at once, located."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise StoryboardError(f"{path}: cannot read the workflow: {exc}") from exc
    try:
        graph = json.loads(text)
    except json.JSONDecodeError as exc:
        span = Span(str(path), exc.lineno, exc.colno)
        raise ProblemsFound([Diagnostic(span, f"not JSON: {exc.msg}")]) from exc
    problems: list[Diagnostic] = []
    graph = _api_graph(graph, path, problems)
    slots = _slots(graph, text, path, problems)
    if problems:
        raise ProblemsFound(problems)
    return Workflow(path, graph, tuple(slots))


def _api_graph(graph: Any, path: Path, problems: list[Diagnostic]) -> dict[str, Any]:
    span = Span(str(path), 1, 1)
    if isinstance(graph, dict) and "nodes" in graph and "links" in graph:
        problems.append(Diagnostic(span, "this is the UI format; export the workflow with "
                                         "\"Save (API)\" (API format) instead"))
        return {}
    if not isinstance(graph, dict) or not graph:
        problems.append(Diagnostic(span, "expected an API-format workflow: an object of nodes "
                                         "{id: {class_type, inputs}}"))
        return {}
    for node_id, node in graph.items():
        if not (isinstance(node, dict) and isinstance(node.get("class_type"), str)
                and isinstance(node.get("inputs"), dict)):
            problems.append(Diagnostic(span, f"node {node_id}: expected {{\"class_type\": ..., "
                                             "\"inputs\": {...}}"))
    return graph if not problems else {}


def _slots(graph: dict[str, Any], text: str, path: Path, problems: list[Diagnostic]
           ) -> list[Slot]:
    slots = []
    for node_id, node in graph.items():
        node_at = text.find(f'"{node_id}"')
        for name, value in node["inputs"].items():
            if not isinstance(value, str) or "{{" not in value:
                continue
            line, col = position(text, json.dumps(value), max(node_at, 0))
            span = Span(str(path), line, col)
            slot = _slot(node_id, node, name, value, span, problems)
            if slot is not None:
                slots.append(slot)
    return slots


def _slot(node_id: str, node: dict[str, Any], name: str, value: str, span: Span,
          problems: list[Diagnostic]) -> Slot | None:
    where = f"node {node_id} ({node['class_type']}) input {name!r}"
    whole = PLACEHOLDER_RE.match(value)
    if whole is None:
        inner = LOOSE_RE.search(value)
        problems.append(Diagnostic(span, f"{where}: a placeholder must be the whole value "
                                         f"(\"{{{{{inner.group(1) if inner else '...'}}}}}\"), "
                                         f"not part of {value!r}"))
        return None
    placeholder = whole.group(1)
    if placeholder not in KNOWN:
        close = difflib.get_close_matches(placeholder, sorted(KNOWN), n=1, cutoff=0.6)
        hint = f" (did you mean {{{{{close[0]}}}}}?)" if close else ""
        problems.append(Diagnostic(span, f"{where}: unknown placeholder {{{{{placeholder}}}}}"
                                         f"{hint}; expected one of: {', '.join(SCALARS)}, "
                                         f"{', '.join(MEDIA_SINGLE)}, image1.., video1.., "
                                         "audio1.."))
        return None
    return Slot(placeholder, node_id, node["class_type"], name, span)


# --- against the server's nodes --------------------------------------------------------------


def check_nodes(workflow: Workflow, object_info: Mapping[str, Any], where: str) -> None:
    """Every node of the workflow exists on the server (``/object_info``) and every placeholder
    sits on an input that node has; ``where`` names the instance asked."""
    problems = []
    for node_id, node in workflow.graph.items():
        if node["class_type"] not in object_info:
            line, col = position(workflow.path.read_text(encoding="utf-8"),
                                 f'"{node["class_type"]}"')
            problems.append(Diagnostic(Span(str(workflow.path), line, col), (
                f"node {node_id}: {node['class_type']!r} is not a node this ComfyUI has "
                f"({where}: GET /object_info)")))
    for slot in workflow.slots:
        info = object_info.get(slot.class_type)
        if not isinstance(info, dict):
            continue
        inputs = info.get("input") or {}
        names = {n for part in ("required", "optional") for n in (inputs.get(part) or {})}
        if slot.input not in names:
            problems.append(Diagnostic(slot.span, (
                f"{slot.where()}: {slot.class_type} on {where} has no input {slot.input!r}; "
                f"it has: {', '.join(sorted(names)) or 'none'}")))
    if problems:
        raise ProblemsFound(problems)


# --- a shot's values -------------------------------------------------------------------------


@dataclass(frozen=True)
class ShotValues:
    """What a shot gives the placeholders: scalars now, media as local files to upload."""

    scalars: dict[str, Any]
    media: dict[str, Path]
    urls: dict[str, str]  # media the shot names by URL: ComfyUI cannot fetch them

    @property
    def names(self) -> set[str]:
        return {*self.scalars, *self.media, *self.urls}


def shot_seed(shot: CompiledShot) -> int:
    """The shot's seed, or one drawn from its hash (each take has its own hash)."""
    if shot.request.seed is not None:
        return int(shot.request.seed)
    return int(hashlib.sha256(shot.hash.encode()).hexdigest()[:8], 16) % (SEED_MAX + 1)


def wan_frames(seconds: int, fps: int) -> int:
    """Frames for ``seconds`` at ``fps`` as Wan wants them: 4k + 1 (5 s at 16 fps: 81)."""
    return 4 * max(1, int(seconds * fps / 4 + 0.5)) + 1  # a tie goes to the longer


def shot_frames(seconds: int, fps: int, model: str) -> int:
    """``{{frames}}``: Wan's 4k + 1 for a model that declares it (``Model.frame_rule``), else
    ``seconds`` x ``fps`` exactly (2 s at 8 fps: 16)."""
    declared = model_of(model)
    if declared is not None and declared.frame_rule == "4k+1":
        return wan_frames(seconds, fps)
    return max(1, seconds * fps)


def asset_size(shot: CompiledShot) -> tuple[int, int]:
    """An image asset's ``W*H`` (a board's), 1280x720 when it names none."""
    width, _, height = (shot.asset.size if shot.asset is not None else "").partition("*")
    return (int(width), int(height)) if width.isdigit() and height.isdigit() else (1280, 720)


def shot_values(shot: CompiledShot, fps: int, first_frame: Path | None = None) -> ShotValues:
    request = shot.request
    if shot.asset is not None:  # a picture (a board): its prompt, seed, size and references
        width, height = asset_size(shot)
        picture = {"prompt": request.prompt, "seed": shot_seed(shot), "width": width,
                   "height": height, "negative_prompt": ""}
        refs = media_of(shot, None)
        return ShotValues(picture, {n: r.path for n, r in refs if r.path is not None},
                          {n: str(r.url) for n, r in refs if r.path is None})
    width, height = SIZES.get((request.resolution, request.ratio), (1280, 720))
    scalars: dict[str, Any] = {
        "prompt": request.prompt, "seed": shot_seed(shot), "width": width, "height": height,
        "fps": fps, "frames": shot_frames(request.duration, fps, request.model),
        "duration": request.duration, "negative_prompt": request.negative_prompt or ""}
    media: dict[str, Path] = {}
    urls: dict[str, str] = {}
    for name, ref in media_of(shot, first_frame):
        if ref.path is not None:
            media[name] = ref.path
        else:
            urls[name] = str(ref.url)
    return ShotValues(scalars, media, urls)


def media_of(shot: CompiledShot, first_frame: Path | None) -> list[tuple[str, MediaRef]]:
    """Each media placeholder the shot fills, in label order: references as ``imageN`` and
    ``videoN``; voices as ``audioN`` (each reference's voice, then the audio items). A picture's
    (a board's) references are ``imageN`` in order."""
    if shot.asset is not None:
        return [(f"image{n}", ref) for n, ref in enumerate(shot.asset.refs, 1)]
    out: list[tuple[str, MediaRef]] = []
    counts = {"image": 0, "video": 0}
    voices: list[MediaRef] = []
    audio: list[MediaRef] = []
    for item in shot.request.media:
        kind = _kind(item)
        if kind is None:
            single = _single(item, first_frame)
            if single is not None:
                out.append((item.role, single))
        elif kind == "audio":
            audio += [item.ref] if item.ref is not None else []
        elif item.ref is not None:
            counts[kind] += 1
            out.append((f"{kind}{counts[kind]}", item.ref))
        if item.voice is not None:
            voices.append(item.voice)
    out += [(f"audio{n}", ref) for n, ref in enumerate([*voices, *audio], 1)]
    return out


def _kind(item: MediaItem) -> str | None:
    return {"reference_image": "image", "reference_video": "video",
            "reference_audio": "audio"}.get(item.role)


def _single(item: MediaItem, first_frame: Path | None) -> MediaRef | None:
    if item.role == "first_frame" and item.ref is None:
        return MediaRef(path=first_frame) if first_frame is not None else MediaRef(
            path=Path(f"<last frame of {item.from_shot}>"))
    if item.role in MEDIA_SINGLE:
        return item.ref
    return None  # first_clip: no placeholder takes a clip to continue


def needed(shot: CompiledShot) -> set[str]:
    """The placeholders a workflow must hold to render ``shot`` without dropping any of it."""
    request = shot.request
    if shot.asset is not None:  # a picture: no length, no frame rate
        return {"prompt", "width", "height", *(name for name, _ in media_of(shot, None))}
    names = {"prompt", "width", "height", "frames"}
    if request.negative_prompt:
        names.add("negative_prompt")
    if request.seed is not None or shot.take > 1:
        names.add("seed")
    names.update(name for name, _ in media_of(shot, None))
    if any(item.role == "first_clip" for item in request.media):
        names.add("first_clip")  # no placeholder exists: always reported
    return names


def check_shot(shot: CompiledShot, workflow: Workflow, fps: int, info: Mapping[str, Any]
               ) -> list[Diagnostic]:
    """What ``workflow`` lacks for ``shot``, and the media it asks that the shot cannot give
    where cutting that node would leave a required input without its source."""
    problems = []
    have = workflow.names
    values = shot_values(shot, fps)
    label = f"shot {shot.episode}/{shot.id} ({workflow.path.name})"
    for name in sorted(needed(shot) - have):
        problems.append(Diagnostic(shot.span, f"{label}: the shot has {_what(name)}, and the "
                                              f"workflow has no {{{{{name}}}}} placeholder for "
                                              "it; add one, or choose another workflow"))
    missing = {slot.node for slot in workflow.slots if slot.name not in values.names}
    for problem in prune(json.loads(json.dumps(workflow.graph)), missing, info):
        problems.append(Diagnostic(shot.span, f"{label}: the shot leaves a media placeholder "
                                              f"empty, and {problem}"))
    for name in sorted(set(values.urls) & have):
        problems.append(Diagnostic(shot.span, f"{label}: {{{{{name}}}}} is a URL; ComfyUI "
                                              "takes uploaded files only: use a local file"))
    return problems


def _what(name: str) -> str:
    words = {"prompt": "a prompt", "negative_prompt": "a negative prompt", "seed": "a seed",
             "width": "a size", "height": "a size", "frames": "a duration", "fps": "a frame rate",
             "duration": "a duration", "first_frame": "a first frame",
             "last_frame": "a last frame", "driving_audio": "a driving audio",
             "first_clip": "a clip to continue (first_clip), which no placeholder takes"}
    if name in words:
        return words[name]
    kind, number = re.match(r"([a-z]+)(\d+)", name).groups()  # type: ignore[union-attr]
    noun = {"image": "reference image", "video": "reference video", "audio": "voice"}[kind]
    return f"a {noun} number {number}"


def check_shots(shots: Iterable[CompiledShot], pick: Any, fps: int, info: Mapping[str, Any]
                ) -> None:
    """``check_shot`` over every shot (``pick`` chooses each shot's workflow); all at once."""
    problems: list[Diagnostic] = []
    for shot in shots:
        try:
            workflow = pick(shot)
        except ProblemsFound as found:
            problems += found.diagnostics
            continue
        problems += check_shot(shot, workflow, fps, info)
    if problems:
        raise ProblemsFound(problems)
