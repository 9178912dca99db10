"""A series' approved cut into its versions in other languages: lines, lip-sync passes, episodes."""

from storyboard.run.versions.version import (
    VersionReport,
    plan_version,
    render_version,
    version_episodes,
)

__all__ = ["VersionReport", "plan_version", "render_version", "version_episodes"]
