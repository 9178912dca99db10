"""Manifests into stable JSON: sorted keys, paths relative to the series, one hash per shot.

This is what ``storyboard compile`` prints, meant to be diffed in git: nothing in it depends on the
machine (no absolute paths, no times).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

from storyboard.dialects import native
from storyboard.dialects.base import Dialect, UrlFor
from storyboard.language.request import CompiledShot, Line, Manifest, MediaRef


def _relative(root: Path, base_url: str | None = None) -> UrlFor:
    """A local file as its path relative to the series, or under ``base_url`` when given."""
    def url_for(ref: MediaRef) -> str:
        if ref.asset is not None:
            return f"{{asset: {ref.asset}}}"
        if ref.path is None:
            return str(ref.url)
        try:
            relative = ref.path.relative_to(root).as_posix()
        except ValueError:
            return ref.path.as_posix()
        return f"{base_url.rstrip('/')}/{quote(relative)}" if base_url else relative
    return url_for


def shot_entry(shot: CompiledShot, root: Path, dialect: Dialect = native.DIALECT,
               media_base_url: str | None = None) -> dict[str, Any]:
    url_for = _relative(root)
    entry: dict[str, Any] = {
        "id": shot.id,
        "hash": shot.hash,
        "request": dialect.body(shot.request, _relative(root, media_base_url)),
        "inputs": {url_for(MediaRef(path=Path(p))): digest for p, digest in shot.inputs.items()},
        "transition": {"type": shot.transition.type, "duration": shot.transition.duration},
    }
    lines = [line_entry(line, url_for) for scene in shot.request.scenes for line in scene.lines]
    if lines:
        entry["lines"] = lines
    if shot.depends_on:
        entry["depends_on"] = shot.depends_on
    if shot.needs:
        entry["needs"] = dict(shot.needs)
    if shot.looks:  # who wears which of their looks here
        entry["looks"] = dict(shot.looks)
    if shot.board is not None:  # its board: ``{asset: boards/EP/SHOT}`` or its own still
        entry["board"] = url_for(shot.board)
    if shot.span is not None:
        entry["source"] = f"{Path(shot.span.file).name}:{shot.span.line}"
    return entry


def line_entry(line: Line, url_for: UrlFor) -> dict[str, Any]:
    """A spoken line as the manifest shows it: who, when, and how it reaches the lips."""
    entry: dict[str, Any] = {"speaker": line.speaker, "at": [line.start, line.end],
                             "route": line.route}
    if line.audio is not None:  # a line heard only (route none) is mixed in, never padded
        entry.update(audio=url_for(line.audio), **({"pad": line.pad} if line.pad else {}))
    return entry


def asset_entry(asset: CompiledShot, root: Path) -> dict[str, Any]:
    """A cast asset's take as the manifest shows it: what it asks for, by neutral name."""
    assert asset.asset is not None
    url_for, request = _relative(root), asset.asset
    entry: dict[str, Any] = {"id": f"{asset.episode}/{asset.id}", "hash": asset.hash,
                             "kind": request.kind, "model": request.model,
                             "prompt": request.prompt}
    extra = {"size": request.size, "sample": request.sample, "language": request.language,
             "target_model": request.target_model, "voice": request.voice}
    entry.update({k: v for k, v in extra.items() if v})
    if request.refs:
        entry["refs"] = [url_for(r) for r in request.refs]
    if request.seed is not None:
        entry["seed"] = request.seed
    if asset.needs:
        entry["needs"] = dict(asset.needs)
    if not asset.gate:  # a board whose video needs only a pick (``boards: {gate: false}``)
        entry["gate"] = False
    return entry


def to_dict(manifest: Manifest, *, episode: str | None = None, shot: str | None = None,
            dialect: Dialect = native.DIALECT, media_base_url: str | None = None
            ) -> dict[str, Any]:
    cast = [a for a in manifest.cast if shot in (None, f"{a.episode}/{a.name}")]
    episodes = []
    for ep in manifest.episodes:
        if (episode is not None and ep.id != episode) or (shot is not None and cast):
            continue
        shots = [shot_entry(s, manifest.root, dialect, media_base_url)
                 for s in ep.shots if shot in (None, s.id, s.shot_id)]
        episodes.append({"id": ep.id, "title": ep.title, "shots": shots})
    data: dict[str, Any] = {"storyboard": 1, "series": {"name": manifest.name,
                                                       "title": manifest.title},
                            "episodes": episodes}
    if cast and episode is None:  # absent without a cast, as before; ``--shot cast/mia``: its takes
        data["cast"] = [asset_entry(take, manifest.root)
                        for asset in cast for take in asset.all_takes()]
    if dialect is not native.DIALECT:  # the native manifest stays byte-for-byte what it was
        data["provider"] = dialect.name
    return data


def to_json(manifest: Manifest, *, episode: str | None = None, shot: str | None = None,
            dialect: Dialect = native.DIALECT, media_base_url: str | None = None) -> str:
    data = to_dict(manifest, episode=episode, shot=shot, dialect=dialect,
                   media_base_url=media_base_url)
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
