"""A new series' contents into one plan of files: YAML with its schema, and plain files.

Made by a template (``init``) or a screenplay (``screenplay``), written by ``init``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from storyboard.errors import Diagnostic

SERIES_SCHEMA = "storyboard.schema.json"
EPISODE_SCHEMA = "episode.schema.json"
GITIGNORE = "# the cache and task journal, and the rendered episodes (storyboard.lock is committed)\n" \
            ".storyboard/\nout/\n"


@dataclass
class Blueprint:
    """What a new series holds: YAML by relative path (with its schema), plain files, and how many
    pictures and voices it describes (to be generated)."""

    files: dict[str, tuple[str, str]] = field(default_factory=dict)  # path -> (schema, text)
    plain: dict[str, str] = field(default_factory=lambda: {".gitignore": GITIGNORE})
    warnings: list[Diagnostic] = field(default_factory=list)
    episodes: int = 0
    shots: int = 0
    images: int = 0  # pictures described with image: {generate: ...}
    voices: int = 0  # voices described with design:
