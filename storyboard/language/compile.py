"""Resolved shots into provider-neutral requests, one stable hash per shot, and a manifest.

Point 3 of "Compiling a shot": every ``@name`` becomes its label, a scene becomes
``Scene K [A-Bs]: <action>`` and each line of ``say`` adds ``<label> says: "<line>"``. The hash is
the sha256 of the canonical request with each local file replaced by the sha256 of its content, so
renaming a file changes nothing and editing its bytes re-renders.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

from storyboard.errors import Diagnostic, ProblemsFound
from storyboard.language.boardshots import BoardCompiler
from storyboard.language.cache import checkcache, incremental, keeping
from storyboard.language.cache.episodecache import episode_compiled
from storyboard.language.cache.incremental import MemoResolver
from storyboard.language.expansion.expand import expand_one
from storyboard.language.hashing import digest, take_of
from storyboard.language.lint import cascade, continuity, season, shotchecks
from storyboard.language.read.series import Source, load_source
from storyboard.language.request import (
    CompiledEpisode,
    CompiledShot,
    Line,
    Manifest,
    MediaItem,
    MediaRef,
    Mention,
    Scene,
    ShotRequest,
    Token,
    by_id,
    reference_item,
    speaker_name,
    write,
)
from storyboard.language.resolving import cast, identity, liproutes, looks
from storyboard.language.resolving.resolve import Reference, ResolvedEpisode, ResolvedShot, Resolver
from storyboard.language.resolving.scenes import ResolvedScene
from storyboard.language.tokens import join_line, mention_tokens, scene_tokens
from storyboard.media.probes import probe as media

_MENTIONS: dict[tuple[str, str, int], Mention] = {}  # each mention made once (they are frozen)


def _mention(name: str, kind: Literal["image", "video", "audio", "element", "voice"],
             index: int) -> Mention:
    key = (name, kind, index)
    found = _MENTIONS.get(key)
    if found is None:
        found = Mention(name, kind, index)
        if len(_MENTIONS) < 100_000:
            _MENTIONS[key] = found
    return found


_KINDS: dict[str, Literal["video", "element"]] = {"reference_video": "video", "element": "element"}
_VOICES: dict[str, Literal["audio", "voice"]] = {"reference_audio": "audio", "voice_id": "voice"}


def mentions_of(shot: ResolvedShot) -> dict[str, Mention]:
    """Each reference's mention: images, videos and elements numbered apart, in reference order."""
    counts: dict[str, int] = {}
    found: dict[str, Mention] = {}
    for ref in shot.references:
        kind: Literal["image", "video", "element"] = _KINDS.get(ref.role, "image")
        counts[kind] = counts.get(kind, 0) + 1
        found[ref.name] = _mention(ref.name, kind, counts[kind])
    return found


def build_request(shot: ResolvedShot, shots_by_id: dict[str, ResolvedShot]) -> ShotRequest:
    model = shot.model
    mentions: dict[str, Mention | str] = {**mentions_of(shot)}
    voices = audio_mentions(shot, _VOICES[model.voices]) if model.voices in _VOICES else {}
    by_name = {r.name: r for r in shot.references}
    for name in shot.plain:  # a board's first frame replaced them: named in words
        mentions[name] = speaker_name(name)
        by_name[name] = Reference(name, "reference_image", MediaRef(), speaker_name(name), None)
    duration = int(shot.params["duration"])
    params = shot.params
    scenes: list[Scene] = []
    tokens: list[Token] = []
    if shot.prompt is not None:
        tokens = mention_tokens(shot.prompt, mentions)
        scenes.append(Scene(1, 0.0, float(duration), write(tokens)))
    else:
        audio = (shot.episode, shot.id, liproutes.choice(params).pad)  # a line handed over
        for scene in shot.scenes:
            compiled, scene_toks = _scene(scene, mentions, by_name, voices, audio, shot.heard)
            join_line(tokens, scene_toks)
            scenes.append(compiled)
    return ShotRequest(  # the prompt is its tokens written natively: the scenes' texts, one a line
        model=str(params["model"]), prompt="\n".join([s.text for s in scenes]),
        media=_media(shot, voices, by_name),
        resolution=str(params["resolution"]), ratio=str(params["ratio"]), duration=duration,
        prompt_extend=bool(params["prompt_extend"]) if model.prompt_extend else None,
        watermark=bool(params["watermark"]),
        negative_prompt=(params.get("negative_prompt") or None) if model.negative_prompt else None,
        seed=params.get("seed"), scenes=tuple(scenes), tokens=tuple(tokens),
        audio=bool(params.get("audio", True)) if model.audio_switch else None)


