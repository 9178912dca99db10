"""The test modules' bytecode, written once before the workers start (tests/fixtures/bytecode.py):
where pytest itself looks for it, dealt by size, and only by a process that starts workers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.fixtures import bytecode

TEST = "def test_sum():\n    total = 1 + 1\n    assert total == 2, total\n"


def tree(root: Path) -> list[Path]:
    files = [root / "tests" / "test_one.py", root / "tests" / "deeper" / "test_two.py",
             root / "tests" / "conftest.py"]
    for path in files:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(TEST if path.name.startswith("test_") else "", encoding="utf-8")
    (root / "tests" / "helper.py").write_text("X = 1\n", encoding="utf-8")  # not a test module
    return files


def test_warmed_modules_are_the_ones_pytest_reads_and_no_longer_stale(tmp_path: Path) -> None:
    files = tree(tmp_path)
    assert bytecode.stale([tmp_path / "tests"]) == sorted(files)
    bytecode.warm(files, tmp_path, hands=2)
    assert bytecode.stale([tmp_path / "tests"]) == []
    written = {path: bytecode.rewritten(path).stat().st_mtime_ns for path in files}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", "0", "-p",
                           "no:cacheprovider", "tests"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0 and "2 passed" in done.stdout, done.stdout + done.stderr
    # pytest read each as written: none rewritten again (its name and format are pytest's own)
    assert {path: bytecode.rewritten(path).stat().st_mtime_ns for path in files} == written


def test_stale_files_are_dealt_by_size_the_largest_first(tmp_path: Path) -> None:
    sizes = {"a": 900, "b": 500, "c": 450, "d": 100}
    files = []
    for name, size in sizes.items():
        (tmp_path / f"test_{name}.py").write_text("#" * size, encoding="utf-8")
        files.append(tmp_path / f"test_{name}.py")
    hands = bytecode.dealt(files, 2)
    assert [[p.stem for p in hand] for hand in hands] == [["test_a", "test_d"],
                                                          ["test_b", "test_c"]]
    assert bytecode.dealt(files[:1], 4) == [files[:1]]  # no empty hand


@pytest.mark.parametrize(("option", "worker", "warming", "workers"), [
    ({"numprocesses": 6, "dist": "loadgroup"}, False, False, 6),
    ({"numprocesses": 6, "dist": "loadgroup"}, True, False, 0),  # a worker warms nothing
    ({"numprocesses": 6, "dist": "loadgroup"}, False, True, 0),  # nor a collect-only run
    ({"numprocesses": 0, "dist": "no"}, False, False, 0),  # -n 0: it compiles as it goes
    ({"numprocesses": None, "dist": "no"}, False, False, 0),
])
def test_only_a_process_that_starts_workers_warms(
        monkeypatch: pytest.MonkeyPatch, option: dict[str, object], worker: bool, warming: bool,
        workers: int) -> None:
    if warming:
        monkeypatch.setenv(bytecode.WARMING_ENV, "1")
    else:
        monkeypatch.delenv(bytecode.WARMING_ENV, raising=False)
    config = SimpleNamespace(option=SimpleNamespace(**option))
    if worker:
        config.workerinput = {}
    assert bytecode.workers_of(config) == workers


def test_a_run_warms_the_modules_of_its_own_arguments(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    one, two, conftest = tree(tmp_path)
    other = tmp_path / "tests" / "other" / "test_three.py"
    other.parent.mkdir()
    other.write_text(TEST, encoding="utf-8")
    monkeypatch.delenv(bytecode.WARMING_ENV, raising=False)
    monkeypatch.setattr(bytecode, "FEW", 2)
    config = SimpleNamespace(option=SimpleNamespace(numprocesses=6, dist="loadgroup"),
                             invocation_params=SimpleNamespace(dir=tmp_path), rootpath=tmp_path,
                             args=["tests/test_one.py::test_sum", "tests/deeper"])
    bytecode.before_workers(config)
    # its own modules and the conftest their collection loads; not a module outside its arguments
    assert bytecode.stale([one, two, conftest, other]) == [other]
    bytecode.rewritten(one).unlink()
    config.args = ["tests/test_one.py"]
    bytecode.before_workers(config)  # fewer stale than FEW: left to the workers
    assert bytecode.stale([one]) == [one]
