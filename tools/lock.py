"""pyproject.toml into the test environment's lock: `constraints/dev.txt`, every package pinned.

README command 2 and CI install the dev extra under it (`pip install -c constraints/dev.txt -e
".[dev]"`), so a fresh install resolves at once to what was tested, with no walk back through
releases. The lock is made by uv (`uv pip compile --universal`: one file for every platform and
Python from 3.11) and carries, in its first line, the digest of what it was made from: the project's
`requires-python`, dependencies and extras. When those change and the lock does not, `--check`
says so and exits 1 (CI runs it first, and `tests/project/test_lock.py` holds it).

    python3 tools/lock.py            # make the lock again: the newest releases pyproject.toml allows
    python3 tools/lock.py --check    # is the lock made from this pyproject.toml? (stdlib only)

Making it needs uv (`pip install uv`, or `uvx`); checking it needs nothing but Python 3.11.
The floors are tested apart, unlocked (`.ci/lowest.sh`).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "constraints" / "dev.txt"
PREFIX = "# made from pyproject.toml "
REFRESH = "python3 tools/lock.py"


def digest(pyproject: Path = ROOT / "pyproject.toml") -> str:
    """The sha256 of what the lock is made from: requires-python, dependencies, extras."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    made_from = {
        "requires-python": project.get("requires-python", ""),
        "dependencies": project.get("dependencies", []),
        "optional-dependencies": project.get("optional-dependencies", {}),
    }
    text = json.dumps(made_from, sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def recorded(lock: Path = LOCK) -> str | None:
    """The digest the lock's first line records, or None when it has no such line."""
    if not lock.is_file():
        return None
    first = lock.read_text(encoding="utf-8").split("\n", 1)[0]
    return first[len(PREFIX) :].strip() if first.startswith(PREFIX) else None


def problem(pyproject: Path = ROOT / "pyproject.toml", lock: Path = LOCK) -> str | None:
    """Why the lock does not fit pyproject.toml, or None when it does."""
    name = lock.relative_to(ROOT) if lock.is_relative_to(ROOT) else lock
    have = recorded(lock)
    if have is None:
        return f"{name} is missing or has no '{PREFIX.strip()}' line: make it with `{REFRESH}`"
    if have != digest(pyproject):
        return (
            f"pyproject.toml's dependencies changed since {name} was made: make it again with "
            f"`{REFRESH}` and commit both"
        )
    return None


def make() -> int:
    """Run uv pip compile over pyproject.toml's dev extra and write the lock with its digest."""
    uv = shutil.which("uv") or str(Path(sys.executable).with_name("uv"))
    if not Path(uv).exists():
        print("tools/lock.py needs uv: pip install uv", file=sys.stderr)
        return 2
    LOCK.parent.mkdir(exist_ok=True)
    command = [uv, "pip", "compile", "pyproject.toml", "--extra", "dev", "--universal",
               "--python-version", "3.11", "--upgrade", "--no-header"]
    made = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if made.returncode != 0:
        print(made.stderr, file=sys.stderr)
        return made.returncode
    header = (
        f"{PREFIX}{digest()}\n"
        f"# The test environment's lock (README command 2 and CI install under it). Made by\n"
        f"# `{REFRESH}` (uv pip compile --universal --extra dev); do not edit by hand.\n"
    )
    LOCK.write_text(header + made.stdout, encoding="utf-8")
    print(f"wrote {LOCK.relative_to(ROOT)}: {made.stdout.count('==')} pins")
    return 0


def main(argv: list[str]) -> int:
    if argv == ["--check"]:
        why = problem()
        if why is None:
            return 0
        print(f"error: {why}", file=sys.stderr)
        return 1
    if argv:
        print("usage: python3 tools/lock.py [--check]", file=sys.stderr)
        return 2
    return make()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
