"""Hatch's metadata hook into the package's long description and Project-URLs (``readme`` and
``urls`` are dynamic in pyproject.toml): README.md with absolute links (tools/long_description.py),
and the addresses that are known."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from hatchling.metadata.plugin.interface import MetadataHookInterface

sys.path.insert(0, str(Path(__file__).resolve().parent))
from long_description import absolute_links, project_urls


class LongDescriptionHook(MetadataHookInterface):
    """README.md as the package page shows it, and the Project-URLs."""

    PLUGIN_NAME = "custom"

    def update(self, metadata: dict[str, Any]) -> None:
        readme = (Path(self.root) / "README.md").read_text("utf-8")
        documentation = str(self.config.get("documentation", ""))
        files = str(self.config.get("files", ""))
        metadata["readme"] = {"content-type": "text/markdown",
                              "text": absolute_links(readme, documentation, files)}
        metadata["urls"] = project_urls(self.config)
