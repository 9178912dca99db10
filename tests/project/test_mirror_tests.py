"""tools/mirror_tests.py: every test file placed by its rules, moved with git, and each path that
names it rewritten; a file no rule places refused before anything moves."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

from tests.fixtures.paths import ROOT, TESTS


def tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("mirror_tests", ROOT / "tools" / "mirror_tests.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MIRROR = tool()


@pytest.mark.parametrize(("stem", "folder"), [
    ("test_run_imaginary", "run"), ("test_checkcache", "language"), ("test_check_errors", "language"),
    ("test_check_formats", "cli"), ("test_variations", "language"), ("test_variations_run", "run"),
    ("test_models", "language"), ("test_models_table", "targets"), ("test_mcp", "agents"),
    ("test_stitch", "stitch"), ("test_new_user_errors", "cli"), ("test_nothing_known", None),
])
def test_a_name_is_placed_by_the_table_first_then_the_longest_prefix(stem: str,
                                                                     folder: str | None) -> None:
    assert MIRROR.folder_for(stem) == folder


def test_every_test_file_is_placed_and_sits_where_its_rules_say() -> None:
    for path in sorted(TESTS.rglob("test_*.py")):
        folder = MIRROR.folder_for(path.stem)
        assert folder in MIRROR.FOLDERS, f"no rule places {path.name}"
        assert path.parent in (TESTS, TESTS / folder), f"{path} is not in tests/{folder}/"


@pytest.mark.parametrize(("before", "after"), [
    ('Path(__file__).resolve().parent / "golden"', 'Path(__file__).resolve().parents[1] / "golden"'),
    ("Path(__file__).resolve().parent.parent", "Path(__file__).resolve().parents[2]"),
    ("Path(__file__).parents[1] / 'examples'", "Path(__file__).parents[2] / 'examples'"),
    ("Path(storyboard.__file__).resolve().parent", "Path(storyboard.__file__).resolve().parent"),
])
def test_a_moved_file_names_the_same_folders_from_one_level_deeper(before: str, after: str) -> None:
    assert MIRROR.one_level_deeper(f"X = {before}\n") == f"X = {after}\n"
    assert MIRROR.one_level_deeper(f"X = {before!r}\n") == f"X = {before!r}\n"  # data, not code
    assert not MIRROR.odd_file_use(f"X = {before}\n")


def test_a_file_used_in_any_other_way_is_found_in_code_only() -> None:
    assert MIRROR.odd_file_use("HERE = Path(__file__).with_name('x')\n")
    assert MIRROR.odd_file_use("HERE = os.path.dirname(__file__)\n")
    assert not MIRROR.odd_file_use("TEXT = 'os.path.dirname(__file__)'\n")


def test_paths_and_modules_naming_a_placed_file_are_rewritten() -> None:
    where = {"test_run_imaginary.py": "tests/run/test_run_imaginary.py"}
    text = "see tests/test_run_imaginary.py and tests/test_other.py; import tests.test_run_imaginary\n"
    assert MIRROR.rewrite_text(text, where, python=True) == (
        "see tests/run/test_run_imaginary.py and tests/test_other.py; import tests.run.test_run_imaginary\n")
    assert "tests.test_run_imaginary" in MIRROR.rewrite_text(text, where, python=False)


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=repo,
                          capture_output=True, text=True, check=True)
    return done.stdout


def checkout(tmp_path: Path, files: dict[str, str]) -> Path:
    repo = tmp_path / "repo"
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text, encoding="utf-8")
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "start")
    return repo


def run_tool(repo: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.chdir(repo)
    code: int = MIRROR.main([])
    return code


def test_a_run_moves_with_git_and_rewrites_every_path_but_the_changelog(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = checkout(tmp_path, {
        "tests/__init__.py": "", "tests/conftest.py": 'SLOW = ("tests/test_run_imaginary.py",)\n',
        "tests/test_run_imaginary.py": 'ROOT = Path(__file__).resolve().parent.parent\n',
        "docs/run.md": "Held by `tests/test_run_imaginary.py`.\n",
        "CHANGELOG.md": "- tests/test_run_imaginary.py added\n"})
    assert run_tool(repo, monkeypatch) == 0
    moved = repo / "tests" / "run" / "test_run_imaginary.py"
    assert moved.read_text() == "ROOT = Path(__file__).resolve().parents[2]\n"
    assert (repo / "tests" / "run" / "__init__.py").read_text().startswith('"""Tests of plans')
    assert "tests/test_run_imaginary.py -> tests/run/test_run_imaginary.py" in git(repo, "status", "--short")
    assert (repo / "docs" / "run.md").read_text() == "Held by `tests/run/test_run_imaginary.py`.\n"
    assert "tests/run/test_run_imaginary.py" in (repo / "tests" / "conftest.py").read_text()
    assert (repo / "CHANGELOG.md").read_text() == "- tests/test_run_imaginary.py added\n"
    assert run_tool(repo, monkeypatch) == 0  # again: nothing left to move, nothing changes
    assert moved.read_text() == "ROOT = Path(__file__).resolve().parents[2]\n"


@pytest.mark.parametrize(("name", "text", "said"), [
    ("tests/test_nothing_known.py", "", "no rule places test_nothing_known.py"),
    ("tests/test_stitch_x.py", "HERE = Path(__file__).with_name('x')\n", "__file__ used otherwise"),
    ("tests/test_stitch_x.py", "from tests.test_run_imaginary import KEY\n", "imports the test module"),
    ("tests/helpers.py", "", "a helper at the top of tests/"),
])
def test_what_no_rule_can_carry_is_refused_before_anything_moves(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        name: str, text: str, said: str) -> None:
    repo = checkout(tmp_path, {"tests/__init__.py": "", "tests/test_run_imaginary.py": "", name: text})
    assert run_tool(repo, monkeypatch) == 1
    assert said in capsys.readouterr().err
    assert (repo / "tests" / "test_run_imaginary.py").exists() and not (repo / "tests" / "run").exists()
