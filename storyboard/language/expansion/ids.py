"""A series into the names a command line can give: episode, shot and variation ids.

For shell completion, so it is cheap: the YAML documents are read and expanded (a matrix: its first
variation, for the shots), never compiled, so no media is hashed or probed. A series that cannot be
read names nothing: completion offers nothing rather than an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storyboard.errors import StoryboardError
from storyboard.language.expansion.expand import expand
from storyboard.language.read.series import EpisodeSource, load_source


@dataclass(frozen=True)
class Names:
    """Every variation of the series, and each episode's shot ids, in the series' order."""

    episodes: dict[str, list[str]] = field(default_factory=dict)
    variations: list[str] = field(default_factory=list)

    def shots(self, episode: str | None = None) -> list[str]:
        """The shot ids of ``episode`` (None or unknown: of every episode), each once."""
        chosen = [self.episodes[episode]] if episode in self.episodes else self.episodes.values()
        return list(dict.fromkeys(shot for shots in chosen for shot in shots))


def names(path: Path) -> Names:
    """The names in the series at ``path``; none if it cannot be read."""
    try:
        expansion = expand(load_source(path))
    except (StoryboardError, OSError, ValueError):
        return Names()
    if not expansion.variations:
        return Names(variations=expansion.names)
    source = expansion.variations[0].source
    return Names(dict(_episode(ep) for ep in source.episodes), expansion.names)


def _episode(episode: EpisodeSource) -> tuple[str, list[str]]:
    data = episode.doc.get(episode.path, {})
    data = data if isinstance(data, dict) else {}
    shots = data.get("shots")
    return (str(data.get("id") or episode.default_id),
            [_shot_id(shot, i) for i, shot in enumerate(shots if isinstance(shots, list) else [])])


def _shot_id(shot: Any, index: int) -> str:
    """As ``resolve`` names it: its ``id``, else ``shotNN`` by its place."""
    return str(shot.get("id") if isinstance(shot, dict) and shot.get("id") else
               f"shot{index + 1:02d}")
