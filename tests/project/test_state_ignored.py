"""``.storyboard/`` ignores itself: a repository holding a series stays clean after storyboard runs.

``check`` writes its caches into the series' ``.storyboard/``; a repository that did not ignore it
showed it as new files (and the pre-commit hooks said "files were modified by this hook"). The
folder is made with a ``.gitignore`` of ``*`` in it, wherever storyboard first uses it, and an
older one without it gets it. The hooks also run when ``storyboard.lock`` changes.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from storyboard.cli import cli
from storyboard.media import samples

ROOT = Path(__file__).resolve().parents[2]
SERIES = ('storyboard: 1\ncharacters:\n  mia: {image: mia.png}\nepisodes:\n  - id: ep01\n'
          '    shots:\n      - {id: a, prompt: "@mia waves", duration: 2}\n')


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          check=True)
    return done.stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A fresh repository holding one series (in ``show/``), every file of it added."""
    if shutil.which("git") is None:
        pytest.fail("git is needed: the test is about what a repository sees")
    git(tmp_path, "init", "-q")
    series = tmp_path / "show"
    series.mkdir()
    samples.image(series / "mia.png", 320, 320)
    (series / "storyboard.yaml").write_text(SERIES, encoding="utf-8")
    git(tmp_path, "add", "-A")
    return tmp_path


def state_seen(repo: Path) -> list[str]:
    status = git(repo, "status", "--porcelain", "--untracked-files=all")
    return [line for line in status.splitlines() if ".storyboard" in line]


def test_check_leaves_the_repository_clean(repo: Path) -> None:
    result = CliRunner().invoke(cli, ["check", str(repo / "show")])
    assert result.exit_code == 0, result.output
    assert list((repo / "show" / ".storyboard").iterdir())  # it did write its caches there
    assert state_seen(repo) == []
    assert "*" in (repo / "show" / ".storyboard" / ".gitignore").read_text().splitlines()


def test_a_local_render_leaves_no_state_in_the_repository(repo: Path) -> None:
    result = CliRunner().invoke(cli, ["render", str(repo / "show")])
    assert result.exit_code == 0, result.output
    assert state_seen(repo) == []


def test_an_older_state_folder_gets_its_gitignore_and_ones_own_is_kept(repo: Path) -> None:
    state = repo / "show" / ".storyboard"
    (state / "parsed").mkdir(parents=True)  # as an older version left it
    (state / "parsed" / "x.json").write_text("{}", encoding="utf-8")
    assert state_seen(repo)
    assert CliRunner().invoke(cli, ["check", str(repo / "show")]).exit_code == 0
    assert state_seen(repo) == []
    (state / ".gitignore").write_text("parsed/\n", encoding="utf-8")  # the user's own
    assert CliRunner().invoke(cli, ["check", str(repo / "show")]).exit_code == 0
    assert (state / ".gitignore").read_text() == "parsed/\n"


def test_the_hooks_run_when_the_lock_changes() -> None:
    for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text()):
        files = re.compile(hook["files"])
        assert files.search("show/storyboard.lock"), hook["id"]
        assert files.search("show/episodes/ep01.yaml") and files.search("show/mia.png")
        assert not files.search("show/notes.txt") and not files.search("show/other.lock")
