"""README.md into the package's long description and Project-URLs, with links that work on the
package index's page: there a relative link (``docs/models.md``) or image (``docs/sheet.png``)
goes nowhere, so each is made absolute from the project's public addresses, or, where none is
known, the link becomes its text and the image its caption (no address is made up).

The addresses are set in pyproject.toml, ``[tool.hatch.metadata.hooks.custom]`` (see
docs/releasing.md): ``documentation`` (the docs site: ``docs/PAGE.md#part`` becomes
``DOCUMENTATION/PAGE/#part``, MkDocs' page addresses, and a file of docs/ its address there),
``files`` (any other file of the repository at the release, an address with ``{path}``), and
``repository`` (the Source URL). Pure text in, text out; tools/hatch_metadata.py hands it to hatch.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# [text](target) and ![alt](target); the target has no space and no parenthesis
LINK = re.compile(r"(?P<image>!?)\[(?P<text>[^\]]*)\]\((?P<target>[^)\s]+)\)")
SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)


def address(target: str, documentation: str, files: str) -> str | None:
    """Where a relative ``target`` of README.md lives publicly; None when no address is known."""
    path, _, part = target.partition("#")
    anchor = f"#{part}" if part else ""
    if path.startswith("docs/") and documentation:
        page = path.removeprefix("docs/")
        if page.endswith(".md"):
            page = "" if page == "index.md" else page.removesuffix(".md") + "/"
        return f"{documentation.rstrip('/')}/{page}{anchor}"
    if files and not path.startswith("docs/"):
        return files.replace("{path}", path) + anchor
    return None


def absolute_links(readme: str, documentation: str = "", files: str = "") -> str:
    """``readme`` with every relative link and image made absolute, or plain text if it cannot be."""
    def rewrite(found: re.Match[str]) -> str:
        target = found["target"]
        if SCHEME.match(target) or target.startswith(("#", "/")):
            return found[0]
        where = address(target, documentation, files)
        if where is not None:
            return f"{found['image']}[{found['text']}]({where})"
        return "" if found["image"] else found["text"]
    return LINK.sub(rewrite, readme)


def project_urls(config: Mapping[str, object]) -> dict[str, str]:
    """The Project-URLs that are known: the documentation site and the repository."""
    named = {"Documentation": config.get("documentation"), "Source": config.get("repository")}
    return {label: url for label, url in named.items() if isinstance(url, str) and url}