def audio_mentions(shot: ResolvedShot, kind: Literal["audio", "voice"] = "audio"
                   ) -> dict[str, Mention]:
    """Voices sent as ``reference_audio`` items (wan3.0-video), or by id (``voice``: Kling 4.0):
    one per voiced speaker, numbered in the order they first speak ("Audio 1", ...)."""
    voiced = {r.name for r in shot.references
              if r.voice is not None and by_id(r.voice) == (kind == "voice")}
    found: dict[str, Mention] = {}
    for scene in shot.scenes:
        for index, (speaker, _) in enumerate(scene.say):
            if liproutes.route_at(scene, index) not in liproutes.PICTURED:
                continue  # a line the model does not speak sends no voice
            if speaker in voiced and speaker not in found:
                found[speaker] = _mention(speaker, kind, len(found) + 1)
    return found


def _media(shot: ResolvedShot, voices: dict[str, Mention], by_name: dict[str, Reference]
           ) -> tuple[MediaItem, ...]:
    """References in order (each with its voice when the model takes voices on items), then
    voices as audio items, then frames."""
    on_items = shot.model.voices == "reference_voice"
    items = [reference_item(r.role, r.ref, r.label, r.name, r.voice if on_items else None)
             for r in shot.references]
    role, word = ("voice_id", "Voice") if shot.model.voices == "voice_id" else \
        ("reference_audio", "Audio")
    items += [MediaItem(role, by_name[name].voice, f"{word} {m.index}", name)  # type: ignore[arg-type]
              for name, m in voices.items()]
    if shot.first_frame is not None:
        items.append(MediaItem("first_frame", shot.first_frame))
    elif shot.first_frame_from is not None:
        items.append(MediaItem("first_frame", None, from_shot=shot.first_frame_from))
    items += [_frame(shot, role, ref) for role, ref in shot.frames.items()]
    if shot.board is not None and shot.board.next is not None:
        items.append(MediaItem("last_frame", shot.board.next))
    return tuple(items)


def _frame(shot: ResolvedShot, role: str, ref: MediaRef) -> MediaItem:
    """A frame item; a made line as driving audio with how it is padded when short."""
    if role == "driving_audio" and ref.asset is not None and shot.pad is not None:
        return MediaItem("driving_audio", ref, pad=shot.pad[0], lead=shot.pad[1])
    return MediaItem(role, ref)  # type: ignore[arg-type]


def _scene(scene: ResolvedScene, mentions: Mapping[str, Mention | str],
           by_name: dict[str, Reference], voices: dict[str, Mention],
           audio: tuple[str, str, str], heard: Mapping[tuple[int, int], MediaRef]
           ) -> tuple[Scene, list[Token]]:
    """One scene: its native text and lines (each with its route), and its tokens; a line
    heard only is a line of the scene but no words of its prompt."""
    action = mention_tokens(scene.action, mentions)
    said_by = [(speaker, text, route, heard.get((scene.index, index)))
               for index, (speaker, text) in enumerate(scene.say)
               if (route := liproutes.route_at(scene, index)) in UNPICTURED or speaker in by_name]
    said: list[list[Token]] = []
    lines: list[Line] = []
    for index, (speaker, text, route, made) in enumerate(said_by):
        words = mention_tokens(text, mentions)
        said.append(liproutes.says(speaker, route, mentions, voices, words))
        lines.append(_line(by_name.get(speaker), speaker, write(words),
                           *_share(scene.start, scene.end, index, len(said_by)), route,
                           audio, made))
    said = [words for words in said if words]
    tokens = scene_tokens(scene.index, scene.start, scene.end, action, said)
    return Scene(scene.index, scene.start, scene.end, write(tokens), tuple(lines)), tokens


