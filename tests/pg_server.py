"""A throwaway PostgreSQL cluster for tests: initdb into a temp folder, start on loopback, stop.

Used by the session fixture ``pg_cluster`` (conftest.py) and by ``bench/team.py``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_owner(cmd: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root: run them as the `postgres` system user.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


def _version(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split(".") if part.isdigit())


def _bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    versions = Path("/usr/lib/postgresql").glob("*/bin")  # Debian's layout, newest first
    for base in sorted(versions, key=lambda p: _version(p.parent.name), reverse=True):
        if (base / name).exists():
            return str(base / name)
    raise FileNotFoundError(f"PostgreSQL's {name} is not installed (apt-get install postgresql)")


@dataclass
class PgServer:
    folder: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql://storyboard@127.0.0.1:{self.port}/storyboard"

    def stop(self) -> None:
        try:
            self._stop()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def _stop(self) -> None:
        subprocess.run(_as_owner([_bin("pg_ctl"), "-D", str(self.folder / "data"), "-m", "immediate",
                                  "stop"]), capture_output=True, check=False)

    def halt(self) -> None:
        """Stop the server (every session is cut off); ``resume`` starts it again."""
        self._stop()

    def resume(self) -> None:
        _serve(self.folder, self.port)


def _serve(folder: Path, port: int) -> None:
    subprocess.run(_as_owner([_bin("pg_ctl"), "-D", str(folder / "data"), "-l", str(folder / "log"),
                              "-w", "-o",
                              f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off",
                              "start"]), capture_output=True, check=True)


def start() -> PgServer:
    """A new cluster in its own temp folder (owned by `postgres` when the tests run as root)."""
    folder = Path(tempfile.mkdtemp(prefix="storyboard-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    data, port = folder / "data", _free_port()
    subprocess.run(_as_owner([_bin("initdb"), "-D", str(data), "-U", "storyboard", "-A", "trust",
                              "--no-sync", "-E", "UTF8"]), capture_output=True, check=True)
    _serve(folder, port)
    subprocess.run(_as_owner([_bin("createdb"), "-h", "127.0.0.1", "-p", str(port), "-U",
                              "storyboard", "storyboard"]), capture_output=True, check=True)
    return PgServer(folder, port)
