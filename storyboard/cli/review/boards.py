"""Many boards at once, and a board's hosted copies, into what ``approve`` and ``pick`` say.

``approve SERIES boards/EP`` (``boards/EP/*``, ``boards``, ``--all-boards``; ``VARIATION/boards/EP``
in a matrix; ``--provider``: the pictures that provider drew) and ``pick SERIES boards/EP`` work
board by board through ``run.boards.batch``, listing what they did and what they skipped and
why; an approved board's scaled copies a gateway fetches are drawn and named here, to be hosted
with the series folder.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from storyboard.cli.common import emit, guarded, shot_series

if TYPE_CHECKING:
    from storyboard.language.request import Manifest
    from storyboard.run.state.lock.pictures import Drawer


def hosted_files(series: Manifest, name: str, take: int) -> dict[str, list[str]]:
    """A board's take as the series' gateway fetches it: its scaled copies, drawn now (the
    board is final), each a file to host with the series folder (``hosted``, relative)."""
    from storyboard.errors import StoryboardError
    from storyboard.language.request import is_board
    if not is_board(name):
        return {}
    from storyboard.run.boards.gate import hosted_copies
    from storyboard.run.setup import make_provider
    from storyboard.run.state.cache import OutputCache
    try:
        provider = make_provider(series, None)
    except StoryboardError:
        return {}  # a provider that cannot be made now: the render says why
    cache = OutputCache(series.root, provider.cache_key)
    copies = guarded(lambda: hosted_copies(series, name, take, provider, cache))
    return {"hosted": [relative(copy, series.root) for copy in copies]} if copies else {}


def say_hosted(hosted: dict[str, list[str]]) -> None:
    """Each scaled copy a gateway fetches, as a file to host with the series folder."""
    for copy in hosted.get("hosted", []):
        click.echo(f"host {copy} with the series folder: the gateway fetches this copy of the "
                   "board, scaled to what its video model takes, from media_base_url")


def relative(path: Path, root: Path) -> str:
    """``path`` relative to the series folder where it is inside it (else as it is)."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def is_batch_name(shot: str | None) -> bool:
    """Whether SHOT names several boards (``boards/EP``, ``boards/EP/*``, ``boards``), led by
    its variation in a matrix (``calm/boards/ep01``)."""
    from storyboard.run.boards.batch import is_batch
    if shot is None:
        return False
    head, _, rest = shot.partition("/")
    return is_batch(shot) or (not is_batch(head) and head != "boards" and is_batch(rest))


def board_sets(path: Path, shot: str | None) -> list[tuple[Manifest, str, str]]:
    """Each manifest a batch works on, with the boards it names there and its variation prefix:
    SHOT's (``VARIATION/boards/EP`` in a matrix), or every variation's (``--all-boards``)."""
    from storyboard.cli.common import variants_of
    from storyboard.run.boards.batch import EVERY
    if shot is not None:
        return [shot_series(path, shot)]
    variants = variants_of(path)
    return [(v.manifest, EVERY, f"{v.name}/" if variants.matrix else "")
            for v in variants.variants if v.manifest is not None]


def approve_boards(path: Path, shot: str | None, force: bool, as_json: bool,
                   provider: str | None = None) -> None:
    """``approve`` of many boards: each board's picked (or only) take (``provider``: as that
    provider drew it), then what was done."""
    done: list[Any] = []
    for series, name, prefix in board_sets(path, shot):
        drawer = drawer_for(series, provider)
        outcomes = guarded(functools.partial(approved_set, series, name, force, drawer))
        done += [(prefix, o, hosted_files(series, o.board, o.take) if o.take else {})
                 for o in outcomes]
    said_batch(path, done, "approved", as_json, provider)


def drawer_for(series: Manifest, provider: str | None) -> Drawer | None:
    """The provider ``--provider`` names, as a take command means it: whose pictures (None:
    the ones the lock records, whoever drew them)."""
    if provider is None:
        return None
    from storyboard.run.setup import make_provider
    from storyboard.run.state.lock.pictures import Drawer
    chosen = guarded(lambda: make_provider(series, provider))
    return Drawer(chosen.name, chosen.cache_key)


def approved_set(series: Manifest, name: str, force: bool, drawer: Drawer | None = None
                 ) -> list[Any]:
    """The boards ``name`` covers in ``series``, approved (or skipped, with why)."""
    from storyboard.run.boards import batch
    return batch.approve_boards(series, batch.boards_named(series, name), force=force,
                                drawer=drawer)


def pick_boards(path: Path, shot: str, take: int | None, as_json: bool) -> None:
    """``pick`` of many boards: take ``take`` (or the best) of each, then what was done."""
    from storyboard.run.boards import batch
    series, name, prefix = shot_series(path, shot)
    outcomes = guarded(lambda: batch.pick_boards(
        series, batch.boards_named(series, name), take))
    said_batch(path, [(prefix, o, {}) for o in outcomes], "picked", as_json)


def said_batch(path: Path, done: list[Any], verb: str, as_json: bool,
               provider: str | None = None) -> None:
    """What a batch did, board by board: each take approved (or picked), each board skipped
    and why, then the counts (``--json``: ``approved`` / ``picked`` and ``skipped`` lists);
    exit 1 where a board is left short of it (not made, no take picked, findings, unseen)."""
    made = [(p + o.board, o.take, hosted) for p, o, hosted in done if o.take is not None]
    skipped = [(p + o.board, o.why) for p, o, _ in done if o.take is None]
    if as_json:
        emit({verb: [{"board": b, "take": t, **h} for b, t, h in made],
              "skipped": [{"board": b, "why": why} for b, why in skipped]})
    else:
        say_batch(path, made, skipped, verb, provider)
    if any(o.failed for _p, o, _h in done):
        raise SystemExit(1)


def say_batch(path: Path, made: list[tuple[str, int, dict[str, list[str]]]],
              skipped: list[tuple[str, str]], verb: str, provider: str | None) -> None:
    """Each board done and each skipped, then the counts and what may follow."""
    drawn = f" (drawn on {provider})" if provider else ""
    for board, take, hosted in made:
        click.echo(f"{verb} take {take} of {board}{drawn}")
        say_hosted(hosted)
    for board, why in skipped:
        click.echo(f"skipped {board}: {why}")
    on = f" --provider {provider}" if provider else ""
    after = (f"; their shots may render now: storyboard render {path}{on}" if verb == "approved"
             else "; approve them to let their shots render: storyboard approve "
                  f"{path} boards/EP" if made else "")
    click.echo(f"{verb} {len(made)} board(s), skipped {len(skipped)}{after if made else ''}")


def no_board(series: Manifest, name: str) -> None:
    """A board name for a shot that has none by design: say why (not "no shot")."""
    from storyboard.run.boards.batch import why_no_board
    guarded(lambda: why_no_board(series, name))
