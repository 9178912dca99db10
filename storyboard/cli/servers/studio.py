"""``storyboard studio`` into a running studio: flags map onto ``review.studio.server.serve``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from storyboard.cli.common import PROVIDER_CHOICE, SERIES, fail, guarded
from storyboard.errors import MissingExtra, ProblemsFound, printable, shown

if TYPE_CHECKING:  # the studio is imported when the command runs
    from storyboard.review.studio.proposals import Waiting


def printable_author(value: str | None) -> str | None:
    """``--author`` as printable text (it is written on every note), else a usage error."""
    if value is not None and not printable(value):
        raise click.BadParameter(f"{shown(value)}: expected a name of printable characters")
    return value


@click.command()
@click.argument("path", type=SERIES)
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (loopback unless --allow-remote).")
@click.option("--port", type=click.IntRange(0, 65535), default=8766, show_default=True,
              help="Port to listen on (0: any free one).")
@click.option("--author", callback=lambda ctx, param, value: printable_author(value),
              help="The name written on your notes (default: git's user.name).")
@click.option("--open", "open_browser", is_flag=True, help="Open the page in a browser.")
@click.option("--provider", type=PROVIDER_CHOICE, default=None,
              help="Whose takes the page shows: `local`, only the drafts it makes on every save; "
                   "another provider, its renders (nothing is drafted or paid). Default: per "
                   "shot the take its episode uses, whoever rendered it (drafts where nothing "
                   "better exists).")
@click.option("--allow-remote", is_flag=True,
              help="Allow a --host that is not a loopback address (others on the network can "
                   "then reach it with the token).")
def studio(path: Path, host: str, port: int, author: str | None, open_browser: bool,
           provider: str | None, allow_remote: bool) -> None:
    """A live review page for PATH on loopback: every save is checked and drafted with the local
    provider (never a paid one); each shot shows the take its episode uses, the paid one where a
    provider rendered it; notes go to review.yaml. With --provider NAME it shows NAME's takes
    only. Ctrl-C stops it."""
    try:
        from storyboard.review.studio.server import serve
    except ImportError as exc:
        fail(MissingExtra("storyboard studio", "studio", exc.name))
        return

    def announce(text: str) -> None:
        click.echo(f"storyboard studio: {text}" if text.startswith("http") else text, err=True)

    guarded(lambda: a_series(path))

    guarded(lambda: serve(path, host=host, port=port, author=author, allow_remote=allow_remote,
                          announce=announce, open_browser=open_browser, lookout=breakdown_left,
                          provider=provider))


def a_series(path: Path) -> None:
    """Refuse, as ``check`` does, a file that is not a series (any YAML without ``storyboard:``
    at its top; a story, a screenplay or an episode file is answered by the PATH argument itself,
    ``cli.seriespath``): the studio would serve it as an empty one. A series with other problems
    is served: the page shows them as it does after each save."""
    from storyboard.language.read.series import load_source
    source = load_source(path)
    doc = source.series
    if isinstance(doc.data, dict) and "storyboard" in doc.data:
        return
    said = [d for d in source.problems if d.span is None or Path(d.span.file).resolve() == doc.file]
    said = said or [doc.diagnostic((), "expected a mapping with 'storyboard: 1' at the top of the "
                                       "series file")]
    raise ProblemsFound(said)


def breakdown_left(root: Path) -> Waiting | None:
    """What the series' breakdown left for the studio to show (its proposals, the catch-up's
    cost), planned from its cache; the breakdown is imported only for a series that has one."""
    if not (root / ".storyboard" / "breakdown" / "last.json").is_file():
        return None
    from storyboard.breakdown.status import waiting
    return waiting(root)
