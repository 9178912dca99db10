"""Texts into PostgreSQL advisory lock keys, and the session the team's tables are used through:
what ``ledger_pg`` (the task ledger) and ``account_pg`` (account leases and rates) share, so
neither imports the other for it."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    import psycopg

SCHEMA_LOCK = 0x5354_4F52_5942_4F41  # one advisory key: two machines never create the table at once
T = TypeVar("T")


def advisory_key(text: str) -> int:
    """64 bits of ``text``'s digest, signed as a bigint advisory lock key."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big", signed=True)


class Session(Protocol):
    """One process's connection to the team's database: its holder id (what its session locks
    stand for) and one transaction at a time on it (``ledger_pg.PgLedger`` is one)."""

    holder: str

    def transact(self, work: Callable[[psycopg.Connection[tuple[Any, ...]]], T]) -> T: ...
