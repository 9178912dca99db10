"""Manifests into stable JSON: sorted keys, paths relative to the series, one hash per shot.

This is what ``storyboard compile`` prints, meant to be diffed in git: nothing in it depends on the
machine (no absolute paths, no times).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from storyboard.dialects import native
from storyboard.request import CompiledShot, Manifest, MediaRef


def _relative(root: Path) -> native.UrlFor:
    def url_for(ref: MediaRef) -> str:
        if ref.path is None:
            return str(ref.url)
        try:
            return ref.path.relative_to(root).as_posix()
        except ValueError:
            return ref.path.as_posix()
    return url_for


def shot_entry(shot: CompiledShot, root: Path) -> dict[str, Any]:
    url_for = _relative(root)
    entry: dict[str, Any] = {
        "id": shot.id,
        "hash": shot.hash,
        "request": native.body(shot.request, url_for),
        "inputs": {url_for(MediaRef(path=Path(p))): digest for p, digest in shot.inputs.items()},
        "transition": {"type": shot.transition.type, "duration": shot.transition.duration},
    }
    if shot.depends_on:
        entry["depends_on"] = shot.depends_on
    if shot.span is not None:
        entry["source"] = f"{Path(shot.span.file).name}:{shot.span.line}"
    return entry


def to_dict(manifest: Manifest, *, episode: str | None = None, shot: str | None = None
            ) -> dict[str, Any]:
    episodes = []
    for ep in manifest.episodes:
        if episode is not None and ep.id != episode:
            continue
        shots = [shot_entry(s, manifest.root) for s in ep.shots if shot is None or s.id == shot]
        episodes.append({"id": ep.id, "title": ep.title, "shots": shots})
    return {"storyboard": 1, "series": {"name": manifest.name, "title": manifest.title},
            "episodes": episodes}


def to_json(manifest: Manifest, *, episode: str | None = None, shot: str | None = None) -> str:
    data = to_dict(manifest, episode=episode, shot=shot)
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
