"""tools/lock.py: the test environment's lock (`constraints/dev.txt`) is made from this pyproject.toml,
pins every package the dev extra brings, and a change to the dependencies without a new lock is said."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType

from tests.fixtures.paths import ROOT


def tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("lock", ROOT / "tools" / "lock.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


LOCK = tool()
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)")


def normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins() -> dict[str, str]:
    lines = (ROOT / "constraints" / "dev.txt").read_text(encoding="utf-8").splitlines()
    return {normal(m[1]): m[2] for line in lines if (m := PIN.match(line))}


def test_the_committed_lock_is_made_from_this_pyproject() -> None:
    assert LOCK.problem() is None
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "lock.py"), "--check"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def dev_requirements() -> list[str]:
    """The dev extra's requirements, the project's own extras it names opened in turn."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted, todo, seen = list(project["dependencies"]), ["dev"], set()
    while todo:
        extra = todo.pop()
        seen.add(extra)
        for requirement in project["optional-dependencies"][extra]:
            own = re.fullmatch(r"storyboard-compiler\[([^\]]+)\]", requirement)
            if own is None:
                wanted.append(requirement)
            else:
                todo += [e.strip() for e in own[1].split(",") if e.strip() not in seen]
    return wanted


def test_every_direct_requirement_of_the_dev_extra_is_pinned() -> None:
    pinned = pins()
    names = {normal(re.split(r"[\[<>=!~;\s]", r, maxsplit=1)[0]) for r in dev_requirements()}
    assert names <= set(pinned), sorted(names - set(pinned))
    assert len(pinned) > 150  # the whole dev environment, not its direct requirements alone


def test_a_dependency_changed_without_a_new_lock_is_said(tmp_path: Path) -> None:
    changed = tmp_path / "pyproject.toml"
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    changed.write_text(text.replace('"pyyaml>=6.0",', '"pyyaml>=6.0.1",', 1), encoding="utf-8")
    assert LOCK.digest(changed) != LOCK.digest()
    why = LOCK.problem(changed, ROOT / "constraints" / "dev.txt")
    assert why is not None and "changed since constraints/dev.txt was made" in why
    assert "python3 tools/lock.py" in why


def test_a_comment_or_layout_change_keeps_the_lock(tmp_path: Path) -> None:
    same = tmp_path / "pyproject.toml"
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    same.write_text(text.replace('"pyyaml>=6.0",', '"pyyaml>=6.0",  # a comment', 1) + "\n# end\n",
                    encoding="utf-8")
    assert LOCK.problem(same, ROOT / "constraints" / "dev.txt") is None


def test_a_lock_without_its_digest_is_refused(tmp_path: Path) -> None:
    bare = tmp_path / "dev.txt"
    bare.write_text("pyyaml==6.0.3\n", encoding="utf-8")
    why = LOCK.problem(ROOT / "pyproject.toml", bare)
    assert why is not None and "python3 tools/lock.py" in why
