"""Files measured once a machine (``STORYBOARD_MEASURED_SHARED``).

What a file measures (its look: ``measured``; who is in it: ``people``) depends on nothing but its
bytes and the measurer's version, so every series of one machine (an ad's variations rendered as
separate series, a teammate's fresh clones, a studio box, CI) can keep one record of each file for
all of them: with ``STORYBOARD_MEASURED_SHARED=/folder`` set, a file measured in one series is also
written there, and a series that needs the same file takes the record from there (kept as its own,
as a team's store's are) instead of decoding it again. An entry is ``<sha256><suffix>``, the
series' own record's name and form (``.json``: its look; ``.people.json``: its people): written
whole (renamed into place), taken only when it reads whole and stands, else measured again and
written over. The folder is opt-in and trusted as the series' own records are; one that cannot be
read or written is only slower.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from storyboard.files import write_atomic

MEASURED_SHARED_ENV = "STORYBOARD_MEASURED_SHARED"
LOOK = ".json"  # a file's look (``measured``), as the series keeps it
PEOPLE = ".people.json"  # a file's people (``people.records``)


def folder() -> Path | None:
    """The shared folder this process uses, if one is set."""
    named = os.environ.get(MEASURED_SHARED_ENV, "").strip()
    return Path(named) if named else None


def taken(sha256: str, suffix: str) -> object:
    """The shared record (``suffix``: ``LOOK`` or ``PEOPLE``) of the file ``sha256`` as read
    (None: no folder, no entry, unreadable); the caller judges it as it judges a team's."""
    share = folder()
    if share is None:
        return None
    try:
        return json.loads((share / f"{sha256}{suffix}").read_text("utf-8"))
    except (OSError, ValueError):
        return None


def give(sha256: str, suffix: str, text: str) -> None:
    """``text``, the record (``suffix``) of the file ``sha256`` just measured here, into the
    shared folder (a folder that cannot be written is left as it is)."""
    share = folder()
    if share is not None:
        with contextlib.suppress(OSError):
            write_atomic(share / f"{sha256}{suffix}", text, durable=False)
