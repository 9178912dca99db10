"""``storyboard docs`` into the user documentation's pages, read where it is installed: the wheel
carries ``docs/`` inside the package (``storyboard/docs``); a clone reads its own ``docs/``.

Files that storyboard writes (``init``'s series, a screenplay's episodes) point here, at a page by
name, so that a user who installed a wheel, and so has no ``docs/`` folder, can read it.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import click

from storyboard.errors import StoryboardError, shown

_PACKAGE = Path(__file__).resolve().parents[2]


class UnknownPage(StoryboardError):
    """A page name the documentation does not have: a usage error."""

    exit_code = 2


def docs_folder() -> Path:
    """The pages: inside the package (a wheel), else beside it (a clone, an editable install)."""
    for folder in (_PACKAGE / "docs", _PACKAGE.parent / "docs"):
        if (folder / "index.md").is_file():
            return folder
    raise StoryboardError(f"the documentation is not installed (no docs/ in {_PACKAGE} or beside it)")


def pages(folder: Path) -> dict[str, str]:
    """Each page's name and its title (its first heading)."""
    found = {}
    for path in sorted(folder.glob("*.md")):
        first = next((line for line in path.read_text("utf-8").splitlines() if line.startswith("#")), "")
        found[path.stem] = first.lstrip("#").strip()
    return found


def page_text(page: str) -> str:
    """The text of ``page`` (``starting`` or ``starting.md``); a name it does not know is refused."""
    folder = docs_folder()
    known = pages(folder)
    name = page.removesuffix(".md")
    if name not in known:
        close = difflib.get_close_matches(name.lower(), list(known), n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}? `storyboard docs {close[0]}`)" if close else ""
        raise UnknownPage(f"no documentation page {shown(page)}{hint}; expected one of: "
                          + ", ".join(known))
    return (folder / f"{name}.md").read_text("utf-8")


@click.command()
@click.argument("page", required=False)
def docs(page: str | None) -> None:
    """Print a page of the documentation (as Markdown); without PAGE, list the pages."""
    from storyboard.cli.common import guarded
    if page is None:
        listed = guarded(lambda: pages(docs_folder()))
        click.echo("\n".join(f"{name:<16} {title}" for name, title in listed.items()))
        return
    click.echo(guarded(lambda: page_text(page)), nl=False)
