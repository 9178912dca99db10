"""Proposed files into the series folder, never over a person's edit.

``.storyboard/breakdown/written.json`` holds the digest of every file the breakdown wrote. A file
is written when it is new, or when it still holds exactly what the breakdown last wrote there; a
file that differs from that record (edited by hand, or there before any breakdown) is left as it
is, and the proposal goes beside it as ``NAME.yaml.proposed`` (not ``*.yaml``, so the series'
``episodes/*.yaml`` never loads a proposal as a second episode). ``git diff --no-index NAME.yaml
NAME.yaml.proposed`` shows what the breakdown would change; a stale proposal is removed once the
file and the proposal agree again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from storyboard.breakdown.cache import FOLDER, write_atomic

PROPOSED = ".proposed"


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Outcome:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    proposed: list[str] = field(default_factory=list)  # the edited files a proposal sits beside


class Guard:
    def __init__(self, series: Path) -> None:
        self.series = series
        self.record_path = series / FOLDER / "written.json"
        self.record: dict[str, str] = self._read()

    def _read(self) -> dict[str, str]:
        try:
            data = json.loads(self.record_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def put(self, name: str, text: str, outcome: Outcome, *, replaceable: bool = False) -> None:
        """Write ``text`` as ``name`` (relative to the series), or propose it beside an edit;
        ``replaceable``: the file holds nothing the text does not keep (a series file of
        ``breakdown:`` settings alone), so it is written over as a new one would be."""
        path, data = self.series / name, text.encode()
        proposal = path.with_name(path.name + PROPOSED)
        current = path.read_bytes() if path.is_file() else None
        if current == data:
            self.record[name] = digest(data)
            outcome.unchanged.append(name)
            self._drop(proposal)
        elif current is None or replaceable or self.record.get(name) == digest(current):
            write_atomic(path, data)
            self.record[name] = digest(data)
            outcome.written.append(name)
            self._drop(proposal)
        else:
            write_atomic(proposal, data)
            outcome.proposed.append(name)

    def _drop(self, proposal: Path) -> None:
        if proposal.is_file() and not proposal.is_symlink():
            proposal.unlink()

    def save(self) -> None:
        text = json.dumps(dict(sorted(self.record.items())), indent=1) + "\n"
        write_atomic(self.record_path, text.encode())
