"""Bytes into files that appear whole: temporary file beside the target, then an atomic rename.

``tempfile.mkstemp`` creates private files (0600); an episode, a subtitle file or the lock file is an
ordinary file, so it gets the mode any new file would get under the user's umask.

Paths into safe places to delete (``state_folder``, ``safe_to_delete``): storyboard removes and
overwrites files only inside the series' ``.storyboard/`` (and its output folder), so a state
folder that is a link (``.storyboard/inputs`` pointing at the user's documents) is an error, and
no removal ever follows a link out. Every folder storyboard writes into inside the series gets
the same rule, at any depth (``series_folder``: ``out/``, ``out/es/``, ``languages/es/``,
``.storyboard/languages/es/``): a link on the way is an error before anything is written.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

from storyboard.errors import StoryboardError

STATE_DIR = ".storyboard"


class LinkedStateFolder(StoryboardError):
    """A folder storyboard keeps state in (and removes files from) is a link."""


def _new_file_mode() -> int:
    mask = os.umask(0o022)  # read the umask (it can only be read by setting it) ...
    os.umask(mask)  # ... and put it straight back; this runs once, at import
    return 0o666 & ~mask


NEW_FILE_MODE = _new_file_mode()


def temp_prefix(stem: str) -> str:
    """``.NAME.p<pid>.``: a temporary file's name says which process made it, so a later run can
    tell the leftovers of a killed process (removable) from a running one's (kept)."""
    return f".{stem}.p{os.getpid()}."


STITCH_DIR_PREFIX = ".stitch-p"  # + "<pid>-<random>": a stitch's working folder
_STALE_FILE = re.compile(r"^\..*\.p(\d+)\.[a-z0-9_]{8}(?:\.\w+)?$")
_STALE_DIR = re.compile(r"^\.stitch-(?:p(\d+)-)?[a-z0-9_]{8}$")


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists, under another user
        return True
    return True


STATE_DIR_ENV = "STORYBOARD_STATE_DIR"
SECRET_BYTES = 32


def user_state_dir() -> Path:
    """The user's state folder for storyboard, outside any series: ``$STORYBOARD_STATE_DIR``, else
    ``$XDG_STATE_HOME/storyboard``, else ``~/.local/state/storyboard``."""
    explicit = os.environ.get(STATE_DIR_ENV, "").strip()
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_STATE_HOME", "").strip()
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "state"
    return base / "storyboard"


def user_secret(name: str) -> bytes | None:
    """This user's random secret ``name`` (32 bytes) in their state folder, made on first use as
    a file only they can read (0600); None when it can be neither read nor made (what it guards
    is then never trusted)."""
    path = user_state_dir() / name
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _secret_in(path)
    except OSError:
        return None
    with os.fdopen(descriptor, "wb") as made:
        made.write(os.urandom(SECRET_BYTES))
    return _secret_in(path)


def _secret_in(path: Path) -> bytes | None:
    try:
        secret = path.read_bytes()
    except OSError:
        return None
    return secret if len(secret) == SECRET_BYTES else None  # half-written or damaged: none


def state_folder(folder: Path) -> Path:
    """``folder`` when every folder from the series' ``.storyboard`` down to it is a real folder,
    else a LinkedStateFolder naming the link. A folder outside any ``.storyboard`` (the output
    folder) is returned as it is."""
    state = _no_state_link(folder)
    if state is not None:
        ignore_itself(state)
    return folder


def _no_state_link(folder: Path) -> Path | None:
    """The ``.storyboard`` folder ``folder`` is in (None: in none), once no folder from it down
    to ``folder`` is a link (else a LinkedStateFolder)."""
    parts = folder.absolute().parts
    if STATE_DIR not in parts:
        return None
    start = len(parts) - 1 - parts[::-1].index(STATE_DIR)
    _no_link(Path(*parts[:start]), parts[start:])
    return Path(*parts[:start + 1])


def _no_link(base: Path, parts: tuple[str, ...]) -> None:
    """A LinkedStateFolder naming the first link among ``base/parts[0]``, ``base/parts[0]/
    parts[1]``, ... (each folder on the way down from ``base``), if there is one."""
    step = base
    for part in parts:
        step = step / part
        if step.is_symlink():
            raise LinkedStateFolder(
                f"{step} is a link (to {os.readlink(step)}); storyboard writes only into real "
                f"folders inside the series, never through a link, at any depth: remove the "
                f"link (storyboard makes the folder again)")


STATE_IGNORE = "# storyboard's state (caches, journal): made again as needed, never committed\n*\n"


