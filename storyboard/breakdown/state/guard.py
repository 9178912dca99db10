"""Proposed files into the series folder, never over a person's edit.

``.storyboard/breakdown/written.json`` holds, for every file the breakdown wrote, the digest of
what it last wrote there (``written``) and of what it last produced for it (``produced``: written,
or proposed beside an edit). A file is written when it is new, or when it still holds exactly what
the breakdown last wrote there. A file that differs from that record (edited by hand, or there
before any breakdown) is left as it is; when the breakdown now produces something new for it (its
chapter's answers changed), the proposal goes beside it as ``NAME.yaml.proposed`` (not
``*.yaml``, so the series' ``episodes/*.yaml`` never loads a proposal as a second episode), and
when it produces what it produced before, nothing is proposed: the edit stands. A file the
breakdown wrote and no longer produces (``--episodes`` changed) is removed, or, edited by hand,
gets an empty proposal: a proposal to remove it. A stale proposal is removed once the file and
the proposal agree again. The record is read as untrusted (``statefile``): a bad one is a warning
and is treated as empty, so every file is then held as a hand edit.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storyboard.breakdown.state.answerstore import FOLDER, write_atomic
from storyboard.breakdown.state.statefile import Unreadable, read, warning
from storyboard.errors import Diagnostic
from storyboard.files import series_folder
from storyboard.review.studio.proposals import PROPOSED

REMOVAL = "remove"  # the produced digest of a file the breakdown proposes to remove


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Outcome:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    proposed: list[str] = field(default_factory=list)  # the edited files a proposal sits beside
    kept: list[str] = field(default_factory=list)  # edited files whose answers did not change
    removed: list[str] = field(default_factory=list)  # written before, no longer produced


def _digests(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise Unreadable("expected a mapping of file names to digests")
    return dict(value)


def read_record(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """``(written, produced)`` from ``written.json`` (an older flat record is both)."""
    data = read(path)
    if isinstance(data, dict) and set(data) == {"written", "produced"}:
        return _digests(data["written"]), _digests(data["produced"])
    flat = _digests(data)
    return flat, dict(flat)


class Guard:
    def __init__(self, series: Path) -> None:
        self.series = series
        self.record_path = series / FOLDER / "written.json"
        self.warnings: list[Diagnostic] = []
        self.written, self.produced = self._read()

    def _read(self) -> tuple[dict[str, str], dict[str, str]]:
        try:
            return read_record(self.record_path)
        except FileNotFoundError:
            return {}, {}
        except Unreadable as problem:
            self.warnings.append(warning(self.record_path, problem))
            return {}, {}

    def _current(self, path: Path) -> bytes | None:
        return path.read_bytes() if path.is_file() else None

    def put(self, name: str, text: str, outcome: Outcome, *, replaceable: bool = False,
            produced: str | None = None, held: Callable[[bytes], bytes] = bytes) -> None:
        """Write ``text`` as ``name`` (relative to the series), or propose it beside an edit;
        ``replaceable``: the file holds nothing the text does not keep (a series file of
        ``breakdown:`` settings alone), so it is written over as a new one would be. When
        ``text`` is what the answers made merged into the person's own file (``seriesfile``):
        ``produced`` is what the answers made (the same answers then propose nothing beside an
        edit), ``held`` the part of a file's bytes the breakdown answers for (an edit elsewhere
        is the person's part, and never stops a write)."""
        path, data = self.series / name, text.encode()
        series_folder(self.series, path.parent)  # a link on the way, at any depth: refused
        proposal = path.with_name(path.name + PROPOSED)
        current, new = self._current(path), digest(held(data))
        made = digest(data) if produced is None else digest(produced.encode())
        if current == data:
            outcome.unchanged.append(name)
            self._drop(proposal)
        elif current is None or replaceable or self.written.get(name) == digest(held(current)):
            write_atomic(path, data)
            outcome.written.append(name)
            self._drop(proposal)
        elif self.produced.get(name) == made:
            outcome.kept.append(name)  # the same answers: the edit stands, nothing new proposed
            return
        else:
            write_atomic(proposal, data)
            self.produced[name] = made
            outcome.proposed.append(name)
            return
        self.written[name], self.produced[name] = new, made

    def retire(self, produced: set[str], outcome: Outcome) -> None:
        """Each file the breakdown wrote and no longer produces: removed when it still holds
        what was written, else an empty proposal beside it (the proposal to remove it)."""
        for name in sorted(set(self.written) - produced):
            path = self.series / name
            proposal = path.with_name(path.name + PROPOSED)
            current = self._current(path)
            if current is None or digest(current) == self.written[name]:
                self._gone(name, path, proposal, outcome if current is not None else None)
            elif self.produced.get(name) == REMOVAL:
                outcome.kept.append(name)
            else:
                write_atomic(proposal, b"")
                self.produced[name] = REMOVAL
                outcome.proposed.append(name)

    def _gone(self, name: str, path: Path, proposal: Path, outcome: Outcome | None) -> None:
        if outcome is not None and not path.is_symlink():
            path.unlink()
            outcome.removed.append(name)
        self._drop(proposal)
        self.written.pop(name, None)
        self.produced.pop(name, None)

    def waiting(self) -> list[str]:
        """The files a proposal waits beside (made now or by an earlier run)."""
        return sorted(n for n in self.produced
                      if (self.series / (n + PROPOSED)).is_file())

    def _drop(self, proposal: Path) -> None:
        if proposal.is_file() and not proposal.is_symlink():
            proposal.unlink()

    def save(self) -> None:
        record = {"written": dict(sorted(self.written.items())),
                  "produced": dict(sorted(self.produced.items()))}
        write_atomic(self.record_path, (json.dumps(record, indent=1) + "\n").encode())
