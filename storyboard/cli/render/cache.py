"""``storyboard cache SERIES`` and ``storyboard cache prune SERIES``: flags into ``housekeeping``.

``cache SERIES`` prints what ``.storyboard/`` holds by kind; ``cache prune`` removes what nothing
needs (never what the lock files, the series as it is now or an in-flight task need).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from storyboard.cli.common import JSON, SERIES, emit, guarded, variants_of


class _CacheGroup(click.Group):
    """``cache SERIES`` shows; ``cache prune SERIES`` prunes (SERIES first means ``show``)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["show", *args]
        return super().parse_args(ctx, args)


def _parsed(parse_name: str) -> Any:
    """A click callback that turns an option's text into a number by ``housekeeping.NAME``."""
    def convert(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
        from storyboard.run.state import housekeeping
        if value is None:
            return None
        try:
            return getattr(housekeeping, parse_name)(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc), ctx, param) from exc
    return convert


@click.group(cls=_CacheGroup)
def cache() -> None:
    """What a series keeps in .storyboard/ (cache SERIES), and removing what nothing needs
    (cache prune SERIES --older-than 30d --max-size 500MB)."""


@cache.command(hidden=True)
@click.argument("path", type=SERIES)
@JSON
def show(path: Path, as_json: bool) -> None:
    """Sizes of .storyboard/ by kind (a hard-linked file counted once)."""
    from storyboard.run.state import housekeeping
    root = _root(path)
    rows = housekeeping.usage(root)
    if as_json:
        emit({"kinds": [{"kind": r.kind, "files": r.files, "bytes": r.bytes} for r in rows],
              "total": {"files": sum(r.files for r in rows), "bytes": sum(r.bytes for r in rows)}})
        return
    if not rows:
        click.echo(f"{root / housekeeping.STATE} is empty")
        return
    width = max(len(row.kind) for row in rows)
    for row in rows:
        click.echo(f"{row.kind:<{width}}  {row.files:>6} file(s)  {housekeeping.human(row.bytes):>10}")
    total = sum(row.bytes for row in rows)
    click.echo(f"{'total':<{width}}  {sum(r.files for r in rows):>6} file(s)  "
               f"{housekeeping.human(total):>10}")


@cache.command()
@click.argument("path", type=SERIES)
@click.option("--older-than", callback=_parsed("parse_age"), metavar="AGE",
              help="Remove what was not used for this long (30d, 12h, 2w).")
@click.option("--max-size", callback=_parsed("parse_size"), metavar="SIZE",
              help="Then remove, free-to-remake state first, until .storyboard/ is at most this "
                   "(500MB, 2GB); exit 1 when only what must stay is left above it.")
@JSON
def prune(path: Path, older_than: float | None, max_size: int | None, as_json: bool) -> None:
    """Remove what can be made again: the stitch cache, frames, stills and cards first, then
    local renders, then paid shots nothing needs; never a paid shot a lock file, the series as
    it is now or an in-flight task needs (default: --older-than 30d)."""
    from storyboard.run.state import housekeeping
    variants = variants_of(path)
    current = {shot.hash for shot in variants.shots()}
    if older_than is None and max_size is None:
        older_than = housekeeping.parse_age("30d")
    report = guarded(lambda: housekeeping.prune(variants.root, current, older_than=older_than,
                                                max_size=max_size))
    above = max_size is not None and report.size_after > max_size
    if as_json:
        emit({"removed": len(report.removed), "freed": report.freed, "ok": not above,
              "kept_needed": report.kept_needed, "size_after": report.size_after,
              "kept": report.kept})
        raise SystemExit(1 if above else 0)
    human = housekeeping.human
    click.echo(f"removed {len(report.removed)} file(s), freed {human(report.freed)}; kept "
               f"{report.kept_needed} file(s) a lock, a current shot or an in-flight task needs; "
               f".storyboard/ is now {human(report.size_after)}")
    if above:
        assert max_size is not None
        click.echo(f"error: .storyboard/ is still {human(report.size_after)}, above "
                   f"{human(max_size)}: the rest must stay. Kept:", err=True)
        for why, size in sorted(report.kept.items(), key=lambda row: -row[1]):
            click.echo(f"  {human(size):>10}  {why}", err=True)
        raise SystemExit(1)


def _root(path: Path) -> Path:
    return guarded(lambda: variants_of(path)).root