UNPICTURED = ("driving_audio", "none")  # routes whose speaker need not be a reference


def _share(start: float, end: float, index: int, count: int) -> tuple[float, float]:
    """Several lines in one scene share its window evenly, in order (captions and voices)."""
    width = (end - start) / count
    return round(start + index * width, 3), round(start + (index + 1) * width, 3)


def _line(reference: Reference | None, speaker: str, text: str, start: float, end: float,
          route: str, audio: tuple[str, str, str], made: MediaRef | None) -> Line:
    """A line with its route; ``audio``: the episode, shot and pad of a line handed over."""
    handed = liproutes.line_asset(*audio[:2]) if route in liproutes.AUDIO_ROUTES else None
    if reference is None:  # not in the picture: named as viewers read it
        return liproutes.routed_line(speaker, speaker_name(speaker), text, start, end, None, None,
                                  route, handed, audio[2], made)
    video_voice = reference.ref if reference.role == "reference_video" else None
    voice = None if reference.voice is None or by_id(reference.voice) else reference.voice
    return liproutes.routed_line(reference.name, reference.label, text, start, end, voice,
                              None if reference.voice else video_voice, route, handed,
                              audio[2], made)


# --- hashing -------------------------------------------------------------------------------------


def canonical(request: ShotRequest, digest_of: dict[Path, str],
              dependency_hashes: dict[str, str],
              asset_hashes: Mapping[str, str] | None = None) -> dict[str, Any]:
    """What the hash covers: all the provider receives, with files as content digests and a
    cast asset as the hash of the take it uses."""
    def ref(value: MediaRef | None) -> dict[str, str] | None:
        if value is None:
            return None
        if value.asset is not None:
            return {"asset": (asset_hashes or {}).get(value.asset, "?")}
        if value.path is not None:
            found = digest_of.get(value.path)
            return {"sha256": found if found is not None else f"missing:{value.path.name}"}
        if value.id is not None:
            return {"id": value.id}
        return {"url": str(value.url)}

    items = []
    for item in request.media:
        entry: dict[str, Any] = {"type": item.role, "file": ref(item.ref)}
        if item.from_shot is not None:
            entry["file"] = {"from_shot": dependency_hashes.get(item.from_shot, "?")}
        if item.voice is not None:
            entry["voice"] = ref(item.voice)
        if item.lead or item.pad not in ("", liproutes.PADS[0]):  # silence from 0 s: as before
            entry["pad"] = [item.pad, item.lead]
        items.append(entry)
    timing = [[s.start, s.end, [[ln.label, ln.text] for ln in s.lines]] for s in request.scenes]
    return {"model": request.model, "prompt": request.prompt,
            "negative_prompt": request.negative_prompt, "media": items,
            "parameters": {"resolution": request.resolution, "ratio": request.ratio,
                           "duration": request.duration, "prompt_extend": request.prompt_extend,
                           "watermark": request.watermark, "seed": request.seed,
                           **({"audio": request.audio} if request.audio is not None else {})},
            "timing": timing}


# --- the whole series ---------------------------------------------------------------------------


