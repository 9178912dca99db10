"""Resolved shots into provider-neutral requests, one stable hash per shot, and a manifest.

Point 3 of "Compiling a shot": every ``@name`` becomes its label, a scene becomes
``Scene K [A-Bs]: <action>`` and each line of ``say`` adds ``<label> says: "<line>"``. The hash is
the sha256 of the canonical request with each local file replaced by the sha256 of its content, so
renaming a file changes nothing and editing its bytes re-renders.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from storyboard import media
from storyboard.errors import Diagnostic, MediaError, ProblemsFound
from storyboard.providers.base import Capabilities
from storyboard.request import (
    CompiledEpisode,
    CompiledShot,
    Line,
    Manifest,
    MediaItem,
    MediaRef,
    Scene,
    ShotRequest,
)
from storyboard.resolve import MENTION, Reference, ResolvedShot, Resolver
from storyboard.series import Source, load_source


def render_mentions(text: str, labels: dict[str, str]) -> str:
    """Replace ``@name`` by its label and ``@@`` by ``@``."""
    def swap(match: Any) -> str:
        name = match.group(1)
        return "@" if name is None else labels.get(name, match.group(0))
    return MENTION.sub(swap, text)


def scene_text(index: int, start: float, end: float, action: str, lines: list[str]) -> str:
    head = f"Scene {index} [{start:g}-{end:g}s]: {action}".rstrip()
    if lines:
        joiner = " " if not action or action.endswith((".", "!", "?", ":")) else ". "
        head = head + joiner + " ".join(lines) if action else head + " ".join(lines)
    return head


def build_request(shot: ResolvedShot, shots_by_id: dict[str, ResolvedShot]) -> ShotRequest:
    labels = {r.name: r.label for r in shot.references}
    by_name = {r.name: r for r in shot.references}
    duration = int(shot.params["duration"])
    scenes: list[Scene] = []
    if shot.prompt is not None:
        prompt = render_mentions(shot.prompt, labels)
        scenes.append(Scene(1, 0.0, float(duration), prompt))
    else:
        for scene in shot.scenes:
            action = render_mentions(scene.action, labels)
            said_by = [(speaker, text) for speaker, text in scene.say if speaker in by_name]
            lines = [_line(by_name[speaker], render_mentions(text, labels),
                           *_share(scene.start, scene.end, index, len(said_by)))
                     for index, (speaker, text) in enumerate(said_by)]
            said = [f'{line.label} says: "{line.text}"' for line in lines]
            text = scene_text(scene.index, scene.start, scene.end, action, said)
            scenes.append(Scene(scene.index, scene.start, scene.end, text, tuple(lines)))
        prompt = "\n".join(s.text for s in scenes)
    media_items = [MediaItem(r.role, r.ref, r.label, r.name, r.voice)  # type: ignore[arg-type]
                   for r in shot.references]
    if shot.first_frame is not None:
        media_items.append(MediaItem("first_frame", shot.first_frame))
    elif shot.first_frame_from is not None:
        media_items.append(MediaItem("first_frame", None, from_shot=shot.first_frame_from))
    negative = shot.params.get("negative_prompt")
    return ShotRequest(
        model=str(shot.params["model"]), prompt=prompt, media=tuple(media_items),
        resolution=str(shot.params["resolution"]), ratio=str(shot.params["ratio"]),
        duration=duration, prompt_extend=bool(shot.params["prompt_extend"]),
        watermark=bool(shot.params["watermark"]), negative_prompt=negative or None,
        seed=shot.params.get("seed"), scenes=tuple(scenes))


def _share(start: float, end: float, index: int, count: int) -> tuple[float, float]:
    """Several lines in one scene share its window evenly, in order (captions and voices)."""
    width = (end - start) / count
    return round(start + index * width, 3), round(start + (index + 1) * width, 3)


def _line(reference: Reference, text: str, start: float, end: float) -> Line:
    video_voice = reference.ref if reference.role == "reference_video" else None
    return Line(reference.name, reference.label, text, start, end, reference.voice,
                None if reference.voice else video_voice)


# --- hashing -------------------------------------------------------------------------------------


def canonical(request: ShotRequest, digest_of: dict[Path, str],
              dependency_hashes: dict[str, str]) -> dict[str, Any]:
    """What the hash covers: all the provider receives, with files as content digests."""
    def ref(value: MediaRef | None) -> dict[str, str] | None:
        if value is None:
            return None
        if value.path is not None:
            return {"sha256": digest_of.get(value.path, f"missing:{value.path.name}")}
        return {"url": str(value.url)}

    items = []
    for item in request.media:
        entry: dict[str, Any] = {"type": item.role, "file": ref(item.ref)}
        if item.from_shot is not None:
            entry["file"] = {"from_shot": dependency_hashes.get(item.from_shot, "?")}
        if item.voice is not None:
            entry["voice"] = ref(item.voice)
        items.append(entry)
    timing = [[s.start, s.end, [[ln.label, ln.text] for ln in s.lines]] for s in request.scenes]
    return {"model": request.model, "prompt": request.prompt,
            "negative_prompt": request.negative_prompt, "media": items,
            "parameters": {"resolution": request.resolution, "ratio": request.ratio,
                           "duration": request.duration, "prompt_extend": request.prompt_extend,
                           "watermark": request.watermark, "seed": request.seed},
            "timing": timing}


def digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- the whole series ---------------------------------------------------------------------------


class Compiler:
    def __init__(self, source: Source, capabilities: Capabilities | None = None,
                 check_media: bool = True) -> None:
        self.source = source
        self.caps = capabilities or Capabilities()
        self.check_media = check_media
        self.problems: list[Diagnostic] = list(source.problems)
        self.cache = media.MediaCache(source.root / ".storyboard" / "media.json")

    def run(self) -> Manifest:
        manifest = self.build()
        if any(d.severity == "error" for d in self.problems):
            raise ProblemsFound(self.problems)
        return manifest

    def build(self) -> Manifest:
        """Compile what can be compiled; problems (errors too) stay in ``self.problems``."""
        resolver = Resolver(self.source, self.caps)
        episodes = resolver.episodes()
        self.problems += resolver.problems
        digests = self._media(resolver)
        compiled = [self._episode(ep, digests) for ep in episodes]
        self.cache.save()
        data = self.source.series.data
        series: dict[str, Any] = data if isinstance(data, dict) else {}  # broken YAML: none
        return Manifest(title=str(series.get("title", self.source.name)), name=self.source.name,
                        root=self.source.root, source=self.source.series.file,
                        episodes=compiled, provider=_mapping(series.get("provider")),
                        store=series.get("store"), ledger=series.get("ledger"),
                        warnings=sorted(self.problems, key=Diagnostic.sort_key))

    def _media(self, resolver: Resolver) -> dict[Path, str]:
        digests: dict[Path, str] = {}
        for (path, role), use in resolver.media.items():
            try:
                facts = self.cache.facts(path)
            except MediaError as exc:
                why = "not a regular file" if "not a regular file" in str(exc) else ""
                self.problems.append(use.doc.diagnostic(use.where, (
                    f"{_rel(path, self.source.root)!r} is not a regular file; expected a media "
                    "file" if why else
                    f"missing or unreadable file {_rel(path, self.source.root)!r}")))
                continue
            digests[path] = facts.sha256
            if self.check_media:
                for message in _verdict(facts, role):
                    self.problems.append(use.doc.diagnostic(
                        use.where, f"{_rel(path, self.source.root)}: {message}"))
        return digests

    def _episode(self, episode: Any, digests: dict[Path, str]) -> CompiledEpisode:
        shots_by_id = {s.id: s for s in episode.shots}
        hashes: dict[str, str] = {}
        compiled: list[CompiledShot] = []
        for shot in episode.shots:
            request = build_request(shot, shots_by_id)
            self._check_lengths(shot, request)
            form = canonical(request, digests, hashes)
            hashes[shot.id] = digest(form)
            inputs = {str(p): digests[p] for p in _local_files(request) if p in digests}
            compiled.append(CompiledShot(
                series=self.source.name, episode=episode.id, id=shot.id, request=request,
                hash=hashes[shot.id], span=shot.doc.span(shot.path), transition=shot.transition,
                depends_on=shot.first_frame_from, inputs=inputs, canonical=form))
        return CompiledEpisode(episode.id, episode.title, compiled, episode.settings,
                               episode.doc.span(episode.path))

    def _check_lengths(self, shot: ResolvedShot, request: ShotRequest) -> None:
        where = (*shot.path, "prompt" if shot.prompt is not None else "scenes")
        if len(request.prompt) > self.caps.prompt_limit:
            self.problems.append(shot.doc.diagnostic(where, (
                f"the compiled prompt has {len(request.prompt)} characters; expected at most "
                f"{self.caps.prompt_limit}")))
        negative = request.negative_prompt or ""
        if len(negative) > self.caps.negative_prompt_limit:
            self.problems.append(shot.doc.diagnostic(shot.path, (
                f"the negative prompt has {len(negative)} characters; expected at most "
                f"{self.caps.negative_prompt_limit}")))


def _verdict(facts: media.Facts, role: str) -> list[str]:
    if role in ("image", "video", "voice"):
        return media.verdict(facts, role)  # type: ignore[arg-type]
    if role == "card" and facts.kind not in media.ACCEPTED["image"]:
        return [f"expected {media.ROLE_WORDS['image']} for a card"]
    if role == "audio" and facts.kind not in ("wav", "mp3", "mp4", "mov"):
        return ["expected an audio file (WAV, MP3, M4A) for the music bed"]
    return []


def _mapping(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}


def _local_files(request: ShotRequest) -> list[Path]:
    files = []
    for item in request.media:
        for ref in (item.ref, item.voice):
            if ref is not None and ref.path is not None:
                files.append(ref.path)
    return files


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def compile_source(source: Source, capabilities: Capabilities | None = None) -> Manifest:
    return Compiler(source, capabilities).run()


def compile_lenient(source: Source, capabilities: Capabilities | None = None
                    ) -> tuple[Manifest, list[Diagnostic]]:
    """Compile what can be compiled and return it with every problem, errors included (for the
    review sheet, which shows a broken series' problems on its shots)."""
    compiler = Compiler(source, capabilities)
    manifest = compiler.build()
    return manifest, sorted(compiler.problems, key=Diagnostic.sort_key)


def compile_path(path: Path, capabilities: Capabilities | None = None) -> Manifest:
    """Load, validate and compile the series at ``path``; raise ProblemsFound with every problem."""
    return compile_source(load_source(path), capabilities)
