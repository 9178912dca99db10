#!/usr/bin/env bash
# CI's release check: what a release of this commit would ship, built and checked as
# docs/releasing.md says, without publishing anything: the sdist and the wheel built from a clone
# of the commit (so nothing untracked ships), `twine check --strict`, the wheel named by
# pyproject.toml's version with the files `storyboard docs` and `init` read, a long description
# with no link left relative, and a dated CHANGELOG section for that version.
#
# usage: .ci/release.sh      (from .ci/run; needs python3, git and the package registry)
set -euo pipefail
cd "$(dirname "$0")/.."
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

git clone -q . "$WORK/clone"
python3 -m venv "$WORK/tools"
"$WORK/tools/bin/pip" install -q build twine
(cd "$WORK/clone" && "$WORK/tools/bin/python" -m build -o "$WORK/dist" >/dev/null)
"$WORK/tools/bin/twine" check --strict "$WORK/dist"/*

VERSION="$(python3 -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')"
grep -qE "^## $VERSION - [0-9]{4}-[0-9]{2}-[0-9]{2}$" CHANGELOG.md \
    || { echo "CHANGELOG.md has no section '## $VERSION - YYYY-MM-DD'"; exit 1; }
python3 - "$WORK/dist/storyboard_compiler-$VERSION-py3-none-any.whl" "$VERSION" <<'PY'
import sys
import zipfile
from pathlib import Path

wheel, version = Path(sys.argv[1]), sys.argv[2]
if not wheel.is_file():
    sys.exit(f"no {wheel.name}: the wheel is not version {version}, as pyproject.toml says")
names = zipfile.ZipFile(wheel).namelist()
missing = [f for f in ("schemas/", "templates/", "fonts/", "docs/")
           if not any(n.startswith(f"storyboard/{f}") for n in names)]
if missing:
    sys.exit(f"{wheel.name} lacks storyboard/{', storyboard/'.join(missing)}")
metadata = zipfile.ZipFile(wheel).read(f"storyboard_compiler-{version}.dist-info/METADATA").decode()
if "](docs/" in metadata:
    sys.exit("the long description still links into docs/ relatively")
print(f"release check: {wheel.name} and its sdist build, pass twine check and carry their files")
PY
