"""Task answers into one status machine: our statuses, usage, one task's state, a protocol's words.

A gateway's asynchronous task API is data (``TaskProtocol``): its paths, its status words onto
``TaskStatus``, its limits and its prices. Dialects declare one each; providers speak them.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from storyboard.targets.capabilities import Capabilities, PriceTable


class TaskStatus(enum.StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUSPENDED = "SUSPENDED"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELED = "CANCELED"
    UNKNOWN = "UNKNOWN"

    @property
    def finished(self) -> bool:
        """A task that will not change any more. UNKNOWN is not: a word we do not know may be a
        task still running (and billed), so it never ends a task nor allows a new submit."""
        return self in (TaskStatus.SUCCEEDED, TaskStatus.FAILED, TaskStatus.CANCELED)


@dataclass
class Usage:
    output_seconds: float = 0.0
    input_video_seconds: float = 0.0


@dataclass
class TaskState:
    """One answer about one task, already translated into our words."""

    task_id: str
    status: TaskStatus
    video_url: str | None = None
    code: str = ""
    message: str = ""
    usage: Usage | None = None
    submit_time: str = ""
    raw: dict[str, Any] = field(default_factory=dict)
    ran: float | None = None  # seconds from the service's submit to its end, when it says



@dataclass(frozen=True)
class FileHop:
    """A third request between a finished task and its video (MiniMax's v1 API): the query
    answer names a file (``file_id``, a dotted path in it), ``path`` (relative to the base URL,
    holding ``{file_id}``) answers with the file, whose download URL is at ``url``."""

    path: str
    file_id: str
    url: str


@dataclass(frozen=True)
class TaskProtocol:
    """One gateway's asynchronous task API, as data.

    Paths are relative to the base URL; ``task_path`` and ``cancel_path`` hold ``{task_id}``.
    ``statuses`` maps the gateway's words (compared in upper case) onto ``TaskStatus``.
    """

    name: str
    submit_path: str
    task_path: str
    cancel_path: str | None
    list_path: str | None
    statuses: Mapping[str, TaskStatus]
    submit_headers: Mapping[str, str]
    capabilities: Capabilities
    prices: Mapping[str, PriceTable]  # by region (the first is the default)
    file_hop: FileHop | None = None  # the video's URL is one more request away
    task_lifetime: float | None = None  # seconds a task can be queried (None: not declared)
    # The headers that carry its credential (a name ending in ``*`` is a prefix): dropped from a
    # request whose redirect leaves the host it was sent to (``protocol.LazyClient``).
    key_headers: tuple[str, ...] = ("Authorization",)

    def status(self, word: object) -> tuple[TaskStatus, str]:
        """Our status for a gateway word, and a note: an unknown word is kept so nobody guesses."""
        text = str(word).strip() if word is not None else ""
        found = self.statuses.get(text.upper())
        if found is TaskStatus.UNKNOWN:  # a declared word that says nothing final
            return found, f"task status {text!r}, which says nothing final"
        if found is not None:
            return found, ""
        return TaskStatus.UNKNOWN, f"unrecognised task status {text!r}"