def ignore_itself(state: Path) -> None:
    """Make the series' ``.storyboard`` folder ``state`` (when its series folder is there), with
    a ``.gitignore`` of ``*`` in it, so a repository holding the series stays clean whatever it
    ignores. Every use of the state folder passes here (``state_folder``), so one made by an
    older version gets its ``.gitignore`` too; a ``.gitignore`` already there is left as it is.
    A series that cannot be written to is left alone (nothing is written in it anyway)."""
    marker = state / ".gitignore"
    if marker.is_file():
        return
    try:
        state.mkdir(exist_ok=True)
        if not marker.exists():
            write_atomic(marker, STATE_IGNORE, durable=False)
    except OSError:
        pass


def safe_to_delete(path: Path) -> Path:
    """``path`` when removing it cannot reach outside its state folder (see ``state_folder``);
    a link itself is removed, never what it points at."""
    state_folder(path.parent)
    return path


def series_folder(root: Path, folder: Path) -> Path:
    """``folder`` when no folder from the series ``root`` down to it is a link, else a
    LinkedStateFolder naming the link: the one check every writer into the series makes, with
    the very folder it writes into (``out/``, ``out/es/``, ``out/season/``, ``languages/es/``,
    ``.storyboard/languages/es/``, ...), so a link one folder down is refused as one at the top
    is. A folder outside the series (``-o`` elsewhere) is the user's own choice, returned as it
    is."""
    base, where = Path(os.path.abspath(root)), Path(os.path.abspath(folder))
    if where.is_relative_to(base):
        _no_link(base, where.relative_to(base).parts)
    return folder


def made_series_folder(root: Path, folder: Path) -> Path:
    """``folder`` checked (``series_folder``), then made where it is not there yet."""
    series_folder(root, folder).mkdir(parents=True, exist_ok=True)
    return series_folder(root, folder)  # made by another on the way: checked again


def check_state_folders(series_dir: Path) -> None:
    """Before a render writes anything: ``.storyboard`` and every folder in it is a real folder
    (``inputs``, ``cache``, ``stitch-cache``, ``local``, ...), else a LinkedStateFolder."""
    state = series_dir / STATE_DIR
    state_folder(state)
    try:
        entries = list(state.iterdir())
    except OSError:
        return
    for entry in entries:
        if entry.is_symlink() and entry.is_dir():
            state_folder(entry)


def clean_stale_temporaries(folder: Path) -> list[Path]:
    """Remove what killed runs left in ``folder``: ``.stitch-*`` working folders and
    ``.NAME.p<pid>.*`` files whose process is gone. Returns what was removed."""
    removed: list[Path] = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    for entry in entries:
        pattern = _STALE_DIR if entry.is_dir() else _STALE_FILE
        found = pattern.match(entry.name)
        if found is None or (found.group(1) and _alive(int(found.group(1)))):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(safe_to_delete(entry), ignore_errors=True)
        else:
            safe_to_delete(entry).unlink(missing_ok=True)
        removed.append(entry)
    return removed


def version(path: Path) -> tuple[int, int] | None:
    """A file's size and modification time (what says it changed), None when it is not there."""
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_size, info.st_mtime_ns


def write_atomic(path: Path, data: bytes | str, *, durable: bool) -> Path:
    """``data`` (text as UTF-8) into ``path``, whole or not at all: a temporary file beside it
    (named by ``temp_prefix``, so a killed process's leftover is known), with the mode any new
    file gets, renamed over it. ``durable`` (the journal's kin: the lock, a cache entry's record,
    a written series): the file and then its folder are synced, so a machine's crash after this
    returns keeps it; a cache that is only slower when lost is not synced. A file in the
    series' ``.storyboard`` is never written through a linked folder, at any depth (a
    LinkedStateFolder, see ``state_folder``)."""
    _no_state_link(path.parent)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(path.stem), suffix=path.suffix, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), NEW_FILE_MODE)  # mkstemp makes it private
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    if durable:
        sync_folder(path.parent)
    return path


def sync_folder(folder: Path) -> None:
    """Sync a folder's entries (a rename in it) to disk, where a folder can be opened for it."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def lock_held(path: Path) -> bool:
    """Whether another process holds the file lock at ``path``: tried without waiting, and let go
    at once when free (a lock that cannot be opened counts as free)."""
    import filelock  # only the callers that look at locks pay for it

    lock = filelock.FileLock(str(path), timeout=0)
    try:
        lock.acquire()
    except filelock.Timeout:
        return True
    except OSError:
        return False
    lock.release()
    return False
