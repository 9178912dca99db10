"""A board's file in the output cache and the lock's record of it into whether it may be sent.

An approval is of a picture, not of a file name: ``approve`` records the digest of the approved
take's output (``approved_sha256``, from the lock's record of that take; a lock from before it
falls back on that record), and a video whose first frame (or reference) is the board is planned
as ready, and sent, only while the board's file in ``.storyboard/cache/`` is a plain file with
exactly those bytes. Another picture put there after ``approve``, a link to one, a truncated
copy, or no file at all holds the video, unpaid. Nothing here trusts a side file (the cache's
sidecar): only the committed lock and the bytes themselves. A board that lets its video go with
its gate off (picked, not approved) is held to the lock's record of the picked take likewise.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from storyboard.media.probes.probe import sha256_file
from storyboard.run.state.cache import OutputCache
from storyboard.run.state.lock.lockfile import LockFile, TakeState

_SEEN: dict[tuple[str, int, int, int, int, int], str] = {}  # a file's digest by what stat says


def file_problem(path: Path, expected: str | None) -> str | None:
    """Why ``path`` is not the picture whose sha256 is ``expected`` (None: it is): missing, a
    link, not a plain file, unreadable, or other bytes."""
    if expected is None:
        return "the lock has no record of that picture"
    try:
        facts = os.lstat(path)
    except FileNotFoundError:
        return "it is missing"
    except OSError as exc:
        return f"it cannot be read ({exc.strerror})"
    if stat.S_ISLNK(facts.st_mode):
        return "it is a link to another file"
    if not stat.S_ISREG(facts.st_mode):
        return "it is not a plain file"
    found = _digest(path, facts)
    if found is None:
        return "it cannot be read"
    return None if found == expected else "its bytes are another picture's"


def _digest(path: Path, facts: os.stat_result) -> str | None:
    """The sha256 of ``path``, hashed once per version of the file (a write changes its ctime)."""
    key = (str(path), facts.st_dev, facts.st_ino, facts.st_size, facts.st_mtime_ns,
           facts.st_ctime_ns)
    found = _SEEN.get(key)
    if found is None:
        try:
            found = sha256_file(path)
        except OSError:
            return None
        if len(_SEEN) >= 10_000:
            _SEEN.clear()
        _SEEN[key] = found
    return found


@dataclass
class BoardBytes:
    """The board files of one plan (``provider``'s): checked against the lock (as read at the
    start), and each board take's file let go with the digest it was checked to have
    (``verified``: what the run checks again right before it sends it)."""

    cache: OutputCache
    lock: LockFile
    provider: str = ""  # whose plan it is (``""``: not said): the one that draws its own boards
    verified: dict[str, str] = field(default_factory=dict)  # a board take's hash -> its sha256
    _outputs: dict[str, str] | None = None

    def recorded(self, digest: str, state: TakeState) -> str | None:
        """The sha256 the file of board take ``digest`` must have: the one approved (as the
        approval recorded it, else the lock's record of that take)."""
        approved = state.get("approved_sha256")
        if state.get("approved_hash") == digest and isinstance(approved, str):
            return approved
        return self.outputs().get(digest)

    def outputs(self) -> dict[str, str]:
        """The lock's record of each take's output, by the take's hash."""
        if self._outputs is None:
            self._outputs = {str(e["hash"]): str(e["output_sha256"])
                             for e in self.lock.shots.values()
                             if e.get("hash") and e.get("output_sha256")}
        return self._outputs

    def problem(self, digest: str, state: TakeState) -> tuple[Path, str] | None:
        """The file of board take ``digest`` and why it may not be sent (None: it may, and it
        is kept in ``verified``)."""
        path, expected = self.cache.path(digest), self.recorded(digest, state)
        why = file_problem(path, expected)
        if why is not None:
            return path, why
        assert expected is not None
        self.verified[digest] = expected
        return None
