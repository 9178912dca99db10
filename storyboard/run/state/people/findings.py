"""A take's stored measurements into all its findings: the file's (``measured``) and its
people's (identity, look, grade), judged every time they are shown, nothing measured here.

A take whose people were never measured (the ``faces`` extra missing, or a take measured before
it was added) has its file's findings only.
"""

from __future__ import annotations

from pathlib import Path

from storyboard.language.request import CompiledShot, is_board
from storyboard.run.state import measured
from storyboard.run.state.lock.lockfile import LockFile, lock_path, read_lock
from storyboard.run.state.measured import Finding, Thresholds
from storyboard.run.state.people.grade import episode_light, judge_grade
from storyboard.run.state.people.judge import judge_people
from storyboard.run.state.people.known import known_people
from storyboard.run.state.people.records import recorded_people

KINDS = ("identity", "look", "grade")  # the findings about people a shot may ``ignore``


def findings_of(root: Path, sha256: str | None, take: CompiledShot | None,
                limits: Thresholds, lock: LockFile | None = None) -> list[Finding] | None:
    """The findings of the file with ``sha256`` as measured (None: not measured)."""
    found = measured.findings_of(root, sha256, take, limits)
    if found is None or take is None or sha256 is None:
        return found
    return sorted([*found, *people_findings(root, sha256, take, limits, lock)],
                  key=lambda f: (f.start, f.kind))


def people_findings(root: Path, sha256: str, take: CompiledShot, limits: Thresholds,
                    lock: LockFile | None = None) -> list[Finding]:
    """What the people of the file with ``sha256`` show against ``take``'s declared cast and
    its episode (none when they were not measured)."""
    people = recorded_people(root, sha256)
    if people is None:
        return []
    lock = lock or read_lock(lock_path(root))
    ignored = set(take.checks.get("ignore") or ())
    found = [*judge_people(people, known_people(root, take, lock, limits), episode_of(take)),
             *judge_grade(people, episode_light(root, take, lock), limits)]
    return [f for f in found if f.kind not in ignored]


def episode_of(take: CompiledShot) -> str:
    """The episode a take shows (a board's, ``boards/EP/SHOT``: EP)."""
    parts = take.shot_id.split("/")
    return parts[1] if is_board(take.shot_id) and len(parts) > 2 else take.episode