class Compiler(shotchecks.CompileChecks):
    """A series into its manifest: each episode's shots built into requests, checked (its base
    class) and hashed, and the cast's assets."""

    def __init__(self, source: Source, check_media: bool = True, provider: str | None = None,
                 media_cache: media.MediaCache | None = None) -> None:
        super().__init__(source, check_media, provider, media_cache)
        self.asset_hashes: dict[str, str] = {}  # each cast asset's take 1, by asset id
        self.named: dict[Path, str | None] = {}  # each media file the shots name: its digest
        self._provider = provider
        self._slot: checkcache.Slot | None = None  # where a new process finds this check
        self.entries: dict[int, checkcache.Slot] = {}  # each compiled episode's own entry
        self.faces = identity.Faces({}, {})  # characters' and looks' registered faces

    def run(self) -> Manifest:
        """The compiled series, as a process left it last time when nothing that decides it
        changed (``checkcache``), else built anew (and stored); raise ProblemsFound on errors."""
        warm = incremental.warm(self.source)  # this process keeps it: quicker than reading it
        if not warm:
            self._slot = checkcache.slot(self.source, self._provider, self.check_media)
        manifest = self._stored() if self._slot is not None else None
        if manifest is None:
            start = len(self.problems)
            manifest = self.build()
            self._store(manifest, start)  # none when warm (the MCP server: its first check)
        if any(d.severity == "error" for d in self.problems):
            raise ProblemsFound(self.problems)
        return manifest

    def _stored(self) -> Manifest | None:
        assert self._slot is not None
        entry = checkcache.read(self._slot, self.cache)
        self.cache.save()  # facts looked up again (a file touched, the same bytes)
        if entry is None:
            return None
        self.problems += entry.problems
        self.asset_hashes = cast.asset_hashes(entry.manifest.cast)
        return replace(entry.manifest, warnings=sorted(self.problems, key=Diagnostic.sort_key))

    def _store(self, manifest: Manifest, start: int) -> None:
        if self._slot is None or any(d.severity == "error" for d in self.problems):
            return
        named = {str(path): digest for path, digest in self.named.items()}
        entry = checkcache.Entry(replace(manifest, warnings=[]), self.problems[start:], named)
        checkcache.write(self._slot, entry, self.entries)

    def build(self) -> Manifest:
        """Compile what can be compiled; problems (errors too) stay in ``self.problems``."""
        resolver = (MemoResolver if keeping.keeps() else Resolver)(self.source)  # kept to check again?
        episodes = resolver.episodes()
        self.problems += resolver.problems
        self.problems += continuity.lint(resolver.series, [s for e in episodes for s in e.shots])
        self.problems += season.lints(resolver, episodes)
        season.chain_boards(resolver, episodes)
        digests = self.media_digests(resolver.media)
        self.named = {path: digests.get(path) for path, _ in resolver.media}
        assets = cast.asset_shots(self.source.name, resolver.series, resolver.style,
                                  resolver.generated.values(), resolver.designed.values(),
                                  resolver.lines.values(), digests,
                                  resolver.elements.values(), resolver.kvoices.values(),
                                  resolver.portraits.values(),
                                  self.target.identity_key if self.target else "")
        self.asset_hashes = cast.asset_hashes(assets)
        made = BoardCompiler(self.source, resolver.characters, resolver.style,
                             self.asset_hashes, digests)
        assets += made.all(episodes)
        self.problems += made.problems
        self.faces = identity.faces_of(resolver)
        compiled = [episode_compiled(self, resolver, ep, digests, self._provider, self.check_media)
                    for ep in episodes]
        self.problems += identity.face_problems(self.target, resolver, self.faces, compiled)
        assets = cast.needed_elements(assets, compiled)
        self.cache.save()
        self.problems = cascade.without_cascades(self.problems)
        data = self.source.series.data
        series: dict[str, Any] = data if isinstance(data, dict) else {}  # broken YAML: none
        return Manifest(title=str(series.get("title", self.source.name)), name=self.source.name,
                        root=self.source.root, source=self.source.series.file,
                        episodes=compiled, provider=_mapping(series.get("provider")),
                        store=series.get("store"), ledger=series.get("ledger"),
                        checks=_mapping(series.get("checks")),
                        warnings=sorted(self.problems, key=Diagnostic.sort_key),
                        output_problem=resolver.output_problem, cast=assets,
                        providers=_mapping(series.get("providers")))

    def compile_episode(self, episode: ResolvedEpisode, digests: dict[Path, str],
                 memo: incremental.ShotMemo | None = None) -> CompiledEpisode:
        """Each shot compiled, or taken from ``memo`` when nothing that decides it changed."""
        hashes: dict[str, str] = {}
        compiled: list[CompiledShot] = []
        for shot in episode.shots:
            first = memo.compiled(self, shot, digests, hashes) if memo is not None else None
            if first is None:
                before = len(self.problems)
                first = self.compile_shot(shot, digests, hashes)
                if memo is not None and len(self.problems) == before:
                    memo.keep_compiled(self, shot, first, digests, hashes)
            hashes[shot.id] = first.hash
            compiled.append(first)
        return CompiledEpisode(episode.id, episode.title, compiled, episode.settings,
                               episode.doc.span(episode.path))

    def compile_shot(self, shot: ResolvedShot, digests: dict[Path, str],
                     hashes: dict[str, str]) -> CompiledShot:
        """One shot into its request, checked, hashed (``hashes``: its episode's earlier shots)
        and with its other takes."""
        request = identity.sent(build_request(shot, {}), self.target, self.faces, shot.looks)
        self.check_lengths(shot, request)
        self.check_seconds(shot, request)
        self.check_files(shot, request)
        self.check_gateway(shot, request)
        self.check_region(shot)
        self.check_retired(shot)
        form = canonical(request, digests, hashes, self.asset_hashes)
        local, assets = _files_and_assets(request)
        inputs = {str(p): d for p in local if (d := digests.get(p)) is not None}
        first = CompiledShot(
            series=self.source.name, episode=shot.episode, id=shot.id, request=request,
            hash=digest(form), span=shot.doc.span(shot.path), transition=shot.transition,
            depends_on=shot.first_frame_from, inputs=inputs, canonical=form, people=looks.declared(shot),
            needs={a: self.asset_hashes.get(a, "?") for a in assets}, checks=shot.checks,
            board=shot.board.ref if shot.board is not None else None, looks=dict(shot.looks))
        count = int(shot.params.get("takes") or 1)
        first.others = [take_of(first, k, shot.model.caps.seed_max) for k in range(2, count + 1)]
        return first

