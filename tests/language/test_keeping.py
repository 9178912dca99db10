"""A check that keeps nothing (a one-shot command's) gives the very manifest a keeping one gives,
stores each episode for the next process all the same, and leaves nothing in the process for a
next check; the command line keeps only for the commands that check again (``cli.main``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from storyboard.cli.main import RECHECKING, cli
from storyboard.language.cache import episodecache, incremental, keeping
from storyboard.language.compile import compile_path
from tests.fixtures.series_gen import make_series

EPISODES = 3


@pytest.fixture
def series(tmp_path: Path) -> Iterator[Path]:
    root = make_series(tmp_path / "generated", episodes=EPISODES, shots=8)  # kinds without errors
    for episode in (root / "episodes").glob("*.yaml"):  # each file names its media from its folder
        episode.write_text(episode.read_text().replace("first_frame: media/", "first_frame: ../media/"))
    new_process()
    yield root
    new_process()


def new_process() -> None:
    incremental.forget()
    episodecache.forget()


def stored(root: Path, *folders: str) -> None:
    """What checks left on disk in ``folders`` emptied (the next check cannot read it back)."""
    for folder in folders:
        for entry in (root / ".storyboard" / folder).glob("*"):
            entry.unlink()


def test_a_check_that_keeps_nothing_gives_the_same_manifest_and_stores_each_episode(
        series: Path) -> None:
    with keeping.kept(False):
        once = compile_path(series)
    assert keeping.keeps()  # as before, after
    assert incremental.STATS["shots_resolved"] == 0  # no shot's key made, none kept
    assert episodecache.STATS == {"read": 0, "stored": EPISODES}
    new_process()
    stored(series, "checked")  # the series' own entry: each episode is read back from its own
    assert compile_path(series) == once  # every shot, hash, request and warning
    assert episodecache.STATS == {"read": EPISODES, "stored": 0}


def edited(root: Path, number: int) -> None:
    """A one-line edit to one episode: the series is checked again, the other episodes as kept."""
    episode = root / "episodes" / f"{number:02d}.yaml"
    episode.write_text(episode.read_text() + f"# edited {number}\n")


def test_a_check_that_keeps_nothing_leaves_nothing_for_the_next_in_its_process(
        series: Path) -> None:
    with keeping.kept(False):
        once = compile_path(series)
    edited(series, 0)
    assert compile_path(series) == once  # a keeping check: nothing to take as kept
    assert incremental.STATS["shots_reused"] == 0 and incremental.STATS["shots_resolved"] > 0
    edited(series, 1)
    assert compile_path(series) == once
    assert incremental.STATS["shots_reused"] > 0  # the keeping check's shots, taken as kept


def test_kept_is_undone_when_its_block_fails() -> None:
    with pytest.raises(RuntimeError), keeping.kept(False):
        assert not keeping.keeps()
        raise RuntimeError("the check failed")
    assert keeping.keeps()


def test_a_one_shot_command_keeps_nothing_and_the_library_keeps_after_it(series: Path) -> None:
    done = CliRunner().invoke(cli, ["check", str(series)])
    assert done.exit_code == 0, done.output
    assert incremental.STATS["shots_resolved"] == 0  # checked once: nothing kept
    assert episodecache.STATS == {"read": 0, "stored": EPISODES}  # stored for the next process
    assert keeping.keeps()  # the library's default again once the command ended
    edited(series, 0)
    compile_path(series)
    assert incremental.STATS["shots_resolved"] > 0 and incremental.STATS["shots_reused"] == 0


def test_the_commands_that_check_again_are_commands() -> None:
    assert set(cli.commands) >= RECHECKING == {"studio", "mcp", "worker"}
