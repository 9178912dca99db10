"""How storyboard was installed into the commands that change that installation: an extra added,
a clash with another distribution undone.

Each way of installing takes its own command, and the wrong one fails: a pipx or ``uv tool``
environment has no pip (``No module named pip``), and reinstalling by name fails while the name is
not on the package index (a clone's install must name the clone). What is read, never guessed:

- pipx: its environment holds ``pipx_metadata.json``; an extra's requirements are injected into it
  (``pipx inject ENV REQ...``), which keeps whatever was injected before.
- ``uv tool``: its environment holds ``uv-receipt.toml``, the requirements uv installs it from; the
  tool is installed again from the same source with the extra added to the extras it had.
- a virtual environment made by uv (``uv = ...`` in ``pyvenv.cfg``) with no pip: ``uv pip install``.
- any other environment: its own interpreter's pip, never a bare ``pip`` (it may be another's).

Where storyboard came from is its distribution's ``direct_url.json`` (PEP 610): a clone (editable or
not), a file, or a URL; none means the package index.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote, urlparse

if TYPE_CHECKING:  # importlib.metadata is read only when an installation is looked at
    from importlib import metadata

DISTRIBUTION = "storyboard-compiler"
Manager = Literal["pipx", "uv tool", "uv", "pip"]
_EXTRA_MARKER = re.compile(r"""\bextra\s*==\s*["']([^"']+)["']""")


@dataclass(frozen=True)
class Source:
    """Where the distribution came from: ``location`` is a path or URL, None for the index."""

    location: str | None = None
    editable: bool = False
    is_path: bool = False

    def spec(self, extras: Iterable[str]) -> str:
        """The requirement that installs it from there with ``extras``, quoted for a shell."""
        wanted = sorted(set(extras))
        tail = f"[{','.join(wanted)}]" if wanted else ""
        if self.location is None:
            return shlex.quote(f"{DISTRIBUTION}{tail}")
        if self.is_path:
            return ("-e " if self.editable else "") + shlex.quote(f"{self.location}{tail}")
        return shlex.quote(f"{DISTRIBUTION}{tail} @ {self.location}")


@dataclass(frozen=True)
class Installation:
    """One installation of storyboard: who manages its environment, where, and from what."""

    manager: Manager
    prefix: Path
    python: str
    source: Source
    extras: tuple[str, ...] = ()
    withs: tuple[str, ...] = field(default=())

    def describe(self) -> str:
        where = {"pipx": "with pipx", "uv tool": "with uv tool", "uv": "by uv",
                 "pip": "with pip"}[self.manager]
        origin = f" from {self.source.location}" if self.source.location else ""
        editable = " (editable)" if self.source.editable else ""
        return f"installed {where} into {self.prefix}{origin}{editable}"


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def source_of(dist: metadata.Distribution | None) -> Source:
    """Where ``dist`` was installed from, by its ``direct_url.json``; the index if it has none."""
    raw = dist.read_text("direct_url.json") if dist is not None else None
    try:
        direct = json.loads(raw) if raw else {}
    except ValueError:
        direct = {}
    url = direct.get("url") if isinstance(direct, dict) else None
    if not isinstance(url, str):
        return Source()
    parsed = urlparse(url)
    if parsed.scheme != "file" or "vcs_info" in direct:
        return Source(url)
    dir_info = direct.get("dir_info")
    editable = isinstance(dir_info, dict) and dir_info.get("editable") is True
    return Source(unquote(parsed.path), editable=editable, is_path=True)


def _receipt_requirement(entry: dict[str, Any]) -> tuple[str, bool]:
    """One requirement of a uv receipt as a command-line spec, and whether it is editable."""
    extras = entry.get("extras") or []
    tail = f"[{','.join(sorted(extras))}]" if extras else ""
    for key in ("editable", "directory", "path"):
        if isinstance(entry.get(key), str):
            return shlex.quote(f"{entry[key]}{tail}"), key == "editable"
    for key in ("url", "git"):
        if isinstance(entry.get(key), str):
            prefix = "git+" if key == "git" else ""
            return shlex.quote(f"{entry['name']}{tail} @ {prefix}{entry[key]}"), False
    return shlex.quote(f"{entry['name']}{tail}{entry.get('specifier', '')}"), False


def _uv_receipt(prefix: Path) -> list[dict[str, Any]] | None:
    import tomllib
    try:
        receipt = tomllib.loads((prefix / "uv-receipt.toml").read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return None
    entries = receipt.get("tool", {}).get("requirements", [])
    return [e for e in entries if isinstance(e, dict) and isinstance(e.get("name"), str)]


def _has_pip(prefix: Path) -> bool:
    windows = prefix / "Lib" / "site-packages" / "pip"
    return any(prefix.glob("lib/python*/site-packages/pip")) or windows.is_dir()


def _made_by_uv(prefix: Path) -> bool:
    try:
        lines = (prefix / "pyvenv.cfg").read_text("utf-8").splitlines()
    except OSError:
        return False
    return any(line.partition("=")[0].strip() == "uv" for line in lines)


def _uv_tool(prefix: Path, python: str, source: Source) -> Installation | None:
    entries = _uv_receipt(prefix)
    if entries is None:
        return None
    own = [e for e in entries if _normal(e["name"]) == _normal(DISTRIBUTION)]
    others = tuple(_receipt_requirement(e)[0] for e in entries if e not in own)
    extras = tuple(own[0].get("extras") or ()) if own else ()
    if own:
        source = _receipt_source(own[0], source)
    return Installation("uv tool", prefix, python, source, extras, others)


def _receipt_source(entry: dict[str, Any], fallback: Source) -> Source:
    for key in ("editable", "directory", "path"):
        if isinstance(entry.get(key), str):
            return Source(entry[key], editable=key == "editable", is_path=True)
    if isinstance(entry.get("url"), str):
        return Source(entry["url"])
    if isinstance(entry.get("git"), str):
        return Source(f"git+{entry['git']}")
    return fallback if fallback.location else Source()


def detect(prefix: Path, python: str, dist: metadata.Distribution | None) -> Installation:
    """The installation whose environment is ``prefix`` (``python`` its interpreter)."""
    source = source_of(dist)
    if (prefix / "pipx_metadata.json").is_file():
        return Installation("pipx", prefix, python, source)
    tool = _uv_tool(prefix, python, source)
    if tool is not None:
        return tool
    if _made_by_uv(prefix) and not _has_pip(prefix):
        return Installation("uv", prefix, python, source)
    return Installation("pip", prefix, python, source)


def own_distribution() -> metadata.Distribution | None:
    from importlib import metadata
    try:
        return metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return None


def current() -> Installation:
    """The installation this process runs from."""
    import sys
    return detect(Path(sys.prefix), sys.executable, own_distribution())


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def extra_requirements(dist: metadata.Distribution | None, extra: str) -> list[str]:
    """What ``extra`` adds, as requirement strings (an extra naming another of this distribution's
    extras is expanded)."""
    found: list[str] = []
    for line in (dist.requires or []) if dist is not None else []:
        requirement, _, marker = line.partition(";")
        named = _EXTRA_MARKER.search(marker)
        if named is None or _normal(named.group(1)) != _normal(extra):
            continue
        own = re.match(r"\s*([A-Za-z0-9._-]+)\s*\[([^\]]*)\]\s*$", requirement)
        if own and _normal(own.group(1)) == _normal(DISTRIBUTION):
            found += [r for e in own.group(2).split(",") for r in extra_requirements(dist, e.strip())]
        else:
            found.append(requirement.strip())
    return sorted(set(found))


def add_extra(installation: Installation, extra: str, requirements: Iterable[str]) -> str:
    """The command that adds ``extra`` to ``installation``, keeping what it has."""
    python = shlex.quote(installation.python)
    if installation.manager == "pipx":
        wanted = " ".join(shlex.quote(r) for r in requirements) or installation.source.spec([extra])
        return f"pipx inject {shlex.quote(installation.prefix.name)} {wanted}"
    if installation.manager == "uv tool":
        spec = installation.source.spec([*installation.extras, extra])
        withs = "".join(f" --with {w}" for w in installation.withs)
        return f"uv tool install --force {spec}{withs}"
    if installation.manager == "uv":
        return f"uv pip install --python {python} {installation.source.spec([extra])}"
    return f"{python} -m pip install {installation.source.spec([extra])}"


def remove_other(installation: Installation, other: str) -> list[str]:
    """The commands that remove the distribution ``other`` from ``installation`` and put
    storyboard's own files back (the two wrote over each other's)."""
    python, name = shlex.quote(installation.python), shlex.quote(other)
    spec = installation.source.spec(installation.extras)
    if installation.manager == "pipx":
        env = shlex.quote(installation.prefix.name)
        return [f"pipx runpip {env} uninstall -y {name}", f"pipx reinstall {env}"]
    if installation.manager == "uv tool":
        withs = "".join(f" --with {w}" for w in installation.withs)
        return [f"uv tool install --force --reinstall {spec}{withs}"]
    if installation.manager == "uv":
        return [f"uv pip uninstall --python {python} {name}",
                f"uv pip install --reinstall --python {python} {spec}"]
    return [f"{python} -m pip uninstall -y {name}",
            f"{python} -m pip install --force-reinstall --no-deps {spec}"]


def clashes(package: str = "storyboard") -> list[tuple[str, str]]:
    """The other distributions, with their versions, that install the import package ``package``
    into this environment (``storyboard`` on the package index is an unrelated project with a
    command of the same name: installed together, each overwrites the other's files)."""
    from importlib import metadata
    owners = metadata.packages_distributions().get(package, [])
    others = sorted({name for name in owners if _normal(name) != _normal(DISTRIBUTION)})
    return [(name, metadata.version(name)) for name in others]