def _mapping(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}


def _files_and_assets(request: ShotRequest) -> tuple[list[Path], list[str]]:
    """``_local_files`` and the cast assets a shot uses (its references, voices and frames,
    each once, in order), in one pass."""
    files: list[Path] = []
    assets: dict[str, None] = {}
    heard = [(None, line.audio) for scene in request.scenes for line in scene.lines]
    for item in [*((i.ref, i.voice) for i in request.media), *heard]:  # and the made lines
        for ref in item:
            if ref is None:
                continue
            if ref.path is not None:
                files.append(ref.path)
            if ref.asset is not None:
                assets[ref.asset] = None
    return files, list(assets)


def compile_source(source: Source, *, provider: str | None = None) -> Manifest:
    """Expand (templated values, shot templates) and compile a series without a matrix;
    ``provider`` (a gateway's name) adds that gateway's limits."""
    return Compiler(expand_one(source), provider=provider).run()


def compile_lenient(source: Source, *, provider: str | None = None,
                    vars: dict[str, Any] | None = None, expanded: bool = False
                    ) -> tuple[Manifest, list[Diagnostic]]:
    """Compile what can be compiled and return it with every problem, errors included (for the
    review sheet, which shows a broken series' problems on its shots). ``vars`` override the
    series' vars; ``expanded``: ``source`` is one variation already expanded (``expand``)."""
    expanded_source, found = (source, []) if expanded else _expand_lenient(source, vars)
    compiler = Compiler(expanded_source, provider=provider)
    manifest = compiler.build()
    return manifest, sorted([*found, *compiler.problems], key=Diagnostic.sort_key)


def _expand_lenient(source: Source, vars: dict[str, Any] | None = None
                    ) -> tuple[Source, list[Diagnostic]]:
    """The expanded series, or the series as written with the problems that stopped expansion."""
    try:
        return expand_one(source, vars), []
    except ProblemsFound as found:
        return source, [d for d in found.diagnostics if d not in source.problems]


def compile_path(path: Path, *, provider: str | None = None) -> Manifest:
    """Load, validate and compile the series at ``path``; raise ProblemsFound with every problem."""
    with checkcache.no_gc_pauses():
        return compile_source(load_source(path), provider=provider)
